// The rollout engine (rollout/engine.h). One step = schedule, forward, sample, update:
//   schedule: every running sequence gets its next decode token (preempting the most recently
//             admitted ones when the pool cannot grow), then prefill chunks fill the token budget
//             (unfinished chunked prefills first, then waiting sequences in arrival order);
//   forward:  one varlen forward over all scheduled tokens through the paged cache;
//   sample:   logits only at rows that end a sequence's known tokens; a request's n samples are
//             forked from its prompt's prefill and draw their first token from the same logits;
//   update:   stops, finished sequences release their blocks, full blocks join the prefix cache.
// Legend: T tokens of a forward, S scheduled sequences, V vocab.
#include "rollout/engine.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <numeric>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "core/tokenizer/tokenizer.h"
#include "model/forward_batch.h"
#include "model/model_info.h"
#include "model/weights.h"
#include "rollout/kernels/fp8_torch.h"
#include "rollout/paged_kv_cache.h"

namespace r1::rollout {

namespace {

struct Sequence {
  int64_t id = 0;
  int64_t request_idx = 0;
  int64_t sample_idx = 0;
  std::vector<int32_t> tokens;  // prompt + generated
  int64_t num_prompt = 0;
  int64_t num_computed = 0;     // leading tokens whose KV is in the cache
  int64_t pending_forks = 0;    // a leader: samples 1..n-1 still to fork off after its prefill
  Rng rng;
  Completion out;
  bool text_done = false;  // out.text was cut at a stop string
  bool sampled_uncomputed = false;  // the last token was just sampled and awaits its decode step
};

uint64_t sample_seed(const SamplingParams& p, int64_t request_idx, int64_t sample_idx) {
  // Unseeded requests still get distinct, reproducible streams per (request, sample).
  const uint64_t base = p.seed ? *p.seed : 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(request_idx + 1);
  return base + static_cast<uint64_t>(sample_idx);
}

}  // namespace

struct Engine::State {
  std::shared_ptr<model::CausalLM> model;
  const tokenizer::Tokenizer* tokenizer = nullptr;
  EngineConfig config;
  BlockManager blocks;
  PagedKvCache cache;
  std::vector<PagedKvCache> slice_caches;  // handles on `cache`'s pools for forward_slices' threads
  EngineStats stats;
  std::vector<int64_t> eos_ids;

  // Per generate() call.
  const std::vector<Request>* requests = nullptr;
  std::vector<RequestOutput> outputs;
  std::unordered_map<int64_t, Sequence> seqs;
  std::deque<int64_t> waiting;  // not in the cache (new or preempted); front first
  std::vector<int64_t> running;  // in the cache, in admission order
  int64_t next_id = 0;
  int64_t num_finished = 0;

  // What the automatic thread choice (EngineConfig::threads) reads: the matmul FLOPs of one token
  // and the bytes of the weights.
  double flops_per_token = 0.0;
  int64_t weight_bytes = 0;

  // Sets LibTorch's intra-op thread count for a scope and restores it after.
  class ThreadScope {
   public:
    explicit ThreadScope(int threads) : saved_(at::get_num_threads()) {
      if (threads != saved_) at::set_num_threads(threads);
    }
    ~ThreadScope() {
      if (at::get_num_threads() != saved_) at::set_num_threads(saved_);
    }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

   private:
    int saved_;
  };

  // Into how many slices a step's forward is cut (EngineConfig::threads): one per available thread
  // when the step runs single-threaded for being small (automatic threads, CPU), with at least
  // kMinSliceSequences sequences each.
  int step_slices(int64_t num_sequences, int step_threads, int available_threads) const {
    constexpr int64_t kMinSliceSequences = 8;
    if (config.threads > 0 || step_threads != 1 || !model->options().device.is_cpu()) return 1;
    return static_cast<int>(std::clamp<int64_t>(num_sequences / kMinSliceSequences, 1, available_threads));
  }

