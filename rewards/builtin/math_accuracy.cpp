// Math accuracy: the final answer of the summary against the reference, through
// rewards/math/answer.h (extraction and equivalence are engineer M's; this file only wraps them
// into a reward with its info and the unscored deadline case).
#include "core/error.h"
#include "rewards/builtin/builtin.h"
#include "rewards/math/answer.h"

namespace r1::rewards {

RewardResult score_math(const Sample& sample, const MathAccuracyConfig& config) {
  R1_CHECK(sample.answer.has_value(), "math accuracy needs a reference answer");
  const std::string_view summary = summary_of(sample.completion, config.tags);
  math::ExtractConfig extract;
  extract.answer_pattern = config.answer_pattern;
  extract.last_number_fallback = config.last_number_fallback;
  const std::optional<math::Extraction> found = math::extract_answer(summary, extract);
  if (!found) {
    return RewardResult::scored_value(
        0.0, {{"failed", "no_answer"}, {"detail", "no \\boxed{} answer, pattern match or number in the summary"}});
  }
  math::EquivalenceConfig equivalence;
  equivalence.deadline_ms = config.deadline_ms;
  equivalence.rel_tolerance = config.rel_tolerance;
  const math::Decision d = math::decide(found->text, *sample.answer, equivalence);
  nlohmann::json info = {{"extracted", found->text},
                         {"extraction", found->rule},
                         {"decision", math::outcome_name(d.outcome)},
                         {"rule", d.rule},
                         {"answer_normal", d.answer_normal},
                         {"reference_normal", d.reference_normal}};
  if (!d.detail.empty()) info["detail"] = d.detail;
  switch (d.outcome) {
    case math::Outcome::equivalent: return RewardResult::scored_value(1.0, std::move(info));
    case math::Outcome::different: return RewardResult::scored_value(0.0, std::move(info));
    case math::Outcome::deadline:
      return RewardResult::make_unscored("deadline", str_cat("equivalence not decided within ", config.deadline_ms, " ms"),
                                         std::move(info));
  }
  R1_CHECK(false, "unknown outcome");
  return {};
}

}  // namespace r1::rewards
