// r1kit score MODEL_DIR --in in.jsonl --out out.jsonl [--dtype fp32|bf16]: the log-probability of
// every token of each line's sequence under the model, the plain forward a user runs to evaluate a
// checkpoint. Input lines are {"ids": [...]} or {"text": "..."} (tokenized with the directory's
// tokenizer, special tokens added as transformers' tokenizer(text) adds them). Each output line
// holds the ids, "logprobs" (n - 1 values: log p(ids[i] | ids[:i]) for i >= 1; the first token
// has no prefix to be scored from), their "sum" and "num_scored". Lines are packed into forwards
// of up to --batch-tokens tokens; the output is written atomically when all are scored.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <torch/nn/module.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "core/obs/progress.h"
#include "core/tokenizer/tokenizer.h"
#include "model/causal_lm.h"
#include "model/weights.h"

namespace r1::cli {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

struct ScoreArgs {
  std::string model_dir, in, out, dtype = "fp32";
  int64_t batch_tokens = 8192;
  bool no_special_tokens = false;
};

at::ScalarType parse_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return at::kFloat;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  throw Error(str_cat("--dtype: expected fp32 or bf16, found \"", name, "\""));
}

// The sequences of `path`, one per non-empty line, validated against the vocabulary.
std::vector<std::vector<int64_t>> read_sequences(const std::string& path, const stdfs::path& model_dir,
                                                 int64_t vocab_size, bool add_special) {
  std::optional<tokenizer::Tokenizer> tok;
  std::vector<std::vector<int64_t>> out;
  core::read_jsonl(path, [&](const std::string& where, const nlohmann::ordered_json& j) {
    if (!j.is_object() || j.contains("ids") == j.contains("text"))
      throw Error(str_cat(where, ": expected an object with exactly one of \"ids\" or \"text\""));
    std::vector<int64_t> ids;
    if (j.contains("ids")) {
      if (!j["ids"].is_array()) throw Error(str_cat(where, ": ids: expected an array of token ids"));
      for (const auto& id : j["ids"]) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab_size)
          throw Error(str_cat(where, ": ids: expected integers in [0, ", vocab_size, "), found ", id.dump()));
        ids.push_back(id.get<int64_t>());
      }
    } else {
      if (!j["text"].is_string()) throw Error(str_cat(where, ": text: expected a string"));
      if (!tok) tok = tokenizer::Tokenizer::load(model_dir);
      for (tokenizer::TokenId id : tok->encode(j["text"].get<std::string>(), add_special)) ids.push_back(id);
    }
    if (ids.empty()) throw Error(str_cat(where, ": expected at least one token, found none"));
    out.push_back(std::move(ids));
  });
  return out;
}

void score_command(const ScoreArgs& args) {
  model::ModelOptions options;
  options.dtype = parse_dtype(args.dtype);
  const std::shared_ptr<model::CausalLM> model = model::load_causal_lm(args.model_dir, options);
  model->module().eval();
  const int64_t vocab = hf::decoder_config(model->config()).vocab_size;
  const auto seqs = read_sequences(args.in, args.model_dir, vocab, !args.no_special_tokens);

  at::InferenceMode inference;
  std::string output;
  obs::Progress progress("score", static_cast<int64_t>(seqs.size()), "sequence");
  for (std::size_t first = 0; first < seqs.size();) {
    // Pack whole sequences up to the token budget (a longer sequence goes alone).
    std::vector<int64_t> lens, flat;
    std::size_t last = first;
    while (last < seqs.size() && (lens.empty() || static_cast<int64_t>(flat.size() + seqs[last].size()) <= args.batch_tokens)) {
      lens.push_back(static_cast<int64_t>(seqs[last].size()));
      flat.insert(flat.end(), seqs[last].begin(), seqs[last].end());
      ++last;
    }
    const at::Tensor ids = at::tensor(flat, at::kLong);
    const at::Tensor hidden = model->forward(ids, model::packed_batch(lens));
    // Row i predicts token i + 1; the last row of each sequence predicts nothing and gets a dummy target.
    const at::Tensor targets = at::cat({ids.narrow(0, 1, ids.size(0) - 1), at::zeros({1}, at::kLong)});
    const at::Tensor logp = model::token_logprobs(*model, hidden, targets).to(at::kDouble).contiguous();
    const double* lp = logp.data_ptr<double>();
    int64_t offset = 0;
    for (std::size_t s = first; s < last; ++s) {
      const int64_t n = lens[s - first];
      std::vector<double> values(lp + offset, lp + offset + n - 1);
      double sum = 0.0;
      for (double v : values) sum += v;
      json line = {{"ids", seqs[s]}, {"logprobs", values}, {"sum", sum}, {"num_scored", n - 1}};
      output += line.dump() + "\n";
      offset += n;
    }
    progress.advance(static_cast<int64_t>(last - first));
    first = last;
  }
  progress.finish();
  core::write_file_atomic(args.out, output);
  log::info("scored ", seqs.size(), " sequences into ", args.out);
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* cmd = app.add_subcommand("score", "Per-token log-probabilities of sequences under a model");
  cmd->add_option("model_dir", args->model_dir, "a Hugging Face model directory (config.json + safetensors)")
      ->required();
  cmd->add_option("--in", args->in, "JSONL input: {\"ids\": [...]} or {\"text\": \"...\"} per line")->required();
  cmd->add_option("--out", args->out, "JSONL output: ids, logprobs, sum, num_scored per line")->required();
  cmd->add_option("--dtype", args->dtype, "fp32 (default) or bf16");
  cmd->add_option("--batch-tokens", args->batch_tokens, "tokens per forward (default 8192)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_flag("--no-special-tokens", args->no_special_tokens, "do not add BOS/EOS when tokenizing text lines");
  cmd->callback([args] { score_command(*args); });
}

}  // namespace r1::cli
