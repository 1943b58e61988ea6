// r1kit tasks gen: writes generated, verifiable tasks as JSON lines (core/data/tasks.h; docs/tasks.md).
//   r1kit tasks gen --kind sft --tasks arithmetic,countdown --num 2000 --split train --seed 1 --out d.jsonl
// Every option is a TasksConfig field (kebab-case here, snake_case in recipes). A one-line summary
// (lines per task and language) goes to stderr; the file is written atomically.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/data/tasks.h"
#include "core/error.h"

namespace r1::cli {
namespace {

std::vector<std::string> split_commas(const std::string& text, std::string_view flag) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    out.push_back(text.substr(start, comma - start));
    if (out.back().empty()) throw Error(str_cat(flag, ": expected comma-separated names, found \"", text, "\""));
    start = comma + 1;
  }
  return out;
}

std::vector<double> parse_weights(const std::string& text) {
  std::vector<double> out;
  for (const std::string& item : split_commas(text, "--weights")) {
    char* end = nullptr;
    out.push_back(std::strtod(item.c_str(), &end));
    if (*end != '\0') throw Error(str_cat("--weights: expected a number, found \"", item, "\""));
  }
  return out;
}

struct TasksArgs {
  data::TasksConfig config;
  std::string tasks = "arithmetic,countdown,function,chat";
  std::string operations = "add,sub,mul";
  std::string weights;
  std::string out;
  bool no_think_tags = false;
};

void run_tasks_gen(TasksArgs& args) {
  data::TasksConfig& c = args.config;
  c.tasks = split_commas(args.tasks, "--tasks");
  c.operations = split_commas(args.operations, "--operations");
  if (!args.weights.empty()) c.weights = parse_weights(args.weights);
  c.pretrain_think_tags = !args.no_think_tags;
  data::validate(c, "tasks gen");
  const std::vector<nlohmann::json> lines = data::generate_tasks(c);
  data::write_jsonl(args.out, lines);
  std::map<std::string, int64_t> counts;
  for (const nlohmann::json& line : lines)
    ++counts[str_cat(line["task"].get<std::string>(), "/", line["language"].get<std::string>())];
  std::string summary;
  for (const auto& [key, n] : counts) summary += str_cat(summary.empty() ? "" : ", ", key, " ", n);
  std::fprintf(stderr, "tasks gen: %zu %s lines (%s split, seed %lld) to %s: %s\n", lines.size(), c.kind.c_str(),
               c.split.c_str(), static_cast<long long>(c.seed), args.out.c_str(), summary.c_str());
}

}  // namespace

void add_tasks_command(CLI::App& app) {
  CLI::App* tasks = app.add_subcommand("tasks", "Generated, verifiable tasks (docs/tasks.md)");
  tasks->require_subcommand(1);
  CLI::App* gen = tasks->add_subcommand("gen", "Write generated tasks as JSON lines");
  auto args = std::make_shared<TasksArgs>();
  data::TasksConfig& c = args->config;
  gen->add_option("--kind", c.kind, "rl (prompts), sft (prompts + CoT answers) or pretrain ({\"text\"} corpus)")
      ->check(CLI::IsMember({"rl", "sft", "pretrain"}))
      ->capture_default_str();
  gen->add_option("--tasks", args->tasks, "comma-separated families: arithmetic, countdown, function, chat")
      ->capture_default_str();
  gen->add_option("--weights", args->weights, "comma-separated relative weights, one per --tasks entry");
  gen->add_option("--num", c.num, "number of lines")->check(CLI::PositiveNumber)->capture_default_str();
  gen->add_option("--split", c.split, "train or heldout")->check(CLI::IsMember({"train", "heldout"}))->capture_default_str();
  gen->add_option("--seed", c.seed, "PRNG seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  gen->add_option("--difficulty-min", c.difficulty_min, "lowest difficulty")->check(CLI::Range(1, 5))->capture_default_str();
  gen->add_option("--difficulty-max", c.difficulty_max, "highest difficulty")->check(CLI::Range(1, 5))->capture_default_str();
  gen->add_option("--heldout-share", c.heldout_share, "share of problems held out (same for both splits)")
      ->capture_default_str();
  gen->add_option("--zh-share", c.zh_share, "share of Chinese prompts")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  gen->add_option("--zh-cot-english-share", c.zh_cot_english_share,
                  "sft: share of zh reasoning samples with an English CoT")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  gen->add_option("--operations", args->operations, "arithmetic operations: add, sub, mul")->capture_default_str();
  gen->add_flag("--unique", c.unique, "each problem at most once (held-out sets)");
  gen->add_option("--generic-share", c.generic_share, "pretrain: share of generic sentences")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  gen->add_flag("--no-think-tags", args->no_think_tags, "pretrain: reasoning as plain paragraphs, no <think> tags");
  gen->add_option("--out", args->out, "output JSONL file (written atomically)")->required();
  gen->callback([args] { run_tasks_gen(*args); });
}

}  // namespace r1::cli
