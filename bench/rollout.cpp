// bench/rollout: generation throughput of the rollout engine, in new tokens per second, for the tiny
// built-in model and a random-weight model of the Qwen2.5-0.5B shape (../shared/configs), at 1, 8
// and 64 concurrent sequences: 128-token prompts shared by each group of 8 samples, N new tokens
// with EOS ignored (temperature 1). In the same run: this machine's fp32 and bf16 matmul rates (the
// best of a 2048^3 product and the model's MLP shape at 1,024 rows: the floor; and the MLP shape at
// 64 rows, what a decode step's GEMMs can reach), the achieved FLOP/s (model_info's forward FLOPs
// per token at the mean context, over generated tokens only) as a share of the floor; a naive
// baseline (batched full forward over every sequence's whole text per new token, no cache; timed
// over a few tokens); transformers' generate() on the same shape, batch and number of new tokens
// (bench/rollout_reference.py); and the time sync_weights takes to refresh the engine's weights
// from a trainer's copy.
//   usage: bench/rollout [--new-tokens N] [--reference-new-tokens N] [--dtype auto|fp32|bf16]
//                        [--no-reference] [--no-naive] [--only-tiny] [--seqs N[,N...]] [--device cpu|cuda]
//                        [--engine-threads N (EngineConfig::threads; default 0, automatic)]
// --device cuda (issue 9; scripts/gpu-check.sh --rollout runs it) puts the models and the engine on
// the GPU (its KV cache attended by the portable gather path, rollout/paged_kv_cache.h), measures the
// floors there (8192^3 products), and runs transformers' generate() on the GPU too.
// --dtype auto (the default) runs in bf16 where bf16 matmul is faster than fp32 (avx512_bf16/AMX)
// and in fp32 elsewhere. Prints a table, then one JSON line whose "qwen2.5-0.5b@64" figures carry
// share_of_bf16_floor, vs_naive, vs_transformers and vs_llama_cpp_target (tokens/s over 200, issue
// 6's reference point). Never asserts on time.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/common.h"
#include "core/error.h"
#include "core/hf/config.h"
#include "core/process.h"
#include "model/causal_lm.h"
#include "model/model_info.h"
#include "model/weights.h"
#include "rollout/engine.h"
#include "rollout/kernels/paged_attention.h"

namespace r1::bench {
namespace {

using json = nlohmann::ordered_json;

constexpr double kLlamaCppTokensPerSecond = 200.0;  // issue 6: llama.cpp batched bench, 64 seqs, bf16
constexpr int64_t kPromptLen = 128;
constexpr int64_t kGroup = 8;

std::vector<rollout::Request> make_requests(int64_t seqs, int64_t vocab, int64_t new_tokens) {
  std::vector<rollout::Request> out;
  const int64_t group = std::min(seqs, kGroup);
  for (int64_t g = 0; g < seqs / group; ++g) {
    rollout::Request r;
    const at::Tensor ids = at::randint(vocab, {kPromptLen}, at::kLong);
    r.prompt.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + kPromptLen);
    r.params.n = group;
    r.params.max_tokens = new_tokens;
    r.params.ignore_eos = true;
    r.params.seed = static_cast<uint64_t>(g);
    out.push_back(r);
  }
  return out;
}

// Naive: every new token re-runs the whole text of every sequence (packed, no cache).
double naive_tokens_per_s(model::CausalLM& m, int64_t seqs, int64_t vocab, int64_t steps, at::Device device) {
  at::InferenceMode guard;
  std::vector<std::vector<int64_t>> texts(static_cast<std::size_t>(seqs));
  for (auto& t : texts) {
    const at::Tensor ids = at::randint(vocab, {kPromptLen}, at::kLong);
    t.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + kPromptLen);
  }
  const auto start = Clock::now();
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<int64_t> flat, lens, last;
    for (const auto& t : texts) {
      flat.insert(flat.end(), t.begin(), t.end());
      lens.push_back(static_cast<int64_t>(t.size()));
      last.push_back(static_cast<int64_t>(flat.size()) - 1);
    }
    const at::Tensor hidden = m.forward(at::tensor(flat, at::kLong).to(device), model::packed_batch(lens, device));
    const at::Tensor next = m.logits(hidden.index_select(0, at::tensor(last, at::kLong).to(device))).argmax(-1).cpu();
    for (std::size_t i = 0; i < texts.size(); ++i) texts[i].push_back(next[static_cast<int64_t>(i)].item<int64_t>());
  }
  return static_cast<double>(seqs * steps) / seconds_since(start);
}

