// sft/sft_data.h and sft/sft_loss.h: chat samples train on the template's assistant tokens only,
// text samples are BOS + text + EOS with every token a target, bad lines are refused naming the
// line, packing and shuffling are deterministic, the packed loss equals a float64 recomputation
// from full logits and equals the per-document losses (attention never crosses documents), and
// the learning-rate schedule's values.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>

#include "model/causal_lm.h"
#include "model/weights.h"
#include "sft/schedule.h"
#include "sft/sft_data.h"
#include "sft/sft_loss.h"
#include "tests/sft/sft_fixtures.h"

namespace r1::sft::sft_data_test {

namespace stdfs = std::filesystem;
using nlohmann::ordered_json;
namespace fx = sft_fixtures;

Dataset load(const std::vector<ordered_json>& lines, bool assistant_only = true, int64_t max_seq_len = 512) {
  test::TempDir tmp;
  fx::write_jsonl(tmp / "data.jsonl", lines);
  DataOptions options;
  options.assistant_only = assistant_only;
  options.max_seq_len = max_seq_len;
  return load_dataset(tmp / "data.jsonl", fx::tiny_tokenizer(), options);
}

TEST(SftData, ChatTargetsAreExactlyTheAssistantTokens) {
  const auto chats = fx::sum_chats(false);
  const Dataset data = load(fx::as_message_lines({chats[0], chats[1]}));
  ASSERT_EQ(data.docs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto enc = fx::tiny_tokenizer().encode_chat(chats[i], false);
    const Document& doc = data.docs[i];
    ASSERT_EQ(doc.ids.size(), enc.ids.size());
    for (size_t t = 0; t < doc.ids.size(); ++t) {
      EXPECT_EQ(doc.ids[t], enc.ids[t]);
      EXPECT_EQ(doc.loss_mask[t], enc.assistant_mask[t]) << t;
    }
    // The targets decode to the assistant's reply and EOS, and nothing of the prompt.
    std::vector<tokenizer::TokenId> target_ids;
    for (size_t t = 0; t < doc.ids.size(); ++t)
      if (doc.loss_mask[t]) target_ids.push_back(static_cast<tokenizer::TokenId>(doc.ids[t]));
    EXPECT_EQ(fx::tiny_tokenizer().decode(target_ids), chats[i][1]["content"].get<std::string>() + "<|end_of_sentence|>");
    EXPECT_EQ(doc.ids.back(), kTinyEosId);
  }
  // loss_on: all trains on everything after the first token.
  const Dataset all = load(fx::as_message_lines({chats[0]}), /*assistant_only=*/false);
  EXPECT_EQ(all.docs[0].num_targets(), static_cast<int64_t>(all.docs[0].ids.size()) - 1);
}

TEST(SftData, TextIsBosTextEosWithEveryTokenATarget) {
  const Dataset data = load({{{"text", "The cat sat."}}, {{"text", ""}}});
  ASSERT_EQ(data.docs.size(), 2u);
  const auto body = fx::tiny_tokenizer().encode("The cat sat.");
  const Document& doc = data.docs[0];
  ASSERT_EQ(doc.ids.size(), body.size() + 2);
  EXPECT_EQ(doc.ids.front(), kTinyBosId);
  EXPECT_EQ(doc.ids.back(), kTinyEosId);
  for (size_t t = 0; t < body.size(); ++t) EXPECT_EQ(doc.ids[t + 1], body[t]);
  EXPECT_EQ(doc.loss_mask[0], 0);
  EXPECT_EQ(doc.num_targets(), static_cast<int64_t>(doc.ids.size()) - 1);
  EXPECT_EQ(data.docs[1].ids, (std::vector<int64_t>{kTinyBosId, kTinyEosId}));
}

TEST(SftData, LongChatsAreCutLongTextsSplitIntoOverlappingWindows) {
  const auto chats = fx::sum_chats(false);
  // The prompt alone is longer than 6 tokens: cut to 6, the chat keeps no assistant token.
  const std::string text = "The cat sat on the mat number 42. Hello there!";
  const Dataset data = load({{{"messages", chats[0]}}, {{"text", text}}}, true, 6);
  EXPECT_EQ(data.num_dropped, 1);
  EXPECT_EQ(data.num_truncated, 1);
  EXPECT_EQ(data.num_split, 1);
  // Windows of <= 6 tokens overlapping by one: joined they give BOS + text + EOS again, and every
  // token after BOS is a target exactly once.
  std::vector<int64_t> full = {kTinyBosId};
  for (auto id : fx::tiny_tokenizer().encode(text)) full.push_back(id);
  full.push_back(kTinyEosId);
  ASSERT_GT(full.size(), 12u);
  std::vector<int64_t> joined = data.docs[0].ids;
  int64_t targets = data.docs[0].num_targets();
  for (size_t d = 1; d < data.docs.size(); ++d) {
    const Document& w = data.docs[d];
    EXPECT_LE(w.ids.size(), 6u);
    EXPECT_GE(w.ids.size(), 2u);
    EXPECT_EQ(w.ids.front(), joined.back());
    EXPECT_EQ(w.loss_mask.front(), 0);
    joined.insert(joined.end(), w.ids.begin() + 1, w.ids.end());
    targets += w.num_targets();
  }
  EXPECT_EQ(joined, full);
  EXPECT_EQ(targets, static_cast<int64_t>(full.size()) - 1);
  EXPECT_EQ(data.num_targets, targets);
}

TEST(SftData, BadLinesAreRefusedNamingTheLine) {
  struct Case {
    std::string line, expected;
  };
  const std::vector<Case> cases = {
      {"[1, 2]", "data.jsonl:2: expected a JSON object, found array"},
      {"{\"id\": 3}", "data.jsonl:2: expected exactly one of \"messages\""},
      {"{\"text\": \"a\", \"messages\": []}", "found both"},
      {"{\"text\": 7}", "data.jsonl:2: text: expected a string, found number"},
      {"{\"messages\": []}", "data.jsonl:2: messages: expected a non-empty array"},
      {"{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}", "data.jsonl:2"},
  };
  for (const Case& c : cases) {
    test::TempDir tmp;
    test::write_text(tmp / "data.jsonl", "{\"text\": \"fine\"}\n" + c.line + "\n");
    const std::string message = test::error_of([&] { load_dataset(tmp / "data.jsonl", fx::tiny_tokenizer(), {}); });
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.line << " -> " << message;
  }
}

TEST(SftData, ShuffleIsASeededPermutationAndPackingIsGreedy) {
  const auto a = epoch_order(50, 7, 0, true), b = epoch_order(50, 7, 0, true), c = epoch_order(50, 7, 1, true);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 50u);
  EXPECT_EQ(epoch_order(4, 7, 0, false), (std::vector<int64_t>{0, 1, 2, 3}));

