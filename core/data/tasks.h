// Generated, verifiable tasks for the tiny R1 demo (docs/tasks.md): multi-digit arithmetic and
// countdown with step-by-step CoT and \boxed{} answers, small Python function-writing tasks with
// sandbox tests, and chit-chat for the non-reasoning share, in English and Chinese. Output lines
// follow BRIEF interface 1 (the JSONL that `r1kit tasks gen` writes). Contract:
//  - deterministic: the same config gives the same lines, byte for byte, on every platform (own
//    PRNG, no std:: distributions);
//  - the split is a pure function of the problem (a hash of its language-free key), so train and
//    heldout never share a problem whatever the seeds, as long as heldout_share is the same.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/recipe/bind.h"

namespace r1::data {

struct TasksConfig {
  // "rl": prompts (one user message) with answer/tests; "sft": plus the assistant message
  // "<think>\n...\n</think>\n\nsummary" (chat: summary only); "pretrain": {"text"} corpus lines.
  std::string kind = "rl";
  // Families to draw from: "arithmetic", "countdown", "function", "chat".
  std::vector<std::string> tasks = {"arithmetic", "countdown", "function", "chat"};
  // Relative weight of each family in `tasks` (same length); empty: equal weights.
  std::vector<double> weights;
  int64_t num = 1000;           // lines to write
  std::string split = "train";  // "train" or "heldout"
  int64_t seed = 0;             // PRNG seed; same seed + same config = same lines
  int64_t difficulty_min = 1;   // difficulty drawn uniformly from [min, max] (chat is always 1)
  int64_t difficulty_max = 5;
  // Share of the problems held out: hash(problem) < heldout_share. Must be the same for the train
  // and heldout generations (that is what makes them disjoint); 0.1 keeps 90% for training.
  double heldout_share = 0.1;
  double zh_share = 0.3;  // share of prompts in Chinese (the rest English)
  // sft only: share of zh-prompt reasoning samples whose CoT is written in English (R1-Zero's
  // language mixing), so the language-consistency reward has something to fix. 0: none.
  double zh_cot_english_share = 0.0;
  // Arithmetic operations to draw from: "add", "sub", "mul".
  std::vector<std::string> operations = {"add", "sub", "mul"};
  // Each problem (with its language) at most once in the output; fails when the problem space at
  // the chosen difficulties has fewer than `num` problems. Use it for held-out evaluation sets.
  bool unique = false;
  // pretrain only: share of lines that are generic sentences rather than rendered tasks.
  double generic_share = 0.15;
  // pretrain only: render a task's reasoning inside <think>...</think> as the SFT answer has it
  // (the base model then knows the format, which R1-Zero-style GRPO from the base relies on);
  // false: prompt, reasoning and summary as plain paragraphs.
  bool pretrain_think_tags = true;

  template <typename V>
  void visit(V& v) {
    v.field("kind", kind, "rl (prompts), sft (prompts + CoT answers) or pretrain (text corpus)",
            recipe::OneOf{"rl", "sft", "pretrain"});
    v.field("tasks", tasks, "task families to draw from", recipe::NonEmpty{},
            recipe::OneOf{"arithmetic", "countdown", "function", "chat"});
    v.field("weights", weights, "relative weight per entry of tasks (empty: equal)", recipe::AtLeast{0});
    v.field("num", num, "number of lines", recipe::AtLeast{1});
    v.field("split", split, "train or heldout", recipe::OneOf{"train", "heldout"});
    v.field("seed", seed, "PRNG seed", recipe::AtLeast{0});
    v.field("difficulty_min", difficulty_min, "lowest difficulty (1..5)", recipe::AtLeast{1}, recipe::AtMost{5});
    v.field("difficulty_max", difficulty_max, "highest difficulty (1..5)", recipe::AtLeast{1}, recipe::AtMost{5});
    v.field("heldout_share", heldout_share, "share of problems held out (same for both splits)",
            recipe::Above{0}, recipe::Below{1});
    v.field("zh_share", zh_share, "share of Chinese prompts", recipe::AtLeast{0}, recipe::AtMost{1});
    v.field("zh_cot_english_share", zh_cot_english_share,
            "sft: share of zh reasoning samples with an English CoT", recipe::AtLeast{0}, recipe::AtMost{1});
    v.field("operations", operations, "arithmetic operations", recipe::NonEmpty{},
            recipe::OneOf{"add", "sub", "mul"});
    v.field("unique", unique, "each problem at most once (held-out sets)");
    v.field("generic_share", generic_share, "pretrain: share of generic sentences",
            recipe::AtLeast{0}, recipe::AtMost{1});
    v.field("pretrain_think_tags", pretrain_think_tags, "pretrain: keep <think> tags around the reasoning");
  }
};

// Checks what the schema cannot (weights' length and sum, difficulty_min <= difficulty_max,
// unique names), and, for configs filled outside recipe::bind (the CLI, tests), every schema
// constraint too. Throws r1::Error "<where>.<key>: expected ..., found ..." (where = "tasks" or
// the recipe's key path).
void validate(const TasksConfig& config, std::string_view where = "tasks");

// The lines for `config` (validate()d first). Every line has id ("arith-d3-000017"), task,
// difficulty, language, split and problem (the language-free key the split hashes); kind rl/sft
// lines have messages, and answer (arithmetic: the integer; countdown: a reference expression,
// plus "numbers" and "target") or tests (function: sandbox test objects, plus "entry_point");
// pretrain lines have only {"text"} plus those identifying keys. Throws r1::Error when `unique`
// cannot be met.
std::vector<nlohmann::json> generate_tasks(const TasksConfig& config);
inline std::vector<nlohmann::json> generate(const TasksConfig& config) { return generate_tasks(config); }

// Writes one JSON object per line (compact, UTF-8) to `path` atomically (temp + fsync + rename).
void write_jsonl(const std::filesystem::path& path, std::span<const nlohmann::json> lines);

// The split rule: true when the problem with this key is held out at `heldout_share` (FNV-1a 64
// of the key, mapped to [0, 1)). A pure function: no seed, no language.
bool is_heldout(std::string_view problem_key, double heldout_share);

// The text of a pretrain line for an sft line: the prompt, a newline, then the assistant message
// (with its <think> tags when think_tags, else the reasoning and summary as plain paragraphs).
// Throws r1::Error when the line has no user + assistant messages.
std::string render_plain_text(const nlohmann::json& sft_line, bool think_tags = true);

}  // namespace r1::data
