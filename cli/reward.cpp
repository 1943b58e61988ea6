// r1kit reward: scores a JSON-lines file of samples with rewards named on the command line
// (--rewards accuracy,format,language [--weights 1,0.5,0.1]) or taken from a recipe stage's
// `rewards:` (--recipe FILE --stage NAME). An input line holds prompt, completion, and answer
// (math) or tests (code), optional language; an output line holds "id" (when the input has one),
// one field per reward (its value, or null when unscored), "reward" (the weighted total or null),
// "unscored" (the reasons, only when there are some) and "info" (per reward, why).
//   The work is split into chunks of lines; every thread parses, scores and serializes whole
// chunks, so the three phases all run in parallel. The first bad line (by line number) fails the
// command with file:line and the key; the output is written atomically once everything is scored.
// A one-line summary goes to stderr: samples, per-reward means, unscored counts, samples/s.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/recipe/load.h"
#include "rewards/builtin/builtin.h"
#include "rewards/combined.h"
#include "rewards/config.h"
#include "rewards/registry.h"

namespace r1::cli {
namespace {

using nlohmann::json;

struct RewardArgs {
  std::string rewards, weights, in, out, recipe, stage;
  int threads = 0;
  int chunk = 256;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

rewards::CombinedReward rewards_from_args(const RewardArgs& args) {
  if (!args.recipe.empty()) {
    if (args.stage.empty()) throw Error("--recipe: expected --stage NAME too (the stage whose `rewards:` to use)");
    if (!args.rewards.empty() || !args.weights.empty())
      throw Error("--recipe: the recipe names the rewards and weights; drop --rewards/--weights");
    const recipe::Node root = recipe::load_recipe(args.recipe, {});
    const std::filesystem::path dir = std::filesystem::absolute(args.recipe).parent_path();
    return rewards::build_rewards(rewards::stage_rewards(root, args.stage), "stages." + args.stage + ".rewards",
                                  rewards::builtin_registry(), dir);
  }
  if (args.rewards.empty()) throw Error("expected --rewards NAME[,NAME...] or --recipe FILE --stage NAME");
  const rewards::Registry registry = rewards::builtin_registry();
  const std::vector<std::string> names = split_list(args.rewards);
  std::vector<double> weights(names.size(), 1.0);
  if (!args.weights.empty()) {
    const std::vector<std::string> texts = split_list(args.weights);
    if (texts.size() != names.size())
      throw Error(str_cat("--weights: expected ", names.size(), " numbers (one per reward), found ", texts.size()));
    for (size_t i = 0; i < texts.size(); ++i) {
      char* end = nullptr;
      weights[i] = std::strtod(texts[i].c_str(), &end);
      if (texts[i].empty() || *end != '\0')
        throw Error(str_cat("--weights: expected a number, found \"", texts[i], "\""));
    }
  }
  std::vector<rewards::Component> components;
  for (size_t i = 0; i < names.size(); ++i)
    components.push_back({names[i], weights[i], registry.create(names[i], recipe::Node(), "--rewards", "--rewards")});
  return rewards::CombinedReward(std::move(components));
}

// What the command needs of an input line beyond sample_from_json's own checks.
void check_line(const rewards::Sample& s, const rewards::CombinedReward& combined, const std::string& where) {
  for (const rewards::Component& c : combined.components()) {
    if (c.name == "accuracy" && !s.answer && !s.tests)
      throw Error(str_cat(where, ": expected `answer` (math) or `tests` (code) for the accuracy reward, found neither"));
    if (c.name == "language" && !s.language.empty() && !rewards::known_language(s.language))
      throw Error(str_cat(where, ": language: expected a language code such as \"en\" or \"zh\", found \"", s.language, "\""));
  }
}

// Fields in a fixed order (id, the rewards in recipe order, reward, unscored, info).
nlohmann::ordered_json output_line(const rewards::Sample& s, const rewards::CombinedResult& r,
                                   const rewards::CombinedReward& combined) {
  using ojson = nlohmann::ordered_json;
  ojson line = ojson::object();
  if (const auto id = s.extra.find("id"); id != s.extra.end()) line["id"] = *id;
  ojson info = ojson::object();
  for (size_t k = 0; k < combined.components().size(); ++k) {
    const std::string& name = combined.components()[k].name;
    line[name] = r.parts[k].scored() ? ojson(r.parts[k].value) : ojson(nullptr);
    info[name] = r.parts[k].info;
  }
  line["reward"] = r.total ? ojson(*r.total) : ojson(nullptr);
  if (!r.unscored.empty()) line["unscored"] = r.unscored;
  line["info"] = std::move(info);
  return line;
}

struct Chunk {
  size_t first_line = 0;  // index into the line table
  size_t num_lines = 0;
  std::string output;
  rewards::RewardStats stats;
  std::optional<std::pair<size_t, std::string>> error;  // (line number, message)
};

// Parses, scores and serializes one chunk of lines.
void run_chunk(Chunk& chunk, const std::vector<std::string_view>& lines, const std::vector<size_t>& line_numbers,
               const std::string& path, const rewards::CombinedReward& combined) {
  std::vector<rewards::Sample> samples;
  samples.reserve(chunk.num_lines);
  for (size_t i = chunk.first_line; i < chunk.first_line + chunk.num_lines; ++i) {
    const std::string where = str_cat(path, ":", line_numbers[i]);
    try {
      const json value = json::parse(lines[i]);
      samples.push_back(rewards::sample_from_json(value, where));
      check_line(samples.back(), combined, where);
    } catch (const json::parse_error& e) {
      chunk.error = {line_numbers[i], str_cat(where, ": expected a JSON object, found invalid JSON (", e.what(), ")")};
      return;
    } catch (const Error& e) {
      chunk.error = {line_numbers[i], e.what()};
      return;
    }
  }
  const std::vector<rewards::CombinedResult> results = combined.score(samples);
  combined.count(results, chunk.stats);
  for (size_t i = 0; i < samples.size(); ++i) {
    chunk.output += output_line(samples[i], results[i], combined).dump(-1, ' ', false, json::error_handler_t::replace);
    chunk.output += '\n';
  }
}

void reward_command(const RewardArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const rewards::CombinedReward combined = rewards_from_args(args);
  const std::string text = core::read_file(args.in);
  std::vector<std::string_view> lines;
  std::vector<size_t> line_numbers;  // 1-based, blank lines skipped
  for (size_t at = 0, number = 1; at < text.size(); ++number) {
    const char* nl = static_cast<const char*>(std::memchr(text.data() + at, '\n', text.size() - at));
    const size_t end = nl ? size_t(nl - text.data()) : text.size();
    const std::string_view line(text.data() + at, end - at);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      lines.push_back(line);
      line_numbers.push_back(number);
    }
    at = end + 1;
  }
  std::vector<Chunk> chunks;
  for (size_t first = 0; first < lines.size(); first += size_t(args.chunk))
    chunks.push_back(Chunk{first, std::min(size_t(args.chunk), lines.size() - first)});

