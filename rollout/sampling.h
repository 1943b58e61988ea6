// Sampling parameters and the sampler the rollout engine applies to each sequence's next-token
// logits. Names follow vLLM's SamplingParams where they overlap. Filters apply in vLLM's order:
// temperature, then min-p, then top-k, then top-p; the sampled token is drawn from the renormalized
// survivors. Returned logprobs are the model's raw log-softmax (vLLM's default "raw_logprobs"), which
// is what GRPO compares the trainer's recomputation against.
// Legend: V vocab.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace r1::rollout {

struct SamplingParams {
  int64_t n = 1;              // completions per prompt
  double temperature = 1.0;   // 0: greedy (argmax; ties go to the lowest id)
  double top_p = 1.0;         // keep the smallest set of most likely tokens with mass >= top_p
  int64_t top_k = 0;          // keep the k most likely tokens; 0 or -1: all
  double min_p = 0.0;         // keep tokens with p >= min_p * max p; 0: all
  std::optional<uint64_t> seed;     // reproducible sampling per request (sample i uses seed + i)
  int64_t max_tokens = 16;          // new tokens at most
  std::vector<int64_t> stop_token_ids;  // finish when one is sampled (kept in the output)
  std::vector<std::string> stop;        // finish when the text contains one (cut before it)
  bool ignore_eos = false;              // do not stop at the model's EOS ids
  std::optional<int64_t> logprobs;      // also return this many most likely tokens per position
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;  // when decoding the completion's text
};

// Throws r1::Error naming the field ("sampling.top_p: expected a number in (0, 1], found 0") for a
// value outside its range: n >= 1, temperature >= 0, top_p in (0, 1], top_k >= -1, min_p in
// [0, 1], max_tokens >= 1, logprobs in [0, 20].
void validate(const SamplingParams& params);

// The per-sequence random stream: a seeded 64-bit Mersenne twister (std::mt19937_64 is specified
// bit for bit by the standard, so seeded runs reproduce across compilers).
using Rng = std::mt19937_64;

struct SampledToken {
  int64_t token = 0;
  float logprob = 0.0f;  // raw log-softmax of the sampled token
  std::vector<std::pair<int64_t, float>> top_logprobs;  // when params.logprobs: (id, raw logprob), best first
};

// Samples one token from fp32 logits [V] (contiguous). `rng` is advanced by exactly one draw unless
// the params are greedy. Requires: logits.size() > 0 and validate(params) passed.
SampledToken sample_token(std::span<const float> logits, const SamplingParams& params, Rng& rng);

// The same from bf16 logits [V] (raw bit patterns), widened to fp32 first (exactly), so a bf16 model's
// logits need no fp32 copy of the whole batch.
SampledToken sample_token(std::span<const uint16_t> logits_bf16, const SamplingParams& params, Rng& rng);

// The token ids that survive the filters with their renormalized probabilities, in descending
// probability (ties: lower id first). Exposed for the tests; sample_token draws from this set.
std::vector<std::pair<int64_t, double>> filtered_distribution(std::span<const float> logits,
                                                              const SamplingParams& params);

}  // namespace r1::rollout