  // The step's forward over `slices` contiguous slices of its sequences, balanced by tokens, each
  // on its own thread (this one runs the first) through its own handle on the shared KV pools;
  // the hidden rows come back in the batch's order. The threads start with this thread's LibTorch
  // state (inference mode, dtype and autocast settings) and one intra-op thread each.
  at::Tensor forward_slices(const at::Tensor& ids_T, const std::vector<int64_t>& chunk_lens,
                            const std::vector<int64_t>& context_lens, const std::vector<int64_t>& seq_ids,
                            int slices) {
    const at::Device device = model->options().device;
    const int64_t total = std::accumulate(chunk_lens.begin(), chunk_lens.end(), int64_t{0});
    std::vector<std::size_t> cut = {0};  // sequence index where each slice starts
    int64_t tokens = 0;
    for (std::size_t s = 0; s < chunk_lens.size() && static_cast<int>(cut.size()) < slices; ++s) {
      tokens += chunk_lens[s];
      if (tokens * slices >= total * static_cast<int64_t>(cut.size()) && s + 1 < chunk_lens.size())
        cut.push_back(s + 1);
    }
    cut.push_back(chunk_lens.size());
    const std::size_t n = cut.size() - 1;
    while (slice_caches.size() + 1 < n) slice_caches.push_back(cache);  // shares the pools
    std::vector<at::Tensor> hidden(n);
    std::vector<std::exception_ptr> errors(n);
    const at::ThreadLocalState state;
    auto run = [&](std::size_t k) {
      const auto first = static_cast<std::ptrdiff_t>(cut[k]), last = static_cast<std::ptrdiff_t>(cut[k + 1]);
      const std::vector<int64_t> lens(chunk_lens.begin() + first, chunk_lens.begin() + last);
      const std::vector<int64_t> ctx(context_lens.begin() + first, context_lens.begin() + last);
      const std::vector<int64_t> ids(seq_ids.begin() + first, seq_ids.begin() + last);
      const int64_t start = std::accumulate(chunk_lens.begin(), chunk_lens.begin() + first, int64_t{0});
      const int64_t count = std::accumulate(lens.begin(), lens.end(), int64_t{0});
      model::KvCache* kv = k == 0 ? static_cast<model::KvCache*>(&cache) : &slice_caches[k - 1];
      hidden[k] = model->forward(ids_T.narrow(0, start, count), model::cached_batch(lens, ctx, ids, device), kv);
    };
    std::vector<std::thread> workers;
    for (std::size_t k = 1; k < n; ++k) {
      workers.emplace_back([&, k] {
        try {
          const at::ThreadLocalStateGuard guard(state);
          at::set_num_threads(1);
          run(k);
        } catch (...) {
          errors[k] = std::current_exception();
        }
      });
    }
    try {
      run(0);
    } catch (...) {
      errors[0] = std::current_exception();
    }
    for (std::thread& w : workers) w.join();
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
    return n == 1 ? hidden[0] : at::cat(hidden, 0);
  }

  int step_threads(int64_t num_tokens) const {
    constexpr double kSmallStepFlops = 2e9;
    constexpr int64_t kSmallModelBytes = int64_t{64} << 20;
    if (config.threads > 0) return static_cast<int>(config.threads);
    const bool small = static_cast<double>(num_tokens) * flops_per_token < kSmallStepFlops &&
                       weight_bytes < kSmallModelBytes;
    return small ? 1 : at::get_num_threads();
  }

  State(std::shared_ptr<model::CausalLM> m, const tokenizer::Tokenizer* tok, EngineConfig cfg, int64_t num_blocks)
      : model(std::move(m)),
        tokenizer(tok),
        config(cfg),
        blocks(num_blocks, cfg.block_size),
        cache(model->kv_spec(), blocks, model->options().dtype, model->options().device, cfg.attention) {
    const auto& eos = hf::decoder_config(model->config()).eos_token_id;
    eos_ids.assign(eos.begin(), eos.end());
    flops_per_token = model::model_info(model->config(), 1).flops_per_token;
    for (const at::Tensor& p : model->module().parameters()) weight_bytes += p.numel() * static_cast<int64_t>(p.element_size());
    for (const at::Tensor& b : model->module().buffers()) weight_bytes += b.numel() * static_cast<int64_t>(b.element_size());
  }

  struct Scheduled {
    int64_t seq_id;
    int64_t num_tokens;
  };

  // Frees `id`'s blocks and puts it back at the front of the queue to be recomputed.
  void preempt(int64_t id) {
    blocks.free(id);
    seqs.at(id).num_computed = 0;
    seqs.at(id).sampled_uncomputed = false;  // recomputed as prefill when readmitted
    std::erase(running, id);
    waiting.push_front(id);
    ++stats.preemptions;
  }