  const int threads = args.threads > 0 ? args.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t c = next++; c < chunks.size(); c = next++) run_chunk(chunks[c], lines, line_numbers, args.in, combined);
    });
  }
  for (std::thread& t : pool) t.join();

  rewards::RewardStats stats;
  core::AtomicFile out(args.out);
  for (const Chunk& c : chunks) {
    if (c.error) throw Error(c.error->second);  // chunks are in line order: the first bad line
    out.write(c.output);
    stats.merge(c.stats);
  }
  out.commit();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "reward: %zu samples, %s; %.0f samples/s (%d threads, %.2f s)\n", lines.size(),
               stats.summary().c_str(), double(lines.size()) / std::max(seconds, 1e-9), threads, seconds);
}

}  // namespace

void add_reward_command(CLI::App& app) {
  auto args = std::make_shared<RewardArgs>();
  CLI::App* cmd = app.add_subcommand("reward", "Score samples (JSONL) with rule rewards and plugins");
  // The list in the help comes from the registry, so it names every built-in and what it scores.
  cmd->add_option("--rewards", args->rewards,
                  "comma-separated built-in rewards, of:\n" + rewards::builtin_registry().describe());
  cmd->add_option("--weights", args->weights, "comma-separated weights, one per --rewards entry (default 1 each)");
  cmd->add_option("--recipe", args->recipe, "take the rewards from this recipe's --stage `rewards:` list");
  cmd->add_option("--stage", args->stage, "the recipe stage (with --recipe)");
  cmd->add_option("--in", args->in, "JSONL input: prompt, completion, answer or tests, optional language")->required();
  cmd->add_option("--out", args->out, "JSONL output: one field per reward, reward, info")->required();
  cmd->add_option("--threads", args->threads, "worker threads (default: all CPUs)")->check(CLI::Range(0, 1024));
  cmd->add_option("--chunk", args->chunk, "lines per work unit (default 256)")->check(CLI::Range(1, 1 << 20));
  cmd->callback([args] { reward_command(*args); });
}

}  // namespace r1::cli
