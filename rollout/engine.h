// The rollout engine: generates completions for many requests at once with continuous batching
// (sequences join and leave the running batch every step), chunked prefill under a token budget, a
// paged KV cache whose pool size is set in bytes, the n samples of a request forked from one prefill
// (sharing the prompt's blocks, copy-on-write on the partial one), prefix reuse across requests, and
// preemption by recomputation when the pool runs out (a sequence is never dropped).
// Used in-process by the trainers and by `r1kit generate`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/causal_lm.h"
#include "rollout/block_manager.h"
#include "rollout/paged_kv_cache.h"
#include "rollout/sampling.h"

namespace r1::tokenizer {
class Tokenizer;
}

namespace r1::rollout {

struct EngineConfig {
  int64_t kv_cache_bytes = int64_t{1} << 30;  // the KV pool, all layers; sets the number of blocks
  int64_t block_size = 16;                    // tokens per KV block
  // Sequences in the running batch at most when admitting; a request's n samples are admitted as one
  // (forked after its prefill), so they may take the batch past this by n - 1.
  int64_t max_num_seqs = 256;
  int64_t max_batch_tokens = 2048;            // tokens per forward (decode rows + prefill chunks)
  // How the paged KV cache is attended (rollout/paged_kv_cache.h): the CPU kernel on the CPU, the
  // portable gather path on other devices (kAuto); tests force kGather on the CPU.
  KvAttention attention = KvAttention::kAuto;
  // Intra-op threads for a step (forward, LM head, draws): 0 = automatic, N = always N. Automatic
  // runs a step on one thread when its work is small (under ~2 GFLOP: the step's tokens times the
  // model's FLOPs per token) and the model's weights are small (under 64 MB), else on all of
  // LibTorch's threads. Small steps of a small model are a few hundred ATen calls of microseconds
  // each; on two threads every parallel region wakes and joins the other thread through futexes,
  // which cost more than the work (the tiny DeepSeek-V3 decoded 1.9-3.7x faster on one thread than
  // on two, docs/rollout.md). Such a step with at least 16 sequences uses the other threads
  // anyway, by splitting: its sequences are cut into one contiguous slice per thread (at least 8
  // each, balanced by tokens), and each slice's forward runs on its own thread with one intra-op
  // thread. The choice and the cut depend only on the step's sequences and token counts, so a
  // seeded run still repeats exactly.
  int64_t threads = 0;
};

struct Request {
  std::vector<int32_t> prompt;  // token ids, at least one
  SamplingParams params;
};

struct Completion {
  std::vector<int32_t> tokens;  // generated ids (a stop token id is included; see finish_reason)
  std::string text;             // decoded (cut before a matched stop string); empty without a tokenizer
  std::vector<float> logprobs;  // raw log-softmax of each generated token
  std::vector<std::vector<std::pair<int64_t, float>>> top_logprobs;  // when params.logprobs
  std::string finish_reason;    // "stop" (EOS, stop token or stop string) or "length" (max_tokens)
  std::string stop_reason;      // the stop string, or the stop/EOS token id as text; empty for "length"
};

struct RequestOutput {
  std::vector<Completion> completions;  // params.n of them, in sample order
  int64_t num_prompt_tokens = 0;
  int64_t num_cached_prompt_tokens = 0;  // prompt tokens found in the prefix cache (first sample)
};

struct EngineStats {
  int64_t steps = 0;
  int64_t prefill_tokens = 0;     // prompt (and recomputed) tokens run through the model
  int64_t generated_tokens = 0;
  int64_t preemptions = 0;
  int64_t peak_blocks_used = 0;
  int64_t sliced_steps = 0;       // steps whose forward ran as slices on several threads (EngineConfig::threads)
  double seconds = 0.0;
  // Where generate()'s seconds go: the model's forward (layers and attention), the LM head with
  // the logits' copy to fp32, and drawing tokens; the rest is scheduling and bookkeeping.
  double forward_seconds = 0.0;
  double lm_head_seconds = 0.0;
  double sample_seconds = 0.0;
  int64_t syncs = 0;
  double sync_seconds = 0.0;
};

class Engine {
 public:
  // `model` runs under InferenceMode in its own dtype and device; `tokenizer` (may be null) decodes
  // text and matches stop strings. Throws r1::Error when kv_cache_bytes holds no block.
  Engine(std::shared_ptr<model::CausalLM> model, const tokenizer::Tokenizer* tokenizer, EngineConfig config);
  ~Engine();

  // Runs every request to completion. Outputs are in request order. Throws r1::Error for bad sampling
  // parameters, an empty prompt, a stop string without a tokenizer, or a sequence that can never fit
  // in the pool. `on_step` (optional) gets the number of sequences finished so far after each step.
  std::vector<RequestOutput> generate(const std::vector<Request>& requests,
                                      const std::function<void(int64_t)>& on_step = {});

  // Copies `source`'s weights (same architecture and shapes, any dtype or device) into the engine's
  // model by Hugging Face name, converting dtypes (into an FP8 model, ModelOptions::keep_fp8: each
  // FP8 weight quantized per 128x128 block, its weight_scale_inv set with it), and drops the prefix
  // cache, whose keys and values the old weights computed. A no-op copy when `source` is the
  // engine's own model. Returns the seconds it took (also summed in stats().sync_seconds). Call
  // between generate() calls.
  double sync_weights(model::CausalLM& source);

  const BlockManager& blocks() const;
  const EngineStats& stats() const;
  const EngineConfig& config() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace r1::rollout
