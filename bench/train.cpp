// bench/train: the trainers' speed on this machine, through their public entry points.
//   (a) SFT (sft::run_sft) on the tiny DeepSeek-V3 and the tiny Qwen2 (recipes/models/), bf16
//       autocast, packed chats: tokens/s (median of the per-step train/tokens_per_s after the first
//       step) and MFU = 6 x activated non-embedding parameters x tokens/s over the bf16 matmul floor
//       measured in this run (also with model_info's attention FLOPs, 3 x forward FLOPs per token);
//   (b) one GRPO step (rl::run_grpo) on the tiny Qwen2: P prompts of exactly LP tokens, G samples
//       each of exactly LC tokens (the bench's model has no EOS id, so nothing ends early), split
//       into the trainer's time/<phase>_s metrics (rollout, reward, logprob recompute, update);
//   (c) in the same run, trl's GRPOTrainer doing the same step on the same config, G, lengths and
//       batch (bench/train_reference.py), torch threads = ours.
// (b) and (c) run in bf16 mixed precision (autocast, fp32 master weights: TRL's default, bf16=True)
// and in fp32, each pair back to back; --grpo-bf16 0|1 runs one of the two.
// The floor (bf16 and fp32 at::mm rates, memory read bandwidth) is measured first, in this run.
// Every model starts from init_weights on a tokenizer trained here on generated text (no download).
//   usage: bench/train [--sft-steps N] [--grpo-steps N] [--prompts P] [--group G] [--prompt-len LP]
//                      [--completion-len LC] [--no-reference] [--only sft|grpo]
//                      [--grpo-bf16 0|1] [--grpo-micro-tokens N]
// Prints a table, then one JSON line whose grpo_step_speedup_vs_trl is TRL's median step seconds
// over r1kit's, both in bf16 mixed precision (grpo_step_speedup_vs_trl_fp32: both in fp32).
// Never asserts on time; fails when a run does not do the work asked (completion lengths, steps, a
// loss that is not finite).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hf/config.h"
#include "core/process.h"
#include "core/obs/metrics.h"
#include "model/model_info.h"
#include "rl/grpo.h"
#include "sft/pretrain_init.h"
#include "sft/sft.h"
#include "sft/tiny_tokenizer.h"

namespace r1::bench {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::ordered_json;

struct Args {
  int sft_steps = 6;    // optimizer steps per model; the first is warm-up
  int grpo_steps = 3;   // timed GRPO steps, after one warm-up step (both sides)
  // The GRPO step's shape: the demo recipe's (recipes/tiny_r1.yaml: prompts_per_step 16,
  // num_generations 8, max_completion_tokens 160), with prompts of 64 tokens.
  int64_t prompts = 16;  // P
  int64_t group = 8;     // G
  int64_t prompt_len = 64;
  int64_t completion_len = 160;
  bool reference = true;
  std::string only;  // "", "sft" or "grpo"
  // The precisions the GRPO pair runs in: bf16 autocast (rl::GrpoConfig::bf16, TRL's bf16=True)
  // and fp32, in this order; --grpo-bf16 0|1 keeps one.
  std::vector<bool> grpo_bf16 = {true, false};
  // The r1kit GRPO trainer's micro-batch (the trainer's default).
  int64_t grpo_micro_tokens = rl::GrpoConfig{}.micro_batch_tokens;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const bool has_value = i + 1 < argc;
    if (s == "--sft-steps" && has_value) a.sft_steps = std::atoi(argv[++i]);
    else if (s == "--grpo-steps" && has_value) a.grpo_steps = std::atoi(argv[++i]);
    else if (s == "--prompts" && has_value) a.prompts = std::atoll(argv[++i]);
    else if (s == "--group" && has_value) a.group = std::atoll(argv[++i]);
    else if (s == "--prompt-len" && has_value) a.prompt_len = std::atoll(argv[++i]);
    else if (s == "--completion-len" && has_value) a.completion_len = std::atoll(argv[++i]);
    else if (s == "--no-reference") a.reference = false;
    else if (s == "--only" && has_value) a.only = argv[++i];
    else if (s == "--grpo-bf16" && has_value) a.grpo_bf16 = {std::string(argv[++i]) == "1"};
    else if (s == "--grpo-micro-tokens" && has_value) a.grpo_micro_tokens = std::atoll(argv[++i]);
    else throw Error(str_cat("bench/train: unknown argument ", s, " (see the usage in bench/train.cpp)"));
  }
  if (a.sft_steps < 2 || a.grpo_steps < 1 || a.prompts < 1 || a.group < 2 || a.prompt_len < 8 ||
      a.completion_len < 1 || a.grpo_micro_tokens < 1 || (a.only != "" && a.only != "sft" && a.only != "grpo")) {
    throw Error("bench/train: expected --sft-steps >= 2, --grpo-steps >= 1, --group >= 2, --prompt-len >= 8, "
                "--only sft|grpo");
  }
  return a;
}

