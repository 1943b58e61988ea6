// The Reward contract (DESIGN.md section 3 "Rewards"; docs/rewards.md): a reward scores a batch of
// samples and returns one result per sample, in order. A result is a value plus `info` (a JSON
// object saying why), or *unscored* with a reason: a sample that could not be scored (sandbox
// error, plugin failure, verifier deadline) is never a silent 0. It is counted in the metrics and
// the trainer leaves it out of its group's advantage. Per-sample outcomes are data: score() throws
// only for a bug, never for what a model wrote or a plugin did.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/judge.h"

namespace r1::rewards {

// One sample to score: a prompt, the model's completion and what the verifiers need.
struct Sample {
  std::string prompt;
  std::string completion;                          // "<think>reasoning</think>summary"
  std::optional<std::string> answer;               // math: the reference answer
  std::optional<std::vector<sandbox::TestCase>> tests;  // code: the parsed test cases
  nlohmann::json tests_json;                       // code: the tests as written (null if absent)
  std::string language;                            // the CoT's target language ("en", "zh"); "" = none
  nlohmann::json extra = nlohmann::json::object(); // every other key of the input line (plugins see it)
};

// Parses one input object (keys: prompt, completion, answer, tests, language; anything else goes
// to `extra`). `answer` may be a string or a number; `tests` a list of test objects
// (sandbox::parse_test_case). Throws r1::Error "<where>: <key>: expected ..., found ..." for a
// non-object, a missing or mistyped prompt/completion, a mistyped key, or a bad test case.
Sample sample_from_json(const nlohmann::json& line, std::string_view where);
// The sample as plugins receive it: prompt, completion, answer (if any), tests (as written, if
// any), language (if any), then every `extra` key.
nlohmann::json sample_to_json(const Sample& sample);

// Why a sample is unscored. `reason` is a short category counted in metrics ("sandbox_error",
// "deadline", "plugin_crash", "plugin_timeout", "plugin_garbage", "plugin_nonfinite",
// "plugin_error", "no_reference", "bad_tests", "unknown_language"); `detail` is the human sentence.
struct Unscored {
  std::string reason;
  std::string detail;
};

struct [[nodiscard]] RewardResult {
  double value = 0.0;                               // meaningful only when scored
  nlohmann::json info = nlohmann::json::object();   // why this value (or why unscored)
  std::optional<Unscored> unscored;                 // set: the sample could not be scored

  bool scored() const { return !unscored.has_value(); }
  static RewardResult scored_value(double value, nlohmann::json info);
  // info gets "unscored": reason and "detail": detail added.
  static RewardResult make_unscored(std::string reason, std::string detail,
                                    nlohmann::json info = nlohmann::json::object());
};

class Reward {
 public:
  virtual ~Reward() = default;
  virtual std::string_view name() const = 0;
  // One result per sample, in order. May be called from several threads at once (rewards with a
  // single external resource, e.g. a plugin process, serialize their calls inside).
  virtual std::vector<RewardResult> score(std::span<const Sample> batch) = 0;
};

// Counters for metrics: per reward, the number of samples, the mean of the scored values and the
// number unscored by reason. Merge the stats of parallel chunks with merge().
class RewardStats {
 public:
  void add(std::string_view reward, const RewardResult& result);
  void merge(const RewardStats& other);
  // {"<reward>": {"num_samples": n, "num_scored": k, "mean": m|null, "unscored": {"<reason>": c}}}
  nlohmann::json to_json() const;
  // "accuracy 0.512 (3 unscored: deadline 3), format 0.981, ..." in insertion order.
  std::string summary() const;
  int64_t num_unscored(std::string_view reward) const;
  std::optional<double> mean(std::string_view reward) const;

 private:
  struct Entry {
    std::string reward;
    int64_t num_samples = 0;
    int64_t num_scored = 0;
    double sum = 0.0;
    std::vector<std::pair<std::string, int64_t>> unscored;  // by reason, first seen first
  };
  Entry& entry(std::string_view reward);
  std::vector<Entry> entries_;
};

}  // namespace r1::rewards
