// `r1kit tokenize` as a user runs it: JSON lines through the built binary on a real tokenizer
// directory, checked against the same Tokenizer in process (itself checked against the library
// by tokenizer_test), both directions, --special, and bad lines (exit 2, one line naming stdin:N).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "tests/core/tokenizer/real_tokenizers.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace {

using nlohmann::json;
using tokenizer::TokenId;

test::CommandResult tokenize(const std::filesystem::path& dir, const std::string& input,
                             std::vector<std::string> flags = {}) {
  std::vector<std::string> argv = {test::r1kit_bin().string(), "tokenize", dir.string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return test::run_command(argv, input, std::chrono::seconds(60));
}

std::vector<json> lines_of(const std::string& out) {
  std::vector<json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(json::parse(line));
  return v;
}

TEST(TokenizeCli, EncodesAndDecodesJsonLines) {
  R1_REQUIRE_REFERENCE();
  const std::filesystem::path dir = test::real_tokenizers().at(1).dir;  // Llama 3.2: adds a BOS
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(dir);
  const std::vector<std::string> texts = {"Hello, world!", "<|begin_of_text|>x", "  多语言 text\n"};
  std::string input;
  for (const std::string& t : texts) input += json{{"text", t}}.dump() + "\n";
  for (const bool special : {false, true}) {
    const test::CommandResult r = tokenize(dir, input, special ? std::vector<std::string>{"--special"}
                                                                : std::vector<std::string>{});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<json> got = lines_of(r.out);
    ASSERT_EQ(got.size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i)
      EXPECT_EQ(got[i]["ids"].get<std::vector<TokenId>>(), tok.encode(texts[i], special)) << texts[i];
  }
  const std::vector<TokenId> ids = tok.encode("<|begin_of_text|>Hi there", true);
  const std::string ids_line = json{{"ids", ids}}.dump() + "\n";
  const test::CommandResult plain = tokenize(dir, ids_line, {"--decode"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(lines_of(plain.out).at(0)["text"], "Hi there");
  const test::CommandResult kept = tokenize(dir, ids_line, {"--decode", "--special"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(lines_of(kept.out).at(0)["text"], "<|begin_of_text|><|begin_of_text|>Hi there");
}

TEST(TokenizeCli, BadLinesNameTheLine) {
  R1_REQUIRE_REFERENCE();
  const std::filesystem::path dir = test::real_tokenizers().at(0).dir;
  const test::CommandResult r = tokenize(dir, "{\"text\": \"ok\"}\n{\"txt\": 1}\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "r1kit: error: stdin:2: expected {\"text\": \"...\"}, found {\"txt\": 1}\n");
  const test::CommandResult bad_json = tokenize(dir, "{\"ids\": [1,\n", {"--decode"});
  EXPECT_EQ(bad_json.exit_code, 2);
  EXPECT_EQ(bad_json.err.rfind("r1kit: error: stdin:1: not valid JSON", 0), 0u) << bad_json.err;
  const test::CommandResult bad_id = tokenize(dir, "{\"ids\": [1, \"x\"]}\n", {"--decode"});
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_EQ(bad_id.err, "r1kit: error: stdin:1: ids: expected integers, found \"x\"\n");
}

}  // namespace
}  // namespace r1
