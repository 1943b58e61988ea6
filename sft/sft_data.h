// SFT and pretraining data: JSONL samples tokenized into documents with a per-token loss mask,
// shuffled per epoch from the seed, packed into micro-batches of at most N tokens, and laid out
// into optimizer steps of `grad_accum` micro-batches per rank.
//
// Sample kinds (one JSON object per line):
//   {"messages": [{"role", "content"}, ...], ...}  rendered by the tokenizer's chat template
//       (Tokenizer::encode_chat); the loss covers the tokens inside {% generation %} blocks (the
//       assistant's content and its EOS), or every token when loss_on = "all".
//   {"text": "..."}  pretraining text: BOS (when the tokenizer has one) + text + EOS, loss on every
//       token after BOS.
// Other keys (id, task, answer, ...) are ignored.
//
// Loss mask convention: loss_mask[i] = 1 when token i is a TARGET, i.e. the loss has the term
// -log p(ids[i] | ids[0..i-1]) of the same document. loss_mask[0] is always 0.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace r1::sft {

struct Document {
  std::vector<int64_t> ids;        // token ids, 1 <= size <= max_seq_len
  std::vector<uint8_t> loss_mask;  // same size; 1: the token is a target (see the file comment)
  int64_t num_targets() const;
};

struct DataOptions {
  // Longer chats keep their first max_seq_len tokens; longer texts are split into windows of
  // max_seq_len tokens overlapping by one (every token still a target exactly once).
  int64_t max_seq_len = 2048;
  bool assistant_only = true;         // "messages" samples: loss on assistant tokens only
  int num_threads = 0;                // tokenizer threads (0: hardware concurrency)
};

struct Dataset {
  std::vector<Document> docs;
  int64_t num_truncated = 0;   // chats cut to max_seq_len
  int64_t num_split = 0;       // texts split into max_seq_len windows
  int64_t num_dropped = 0;     // samples left with no target token (e.g. an empty assistant reply)
  int64_t num_tokens = 0;      // tokens over all docs
  int64_t num_targets = 0;     // target tokens over all docs
  // A digest of every document's ids and mask (FNV-1a 64), stored in checkpoints so a resumed run
  // refuses data that changed under it.
  uint64_t fingerprint = 0;
};

// Reads and tokenizes `path`. Throws r1::Error naming "path:line" for a line that is not an object,
// has neither "messages" (an array) nor "text" (a string), or both; for a chat whose template marks
// no assistant token while assistant_only is set (a template without {% generation %}: use
// loss_on: all); and, naming the file, when the tokenizer has no EOS token for "text" samples or the
// file holds no usable sample.
Dataset load_dataset(const std::filesystem::path& path, const tokenizer::Tokenizer& tokenizer,
                     const DataOptions& options);

// One micro-batch: documents (indices into Dataset::docs) packed back to back.
struct MicroBatch {
  std::vector<int64_t> doc_indices;
  int64_t num_tokens = 0;
};

// The order of documents in `epoch` (0-based): a Fisher-Yates shuffle driven by splitmix64 of
// (seed, epoch), so the same on every platform and every rank; shuffle = false keeps file order.
std::vector<int64_t> epoch_order(int64_t num_docs, uint64_t seed, int64_t epoch, bool shuffle);

// Greedy packing in `order`: a micro-batch takes documents until the next one would pass
// max_tokens. Requires: every document fits (size <= max_tokens).
std::vector<MicroBatch> pack(const Dataset& data, const std::vector<int64_t>& order, int64_t max_tokens);

// The optimizer steps of an epoch: step s takes micro-batches [s * A * W, (s + 1) * A * W) of the
// packed epoch (A = grad_accum, W = world size), micro-batch j of a step going to rank j % W. The
// last step of an epoch may be short (fewer micro-batches; a rank may get none).
struct EpochPlan {
  std::vector<MicroBatch> micro_batches;
  int64_t per_step = 1;  // A * W
  int64_t num_steps() const {
    return (static_cast<int64_t>(micro_batches.size()) + per_step - 1) / per_step;
  }
  // Rank `rank`'s micro-batches of step `step_in_epoch`.
  std::vector<const MicroBatch*> rank_batches(int64_t step_in_epoch, int rank, int world_size) const;
};

EpochPlan plan_epoch(const Dataset& data, uint64_t seed, int64_t epoch, bool shuffle, int64_t micro_batch_tokens,
                     int64_t grad_accum, int world_size);

}  // namespace r1::sft
