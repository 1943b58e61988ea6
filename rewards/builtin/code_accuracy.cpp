// Code accuracy through the sandbox (rewards/builtin/code_accuracy.h).
#include "rewards/builtin/code_accuracy.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace r1::rewards {

namespace {

bool names_language(std::string_view tag, sandbox::Language language) {
  if (language == sandbox::Language::python) return tag == "python" || tag == "py" || tag == "python3";
  return tag == "cpp" || tag == "c++" || tag == "cc" || tag == "cxx";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

sandbox::Language declared_language(const Sample& sample, const CodeAccuracyConfig& config) {
  const auto it = sample.extra.find("code_language");
  const std::string& name = it != sample.extra.end() && it->is_string() ? it->get_ref<const std::string&>() : config.language;
  return sandbox::parse_language(name, "code_language");  // validated by sample_from_json
}

}  // namespace

std::optional<std::string> last_code_block(std::string_view summary, sandbox::Language language,
                                           bool accept_untagged) {
  std::optional<std::string> found;
  size_t line_start = 0;
  while (line_start < summary.size()) {
    size_t line_end = summary.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = summary.size();
    const std::string_view line = trim(summary.substr(line_start, line_end - line_start));
    line_start = line_end + 1;
    if (line.size() < 3 || (line.substr(0, 3) != "```" && line.substr(0, 3) != "~~~")) continue;
    const std::string_view fence = line.substr(0, 3);
    const std::string_view tag = trim(line.substr(3));
    // The block runs to the next line that is only a fence of the same kind.
    size_t body_end = line_start, close_end = std::string_view::npos;
    for (size_t at = line_start; at < summary.size();) {
      size_t end = summary.find('\n', at);
      if (end == std::string_view::npos) end = summary.size();
      const std::string_view candidate = trim(summary.substr(at, end - at));
      if (candidate.substr(0, 3) == fence && trim(candidate.substr(3)).empty()) {
        body_end = at;
        close_end = end;
        break;
      }
      at = end + 1;
    }
    if (close_end == std::string_view::npos) break;  // unclosed: not a block
    const bool matches = tag.empty() ? accept_untagged : names_language(tag, language);
    if (matches) found = std::string(summary.substr(line_start, body_end - line_start));
    line_start = close_end + 1;
  }
  return found;
}

CodeJudge::CodeJudge(CodeAccuracyConfig config) : config_(std::move(config)) {}
CodeJudge::~CodeJudge() = default;

sandbox::Sandbox* CodeJudge::sandbox(std::string& error) {
  std::lock_guard lock(mutex_);
  if (!sandbox_ && start_error_.empty()) {
    sandbox::SandboxConfig sc;
    sc.num_workers = config_.num_workers;
    sc.python = config_.python;
    try {
      sandbox_ = std::make_unique<sandbox::Sandbox>(sc);
    } catch (const Error& e) {
      // A host without the isolation primitives: every code sample is unscored, never run unconfined.
      start_error_ = e.what();
      log::error("accuracy: the sandbox cannot start, code samples stay unscored: ", start_error_);
    }
  }
  error = start_error_;
  return sandbox_.get();
}

std::vector<RewardResult> CodeJudge::score(std::span<const Sample* const> samples) {
  std::vector<RewardResult> out(samples.size());
  std::vector<sandbox::JudgeRequest> requests;
  std::vector<size_t> judged;  // index in `samples` of each request
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = *samples[i];
    R1_CHECK(s.tests.has_value(), "code accuracy needs tests");
    const sandbox::Language language = declared_language(s, config_);
    if (language != sandbox::Language::python &&
        std::any_of(s.tests->begin(), s.tests->end(), [](const sandbox::TestCase& t) {
          return t.kind != sandbox::TestCase::Kind::stdio;
        })) {
      // Only when the configured default language is C++: an explicit code_language was checked
      // when the sample was read. Bad test data, not the model's fault: unscored, not 0.
      out[i] = RewardResult::make_unscored(
          "bad_tests", "assert/check tests need Python; this sample is judged as C++");
      continue;
    }
    std::optional<std::string> code =
        last_code_block(summary_of(s.completion, config_.tags), language, config_.accept_untagged);
    if (!code) {
      out[i] = RewardResult::scored_value(0.0, {{"failed", "no_code_block"},
                                                {"detail", str_cat("no complete ```", sandbox::language_name(language),
                                                                   " block in the summary")}});
      continue;
    }
    sandbox::JudgeRequest request;
    request.language = language;
    request.source = std::move(*code);
    request.tests = *s.tests;
    request.limits.cpu_time = config_.cpu_time;
    request.limits.wall_time = config_.wall_time;
    request.limits.memory_mb = config_.memory_mb;
    request.stop_at_first_failure = config_.stop_at_first_failure;
    requests.push_back(std::move(request));
    judged.push_back(i);
  }
  if (requests.empty()) return out;
  std::string error;
  sandbox::Sandbox* box = sandbox(error);
  if (box == nullptr) {
    for (size_t i : judged) out[i] = RewardResult::make_unscored("sandbox_error", error);
    return out;
  }
  const std::vector<sandbox::JudgeResult> results = sandbox::judge_batch(*box, requests);
  for (size_t k = 0; k < judged.size(); ++k) {
    const sandbox::JudgeResult& r = results[k];
    nlohmann::json info = {{"verdict", sandbox::verdict_name(r.verdict)}, {"passed", r.passed}, {"total", r.total},
                           {"pass_fraction", r.total > 0 ? double(r.passed) / double(r.total) : 0.0}};
    if (!r.detail.empty()) info["detail"] = r.detail;
    if (!r.scored()) {
      out[judged[k]] = RewardResult::make_unscored("sandbox_error", r.detail, std::move(info));
      continue;
    }
    const bool all = r.verdict == sandbox::Verdict::ok && r.passed == r.total;
    const double value = config_.partial_credit ? info["pass_fraction"].get<double>() : (all ? 1.0 : 0.0);
    out[judged[k]] = RewardResult::scored_value(value, std::move(info));
  }
  return out;
}

}  // namespace r1::rewards
