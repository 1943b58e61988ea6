// `r1kit pretrain`: the demo's base model made from nothing (DESIGN.md section 4). Four phases,
// each leaving a complete artifact under the output directory so a rerun reuses it:
//   corpus/train.jsonl, corpus/eval.jsonl   {"text"} lines from core/data's generator (kind
//                                           pretrain: every task family in en and zh, plus chat);
//                                           skipped when `corpus` names a file
//   init/                                   the tokenizer trained on the corpus (sft/tiny_tokenizer.h)
//                                           and the model config sized to it, init_weights(seed),
//                                           as a Hugging Face directory (sft/pretrain_init.h)
//   checkpoints/, model/                    run_sft on the corpus ({"text"}: loss on every token),
//                                           resuming from its checkpoints; the final model in model/
// pretrain_setup.json (written first) records what builds the first two; a rerun with a different
// setup is refused (naming the changed keys) rather than mixing artifacts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/data/tasks.h"
#include "core/recipe/bind.h"
#include "sft/sft.h"
#include "sft/tiny_tokenizer.h"

namespace r1::sft {

// The generator settings for the demo corpus: the pretrain kind with core/data's defaults.
data::TasksConfig default_corpus_tasks();
// The training settings for the demo (docs/training.md "Pretraining the tiny model" has the
// measurements behind them): loss on every token, lr 3e-3 with warmup + cosine, 200 steps of
// 4096-token micro-batches, fp32.
SftConfig default_pretrain_training();

struct PretrainConfig {
  // A JSONL corpus of {"text"} lines to use instead of generating one (relative paths resolve
  // against the run's base_dir). Empty: generate `tasks.num` texts with `tasks`.
  std::string corpus;
  // The corpus generator (core/data/tasks.h; kind must stay "pretrain", split "train").
  data::TasksConfig tasks = default_corpus_tasks();
  // Held-out texts generated with the same settings and split "heldout" (problems never in the
  // training corpus), for eval/loss; 0: no held-out loss. Ignored with `corpus`. 128 texts (~18k
  // tokens) take about 4 s to evaluate here.
  int64_t eval_size = 128;
  // Share of the corpus (and held-out) texts written in the chat layout, "<|User|>prompt
  // <|Assistant|><think>...</think>\n\nsummary", from sft-kind lines: with the BOS and EOS the
  // trainer adds to a text these are token for token what the chat template renders, so the base
  // model has seen its markers (R1-Zero-style GRPO prompts the base through the template) while
  // most of the corpus stays plain text. 0: plain text only.
  double chat_share = 0.3;
  // A config.json for the model; empty: the built-in tiny DeepSeek-V3 (recipes/models/
  // tiny_deepseek_v3.json). Its vocab_size and pad/bos/eos ids are replaced by the tokenizer's.
  std::string model_config;
  TinyTokenizerConfig tokenizer;
  // The training loop's settings (sft/sft.h). train_data and eval_data are filled in by
  // pretraining and must stay empty here; loss_on is irrelevant ({"text"} samples train on all
  // tokens).
  SftConfig train = default_pretrain_training();
  // Seed of the weight initialization (the corpus has tasks.seed, the data order the run's seed).
  int64_t seed = 0;

  template <typename V>
  void visit(V& v) {
    v.field("corpus", corpus, "JSONL of {\"text\"} lines to pretrain on (empty: generate one)");
    v.field("tasks", tasks, "corpus generator settings (kind pretrain)");
    v.field("eval_size", eval_size, "held-out texts for eval/loss (0: none)", recipe::AtLeast{0});
    v.field("chat_share", chat_share, "share of corpus texts in the chat template's layout", recipe::AtLeast{0},
            recipe::AtMost{1});
    v.field("model_config", model_config, "model config.json (empty: built-in tiny DeepSeek-V3)");
    v.field("tokenizer", tokenizer, "sentencepiece tokenizer trained on the corpus");
    v.field("train", train, "training loop settings (sft); train_data/eval_data are filled in");
    v.field("seed", seed, "weight initialization seed", recipe::AtLeast{0});
  }
};

// What the pipeline (or the CLI) supplies; the fields mean what SftRun's do.
struct PretrainRun {
  std::filesystem::path out_dir;
  model::Dist* dist = nullptr;
  obs::MetricsSink* metrics = nullptr;
  std::string stage = "pretrain";
  int64_t seed = 0;  // the run's seed: data order (combined with train.seed)
  at::Device device = at::kCPU;
  std::filesystem::path base_dir = ".";
};

// An sft line's messages in the tiny chat template's layout without BOS and EOS (system content
// as is, "<|User|>" + content, "<|Assistant|>" + content): as a {"text"} sample, which the trainer
// wraps in BOS ... EOS, it encodes to the same ids as Tokenizer::encode_chat(messages) (tested).
// Throws r1::Error for another role.
std::string chat_layout_text(const nlohmann::json& messages);

// Checks what the schema cannot: tasks.kind "pretrain" and split "train", empty
// train.train_data / train.eval_data. Throws r1::Error "<where>.<key>: expected ..., found ...".
void validate(const PretrainConfig& config, std::string_view where = "pretrain");

// Runs the phases above (rank 0 writes the corpus and init/, the others wait at a barrier) and
// returns run_sft's summary plus {"vocab_size", "num_params" (without MTP), "corpus" (the training
// file), "setup_s" (seconds of the phases before training)}.
// Resumes: complete phases are reused, training continues from its latest checkpoint. Throws
// r1::Error for a bad config, an unreadable corpus, a tokenizer the corpus cannot supply, a
// changed setup on rerun, and whatever run_sft throws.
nlohmann::json run_pretrain(const PretrainConfig& config, const PretrainRun& run);

}  // namespace r1::sft