  std::vector<Scheduled> schedule() {
    std::vector<Scheduled> batch;
    int64_t budget = config.max_batch_tokens;
    // 1. Decode: one token for every running sequence whose known tokens are all computed but one.
    for (std::size_t i = 0; i < running.size() && budget > 0; ++i) {
      const int64_t id = running[i];
      Sequence& seq = seqs.at(id);
      const auto len = static_cast<int64_t>(seq.tokens.size());
      if (seq.num_computed != len - 1) continue;  // still in prefill
      while (!blocks.can_append(id, len) && running.back() != id) preempt(running.back());
      if (!blocks.can_append(id, len)) {
        preempt(id);
        break;
      }
      if (const auto copy = blocks.append(id, len)) cache.copy_block(*copy);
      batch.push_back({id, 1});
      budget -= 1;
    }
    // 2. Chunked prefills already admitted (those with one token left were scheduled as decodes).
    for (int64_t id : running) {
      if (budget <= 0) break;
      const Sequence& seq = seqs.at(id);
      const int64_t remaining = static_cast<int64_t>(seq.tokens.size()) - seq.num_computed;
      if (remaining < 2) continue;
      const int64_t chunk = std::min(remaining, budget);
      batch.push_back({id, chunk});
      budget -= chunk;
    }
    // 3. Admit waiting sequences while the budget, the batch limit and the pool allow.
    while (!waiting.empty() && budget > 0 && static_cast<int64_t>(running.size()) < config.max_num_seqs) {
      const int64_t id = waiting.front();
      Sequence& seq = seqs.at(id);
      if (!blocks.can_allocate(seq.tokens)) {
        if (running.empty())
          throw Error(str_cat("rollout: a sequence of ", seq.tokens.size(), " tokens needs ",
                              blocks.blocks_for(static_cast<int64_t>(seq.tokens.size())), " KV blocks of ",
                              config.block_size, " tokens, but the pool has ", blocks.num_blocks(),
                              "; raise kv_cache_bytes"));
        break;
      }
      waiting.pop_front();
      const int64_t cached = blocks.allocate(id, seq.tokens);
      seq.num_computed = cached;
      if (seq.out.tokens.empty() && seq.sample_idx == 0) outputs[seq.request_idx].num_cached_prompt_tokens = cached;
      running.push_back(id);
      const int64_t chunk = std::min(static_cast<int64_t>(seq.tokens.size()) - cached, budget);
      batch.push_back({id, chunk});
      budget -= chunk;
    }
    return batch;
  }

  // Whether a stop string ends within the text of the last few tokens. A stop string completed by the
  // newest token lies in the last |stop| bytes, so decoding max|stop| + 4 tokens (each at least one
  // byte; 4 more so that a character split at the window's start cannot reach those bytes) suffices,
  // and the per-token cost does not grow with the completion. (Tokens that decode to nothing, such
  // as skipped special tokens, shrink the window; a stop string spanning many of them is missed.)
  bool tail_has_stop(const std::vector<int32_t>& tokens, const SamplingParams& p) const {
    std::size_t longest = 0;
    for (const std::string& s : p.stop) longest = std::max(longest, s.size());
    const std::size_t window = std::min(tokens.size(), longest + 4);
    const std::string tail = tokenizer->decode(std::span<const int32_t>(tokens).last(window), p.skip_special_tokens);
    for (const std::string& s : p.stop)
      if (tail.find(s) != std::string::npos) return true;
    return false;
  }

