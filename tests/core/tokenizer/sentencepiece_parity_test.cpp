// SentencePieceTokenizer against the reference libraries, through
// tests/python/sentencepiece_interop.py: for a BPE and a unigram model trained here, on generated
// strings, ids and decoded text equal the `sentencepiece` library's (same .model file), the
// `tokenizers` library's (the tokenizer.json save() writes) and transformers.AutoTokenizer's
// (saved directories, one per add_bos_token / add_eos_token combination).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/tokenizer/sentencepiece.h"
#include "core/tokenizer/sentencepiece_train.h"
#include "tests/core/tokenizer/sentencepiece_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::tokenizer {
namespace {

using nlohmann::json;
using test_fixtures::TextGen;

std::string show(const std::string& s) { return json(s).dump(); }

std::string show(const std::vector<TokenId>& ids) { return json(ids).dump(); }

// Counts the i where got(i) != want[i]; prints the first few.
template <typename T, typename F>
int count_mismatches(const std::string& what, const std::vector<std::string>& texts,
                     const json& want, F got) {
  int mismatches = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const T expected = want[i].get<T>();
    const T actual = got(i);
    if (actual == expected) continue;
    if (++mismatches <= 5)
      ADD_FAILURE() << what << " #" << i << (i < texts.size() ? " text " + show(texts[i]) : "")
                    << "\n  reference " << show(expected) << "\n  r1kit     " << show(actual);
  }
  return mismatches;
}

// Id sequences for the decode comparisons: random ids, byte-piece runs (valid and not), special
// and user-defined pieces, in any order.
std::vector<std::vector<TokenId>> decode_cases(const SentencePieceTokenizer& tok, uint32_t seed) {
  TextGen gen(seed);
  const TokenId first_byte = *tok.token_to_id("<0x00>");
  const auto v = static_cast<uint32_t>(tok.vocab_size());
  std::vector<std::vector<TokenId>> out = {{}, {0}, {1, 2}, {first_byte + 0x20}, {1, first_byte + 0x20}};
  for (int n = 0; n < 400; ++n) {
    std::vector<TokenId> ids;
    const uint32_t len = gen.below(25);
    for (uint32_t i = 0; i < len; ++i) {
      const uint32_t r = gen.below(10);
      if (r < 5) ids.push_back(static_cast<TokenId>(gen.below(v)));
      else if (r < 8) ids.push_back(first_byte + static_cast<TokenId>(gen.below(2) ? 0x80 + gen.below(0x48) : gen.below(0x80)));
      else ids.push_back(static_cast<TokenId>(gen.below(7)));  // <unk> <s> </s> <pad> ... </think>
    }
    out.push_back(ids);
  }
  return out;
}