// The "model name" line of /proc/cpuinfo ("" when absent).
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "";
}

// ---- The floor ----------------------------------------------------------------------------------

struct Floor {
  double bf16_gflops = 0, fp32_gflops = 0, mem_gbps = 0;
};

// Memory read bandwidth: at::sum over 512 MiB of fp32 (far past any cache), median of 5.
double memory_gbps() {
  const at::Tensor buf = at::ones({int64_t{128} << 20}, at::kFloat);
  std::vector<double> rates;
  for (int i = 0; i < 6; ++i) {
    const auto t = Clock::now();
    const double s = buf.sum().item<double>();
    R1_CHECK(s == static_cast<double>(buf.numel()), "sum ", s);
    if (i > 0) rates.push_back(static_cast<double>(buf.nbytes()) / seconds_since(t) / 1e9);
  }
  return median(rates);
}

Floor measure_floor() {
  Floor f;
  f.bf16_gflops = matmul_gflops(at::kBFloat16, 2048, 2048, 2048, 2.0);
  f.fp32_gflops = matmul_gflops(at::kFloat, 2048, 2048, 2048, 2.0);
  f.mem_gbps = memory_gbps();
  return f;
}

// ---- Inputs: words, a tokenizer, model directories ------------------------------------------------

// Pseudo-words from syllables, so sentencepiece finds thousands of pieces and chats look like text.
std::string words(std::mt19937_64& rng, int64_t n) {
  static const char* kOnset[] = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "sh"};
  static const char* kVowel[] = {"a", "e", "i", "o", "u", "ai", "ou"};
  std::string out;
  for (int64_t w = 0; w < n; ++w) {
    if (w) out += rng() % 9 == 0 ? ", " : " ";
    const int syllables = 1 + static_cast<int>(rng() % 3);
    for (int s = 0; s < syllables; ++s) out += std::string(kOnset[rng() % 16]) + kVowel[rng() % 7];
    if (rng() % 13 == 0) out += std::to_string(rng() % 1000);
  }
  return out;
}

tokenizer::Tokenizer make_tokenizer() {
  std::mt19937_64 rng(7);
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) texts.push_back(words(rng, 60));
  sft::TinyTokenizerConfig cfg;
  cfg.vocab_size = 2048;
  return sft::train_tiny_tokenizer(texts, cfg);
}

// A fresh model directory from a recipes/models config sized to `tok`; drop_eos removes the EOS id
// from config.json and generation_config.json, so the rollout engine never ends a sample early.
stdfs::path make_model_dir(const stdfs::path& config_path, const tokenizer::Tokenizer& tok, const stdfs::path& dir,
                           bool drop_eos) {
  const hf::ModelConfig config = sft::config_for_tokenizer(hf::load_model_config(config_path), tok);
  sft::write_initial_model(config, tok, 1, dir);
  if (drop_eos) {
    for (const char* name : {"config.json", "generation_config.json"}) {
      if (!stdfs::exists(dir / name)) continue;
      json j = json::parse(core::read_file(dir / name));
      j["eos_token_id"] = json::array();
      core::write_file_atomic(dir / name, j.dump(2));
    }
  }
  return dir;
}

