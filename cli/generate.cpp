// r1kit generate MODEL_DIR --prompts in.jsonl --out out.jsonl [sampling options]: completions from
// the rollout engine for {"prompt": "..."} lines (encoded with the tokenizer's special tokens, as
// vLLM encodes a prompt) or {"messages": [...]} lines (the chat template applied with the
// generation prompt, then encoded without adding special tokens). Each output line holds the
// line's index, its prompt token count and n completions (text, token ids, finish and stop
// reasons, and logprobs with --logprobs). The output is written atomically at the end; a progress
// bar shows finished samples and the closing log line the tokens/s.
#include <CLI/CLI.hpp>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "core/obs/progress.h"
#include "core/tokenizer/tokenizer.h"
#include "model/weights.h"
#include "rollout/engine.h"

namespace r1::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

struct GenerateArgs {
  std::string model_dir, prompts, out, dtype = "fp32";
  rollout::SamplingParams params;
  int64_t top_logprobs = -1;
  int64_t seed = -1;
  int64_t kv_cache_mb = 1024;
  int64_t max_batch_tokens = 2048;
  int64_t max_num_seqs = 256;
  bool with_logprobs = false;
};

std::vector<std::vector<int32_t>> read_prompts(const std::string& path, const tokenizer::Tokenizer& tok) {
  std::vector<std::vector<int32_t>> out;
  core::read_jsonl(path, [&](const std::string& where, const ordered_json& j) {
    if (!j.is_object() || j.contains("prompt") == j.contains("messages"))
      throw Error(str_cat(where, ": expected an object with exactly one of \"prompt\" or \"messages\""));
    std::vector<int32_t> ids;
    if (j.contains("prompt")) {
      if (!j["prompt"].is_string()) throw Error(str_cat(where, ": prompt: expected a string"));
      ids = tok.encode(j["prompt"].get<std::string>(), /*add_special_tokens=*/true);
    } else {
      if (!j["messages"].is_array()) throw Error(str_cat(where, ": messages: expected an array of messages"));
      ids = tok.encode(tok.apply_chat_template(j["messages"], /*add_generation_prompt=*/true).text, false);
    }
    if (ids.empty()) throw Error(str_cat(where, ": the prompt encodes to no tokens"));
    out.push_back(std::move(ids));
  });
  return out;
}

void generate_command(GenerateArgs args) {
  if (args.seed >= 0) args.params.seed = static_cast<uint64_t>(args.seed);
  if (args.with_logprobs) args.params.logprobs = std::max<int64_t>(args.top_logprobs, 0);
  rollout::validate(args.params);
  if (args.dtype != "fp32" && args.dtype != "bf16") throw Error(str_cat("--dtype: expected fp32 or bf16, found \"", args.dtype, "\""));
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(args.model_dir);
  const auto prompts = read_prompts(args.prompts, tok);
  model::ModelOptions options;
  options.dtype = args.dtype == "bf16" ? at::kBFloat16 : at::kFloat;
  auto lm = model::load_causal_lm(args.model_dir, options);
  lm->module().eval();

  rollout::EngineConfig cfg;
  cfg.kv_cache_bytes = args.kv_cache_mb << 20;
  cfg.max_batch_tokens = args.max_batch_tokens;
  cfg.max_num_seqs = args.max_num_seqs;
  rollout::Engine engine(lm, &tok, cfg);
  std::vector<rollout::Request> requests;
  for (const auto& p : prompts) requests.push_back({p, args.params});
  const int64_t total = static_cast<int64_t>(prompts.size()) * args.params.n;
  obs::Progress progress("generate", std::max<int64_t>(total, 1), "sample");
  int64_t shown = 0;
  const auto outputs = engine.generate(requests, [&](int64_t finished) {
    progress.advance(finished - shown);
    shown = finished;
  });
  progress.finish();

  std::string text;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    ordered_json line;
    line["index"] = i;
    line["num_prompt_tokens"] = outputs[i].num_prompt_tokens;
    ordered_json completions = ordered_json::array();
    for (const rollout::Completion& c : outputs[i].completions) {
      ordered_json cj;
      cj["text"] = c.text;
      cj["tokens"] = c.tokens;
      cj["finish_reason"] = c.finish_reason;
      cj["stop_reason"] = c.stop_reason.empty() ? ordered_json(nullptr) : ordered_json(c.stop_reason);
      if (args.with_logprobs) cj["logprobs"] = c.logprobs;
      completions.push_back(cj);
    }
    line["completions"] = completions;
    text += line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  core::write_file_atomic(args.out, text);
  const rollout::EngineStats& st = engine.stats();
  log::info("generated ", st.generated_tokens, " tokens for ", total, " samples in ", st.seconds, " s: ",
            st.seconds > 0 ? static_cast<double>(st.generated_tokens) / st.seconds : 0.0, " tokens/s (",
            st.prefill_tokens, " prompt tokens computed, ", st.preemptions, " preemptions)");
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Sample completions for JSONL prompts with the rollout engine");
  cmd->add_option("model_dir", args->model_dir, "a Hugging Face model directory (config, weights, tokenizer)")->required();
  cmd->add_option("--prompts", args->prompts, "JSONL: {\"prompt\": \"...\"} or {\"messages\": [...]} per line")->required();
  cmd->add_option("--out", args->out, "JSONL output, one line per prompt")->required();
  cmd->add_option("--n", args->params.n, "samples per prompt (default 1)");
  cmd->add_option("--temperature", args->params.temperature, "0 = greedy (default 1)");
  cmd->add_option("--top-p", args->params.top_p, "nucleus mass (default 1)");
  cmd->add_option("--top-k", args->params.top_k, "most likely tokens kept; 0 = all (default)");
  cmd->add_option("--min-p", args->params.min_p, "relative probability floor (default 0)");
  cmd->add_option("--max-tokens", args->params.max_tokens, "new tokens per sample (default 16)");
  cmd->add_option("--seed", args->seed, "seed for reproducible sampling");
  cmd->add_option("--stop", args->params.stop, "stop strings (repeatable); the text is cut before the first");
  cmd->add_option("--stop-token-ids", args->params.stop_token_ids, "token ids that end a sample");
  cmd->add_flag("--ignore-eos", args->params.ignore_eos, "keep generating past EOS");
  cmd->add_flag("--logprobs", args->with_logprobs, "include each generated token's logprob");
  cmd->add_option("--dtype", args->dtype, "fp32 (default) or bf16");
  cmd->add_option("--kv-cache-mb", args->kv_cache_mb, "KV cache pool in MiB (default 1024)")->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--max-batch-tokens", args->max_batch_tokens, "tokens per forward (default 2048)")->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--max-num-seqs", args->max_num_seqs, "sequences decoded together (default 256)")->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->callback([args] { generate_command(*args); });
}

}  // namespace r1::cli