json run_interop(const test::TempDir& dir, const json& request) {
  const std::filesystem::path request_path = dir / "request.json";
  core::write_file_atomic(request_path, request.dump());
  const test::CommandResult r = test::run_command(
      {test::python().string(), (test::source_dir() / "tests/python/sentencepiece_interop.py").string(),
       request_path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

// A directory AutoTokenizer loads as the converted tokenizer.json (PreTrainedTokenizerFast reads
// the file as is; LlamaTokenizerFast would rebuild its own pre-tokenizer and lose parity around
// user-defined pieces).
void save_for_transformers(const SentencePieceTokenizer& tok, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  tok.save(dir);
  json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                 {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"},
                 {"pad_token", "<pad>"},
                 {"add_bos_token", tok.config().add_bos_token},
                 {"add_eos_token", tok.config().add_eos_token},
                 {"clean_up_tokenization_spaces", false}, {"model_max_length", 1000000}};
  core::write_file_atomic(dir / "tokenizer_config.json", config.dump(2));
}

void check_vocabulary(const SentencePieceTokenizer& tok, const json& spm) {
  ASSERT_EQ(tok.vocab_size(), static_cast<int64_t>(spm["vocab"].size()));
  EXPECT_EQ(tok.bos_id(), spm["bos_id"]);
  EXPECT_EQ(tok.eos_id(), spm["eos_id"]);
  EXPECT_EQ(tok.unk_id(), spm["unk_id"]);
  EXPECT_EQ(tok.pad_id(), spm["pad_id"]);
  int mismatches = 0;
  for (TokenId id = 0; id < tok.vocab_size(); ++id) {
    const json& entry = spm["vocab"][static_cast<std::size_t>(id)];
    const std::string piece = entry[0].get<std::string>();
    const std::string kind = entry[2].get<std::string>();
    const SentencePieceEntry& mine = tok.model_info().pieces[static_cast<std::size_t>(id)];
    const bool same = tok.id_to_token(id) == piece && tok.token_to_id(piece) == id &&
                      mine.score == entry[1].get<float>() &&
                      tok.is_special(id) == (kind == "unknown" || kind == "control") &&
                      (mine.type == PieceType::kByte) == (kind == "byte");
    if (!same && ++mismatches <= 5) ADD_FAILURE() << "vocabulary entry " << id << ": " << entry;
  }
  EXPECT_EQ(mismatches, 0);
}

using Ids = std::vector<TokenId>;

// What one model is compared on, and the references' answers.
struct Setup {
  std::vector<std::string> texts;  // the first num_plain hold no special-piece strings
  std::size_t num_plain = 0;
  std::vector<Ids> id_cases;
  std::vector<SentencePieceTokenizer> flagged;  // one per saved directory, as transformers loads it
  json ref;
};

// True for text where the converted Precompiled normalizer is known to differ from
// sentencepiece (sentencepiece_convert.h): CR LF, combining diacritical marks (U+0300..U+036F,
// UTF-8 CC 80..CD AF), and characters the charsmap deletes (C0 controls but tab, newline and
// CR, and DEL), which can leave a chunk that normalizes to nothing.
bool precompiled_gap(const std::string& s) {
  if (s.find("\r\n") != std::string::npos) return true;
  const auto deleted = [](char c) {
    return (c >= 0 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
  };
  if (std::any_of(s.begin(), s.end(), deleted)) return true;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    const auto b0 = static_cast<uint8_t>(s[i]), b1 = static_cast<uint8_t>(s[i + 1]);
    if ((b0 == 0xCC && b1 >= 0x80 && b1 <= 0xBF) || (b0 == 0xCD && b1 >= 0x80 && b1 <= 0xAF))
      return true;
  }
  return false;
}

// Saves one directory per add_bos_token / add_eos_token combination (only the first without
// transformers) and runs the references over generated texts and id sequences.
void run_references(const test::TempDir& dir, bool with_transformers, bool skip_precompiled_gaps,
                    Setup& s) {
  const SentencePieceTokenizer tok = SentencePieceTokenizer::load(dir / "m.model");
  for (int special = 0; special < 2; ++special) {
    for (std::string& t : test_fixtures::parity_texts(21 + special, special ? 600 : 2000, special))
      if (!skip_precompiled_gaps || !precompiled_gap(t)) s.texts.push_back(std::move(t));
    if (special == 0) s.num_plain = s.texts.size();
  }
  s.id_cases = decode_cases(tok, 23);
  json dirs = json::array();
  const std::vector<std::pair<bool, bool>> flags = {{true, false}, {true, true}, {false, false},
                                                    {false, true}};
  for (const auto& [bos, eos] : flags) {
    s.flagged.push_back(SentencePieceTokenizer::load(dir / "m.model", {bos, eos}));
    const std::filesystem::path out = dir / ("saved_" + std::to_string(s.flagged.size() - 1));
    save_for_transformers(s.flagged.back(), out);
    if (!with_transformers) break;
    dirs.push_back(out.string());
  }
  s.ref = run_interop(dir, {{"model_file", (dir / "m.model").string()},
                            {"texts", s.texts}, {"decode_ids", s.id_cases},
                            {"tokenizer_json", (dir / "saved_0/tokenizer.json").string()},
                            {"dirs", dirs}});
}

// sentencepiece on all texts with split_special_tokens (it reads "<s>" as text), and on the
// plain texts with the default config; decode of its ids, also around <s> ... </s>.
int compare_sentencepiece(const SentencePieceTokenizer& tok, const SentencePieceTokenizer& as_spm,
                          const Setup& s) {
  const json& spm = s.ref["spm"];
  const auto spm_ids = [&](std::size_t i) { return spm["encode"][i].get<Ids>(); };
  int bad = 0;
  bad += count_mismatches<Ids>("spm encode", s.texts, spm["encode"],
                               [&](std::size_t i) { return as_spm.encode(s.texts[i], false); });
  bad += count_mismatches<Ids>("spm encode, default config", s.texts,
                               json(spm["encode"].begin(), spm["encode"].begin() + s.num_plain),
                               [&](std::size_t i) { return tok.encode(s.texts[i], false); });
  bad += count_mismatches<std::string>("spm decode", s.texts, spm["decode"],
                                       [&](std::size_t i) { return tok.decode(spm_ids(i), false); });
  bad += count_mismatches<std::string>(
      "spm decode with <s> </s>", s.texts, spm["decode_with_specials"], [&](std::size_t i) {
        Ids ids = spm_ids(i);
        ids.insert(ids.begin(), tok.bos_id());
        ids.push_back(tok.eos_id());
        return tok.decode(ids, true);
      });
  return bad;
}

int compare_tokenizers(const SentencePieceTokenizer& tok, const Setup& s) {
  const json& hf = s.ref["tokenizers"];
  int bad = 0;
  bad += count_mismatches<Ids>("tokenizers encode", s.texts, hf["encode"],
                               [&](std::size_t i) { return tok.encode(s.texts[i], false); });
  bad += count_mismatches<std::string>("tokenizers decode", s.texts, hf["decode"], [&](std::size_t i) {
    return tok.decode(hf["encode"][i].get<Ids>(), false);
  });
  bad += count_mismatches<std::string>("tokenizers decode ids", {}, hf["decode_ids"],
                                       [&](std::size_t i) { return tok.decode(s.id_cases[i], false); });
  bad += count_mismatches<std::string>("tokenizers decode ids, skip", {}, hf["decode_ids_skip"],
                                       [&](std::size_t i) { return tok.decode(s.id_cases[i], true); });
  return bad;
}

int compare_transformers(const Setup& s) {
  int bad = 0;
  for (std::size_t k = 0; k < s.ref["transformers"].size(); ++k) {
    const json& tf = s.ref["transformers"][k];
    const SentencePieceTokenizer& t = s.flagged[k];
    SCOPED_TRACE(::testing::Message() << "transformers " << tf["class"] << ", add_bos_token "
                                      << t.config().add_bos_token << ", add_eos_token "
                                      << t.config().add_eos_token);
    bad += count_mismatches<Ids>("transformers encode", s.texts, tf["encode"],
                                 [&](std::size_t i) { return t.encode(s.texts[i], true); });
    bad += count_mismatches<std::string>("transformers decode", {}, tf["decode_ids"],
                                         [&](std::size_t i) { return t.decode(s.id_cases[i], false); });
    bad += count_mismatches<std::string>("transformers decode, skip", {}, tf["decode_ids_skip"],
                                         [&](std::size_t i) { return t.decode(s.id_cases[i], true); });
  }
  return bad;
}

// Everything for one model. skip_precompiled_gaps: for models with a precompiled charsmap
// (see precompiled_gap: known gaps of the `tokenizers` library, shared by transformers).
void check_model(const SentencePieceTrainConfig& config, bool with_transformers,
                 bool skip_precompiled_gaps = false) {
  test::TempDir dir;
  train_sentencepiece_file(test_fixtures::training_corpus(7, 4000), config, dir / "m.model");
  const SentencePieceTokenizer tok = SentencePieceTokenizer::load(dir / "m.model");
  const SentencePieceTokenizer as_spm = SentencePieceTokenizer::load(dir / "m.model", {true, false, true});
  Setup s;
  run_references(dir, with_transformers, skip_precompiled_gaps, s);
  ASSERT_TRUE(s.ref.is_object());
  EXPECT_GE(s.texts.size(), 2000u);
  check_vocabulary(tok, s.ref["spm"]);
  EXPECT_EQ(compare_sentencepiece(tok, as_spm, s), 0);
  EXPECT_EQ(compare_tokenizers(tok, s), 0);
  EXPECT_EQ(compare_transformers(s), 0);
  EXPECT_EQ(s.ref["transformers"].size(), with_transformers ? 4u : 0u);
}

TEST(SentencePieceParity, BpeMatchesSentencepieceTokenizersAndTransformers) {
  R1_REQUIRE_REFERENCE();
  check_model(test_fixtures::test_train_config("bpe"), true);
}

TEST(SentencePieceParity, UnigramMatchesSentencepieceAndTokenizers) {
  R1_REQUIRE_REFERENCE();
  check_model(test_fixtures::test_train_config("unigram"), false);
}

// A precompiled charsmap (NFKC) goes into tokenizer.json as a base64 Precompiled normalizer.
TEST(SentencePieceParity, NfkcModelMatchesSentencepieceAndTokenizers) {
  R1_REQUIRE_REFERENCE();
  SentencePieceTrainConfig config = test_fixtures::test_train_config("bpe");
  config.normalization_rule_name = "nmt_nfkc";
  check_model(config, false, true);
}

}  // namespace
}  // namespace r1::tokenizer
