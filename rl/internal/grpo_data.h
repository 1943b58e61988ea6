// GRPO's prompts (rl/grpo.h): reading the task JSONL (docs/tasks.md: messages, answer or tests,
// language, ...), rendering each prompt with the chat template's generation prompt, and the
// deterministic schedule of which prompts a step uses and which seed each prompt's samples get.
// Internal to r1_rl.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "rewards/reward.h"

namespace r1::tokenizer {
class Tokenizer;
}

namespace r1::rl::internal {

struct PromptItem {
  std::string id;                   // the line's "id" ("<file>:<line>" when it has none)
  std::string where;                // "<file>:<line>"
  std::vector<int32_t> prompt_ids;  // the rendered chat, ending with the assistant marker
  rewards::Sample sample;           // prompt (last user message), answer/tests, language, extra;
                                    // completion empty: one copy per sample gets its text
  bool has_reference = false;       // answer or tests present (accuracy can be scored)
};

// Reads `path` (JSONL, one task per line with a non-empty "messages" list whose last message is
// the user's), renders each with tok.encode_chat(messages, add_generation_prompt=true) and keeps
// the first `max_prompts` (0: all). Throws r1::Error naming "<file>:<line>: <key>" for a line
// without messages, a mistyped answer/tests/language, or a template error; and naming `key` when
// the file has no prompts.
std::vector<PromptItem> load_prompts(const std::filesystem::path& path, const tokenizer::Tokenizer& tok,
                                     int64_t max_prompts, const std::string& key);

// The dataset positions of step `step`'s `num` prompts: positions step*num .. step*num + num - 1
// of an endless stream made of one permutation of [0, num_prompts) per epoch, each permutation a
// function of (seed, epoch) alone. A resumed run therefore continues the same stream.
std::vector<int64_t> step_prompt_indices(int64_t num_prompts, int64_t step, int64_t num, uint64_t seed);

// The sampling seed of the `slot`-th prompt of step `step` (splitmix64 of the three), so a prompt's
// G samples do not depend on which rank or process drew them. `stream` separates uses (training
// rollouts 0, evaluation 1).
uint64_t sample_seed(uint64_t seed, uint64_t stream, int64_t step, int64_t slot);

}  // namespace r1::rl::internal