  // Appends `token` to `seq` and decides whether it finished.
  void accept(Sequence& seq, const SampledToken& sampled) {
    const SamplingParams& p = (*requests)[seq.request_idx].params;
    seq.tokens.push_back(static_cast<int32_t>(sampled.token));
    seq.out.tokens.push_back(static_cast<int32_t>(sampled.token));
    seq.sampled_uncomputed = true;
    seq.out.logprobs.push_back(sampled.logprob);
    if (p.logprobs) seq.out.top_logprobs.push_back(sampled.top_logprobs);
    ++stats.generated_tokens;
    const bool is_stop_id = std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), sampled.token) != p.stop_token_ids.end();
    const bool is_eos = !p.ignore_eos && std::find(eos_ids.begin(), eos_ids.end(), sampled.token) != eos_ids.end();
    if (is_stop_id || is_eos) {
      seq.out.finish_reason = "stop";
      seq.out.stop_reason = std::to_string(sampled.token);
    } else if (!p.stop.empty() && tail_has_stop(seq.out.tokens, p)) {
      // The first occurrence in the whole text (the tail check runs every token, so it is the new one).
      const std::string text = tokenizer->decode(seq.out.tokens, p.skip_special_tokens);
      std::size_t cut = std::string::npos;
      const std::string* which = nullptr;
      for (const std::string& s : p.stop) {
        const std::size_t at = text.find(s);
        if (at != std::string::npos && (cut == std::string::npos || at < cut)) cut = at, which = &s;
      }
      R1_CHECK(which != nullptr, "stop string seen in the tail but not in the text");
      seq.out.finish_reason = "stop";
      seq.out.stop_reason = *which;
      seq.out.text = text.substr(0, p.include_stop_str_in_output ? cut + which->size() : cut);
      seq.text_done = true;
    }
    if (seq.out.finish_reason.empty() && static_cast<int64_t>(seq.out.tokens.size()) >= p.max_tokens)
      seq.out.finish_reason = "length";
  }

  void finish(Sequence& seq) {
    const SamplingParams& p = (*requests)[seq.request_idx].params;
    if (tokenizer && !seq.text_done) seq.out.text = tokenizer->decode(seq.out.tokens, p.skip_special_tokens);
    outputs[seq.request_idx].completions[seq.sample_idx] = std::move(seq.out);
    blocks.free(seq.id);
    std::erase(running, seq.id);
    seqs.erase(seq.id);
    ++num_finished;
  }

  // Forks the leader's remaining samples off its just-computed prompt; returns their ids.
  std::vector<int64_t> fork_samples(Sequence& leader) {
    std::vector<int64_t> children;
    const Request& r = (*requests)[leader.request_idx];
    for (int64_t i = 1; i <= leader.pending_forks; ++i) {
      Sequence child;
      child.id = next_id++;
      child.request_idx = leader.request_idx;
      child.sample_idx = i;
      child.tokens = leader.tokens;
      child.num_prompt = leader.num_prompt;
      child.num_computed = leader.num_computed;
      child.rng = Rng(sample_seed(r.params, leader.request_idx, i));
      blocks.fork(leader.id, child.id);
      running.push_back(child.id);
      children.push_back(child.id);
      seqs.emplace(child.id, std::move(child));
    }
    leader.pending_forks = 0;
    return children;
  }

  void step() {
    const std::vector<Scheduled> batch = schedule();
    R1_CHECK(!batch.empty(), "nothing scheduled with ", running.size(), " running, ", waiting.size(), " waiting");
    int64_t num_tokens = 0;
    for (const Scheduled& s : batch) num_tokens += s.num_tokens;
    const int available = at::get_num_threads();
    const int threads_now = model->options().device.is_cpu() ? step_threads(num_tokens) : available;
    const int slices = step_slices(static_cast<int64_t>(batch.size()), threads_now, available);
    const ThreadScope threads(threads_now);
    // Forward over every scheduled token.
    std::vector<int64_t> ids, chunk_lens, context_lens, seq_ids;
    for (const Scheduled& s : batch) {
      const Sequence& seq = seqs.at(s.seq_id);
      ids.insert(ids.end(), seq.tokens.begin() + seq.num_computed, seq.tokens.begin() + seq.num_computed + s.num_tokens);
      chunk_lens.push_back(s.num_tokens);
      context_lens.push_back(seq.num_computed);
      seq_ids.push_back(s.seq_id);
    }
    const at::Device device = model->options().device;
    const model::ForwardBatch fb = model::cached_batch(chunk_lens, context_lens, seq_ids, device);
    auto phase_start = std::chrono::steady_clock::now();
    const auto lap = [&phase_start](double& total) {
      const auto now = std::chrono::steady_clock::now();
      total += std::chrono::duration<double>(now - phase_start).count();
      phase_start = now;
    };
    const at::Tensor ids_T = at::tensor(ids, at::kLong).to(device);
    const at::Tensor hidden = slices > 1 ? forward_slices(ids_T, chunk_lens, context_lens, seq_ids, slices)
                                         : model->forward(ids_T, fb, &cache);
    if (slices > 1) ++stats.sliced_steps;
    lap(stats.forward_seconds);
    // Logits at the rows that end a sequence's known tokens.
    std::vector<int64_t> rows, row_seqs;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Sequence& seq = seqs.at(batch[i].seq_id);
      seq.num_computed += batch[i].num_tokens;
      if (seq.num_computed == static_cast<int64_t>(seq.tokens.size())) {
        rows.push_back(fb.cu_seqlens[i + 1] - 1);
        row_seqs.push_back(seq.id);
      }
      if (!seq.sampled_uncomputed) stats.prefill_tokens += batch[i].num_tokens;
      seq.sampled_uncomputed = false;
    }
    ++stats.steps;
    if (rows.empty()) return;
    // bf16 logits stay bf16: each draw widens its own row (in parallel, cache-resident) instead of
    // the step converting the whole [rows, V] batch to fp32.
    at::Tensor logits = model->logits(hidden.index_select(0, at::tensor(rows, at::kLong).to(device))).cpu();
    const bool bf16 = logits.scalar_type() == at::kBFloat16;
    logits = bf16 ? logits.contiguous() : logits.to(at::kFloat).contiguous();
    lap(stats.lm_head_seconds);
    const int64_t vocab = logits.size(1);
    // Forks first (serially: they allocate ids and blocks), then every draw in parallel (each
    // sequence has its own stream, so the result does not depend on the threads), then the updates.
    std::vector<std::pair<int64_t, int64_t>> draws;  // (logits row, sequence)
    for (std::size_t r = 0; r < rows.size(); ++r) {
      draws.emplace_back(static_cast<int64_t>(r), row_seqs[r]);
      Sequence& leader = seqs.at(row_seqs[r]);
      if (leader.pending_forks > 0)
        for (int64_t child : fork_samples(leader)) draws.emplace_back(static_cast<int64_t>(r), child);
    }
    std::vector<Sequence*> targets;
    for (const auto& [r, id] : draws) targets.push_back(&seqs.at(id));
    std::vector<SampledToken> sampled(draws.size());
    const auto* base = static_cast<const char*>(logits.data_ptr());
    const int64_t row_bytes = vocab * static_cast<int64_t>(logits.element_size());
    at::parallel_for(0, static_cast<int64_t>(draws.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const char* row = base + draws[i].first * row_bytes;
        Sequence& seq = *targets[i];
        const SamplingParams& params = (*requests)[seq.request_idx].params;
        sampled[i] = bf16 ? sample_token(std::span(reinterpret_cast<const uint16_t*>(row), static_cast<std::size_t>(vocab)),
                                         params, seq.rng)
                          : sample_token(std::span(reinterpret_cast<const float*>(row), static_cast<std::size_t>(vocab)),
                                         params, seq.rng);
      }
    });
    lap(stats.sample_seconds);
    for (std::size_t i = 0; i < draws.size(); ++i) {
      Sequence& seq = *targets[i];
      accept(seq, sampled[i]);
      if (!seq.out.finish_reason.empty()) finish(seq);
    }
    for (int64_t id : running) {
      const Sequence& seq = seqs.at(id);
      blocks.register_full_blocks(id, std::span<const int32_t>(seq.tokens).first(static_cast<std::size_t>(seq.num_computed)));
    }
    stats.peak_blocks_used = std::max(stats.peak_blocks_used, blocks.num_blocks() - blocks.num_free_blocks());
  }
};

