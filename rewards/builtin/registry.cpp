// The built-in rewards as Reward objects, and the registry that builds them by name.
#include <memory>

#include "core/error.h"
#include "core/recipe/bind.h"
#include "rewards/math/answer.h"
#include "rewards/builtin/builtin.h"
#include "rewards/builtin/code_accuracy.h"
#include "rewards/registry.h"

namespace r1::rewards {

namespace {

struct AccuracyConfig {
  MathAccuracyConfig math;
  CodeAccuracyConfig code;
  template <typename V>
  void visit(V& v) {
    v.field("math", math, "math samples (those with an `answer`)");
    v.field("code", code, "code samples (those with `tests`)");
  }
};

class FormatReward final : public Reward {
 public:
  explicit FormatReward(FormatConfig config) : config_(std::move(config)) {}
  std::string_view name() const override { return "format"; }
  std::vector<RewardResult> score(std::span<const Sample> batch) override {
    std::vector<RewardResult> out;
    out.reserve(batch.size());
    for (const Sample& s : batch) out.push_back(score_format(s.completion, config_));
    return out;
  }

 private:
  FormatConfig config_;
};

class LanguageReward final : public Reward {
 public:
  explicit LanguageReward(LanguageConfig config) : config_(std::move(config)) {}
  std::string_view name() const override { return "language"; }
  std::vector<RewardResult> score(std::span<const Sample> batch) override {
    std::vector<RewardResult> out;
    out.reserve(batch.size());
    for (const Sample& s : batch) out.push_back(score_language(s, config_));
    return out;
  }

 private:
  LanguageConfig config_;
};

// A sample with `answer` takes the math path, one with `tests` the code path (sample_from_json
// refuses both); one with neither is unscored: there is nothing to check it against. A countdown
// sample (extra task == "countdown", core/data/tasks.h) takes the countdown path whatever it has.
class AccuracyReward final : public Reward {
 public:
  explicit AccuracyReward(const AccuracyConfig& config) : math_(config.math), code_(config.code) {}
  std::string_view name() const override { return "accuracy"; }
  std::vector<RewardResult> score(std::span<const Sample> batch) override {
    std::vector<RewardResult> out(batch.size());
    std::vector<const Sample*> code_samples;
    std::vector<size_t> code_idx;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].extra.is_object() && batch[i].extra.value("task", nlohmann::json()) == "countdown") {
        out[i] = score_countdown(batch[i], math_);  // the value alone is not the answer
      } else if (batch[i].answer) {
        out[i] = score_math(batch[i], math_);
      } else if (batch[i].tests) {
        code_samples.push_back(&batch[i]);
        code_idx.push_back(i);
      } else {
        out[i] = RewardResult::make_unscored("no_reference", "the sample has neither `answer` (math) nor `tests` (code)");
      }
    }
    if (!code_samples.empty()) {
      std::vector<RewardResult> judged = code_.score(code_samples);
      for (size_t k = 0; k < code_idx.size(); ++k) out[code_idx[k]] = std::move(judged[k]);
    }
    return out;
  }

 private:
  MathAccuracyConfig math_;
  CodeJudge code_;
};

// "<recipe mark>: <key_path>.<a>.<b>" for the option `a.b` (the mark where the recipe has one).
std::string option_place(const recipe::Node& options, const std::string& key_path, std::string_view a,
                         std::string_view b = {}) {
  const recipe::Node* node = options.is_map() ? options.find(a) : nullptr;
  if (node != nullptr && !b.empty()) node = node->is_map() ? node->find(b) : nullptr;
  const std::string path = str_cat(key_path, ".", a, b.empty() ? "" : ".", b);
  const std::string mark = node != nullptr ? node->mark().str() : "";
  return mark.empty() ? path : str_cat(mark, ": ", path);
}

}  // namespace

Registry builtin_registry() {
  Registry registry;
  registry.add("accuracy", "1 when the final answer (math) or the program (code) is right",
               [](const recipe::Node& options, const std::string& key_path) -> std::unique_ptr<Reward> {
                 const auto config = recipe::bind<AccuracyConfig>(options, key_path);
                 // Checked here, once, rather than when the first unboxed summary needs it.
                 math::check_answer_pattern(config.math.answer_pattern,
                                            option_place(options, key_path, "math", "answer_pattern"));
                 return std::make_unique<AccuracyReward>(config);
               });
  registry.add("format", "1 when the completion is <think>...</think> then a non-empty summary",
               [](const recipe::Node& options, const std::string& key_path) -> std::unique_ptr<Reward> {
                 return std::make_unique<FormatReward>(recipe::bind<FormatConfig>(options, key_path));
               });
  registry.add("language", "share of the chain of thought's words in the target language",
               [](const recipe::Node& options, const std::string& key_path) -> std::unique_ptr<Reward> {
                 const auto config = recipe::bind<LanguageConfig>(options, key_path);
                 if (!config.target.empty() && !known_language(config.target))
                   throw Error(str_cat(option_place(options, key_path, "target"),
                                       ": expected a language code such as \"en\" or \"zh\", found \"",
                                       config.target, "\""));
                 return std::make_unique<LanguageReward>(config);
               });
  return registry;
}

}  // namespace r1::rewards