void write_jsonl(const stdfs::path& path, const std::vector<json>& rows) {
  std::string text;
  for (const json& r : rows) text += r.dump() + "\n";
  core::write_file_atomic(path, text);
}

// The metrics rows of `path` with a `key`, in file order.
std::vector<json> rows_with(const stdfs::path& path, const std::string& key) {
  std::vector<json> out;
  const std::string text = core::read_file(path);
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    if (line.empty()) continue;
    json row = json::parse(line);
    if (row.contains(key)) out.push_back(std::move(row));
  }
  return out;
}

// ---- (a) SFT ------------------------------------------------------------------------------------

json bench_sft(const std::string& name, const stdfs::path& config_path, const tokenizer::Tokenizer& tok,
               const stdfs::path& work, const Args& args, const Floor& floor) {
  const stdfs::path dir = work / ("sft_" + name);
  const stdfs::path model_dir = make_model_dir(config_path, tok, dir / "init", false);
  std::mt19937_64 rng(11);
  std::vector<json> chats;
  for (int i = 0; i < 400; ++i) {
    chats.push_back({{"messages", json::array({{{"role", "user"}, {"content", words(rng, 30)}},
                                               {{"role", "assistant"}, {"content", "<think>\n" + words(rng, 160) +
                                                                                      "\n</think>\n\n" + words(rng, 20)}}})}});
  }
  write_jsonl(dir / "train.jsonl", chats);
  sft::SftConfig cfg;
  cfg.train_data = (dir / "train.jsonl").string();
  cfg.max_steps = args.sft_steps;
  cfg.micro_batch_tokens = 4096;
  cfg.max_seq_len = 1024;
  cfg.bf16 = true;
  cfg.peak_flops = floor.bf16_gflops * 1e9;
  obs::MetricsSink sink(dir / "metrics.jsonl");
  sft::SftRun run{.out_dir = dir / "out", .init_model = model_dir, .metrics = &sink, .stage = "sft"};
  const auto start = Clock::now();
  const json summary = sft::run_sft(cfg, run);
  const double wall_s = seconds_since(start);

  const std::vector<json> rows = rows_with(dir / "metrics.jsonl", "train/tokens_per_s");
  if (static_cast<int>(rows.size()) != args.sft_steps)
    throw Error(str_cat("bench/train: sft ", name, ": expected ", args.sft_steps, " train rows, found ", rows.size()));
  std::vector<double> rates;
  for (std::size_t i = 1; i < rows.size(); ++i) rates.push_back(rows[i]["train/tokens_per_s"].get<double>());
  const double first_loss = rows.front()["train/loss"].get<double>(), last_loss = rows.back()["train/loss"].get<double>();
  if (!std::isfinite(first_loss) || !std::isfinite(last_loss))
    throw Error(str_cat("bench/train: sft ", name, ": non-finite loss"));

  const hf::ModelConfig config = hf::load_model_config(model_dir / "config.json");
  const model::ModelInfo info = model::model_info(config, 300);  // ~ the chats' mean length
  const double active = static_cast<double>(info.activated_params - info.embedding_params);
  const double tokens_per_s = median(rates);
  json r;
  r["tokens_per_s"] = tokens_per_s;
  r["mfu_6n"] = 6.0 * active * tokens_per_s / (floor.bf16_gflops * 1e9);
  r["mfu_with_attention"] = 3.0 * info.flops_per_token * tokens_per_s / (floor.bf16_gflops * 1e9);
  r["active_params"] = active;
  r["total_params"] = info.total_params;
  r["loss_first"] = first_loss;
  r["loss_last"] = last_loss;
  r["steps"] = args.sft_steps;
  r["wall_s"] = wall_s;
  r["summary_tokens_per_s"] = summary.value("tokens_per_s", json(nullptr));
  std::printf("  sft %-18s %9.0f tokens/s  MFU %5.1f%% (6N) %5.1f%% (with attention) of bf16 floor  "
              "loss %.3f -> %.3f  (%d steps, %.1f s end to end)\n",
              name.c_str(), tokens_per_s, 100 * r["mfu_6n"].get<double>(), 100 * r["mfu_with_attention"].get<double>(),
              first_loss, last_loss, args.sft_steps, wall_s);
  return r;
}

