// Tokenizer (the model-directory layer): loading real directories, special-token ids, batch
// encoding on threads equal to one at a time, concurrent use, saving a directory that
// transformers.AutoTokenizer loads and encodes identically, and directory-level errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/core/tokenizer/real_tokenizers.h"
#include "tests/support/test_support.h"

namespace r1::tokenizer {
namespace {

using nlohmann::json;

const std::vector<std::string> kTexts = {
    "Hello world! Let's tokenize this.", "  leading spaces\tand tabs\n\nnewlines",
    "数学题：12345 + 678 = 13023。", "<think>\nstep 1: 2+2=4\n</think>\nThe answer is \\boxed{4}.",
    "def f(x):\n    return x ** 2  # square", "emoji 👩‍💻 and café vs cafe\u0301", ""};

std::string dir_name(const testing::TestParamInfo<int>& info) {
  const char* names[] = {"Qwen3", "Llama3_2", "DeepSeekV3"};
  return names[info.param];
}

class RealDirs : public testing::TestWithParam<int> {
 protected:
  const test::RealTokenizer& real() const { return test::real_tokenizers().at(static_cast<size_t>(GetParam())); }
};

TEST_P(RealDirs, SpecialTokensResolveToIds) {
  R1_REQUIRE_REFERENCE();
  const Tokenizer tok = Tokenizer::load(real().dir);
  ASSERT_TRUE(tok.config().eos_token.has_value());
  const auto eos = tok.eos_id();
  ASSERT_TRUE(eos.has_value());
  EXPECT_TRUE(tok.is_special(*eos));
  EXPECT_EQ(tok.id_to_token(*eos), tok.config().eos_token);
  EXPECT_GT(tok.vocab_size(), 100000);
}

TEST_P(RealDirs, BatchOnThreadsEqualsOneAtATimeAndConcurrentUseIsSafe) {
  R1_REQUIRE_REFERENCE();
  const Tokenizer tok = Tokenizer::load(real().dir);
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(kTexts[static_cast<size_t>(i) % kTexts.size()] + std::to_string(i));
  std::vector<std::vector<TokenId>> want;
  for (const std::string& t : texts) want.push_back(tok.encode(t, true));
  EXPECT_EQ(tok.encode_batch(texts, true, 2), want);
  EXPECT_EQ(tok.encode_batch(texts, true, 7), want);
  // Two threads hammering one tokenizer (and its shared word cache) see the same results.
  std::vector<std::thread> threads;
  std::vector<int> bad(2, 0);
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round)
        for (size_t i = 0; i < texts.size(); ++i) bad[static_cast<size_t>(t)] += tok.encode(texts[i], true) != want[i];
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(bad[0] + bad[1], 0);
}

TEST_P(RealDirs, SavedDirectoryLoadsInAutoTokenizerAndEncodesTheSame) {
  R1_REQUIRE_REFERENCE();
  const Tokenizer tok = Tokenizer::load(real().dir);
  test::TempDir out;
  tok.save(out.path());
  const Tokenizer again = Tokenizer::load(out.path());
  std::string input;
  for (const std::string& t : kTexts) input += json{{"text", t}}.dump() + "\n";
  const test::CommandResult r = test::run_command(
      {test::python().string(), (test::source_dir() / "tests/python/tokenizer_autotokenizer.py").string(),
       out.path().string()},
      input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  for (const std::string& text : kTexts) {
    ASSERT_TRUE(std::getline(lines, line));
    const json got = json::parse(line);
    SCOPED_TRACE(text);
    EXPECT_EQ(got["ids"].get<std::vector<TokenId>>(), tok.encode(text, false));
    EXPECT_EQ(got["ids"].get<std::vector<TokenId>>(), again.encode(text, false));
    EXPECT_EQ(got["ids_special"].get<std::vector<TokenId>>(), tok.encode(text, true));
    EXPECT_EQ(got["decoded"].get<std::string>(), tok.decode(tok.encode(text, true), true));
  }
  ASSERT_TRUE(std::getline(lines, line));
  const json info = json::parse(line);
  EXPECT_EQ(info["eos"].get<std::string>(), *tok.config().eos_token);
  EXPECT_EQ(info["has_chat_template"].get<bool>(), tok.config().default_chat_template() != nullptr);
}

INSTANTIATE_TEST_SUITE_P(Files, RealDirs, testing::Values(0, 1, 2), dir_name);

std::string load_error(const std::filesystem::path& dir) {
  try {
    Tokenizer::load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(TokenizerErrors, DirectoryProblemsNameThePath) {
  test::TempDir dir;
  EXPECT_EQ(load_error(dir / "missing"), (dir / "missing").string() +
            ": not a directory (expected a model directory with tokenizer.json or tokenizer.model)");
  EXPECT_EQ(load_error(dir.path()), dir.path().string() + ": no tokenizer.json or tokenizer.model in the directory");
  test::write_text(dir / "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\"}}");
  EXPECT_EQ(load_error(dir.path()), (dir / "tokenizer.json").string() +
            ": model.type: unsupported model \"WordPiece\" (r1kit has BPE)");
}

}  // namespace
}  // namespace r1::tokenizer