// "64,256" -> {64, 256}.
std::vector<int64_t> parse_counts(const std::string& text) {
  std::vector<int64_t> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, end - pos);
    char* rest = nullptr;
    const long long v = std::strtoll(item.c_str(), &rest, 10);
    if (item.empty() || *rest != '\0' || v < 1)
      throw Error(str_cat("--seqs: expected positive counts separated by commas, found '", text, "'"));
    out.push_back(v);
    pos = end + 1;
  }
  return out;
}

json run_reference(const std::string& source_dir, const std::string& config, int64_t seqs, int64_t new_tokens,
                   const std::string& dtype, const std::string& device) {
  return run_json_command(str_cat(venv_python(), " ", source_dir, "/bench/rollout_reference.py --config ", config,
                                  " --seqs ", seqs, " --group ", kGroup, " --prompt-len ", kPromptLen, " --new-tokens ",
                                  new_tokens, " --dtype ", dtype == "bf16" ? "bfloat16" : "float32", " --threads ",
                                  at::get_num_threads(), " --device ", device, " 2>/dev/null"));
}

int run(int argc, char** argv) {
  core::retain_freed_memory();  // as the r1kit program does (core/process.h)
  int64_t new_tokens = 256, reference_new_tokens = -1;
  std::string dtype = "auto", device_name = "cpu";
  int64_t engine_threads = 0;  // EngineConfig::threads (0: the engine's automatic choice)
  bool reference = true, only_tiny = false, naive = true;
  std::vector<int64_t> concurrency = {1, 8, 64};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--new-tokens" && i + 1 < argc) new_tokens = std::atoll(argv[++i]);
    else if (a == "--reference-new-tokens" && i + 1 < argc) reference_new_tokens = std::atoll(argv[++i]);
    else if (a == "--dtype" && i + 1 < argc) dtype = argv[++i];
    else if (a == "--no-reference") reference = false;
    else if (a == "--no-naive") naive = false;
    else if (a == "--only-tiny") only_tiny = true;
    else if (a == "--seqs" && i + 1 < argc) concurrency = parse_counts(argv[++i]);
    else if (a == "--device" && i + 1 < argc) device_name = argv[++i];
    else if (a == "--engine-threads" && i + 1 < argc) engine_threads = std::atoll(argv[++i]);
    else throw Error(str_cat("unknown argument ", a));
  }
  if (dtype != "auto" && dtype != "fp32" && dtype != "bf16")
    throw Error(str_cat("--dtype: expected auto, fp32 or bf16, found ", dtype));
  if (device_name != "cpu" && device_name != "cuda")
    throw Error(str_cat("--device: expected cpu or cuda, found ", device_name));
  if (device_name == "cuda" && !at::hasCUDA())
    throw Error("--device cuda, but this LibTorch sees no CUDA device");
  const at::Device device = device_name == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  const int64_t floor_size = device.is_cpu() ? 2048 : 8192;
  if (reference_new_tokens < 0) reference_new_tokens = new_tokens;
  const char* src = std::getenv("R1KIT_SOURCE_DIR");
  const std::string source_dir = src ? src : ".";
  // The floor: the best bf16 / fp32 rate of a large product (2048^3) on this machine.
  const double fp32_floor = matmul_gflops(at::kFloat, floor_size, floor_size, floor_size, 2.0, device);
  const double bf16_floor = matmul_gflops(at::kBFloat16, floor_size, floor_size, floor_size, 2.0, device);
  if (dtype == "auto") dtype = bf16_floor > fp32_floor ? "bf16" : "fp32";
  const at::ScalarType type = dtype == "bf16" ? at::kBFloat16 : at::kFloat;

  struct Target {
    std::string name, config;
  };
  std::vector<Target> targets = {{"tiny-deepseek-v3", source_dir + "/recipes/models/tiny_deepseek_v3.json"}};
  if (!only_tiny) targets.push_back({"qwen2.5-0.5b", source_dir + "/../shared/configs/qwen2.5-0.5b-instruct.json"});

  json out;
  out["bench"] = "rollout";
  out["device"] = device_name;
  out["threads"] = at::get_num_threads();
  out["dtype"] = dtype;
  out["new_tokens"] = new_tokens;
  out["attention_kernel"] = rollout::kernels::paged_attention_isa();
  std::printf("bench/rollout: %d threads, %s, %lld-token prompts in groups of %lld, %lld new tokens, "
              "paged attention %s\n",
              at::get_num_threads(), dtype.c_str(), static_cast<long long>(kPromptLen),
              static_cast<long long>(kGroup), static_cast<long long>(new_tokens),
              out["attention_kernel"].get<std::string>().c_str());
  for (const Target& t : targets) {
    const hf::ModelConfig config = hf::load_model_config(t.config);
    const hf::DecoderConfig& c = hf::decoder_config(config);
    const double fp32_rate =
        std::max(fp32_floor, matmul_gflops(at::kFloat, 1024, c.hidden_size, c.intermediate_size, 1.5, device));
    const double bf16_rate =
        std::max(bf16_floor, matmul_gflops(at::kBFloat16, 1024, c.hidden_size, c.intermediate_size, 1.5, device));
    const double decode_rate = matmul_gflops(type, 64, c.hidden_size, c.intermediate_size, 1.5, device);
    const double flops_per_token = model::model_info(config, kPromptLen + new_tokens / 2).flops_per_token;
    model::ModelOptions options;
    options.dtype = type;
    options.device = device;
    auto m = model::make_causal_lm(config, options);
    model::init_weights(*m, 1);
    m->module().eval();
    std::printf("%s: matmul floor fp32 %.1f GFLOP/s, bf16 %.1f GFLOP/s; %s at 64 x %lld x %lld: %.1f GFLOP/s; "
                "%.3g FLOP/token\n",
                t.name.c_str(), fp32_rate, bf16_rate, dtype.c_str(), static_cast<long long>(c.hidden_size),
                static_cast<long long>(c.intermediate_size), decode_rate, flops_per_token);
    for (int64_t seqs : concurrency) {
      rollout::EngineConfig cfg;
      cfg.kv_cache_bytes = int64_t{2} << 30;
      cfg.threads = engine_threads;
      rollout::Engine engine(m, nullptr, cfg);
      const auto requests = make_requests(seqs, c.vocab_size, new_tokens);
      const auto start = Clock::now();
      engine.generate(requests);
      const double seconds = seconds_since(start);
      const double tokens_per_s = static_cast<double>(engine.stats().generated_tokens) / seconds;
      const double gflops = tokens_per_s * flops_per_token / 1e9;
      json row;
      row["seqs"] = seqs;
      row["tokens_per_s"] = tokens_per_s;
      row["achieved_gflops"] = gflops;
      row["share_of_fp32_floor"] = gflops / fp32_rate;
      row["share_of_bf16_floor"] = gflops / bf16_rate;
      row["share_of_64_row_matmul"] = gflops / decode_rate;
      row["seconds"] = seconds;
      const rollout::EngineStats& st = engine.stats();
      row["phase_seconds"] = {{"forward", st.forward_seconds}, {"lm_head", st.lm_head_seconds},
                              {"sample", st.sample_seconds},
                              {"other", st.seconds - st.forward_seconds - st.lm_head_seconds - st.sample_seconds}};
      std::printf("  %2lld seqs: %8.1f tokens/s  %6.1f GFLOP/s (%.0f%% of fp32, %.0f%% of bf16 floor; "
                  "s: forward %.1f, lm head %.1f, sample %.1f, other %.1f)",
                  static_cast<long long>(seqs), tokens_per_s, gflops, 100 * gflops / fp32_rate, 100 * gflops / bf16_rate,
                  st.forward_seconds, st.lm_head_seconds, st.sample_seconds,
                  st.seconds - st.forward_seconds - st.lm_head_seconds - st.sample_seconds);
      if (seqs == 64) {
        if (naive) {
          const int64_t naive_steps = t.name == "qwen2.5-0.5b" ? 2 : 8;
          const double naive_rate = naive_tokens_per_s(*m, seqs, c.vocab_size, naive_steps, device);
          row["naive_tokens_per_s"] = naive_rate;
          row["vs_naive"] = tokens_per_s / naive_rate;
          std::printf("  naive %.1f (x%.1f)", naive_rate, tokens_per_s / naive_rate);
        }
        if (reference) {
          const json ref = run_reference(source_dir, t.config, seqs, reference_new_tokens, dtype, device_name);
          row["transformers"] = ref;
          if (ref.is_object()) {
            row["vs_transformers"] = tokens_per_s / ref["tokens_per_s"].get<double>();
            std::printf("  transformers %.1f (x%.2f)", ref["tokens_per_s"].get<double>(),
                        tokens_per_s / ref["tokens_per_s"].get<double>());
          }
        }
        if (t.name == "qwen2.5-0.5b") row["vs_llama_cpp_target"] = tokens_per_s / kLlamaCppTokensPerSecond;
        // Weight refresh from a trainer's copy (another instance of the same model).
        auto trainer = model::make_causal_lm(config, options);
        model::init_weights(*trainer, 2);
        const double sync_s = engine.sync_weights(*trainer);
        row["sync_weights_s"] = sync_s;
        std::printf("  sync_weights %.3f s", sync_s);
      }
      std::printf("\n");
      out[t.name + "@" + std::to_string(seqs)] = row;
    }
    out[t.name + "_matmul_gflops"] = {{"fp32", fp32_rate}, {"bf16", bf16_rate}, {dtype + "_64_rows", decode_rate}};
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace r1::bench

int main(int argc, char** argv) {
  return r1::bench::guarded_main("bench/rollout", [&] { return r1::bench::run(argc, argv); });
}