  Dataset data;
  for (int64_t len : {5, 4, 3, 6, 2}) data.docs.push_back({std::vector<int64_t>(len, 9), std::vector<uint8_t>(len, 1)});
  const auto mbs = pack(data, {0, 1, 2, 3, 4}, 10);
  ASSERT_EQ(mbs.size(), 3u);  // [5 4] [3 6] [2]
  EXPECT_EQ(mbs[0].doc_indices, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(mbs[1].doc_indices, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(mbs[2].num_tokens, 2);
  // Two ranks, accumulation 1: step 0 is micro-batches 0 (rank 0) and 1 (rank 1); step 1 only 2.
  EpochPlan plan{mbs, 2};
  EXPECT_EQ(plan.num_steps(), 2);
  EXPECT_EQ(plan.rank_batches(0, 1, 2).front(), &plan.micro_batches[1]);
  EXPECT_TRUE(plan.rank_batches(1, 1, 2).empty());
}

std::shared_ptr<model::CausalLM> fresh_model(const stdfs::path& dir) {
  fx::write_model_dir(dir, 11);
  model::ModelOptions options;
  options.with_mtp = true;
  return model::load_causal_lm(dir, options);
}

TEST(SftLoss, EqualsAFloat64RecomputationOverAssistantTargets) {
  fx::OneThread one_thread;
  test::TempDir tmp;
  auto lm = fresh_model(tmp / "model");
  const auto chats = fx::sum_chats(false);
  const Dataset data = load(fx::as_message_lines({chats[3], chats[40], chats[77]}));
  const MicroBatch mb{{0, 1, 2}, static_cast<int64_t>(data.docs[0].ids.size() + data.docs[1].ids.size() +
                                                     data.docs[2].ids.size())};
  const PackedInput in = make_packed_input(data, mb, 1, at::kCPU);
  at::NoGradGuard no_grad;
  const LossSums sums = micro_batch_loss(*lm, in, 1);

  // Reference: every row's full logits in float64, the next-token NLL summed where the NEXT token
  // of the same document is an assistant token; and depth-1 MTP two tokens ahead.
  const at::Tensor hidden = lm->forward(in.input_ids_T, in.batch);
  const at::Tensor logp = lm->logits(hidden).to(at::kDouble).log_softmax(-1);
  const at::Tensor mtp_logp =
      lm->mtp_logits(1, lm->mtp_forward(1, hidden, in.input_ids_T, in.batch)).to(at::kDouble).log_softmax(-1);
  double expected = 0.0, expected_mtp = 0.0;
  int64_t base = 0, count = 0;
  for (int64_t d : mb.doc_indices) {
    const Document& doc = data.docs[d];
    const int64_t len = static_cast<int64_t>(doc.ids.size());
    for (int64_t p = 0; p + 1 < len; ++p) {
      if (doc.loss_mask[p + 1]) {
        expected -= logp[base + p][doc.ids[p + 1]].item<double>();
        ++count;
      }
      if (p + 2 < len && doc.loss_mask[p + 2]) expected_mtp -= mtp_logp[base + p][doc.ids[p + 2]].item<double>();
    }
    base += len;
  }
  EXPECT_EQ(in.num_targets, count);
  EXPECT_EQ(count, data.num_targets);
  EXPECT_NEAR(sums.nll_sum.item<double>(), expected, 1e-5 * std::abs(expected));
  EXPECT_NEAR(sums.mtp_sum.item<double>(), expected_mtp, 1e-5 * std::abs(expected_mtp));
}

TEST(SftLoss, PackedDocumentsEqualEachDocumentAlone) {
  fx::OneThread one_thread;
  test::TempDir tmp;
  auto lm = fresh_model(tmp / "model");
  const auto chats = fx::sum_chats(false);
  const Dataset data = load(fx::as_message_lines({chats[5], chats[6], chats[50]}), /*assistant_only=*/false);
  auto grads_of = [&](const std::vector<int64_t>& docs) {
    lm->module().zero_grad();
    at::Tensor total = at::zeros({}, at::kDouble);
    for (int64_t d : docs) {
      const MicroBatch mb{{d}, static_cast<int64_t>(data.docs[d].ids.size())};
      const at::Tensor loss = micro_batch_loss(*lm, make_packed_input(data, mb, 0, at::kCPU), 0).nll_sum;
      loss.backward();
      total += loss.detach().to(at::kDouble);
    }
    std::vector<at::Tensor> grads;
    for (const auto& p : lm->module().parameters())
      grads.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
    return std::make_pair(total.item<double>(), grads);
  };
  // Each document alone, summed...
  const auto [alone_loss, alone_grads] = grads_of({0, 1, 2});
  // ...equals the three packed into one forward.
  lm->module().zero_grad();
  int64_t tokens = 0;
  for (const auto& doc : data.docs) tokens += static_cast<int64_t>(doc.ids.size());
  const at::Tensor packed = micro_batch_loss(*lm, make_packed_input(data, {{0, 1, 2}, tokens}, 0, at::kCPU), 0).nll_sum;
  packed.backward();
  EXPECT_NEAR(packed.item<double>(), alone_loss, 1e-5 * alone_loss);
  size_t i = 0;
  for (const auto& p : lm->module().parameters()) {
    const at::Tensor g = p.grad().defined() ? p.grad() : at::zeros_like(p);
    const double scale = alone_grads[i].abs().max().item<double>() + 1e-12;
    EXPECT_LT((g - alone_grads[i]).abs().max().item<double>() / scale, 1e-4) << i;
    ++i;
  }
}

// bf16 autocast really runs the matmuls in bf16 (the loss moves a little), stays close to fp32, and
// the gradients land on the fp32 master parameters in fp32.
TEST(SftLoss, Bf16AutocastIsCloseToFp32AndKeepsFp32Gradients) {
  fx::OneThread one_thread;
  test::TempDir tmp;
  auto lm = fresh_model(tmp / "model");
  const auto chats = fx::sum_chats(false);
  const Dataset data = load(fx::as_message_lines({chats[7], chats[8]}));
  const PackedInput in = make_packed_input(
      data, {{0, 1}, static_cast<int64_t>(data.docs[0].ids.size() + data.docs[1].ids.size())}, 0, at::kCPU);
  const double fp32 = micro_batch_loss(*lm, in, 0).nll_sum.item<double>();
  at::Tensor bf16_loss;
  {
    AutocastScope autocast(at::kCPU, true);
    bf16_loss = micro_batch_loss(*lm, in, 0).nll_sum;
  }
  bf16_loss.backward();
  const double bf16 = bf16_loss.item<double>();
  EXPECT_NE(bf16, fp32);
  EXPECT_NEAR(bf16, fp32, 1e-2 * fp32);
  EXPECT_EQ(bf16_loss.scalar_type(), at::kFloat);
  for (const auto& p : lm->module().parameters()) {
    EXPECT_EQ(p.scalar_type(), at::kFloat);
    if (p.grad().defined()) {
      EXPECT_EQ(p.grad().scalar_type(), at::kFloat);
    }
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));  // the scope restored the state
}

TEST(Schedule, WarmupThenConstantLinearCosine) {
  ScheduleConfig c;
  c.warmup_steps = 3;
  c.min_lr_ratio = 0.1;
  // Warmup: lr * (s + 1) / 4.
  for (const char* shape : {"constant", "linear", "cosine"}) {
    c.schedule = shape;
    EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 0, 13), 0.5);
    EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 2, 13), 1.5);
    EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 3, 13), 2.0);  // decay progress 0
  }
  // After warmup, 10 decay steps; halfway (step 8): linear 0.2 + 1.8 * 0.5, cosine the same at the
  // midpoint; a quarter in (step 5.5 is not a step; step 5 is 0.2 of the way).
  c.schedule = "linear";
  EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 8, 13), 1.1);
  EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 5, 13), 0.2 + 1.8 * 0.8);
  EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 13, 13), 0.2);
  EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 50, 13), 0.2);
  c.schedule = "cosine";
  EXPECT_NEAR(learning_rate(c, 2.0, 8, 13), 1.1, 1e-15);
  EXPECT_NEAR(learning_rate(c, 2.0, 5, 13), 0.2 + 1.8 * 0.5 * (1 + std::cos(M_PI * 0.2)), 1e-15);
  EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 13, 13), 0.2);
  c.schedule = "constant";
  EXPECT_DOUBLE_EQ(learning_rate(c, 2.0, 12, 13), 2.0);
}

}  // namespace r1::sft::sft_data_test