// ---- (b) GRPO -----------------------------------------------------------------------------------

// A user message whose chat rendering with the generation prompt is exactly `len` tokens: words are
// added while the rendering is short, then digits (single pieces) fill the rest.
json exact_prompt(const tokenizer::Tokenizer& tok, std::mt19937_64& rng, int64_t len) {
  auto rendered_len = [&](const std::string& content) {
    const json messages = json::array({{{"role", "user"}, {"content", content}}});
    return static_cast<int64_t>(tok.encode_chat(messages, true).ids.size());
  };
  std::string content = words(rng, 1);
  for (std::string more = content + " " + words(rng, 1); rendered_len(more) <= len;
       more = content + " " + words(rng, 1)) {
    content = more;
  }
  // Digits are single pieces (the tokenizer splits digits), so each adds one token.
  for (int64_t n = rendered_len(content); n < len;) {
    const int64_t before = n;
    for (const char* tail : {"7", " 7", "a", " a"}) {
      if (const int64_t m = rendered_len(content + tail); m > n && m <= len) {
        content += tail;
        n = m;
        break;
      }
    }
    if (n == before) break;
  }
  if (rendered_len(content) != len) {
    throw Error(str_cat("bench/train: could not build a prompt of exactly ", len, " tokens (",
                        rendered_len(content), ": ", content, ")"));
  }
  return {{"messages", json::array({{{"role", "user"}, {"content", content}}})}, {"answer", "42"}};
}

// The trainer's top-level phases (rl/grpo.cpp train_step); time/sync_weights_s and time/moe_bias_s
// are nested inside rollout and update.
const std::string kStepPhases[] = {"time/sample_prompts_s", "time/rollout_s",      "time/reward_s",
                                   "time/advantages_s",     "time/old_logprobs_s", "time/ref_logprobs_s",
                                   "time/update_s"};
// Phases the issue asks for, by the trainer's metric names (rl/grpo.h: time/<phase>_s).
const char* kPhases[][2] = {{"rollout", "time/rollout_s"},
                            {"reward", "time/reward_s"},
                            {"logprob_recompute", "time/old_logprobs_s"},
                            {"update", "time/update_s"}};