Engine::Engine(std::shared_ptr<model::CausalLM> model, const tokenizer::Tokenizer* tokenizer, EngineConfig config) {
  if (config.block_size < 1 || config.max_num_seqs < 1 || config.max_batch_tokens < 1)
    throw Error(str_cat("rollout: block_size, max_num_seqs and max_batch_tokens must be >= 1, found ",
                        config.block_size, ", ", config.max_num_seqs, ", ", config.max_batch_tokens));
  if (config.threads < 0) throw Error(str_cat("rollout: threads must be >= 0 (0: automatic), found ", config.threads));
  const int64_t num_blocks = PagedKvCache::blocks_for_bytes(model->kv_spec(), config.block_size,
                                                            model->options().dtype, config.kv_cache_bytes);
  if (num_blocks < 1)
    throw Error(str_cat("rollout: kv_cache_bytes ", config.kv_cache_bytes, " holds no KV block of ", config.block_size,
                        " tokens (", model->kv_spec().elements_per_token(), " values per token)"));
  model->pack_projections();
  state_ = std::make_unique<State>(std::move(model), tokenizer, config, num_blocks);
}

Engine::~Engine() = default;

std::vector<RequestOutput> Engine::generate(const std::vector<Request>& requests,
                                            const std::function<void(int64_t)>& on_step) {
  State& s = *state_;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    validate(requests[i].params);
    if (requests[i].prompt.empty()) throw Error(str_cat("rollout: request ", i, ": empty prompt"));
    if (!requests[i].params.stop.empty() && s.tokenizer == nullptr)
      throw Error(str_cat("rollout: request ", i, ": stop strings need a tokenizer"));
  }
  const auto start = std::chrono::steady_clock::now();
  at::InferenceMode inference;
  // A previous call that threw may have left sequences behind.
  for (int64_t id : s.running) s.blocks.free(id);
  s.running.clear();
  s.waiting.clear();
  s.seqs.clear();
  s.requests = &requests;
  s.outputs.assign(requests.size(), RequestOutput{});
  s.num_finished = 0;
  int64_t total = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    s.outputs[i].completions.resize(static_cast<std::size_t>(r.params.n));
    s.outputs[i].num_prompt_tokens = static_cast<int64_t>(r.prompt.size());
    Sequence leader;
    leader.id = s.next_id++;
    leader.request_idx = static_cast<int64_t>(i);
    leader.tokens = r.prompt;
    leader.num_prompt = static_cast<int64_t>(r.prompt.size());
    leader.pending_forks = r.params.n - 1;
    leader.rng = Rng(sample_seed(r.params, leader.request_idx, 0));
    s.waiting.push_back(leader.id);
    s.seqs.emplace(leader.id, std::move(leader));
    total += r.params.n;
  }
  while (s.num_finished < total) {
    s.step();
    if (on_step) on_step(s.num_finished);
  }
  s.stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.requests = nullptr;
  return std::move(s.outputs);
}

