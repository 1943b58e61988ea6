// bench/model: one training step's forward + backward (next-token loss, no optimizer) of a ~100M
// parameter Qwen2 (bench/configs/qwen2-100m.json) on one 1024-token sequence, in tokens/s, beside
// the same step by transformers (bench/model_reference.py) in the same run, and the model FLOP
// utilisation: achieved FLOP/s (3x the forward FLOPs of model_info, attention included) over this
// machine's matmul rate measured here at the model's own GEMM shapes, for fp32 and bf16.
//   usage: bench/model [--dtype fp32|bf16] [--steps N] [--seq N] [--no-reference]
// The step runs in the dtype that is fastest here unless --dtype says otherwise: a CPU without
// avx512_bf16 multiplies bf16 through fp32 conversion at a fraction of the fp32 rate, and
// transformers is run in the same dtype. Prints a table, then one JSON line. Never asserts on time.
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
#include "model/causal_lm.h"
#include "model/model_info.h"
#include "model/weights.h"

namespace r1::bench {
namespace {

using json = nlohmann::ordered_json;

// The machine's matmul rate for this model: the best over its three GEMM shapes (MLP up, MLP
// down, LM head) at `rows` tokens. A dtype without native kernels (bf16 without avx512_bf16) is
// measured on 128 rows only: its rate does not depend on the shape, and full size takes minutes.
double matmul_rate(at::ScalarType dtype, int64_t rows, const hf::DecoderConfig& c) {
  const double probe = matmul_gflops(dtype, 128, c.hidden_size, c.intermediate_size);
  if (probe < 10.0) return probe;
  return std::max({matmul_gflops(dtype, rows, c.hidden_size, c.intermediate_size),
                   matmul_gflops(dtype, rows, c.intermediate_size, c.hidden_size),
                   matmul_gflops(dtype, rows, c.hidden_size, c.vocab_size)});
}

struct Args {
  std::string dtype;  // empty: the faster one here
  int steps = 3;
  int64_t seq = 1024;
  bool reference = true;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dtype" && i + 1 < argc) args.dtype = argv[++i];
    else if (a == "--steps" && i + 1 < argc) args.steps = std::atoi(argv[++i]);
    else if (a == "--seq" && i + 1 < argc) args.seq = std::atoll(argv[++i]);
    else if (a == "--no-reference") args.reference = false;
    else throw Error(str_cat("bench/model: unknown argument ", a, "; usage: [--dtype fp32|bf16] [--steps N] [--seq N] [--no-reference]"));
  }
  return args;
}

// transformers' tokens/s for the same step, or null when the script failed.
json run_reference(const std::string& source_dir, const std::string& config, const Args& args, const std::string& dtype) {
  return run_json_command(str_cat(venv_python(), " ", source_dir, "/bench/model_reference.py --config ", config,
                                  " --seq ", args.seq, " --batch 1 --steps ", args.steps, " --warmup 1 --dtype ",
                                  dtype == "bf16" ? "bfloat16" : "float32", " --threads ", at::get_num_threads()));
}

int run(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const char* src = std::getenv("R1KIT_SOURCE_DIR");
  const std::string source_dir = src ? src : ".";
  const std::string config_path = source_dir + "/bench/configs/qwen2-100m.json";
  const hf::ModelConfig config = hf::load_model_config(config_path);
  const hf::DecoderConfig& c = hf::decoder_config(config);
  const int threads = at::get_num_threads();

  const double fp32_rate = matmul_rate(at::kFloat, args.seq, c);
  const double bf16_rate = matmul_rate(at::kBFloat16, args.seq, c);
  const std::string dtype = !args.dtype.empty() ? args.dtype : (bf16_rate > fp32_rate ? "bf16" : "fp32");
  const double rate = dtype == "bf16" ? bf16_rate : fp32_rate;

  model::ModelOptions options;
  options.dtype = dtype == "bf16" ? at::kBFloat16 : at::kFloat;
  auto lm = model::make_causal_lm(config, options);
  model::init_weights(*lm, 1);
  lm->module().train();
  const model::ModelInfo info = model::model_info(config, args.seq);
  const double step_flops = 3.0 * info.flops_per_token * static_cast<double>(args.seq);

  const std::vector<int64_t> lens = {args.seq};
  const model::ForwardBatch batch = model::packed_batch(lens);
  std::vector<double> times;
  for (int i = 0; i < args.steps + 1; ++i) {
    const at::Tensor ids = at::randint(c.vocab_size, {args.seq + 1}, at::kLong);
    const auto t = Clock::now();
    const at::Tensor hidden = lm->forward(ids.narrow(0, 0, args.seq), batch);
    const at::Tensor loss = -model::token_logprobs(*lm, hidden, ids.narrow(0, 1, args.seq)).mean();
    loss.backward();
    lm->module().zero_grad();
    if (i > 0) times.push_back(seconds_since(t));  // the first step is warm-up
  }
  const double step_s = median(times);
  const double tokens_per_s = static_cast<double>(args.seq) / step_s;
  const double mfu = step_flops / step_s / 1e9 / rate;

  const json ref = args.reference ? run_reference(source_dir, config_path, args, dtype) : json(nullptr);
  const double ref_tokens = ref.is_object() ? ref["tokens_per_s"].get<double>() : 0.0;

  std::printf("bench/model: %s, %s params, seq %lld, %d threads, %s\n", config_path.c_str(),
              std::to_string(info.total_params).c_str(), static_cast<long long>(args.seq), threads, dtype.c_str());
  std::printf("  matmul rate (best of the model's GEMM shapes): fp32 %.1f GFLOP/s, bf16 %.1f GFLOP/s\n",
              fp32_rate, bf16_rate);
  std::printf("  r1kit        fwd+bwd %.3f s/step  %8.1f tokens/s  %.1f GFLOP/s  MFU %.1f%% of %s matmul\n", step_s,
              tokens_per_s, step_flops / step_s / 1e9, 100.0 * mfu, dtype.c_str());
  if (ref_tokens > 0)
    std::printf("  transformers fwd+bwd %.3f s/step  %8.1f tokens/s  (r1kit %.2fx)\n", ref["median_step_s"].get<double>(),
                ref_tokens, tokens_per_s / ref_tokens);
  else
    std::printf("  transformers: not run%s\n", args.reference ? " (bench/model_reference.py failed)" : "");

  json out;
  out["bench"] = "model";
  out["config"] = "bench/configs/qwen2-100m.json";
  out["params"] = info.total_params;
  out["seq"] = args.seq;
  out["threads"] = threads;
  out["dtype"] = dtype;
  out["matmul_gflops_fp32"] = fp32_rate;
  out["matmul_gflops_bf16"] = bf16_rate;
  out["step_flops"] = step_flops;
  out["step_s"] = times;
  out["tokens_per_s"] = tokens_per_s;
  out["mfu"] = mfu;
  out["mfu_vs_bf16_rate"] = step_flops / step_s / 1e9 / bf16_rate;
  out["transformers"] = ref;
  out["vs_transformers"] = ref_tokens > 0 ? json(tokens_per_s / ref_tokens) : json(nullptr);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace r1::bench

int main(int argc, char** argv) {
  return r1::bench::guarded_main("bench/model", [&] { return r1::bench::run(argc, argv); });
}