// The timed steps' figures from the trainer's step rows (the first row is the warm-up step). Throws
// when the steps did other work than asked: a completion of another length, a skipped update.
json grpo_figures(const std::vector<json>& rows, int64_t num_steps, const Args& args, bool bf16) {
  if (static_cast<int64_t>(rows.size()) != num_steps)
    throw Error(str_cat("bench/train: grpo: expected ", num_steps, " step rows, found ", rows.size()));
  std::vector<double> step_s, wall_s;
  std::map<std::string, std::vector<double>> per_phase;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    double sum = 0;
    for (const auto& [key, value] : rows[i].items()) {
      if (!key.starts_with("time/") || !value.is_number()) continue;
      per_phase[key].push_back(value.get<double>());
      if (std::find(std::begin(kStepPhases), std::end(kStepPhases), key) != std::end(kStepPhases))
        sum += value.get<double>();
    }
    step_s.push_back(sum);
    // Between two step rows: the step plus writing its metrics (no eval or checkpoint in between).
    wall_s.push_back(rows[i]["time"].get<double>() - rows[i - 1]["time"].get<double>());
    for (const char* key : {"rollout/response_length_max", "rollout/response_length_mean"}) {
      if (!rows[i].contains(key) || rows[i][key].get<double>() != static_cast<double>(args.completion_len))
        throw Error(str_cat("bench/train: grpo step ", i, ": ", key, " ", rows[i].value(key, json()).dump(),
                            ", expected ", args.completion_len));
    }
    if (rows[i].value("train/skipped", 0.0) != 0.0) throw Error(str_cat("bench/train: grpo step ", i, " skipped"));
  }
  json r, phases = json::object();
  for (const auto& [key, values] : per_phase) phases[key] = median(values);
  for (const auto& [name, key] : kPhases) r["phase_s"][name] = phases.value(key, json(nullptr));
  r["all_phases_s"] = phases;
  r["step_s"] = step_s;
  r["median_step_s"] = median(step_s);
  r["median_wall_step_s"] = median(wall_s);
  r["tokens_per_step"] = args.prompts * args.group * (args.prompt_len + args.completion_len);
  r["new_tokens_per_step"] = args.prompts * args.group * args.completion_len;
  r["bf16"] = bf16;
  r["micro_batch_tokens"] = args.grpo_micro_tokens;
  std::printf("  grpo tiny-qwen2 %s r1kit %.3f s/step (median of %d):", bf16 ? "bf16" : "fp32", median(step_s),
              args.grpo_steps);
  for (const auto& [name, key] : kPhases) {
    if (phases.contains(key)) std::printf(" %s %.3f", name, phases[key].get<double>());
  }
  std::printf("\n");
  return r;
}

json bench_grpo(const stdfs::path& config_path, const tokenizer::Tokenizer& tok, const stdfs::path& work,
                const Args& args, bool bf16) {
  const stdfs::path dir = work / (bf16 ? "grpo_qwen2_bf16" : "grpo_qwen2_fp32");
  const stdfs::path model_dir = make_model_dir(config_path, tok, dir / "init", /*drop_eos=*/true);
  std::mt19937_64 rng(5);
  const int64_t num_steps = 1 + args.grpo_steps;
  std::vector<json> prompts;
  for (int64_t i = 0; i < args.prompts * num_steps; ++i) prompts.push_back(exact_prompt(tok, rng, args.prompt_len));
  write_jsonl(dir / "prompts.jsonl", prompts);

  rl::GrpoConfig cfg;
  cfg.prompts = (dir / "prompts.jsonl").string();
  cfg.num_steps = num_steps;
  cfg.prompts_per_step = args.prompts;
  cfg.num_generations = args.group;
  cfg.max_completion_tokens = args.completion_len;
  cfg.pass_k = 0;
  cfg.save_every = num_steps;
  cfg.bf16 = bf16;
  cfg.micro_batch_tokens = args.grpo_micro_tokens;
  obs::MetricsSink sink(dir / "metrics.jsonl");
  rl::GrpoRun run{.out_dir = dir / "out", .init_model = model_dir, .metrics = &sink, .stage = "grpo"};
  rl::run_grpo(cfg, run);

  return grpo_figures(rows_with(dir / "metrics.jsonl", "time/rollout_s"), num_steps, args, bf16);
}

json run_reference(const std::string& source_dir, const Args& args, bool bf16) {
  return run_json_command(str_cat(venv_python(), " ", source_dir, "/bench/train_reference.py --config ", source_dir,
                                  "/recipes/models/tiny_qwen2.json --prompts ", args.prompts, " --group ", args.group,
                                  " --prompt-len ", args.prompt_len, " --completion-len ", args.completion_len,
                                  " --steps ", args.grpo_steps, " --warmup 1 --threads ", at::get_num_threads(),
                                  bf16 ? " --bf16" : "", " 2>/dev/null"));
}

