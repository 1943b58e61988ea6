// The SFT trainer (also pretraining's: a {"text"} corpus through the same loop): chat-templated
// samples with the loss on assistant tokens, or plain text with the loss on every token; sequence
// packing without padding; AdamW on fp32 master weights with warmup + decay, clipping and gradient
// accumulation; bf16 autocast; held-out loss; checkpoints with exact resume; data parallel over
// model::Dist. docs/training.md describes the loss normalizer, packing, precision and what a
// checkpoint holds.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/recipe/bind.h"
#include "sft/optimizer.h"

namespace r1::obs {
class MetricsSink;
}
namespace r1::model {
class Dist;
}

namespace r1::sft {

struct SftConfig {
  std::string train_data;           // JSONL of {"messages"} and/or {"text"} samples (sft/sft_data.h)
  std::string eval_data;            // held-out JSONL, same format; empty: no held-out loss
  OptimizerConfig optimizer;        // flattened: lr, beta1, beta2, eps, weight_decay, max_grad_norm,
                                    // schedule, warmup_steps, min_lr_ratio
  int64_t micro_batch_tokens = 4096;  // packed tokens per forward (no padding); >= max_seq_len
  int64_t grad_accum = 1;           // micro-batches per rank per optimizer step
  int64_t epochs = 1;               // passes over the data (when max_steps is 0)
  int64_t max_steps = 0;            // optimizer steps; 0: as many as `epochs` take; > 0 overrides
                                    // epochs and cycles through the data as often as needed
  int64_t max_seq_len = 2048;       // longer chats are cut to this; longer texts split into windows
  bool shuffle = true;              // reshuffle the documents every epoch (from the seed)
  int64_t eval_every = 0;           // held-out loss every N optimizer steps (0: only at the end)
  int64_t save_every = 0;           // checkpoint every N optimizer steps (0: only at the end)
  int64_t keep_last = 2;            // complete checkpoints kept
  bool bf16 = true;                 // bf16 autocast of the forward/backward (fp32 master weights)
  std::string loss_on = "assistant";  // "messages" samples: assistant tokens only, or all tokens
  double moe_bias_gamma = 0.001;    // DeepSeek-V3 expert-bias update speed per step (0: frozen)
  double mtp_weight = 0.0;          // DeepSeek-V3 MTP loss weight lambda (0: MTP modules unused)
  int64_t seed = 0;                 // data order; combined with the run's seed
  double peak_flops = 0.0;          // device FLOP/s for train/mfu; 0: measured once (dense matmul)

  template <typename V>
  void visit(V& v) {
    v.field("train_data", train_data, "training JSONL ({\"messages\"} chats and/or {\"text\"} texts)");
    v.field("eval_data", eval_data, "held-out JSONL for eval/loss (empty: none)");
    optimizer.visit(v);
    v.field("micro_batch_tokens", micro_batch_tokens, "packed tokens per forward (>= max_seq_len)",
            recipe::AtLeast{2});
    v.field("grad_accum", grad_accum, "micro-batches per rank per optimizer step", recipe::AtLeast{1});
    v.field("epochs", epochs, "passes over the data when max_steps is 0", recipe::AtLeast{1});
    v.field("max_steps", max_steps, "optimizer steps (0: as many as epochs take)", recipe::AtLeast{0});
    v.field("max_seq_len", max_seq_len, "tokens per document: longer chats are cut, longer texts split into windows", recipe::AtLeast{2});
    v.field("shuffle", shuffle, "reshuffle documents every epoch");
    v.field("eval_every", eval_every, "held-out loss every N steps (0: at the end only)", recipe::AtLeast{0});
    v.field("save_every", save_every, "checkpoint every N steps (0: at the end only)", recipe::AtLeast{0});
    v.field("keep_last", keep_last, "complete checkpoints kept", recipe::AtLeast{1});
    v.field("bf16", bf16, "bf16 autocast for forward/backward (master weights stay fp32)");
    v.field("loss_on", loss_on, "chat samples: loss on assistant tokens or on all tokens",
            recipe::OneOf{"assistant", "all"});
    v.field("moe_bias_gamma", moe_bias_gamma, "MoE expert-bias update speed per step (0: frozen)",
            recipe::AtLeast{0});
    v.field("mtp_weight", mtp_weight, "multi-token-prediction loss weight (0: off)", recipe::AtLeast{0});
    v.field("seed", seed, "data-order seed (combined with the run's)", recipe::AtLeast{0});
    v.field("peak_flops", peak_flops, "device FLOP/s for train/mfu (0: measure a dense matmul)",
            recipe::AtLeast{0});
  }
};

// What the pipeline (or the CLI) supplies.
struct SftRun {
  std::filesystem::path out_dir;        // checkpoints in out_dir/checkpoints, final model in out_dir/model
  std::filesystem::path init_model;     // Hugging Face directory: model + tokenizer (+ chat template)
  model::Dist* dist = nullptr;          // null: a single process
  obs::MetricsSink* metrics = nullptr;  // null: no metrics (rank 0 writes when set)
  std::string stage = "sft";            // the metrics rows' "stage"
  int64_t seed = 0;                     // the run's seed
  at::Device device = at::kCPU;
  std::filesystem::path base_dir = ".";  // relative train_data / eval_data resolve here
};

// Trains, resuming from the latest checkpoint in out_dir/checkpoints when one exists (same losses
// step for step as an uninterrupted run), and exports the final model to out_dir/model. A run whose
// latest checkpoint is already at the last step only (re)exports. Returns {"steps", "epochs",
// "train_loss" (last step), "eval_loss" (final held-out loss; absent without eval_data),
// "eval_loss_first" (before training, or at the checkpoint resumed from), "tokens_per_s",
// "model_dir"}. Throws r1::Error for bad data (sft/sft_data.h), config values the schema cannot
// express (micro_batch_tokens < max_seq_len, mtp_weight > 0 on a model without MTP modules), a
// checkpoint from different data, and a non-finite loss or gradient norm naming the step (before
// the update).
nlohmann::json run_sft(const SftConfig& config, const SftRun& run);

}  // namespace r1::sft