double Engine::sync_weights(model::CausalLM& source) {
  State& s = *state_;
  const auto start = std::chrono::steady_clock::now();
  if (&source != s.model.get()) {
    at::NoGradGuard no_grad;
    // By name: the source may hold more (a trainer's MTP modules), never less.
    std::unordered_map<std::string, at::Tensor> src, dst;
    for (auto& [name, t] : model::state_dict(source)) src.emplace(name, t);
    const model::NamedTensors targets = model::state_dict(*s.model);
    for (const auto& [name, t] : targets) dst.emplace(name, t);
    for (auto [name, t] : targets) {
      const bool fp8 = t.scalar_type() == at::kFloat8_e4m3fn;
      // An FP8 engine copy (ModelOptions::keep_fp8) of a higher-precision trainer: each FP8 weight is
      // the trainer's quantized per 128x128 block, codes and scales (what FP8 rollout in RL
      // frameworks does); its <name>_scale_inv is set with it.
      if (name.ends_with("_scale_inv") && !src.contains(name)) {
        const auto weight = dst.find(name.substr(0, name.size() - std::string_view("_scale_inv").size()));
        if (weight != dst.end() && weight->second.scalar_type() == at::kFloat8_e4m3fn) continue;
      }
      const auto it = src.find(name);
      R1_CHECK(it != src.end() && it->second.sizes() == t.sizes(), "sync_weights: ", name, " ", t.sizes(),
               it == src.end() ? std::string(" missing in the source") : str_cat(" from ", it->second.sizes()));
      if (fp8 && it->second.scalar_type() != at::kFloat8_e4m3fn) {
        const kernels::Fp8Weight q = kernels::quantize_weights(it->second.detach().to(t.device()));
        t.copy_(q.codes);
        dst.at(name + "_scale_inv").copy_(q.scales);
        continue;
      }
      t.copy_(it->second);
    }
  }
  s.blocks.clear_prefix_cache();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++s.stats.syncs;
  s.stats.sync_seconds += seconds;
  return seconds;
}

const BlockManager& Engine::blocks() const { return state_->blocks; }
const EngineStats& Engine::stats() const { return state_->stats; }
const EngineConfig& Engine::config() const { return state_->config; }

}  // namespace r1::rollout