int run(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const char* src = std::getenv("R1KIT_SOURCE_DIR");
  const std::string source_dir = src ? src : ".";
  char tmpl[] = "/tmp/r1kit-bench-train-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw Error("bench/train: cannot create a temporary directory");
  const stdfs::path work = tmpl;
  // Removed however the run ends (models, data and checkpoints are a few tens of MB).
  const std::unique_ptr<const stdfs::path, void (*)(const stdfs::path*)> cleanup(
      &work, [](const stdfs::path* p) { stdfs::remove_all(*p); });

  const Floor floor = measure_floor();
  std::printf("bench/train: %d threads; floor: bf16 mm %.1f GFLOP/s, fp32 mm %.1f GFLOP/s, memory read %.1f GB/s\n",
              at::get_num_threads(), floor.bf16_gflops, floor.fp32_gflops, floor.mem_gbps);
  const tokenizer::Tokenizer tok = make_tokenizer();
  json out;
  out["bench"] = "train";
  const char* omp_wait = std::getenv("OMP_WAIT_POLICY");
  out["machine"] = {{"cpu", cpu_model()}, {"threads", at::get_num_threads()},
                    {"omp_wait_policy", omp_wait ? omp_wait : ""}};
  out["floor"] = {{"bf16_mm_gflops", floor.bf16_gflops}, {"fp32_mm_gflops", floor.fp32_gflops},
                  {"mem_read_gbps", floor.mem_gbps}};
  const std::string models = source_dir + "/recipes/models/";
  if (args.only != "grpo") {
    out["sft"]["tiny-deepseek-v3"] = bench_sft("tiny-deepseek-v3", models + "tiny_deepseek_v3.json", tok, work, args, floor);
    out["sft"]["tiny-qwen2"] = bench_sft("tiny-qwen2", models + "tiny_qwen2.json", tok, work, args, floor);
  }
  if (args.only != "sft") {
    // Keys: grpo / trl / grpo_step_speedup_vs_trl in bf16 mixed precision, the same with _fp32 in
    // fp32; a precision not run leaves its keys null.
    for (bool bf16 : {true, false}) {
      const std::string suffix = bf16 ? "" : "_fp32";
      out["grpo" + suffix] = nullptr;
      out["trl" + suffix] = nullptr;
      out["grpo_step_speedup_vs_trl" + suffix] = nullptr;
    }
    for (bool bf16 : args.grpo_bf16) {
      const std::string suffix = bf16 ? "" : "_fp32", precision = bf16 ? "bf16" : "fp32";
      const json grpo = bench_grpo(models + "tiny_qwen2.json", tok, work, args, bf16);
      out["grpo" + suffix] = grpo;
      const json ref = args.reference ? run_reference(source_dir, args, bf16) : json(nullptr);
      out["trl" + suffix] = ref;
      if (ref.is_object()) {
        const double speedup = ref["median_step_s"].get<double>() / grpo["median_step_s"].get<double>();
        std::printf("  grpo tiny-qwen2 %s trl   %.3f s/step (median of %d): rollout %.3f  -> r1kit %.2fx faster\n",
                    precision.c_str(), ref["median_step_s"].get<double>(), args.grpo_steps,
                    ref["median_rollout_s"].get<double>(), speedup);
        out["grpo_step_speedup_vs_trl" + suffix] = speedup;
      } else {
        std::printf("  grpo %s trl: not run%s\n", precision.c_str(),
                    args.reference ? " (bench/train_reference.py failed)" : "");
      }
    }
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace r1::bench

int main(int argc, char** argv) {
  // As the r1kit program runs (core/process.h); the TRL child inherits OMP_WAIT_POLICY=PASSIVE, so
  // both sides wait at OpenMP barriers the same way.
  r1::core::use_passive_openmp(argv);
  r1::core::retain_freed_memory();
  return r1::bench::guarded_main("bench/train", [&] { return r1::bench::run(argc, argv); });
}
