// tokenizer.json parity with the `tokenizers` library (tests/python/tokenizer_parity.py runs it):
// for each real tokenizer file, >= 20,000 generated strings (tests/python/tokenizer_corpus.py)
// must give the same ids with and without special tokens and the same decoded text with and
// without skip_special_tokens; random id sequences must decode identically (invalid UTF-8
// included); inputs the library refuses (lone surrogates) r1kit refuses too.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "tests/core/tokenizer/real_tokenizers.h"
#include "tests/support/test_support.h"

namespace r1::tokenizer {
namespace {

using nlohmann::json;

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// JSON-quoted, with invalid UTF-8 replaced (r1kit's output may hold some when it is wrong).
std::string quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string show(const std::vector<TokenId>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

struct ParityCounts {
  size_t strings = 0, refused = 0, random_decodes = 0, mismatches = 0;
};

// Runs the reference over the corpus for `tokenizer_json`, then r1kit, and counts mismatches
// (printing the first few in full).
ParityCounts check_parity(const std::filesystem::path& tokenizer_json, int seed, int count,
                          int num_random) {
  test::TempDir tmp;
  const auto out = tmp / "reference.jsonl";
  const test::CommandResult r = test::run_command(
      {test::python().string(), (test::source_dir() / "tests/python/tokenizer_parity.py").string(),
       tokenizer_json.string(), out.string(), std::to_string(seed), std::to_string(count),
       std::to_string(num_random)},
      "", std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto tok = HfTokenizer::from_file(tokenizer_json);
  ParityCounts counts;
  std::ifstream in(out);
  std::string line;
  auto mismatch = [&](const std::string& what) {
    if (++counts.mismatches <= 8) ADD_FAILURE() << tokenizer_json << ": " << what;
  };
  while (std::getline(in, line)) {
    const json c = json::parse(line);
    if (c.contains("decode_ids")) {
      ++counts.random_decodes;
      const auto ids = c["decode_ids"].get<std::vector<TokenId>>();
      for (const bool skip : {false, true}) {
        const std::string want = c[skip ? "decoded_skip" : "decoded"].get<std::string>();
        const std::string got = tok->decode(ids, skip);
        if (got != want)
          mismatch("decode(" + show(ids) + ", skip=" + std::to_string(skip) + "): want " +
                   quote(want) + " got " + quote(got));
      }
      continue;
    }
    ++counts.strings;
    const std::string text = from_hex(c["hex"].get<std::string>());
    if (c.contains("error")) {
      ++counts.refused;
      try {
        tok->encode(text, false);
        mismatch("accepted invalid UTF-8 " + c["hex"].get<std::string>());
      } catch (const Error&) {
      }
      continue;
    }
    const auto want = c["ids"].get<std::vector<TokenId>>();
    const auto want_special = c["ids_special"].get<std::vector<TokenId>>();
    const auto got = tok->encode(text, false);
    if (got != want) {
      mismatch("encode(" + quote(text) + "): want " + show(want) + " got " + show(got));
      continue;
    }
    const auto got_special = tok->encode(text, true);
    if (got_special != want_special)
      mismatch("encode(" + quote(text) + ", special): want " + show(want_special) + " got " +
               show(got_special));
    for (const bool skip : {false, true}) {
      const std::string want_text = c[skip ? "decoded_skip" : "decoded"].get<std::string>();
      const std::string got_text = tok->decode(want_special, skip);
      if (got_text != want_text)
        mismatch("decode of " + quote(text) + " skip=" + std::to_string(skip) + ": want " +
                 quote(want_text) + " got " + quote(got_text));
    }
  }
  return counts;
}

// The acceptance corpus is 20,000 strings; the ASan build (tokenizer_test_asan) runs the same
// code over a fifth of it to stay within the test budget.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kCorpusStrings = 4000;
#else
constexpr int kCorpusStrings = 20000;
#endif

class RealTokenizerParity : public testing::TestWithParam<int> {};

TEST_P(RealTokenizerParity, IdsAndTextEqualTheLibraryOnTheGeneratedCorpus) {
  R1_REQUIRE_REFERENCE();
  const test::RealTokenizer& t = test::real_tokenizers().at(static_cast<size_t>(GetParam()));
  SCOPED_TRACE(t.name + " tokenizer.json from " + t.package);
  const ParityCounts c = check_parity(t.dir / "tokenizer.json", 1, kCorpusStrings, 2000);
  EXPECT_EQ(c.strings, static_cast<size_t>(kCorpusStrings));
  EXPECT_GT(c.refused, 0u) << "the corpus must include invalid UTF-8 inputs";
  EXPECT_EQ(c.random_decodes, 2000u);
  EXPECT_EQ(c.mismatches, 0u);
  std::printf("%s: %zu strings (%zu refused by both), %zu random decodes, %zu mismatches\n",
              t.name.c_str(), c.strings, c.refused, c.random_decodes, c.mismatches);
}

std::string file_name(const testing::TestParamInfo<int>& info) {
  const char* names[] = {"Qwen3", "Llama3_2", "DeepSeekV3"};
  return names[info.param];
}
INSTANTIATE_TEST_SUITE_P(Files, RealTokenizerParity, testing::Values(0, 1, 2), file_name);

// Component coverage: tokenizer.json files that the library itself builds with the normalizers,
// pre-tokenizers, decoders, post-processors and added-token flags the real files do not use.
TEST(SyntheticTokenizerParity, EveryComponentCombinationEqualsTheLibrary) {
  R1_REQUIRE_REFERENCE();
  test::TempDir tmp;
  const test::CommandResult r = test::run_command(
      {test::python().string(),
       (test::source_dir() / "tests/python/tokenizer_synthetic.py").string(), tmp.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream names(r.out);
  std::string name;
  int checked = 0;
  while (std::getline(names, name)) {
    SCOPED_TRACE(name);
    const ParityCounts c = check_parity(tmp / (name + ".json"), 3, 3000, 500);
    EXPECT_EQ(c.strings, 3000u);
    EXPECT_EQ(c.mismatches, 0u);
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

}  // namespace
}  // namespace r1::tokenizer
