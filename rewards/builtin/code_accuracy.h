// Code accuracy: the last fenced code block of the declared language in the summary, judged in
// the sandbox against the sample's tests (sandbox/judge.h). Value 1 when every test passes, else
// 0 (or the pass fraction when partial_credit); a SANDBOX_ERROR verdict leaves the sample
// unscored. The sandbox is started on the first code sample, so math-only runs never need one.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/recipe/bind.h"
#include "rewards/builtin/builtin.h"
#include "sandbox/judge.h"

namespace r1::rewards {

struct CodeAccuracyConfig {
  ThinkTags tags;
  std::string language = "python";  // declared language when the sample has no `code_language`
  bool accept_untagged = false;     // an unlabeled ``` block counts as the declared language
  bool partial_credit = false;      // value = passed / total instead of all-or-nothing
  bool stop_at_first_failure = false;  // cheaper, but the pass fraction is then a lower bound
  double cpu_time = 5.0;            // seconds of CPU per test run
  double wall_time = 10.0;          // seconds of wall time per test run
  int64_t memory_mb = 512;          // memory limit per test run
  int num_workers = 0;              // sandbox workers; 0 = the CPUs this process may use
  std::string python = "/usr/bin/python3";  // interpreter inside the sandbox (real path)
  template <typename V>
  void visit(V& v) {
    v.field("think_close", tags.close, "tag closing the chain of thought", recipe::NonEmpty{});
    v.field("language", language, "declared language of the solution", recipe::OneOf{"python", "cpp"});
    v.field("accept_untagged", accept_untagged, "an unlabeled code block counts");
    v.field("partial_credit", partial_credit, "value = pass fraction instead of 0/1");
    v.field("stop_at_first_failure", stop_at_first_failure, "stop judging at the first failed test");
    v.field("cpu_time", cpu_time, "CPU seconds per test run", recipe::Above{0});
    v.field("wall_time", wall_time, "wall seconds per test run", recipe::Above{0});
    v.field("memory_mb", memory_mb, "memory limit per test run (MB)", recipe::AtLeast{16});
    v.field("num_workers", num_workers, "sandbox workers (0 = all CPUs)", recipe::AtLeast{0});
    v.field("python", python, "Python interpreter inside the sandbox", recipe::NonEmpty{});
  }
};

// The body of the last fenced block (``` or ~~~) whose info string names `language` ("python",
// "py", "python3"; "cpp", "c++", "cc", "cxx"), or has none when accept_untagged. nullopt when
// there is no such complete block.
std::optional<std::string> last_code_block(std::string_view summary, sandbox::Language language,
                                           bool accept_untagged);

class CodeJudge {
 public:
  explicit CodeJudge(CodeAccuracyConfig config);
  ~CodeJudge();
  // One result per sample. Requires: each sample has tests.
  std::vector<RewardResult> score(std::span<const Sample* const> samples);

 private:
  sandbox::Sandbox* sandbox(std::string& error);
  CodeAccuracyConfig config_;
  std::mutex mutex_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  std::string start_error_;  // why the sandbox could not start (every code sample unscored)
};

}  // namespace r1::rewards
