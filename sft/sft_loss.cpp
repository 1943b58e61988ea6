#include "sft/sft_loss.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "core/error.h"
#include "model/causal_lm.h"

namespace r1::sft {

namespace {

at::Tensor long_tensor(const std::vector<int64_t>& v, at::Device device) {
  return at::tensor(v, at::TensorOptions().dtype(at::kLong)).to(device);
}

}  // namespace

PackedInput make_packed_input(const Dataset& data, const MicroBatch& mb, int64_t mtp_depths, at::Device device) {
  std::vector<int64_t> ids, doc_lens, rows, targets;
  std::vector<std::vector<int64_t>> mtp_rows(static_cast<size_t>(mtp_depths)), mtp_ids(mtp_rows.size());
  ids.reserve(static_cast<size_t>(mb.num_tokens));
  for (int64_t d : mb.doc_indices) {
    const Document& doc = data.docs[d];
    const int64_t base = static_cast<int64_t>(ids.size()), len = static_cast<int64_t>(doc.ids.size());
    ids.insert(ids.end(), doc.ids.begin(), doc.ids.end());
    doc_lens.push_back(len);
    for (int64_t p = 0; p + 1 < len; ++p) {
      if (doc.loss_mask[p + 1]) {
        rows.push_back(base + p);
        targets.push_back(doc.ids[p + 1]);
      }
      for (int64_t k = 1; k <= mtp_depths; ++k) {
        if (p + k + 1 < len && doc.loss_mask[p + k + 1]) {
          mtp_rows[k - 1].push_back(base + p);
          mtp_ids[k - 1].push_back(doc.ids[p + k + 1]);
        }
      }
    }
  }
  PackedInput in;
  in.input_ids_T = long_tensor(ids, device);
  in.batch = model::packed_batch(doc_lens, device);
  in.target_rows_R = long_tensor(rows, device);
  in.target_ids_R = long_tensor(targets, device);
  in.num_targets = static_cast<int64_t>(rows.size());
  for (size_t k = 0; k < mtp_rows.size(); ++k) {
    in.mtp_rows_R.push_back(long_tensor(mtp_rows[k], device));
    in.mtp_ids_R.push_back(long_tensor(mtp_ids[k], device));
  }
  return in;
}

LossSums micro_batch_loss(model::CausalLM& model, const PackedInput& in, int64_t mtp_depths) {
  LossSums out;
  const at::Tensor hidden_TD = model.forward(in.input_ids_T, in.batch);
  // The head only on target rows: with assistant-only loss most rows are prompt tokens, and the
  // [T, V] logits are the largest activation of the tiny models.
  const at::Tensor logp_R = model::token_logprobs(model, hidden_TD.index_select(0, in.target_rows_R), in.target_ids_R);
  out.nll_sum = -logp_R.sum();
  if (mtp_depths == 0) return out;
  R1_CHECK(mtp_depths <= model.num_mtp_layers(), "mtp depths ", mtp_depths, " > ", model.num_mtp_layers());
  // DeepSeek-V3 section 2.2: L_MTP = (lambda / D) * sum_k L_MTP^k; each depth chains on the
  // previous depth's hidden states. The caller multiplies by lambda and divides by the normalizer.
  at::Tensor h_TD = hidden_TD;
  at::Tensor sum = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(hidden_TD.device()));
  for (int64_t k = 1; k <= mtp_depths; ++k) {
    h_TD = model.mtp_forward(k, h_TD, in.input_ids_T, in.batch);
    const at::Tensor& rows = in.mtp_rows_R[k - 1];
    if (rows.numel() == 0) continue;
    const at::Tensor logits_RV = model.mtp_logits(k, h_TD.index_select(0, rows)).to(at::kFloat);
    const at::Tensor logp = logits_RV.log_softmax(-1).gather(1, in.mtp_ids_R[k - 1].unsqueeze(1));
    sum = sum - logp.sum();
  }
  out.mtp_sum = sum / static_cast<double>(mtp_depths);
  return out;
}

AutocastScope::AutocastScope(at::Device device, bool enabled) : device_type_(device.type()), enabled_(enabled) {
  if (!enabled_) return;
  prev_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  prev_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  at::autocast::set_autocast_enabled(device_type_, true);
  at::autocast::set_autocast_dtype(device_type_, at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // The bf16 weight copies are cached for the outermost scope's lifetime (they are stale after an
  // optimizer step), as torch.autocast's __exit__ does.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_type_, prev_enabled_);
  at::autocast::set_autocast_dtype(device_type_, prev_dtype_);
}

}  // namespace r1::sft
