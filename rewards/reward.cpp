// Samples from input lines, result helpers and the metric counters of rewards/reward.h.
#include "rewards/reward.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace r1::rewards {

namespace {

using nlohmann::json;

std::string type_of(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a bool";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "a list";
    case json::value_t::object: return "an object";
    default: return "a number";
  }
}

const std::string& required_string(const json& line, const char* key, std::string_view where) {
  const auto it = line.find(key);
  if (it == line.end()) throw Error(str_cat(where, ": ", key, ": missing required key"));
  if (!it->is_string()) throw Error(str_cat(where, ": ", key, ": expected a string, found ", type_of(*it)));
  return it->get_ref<const std::string&>();
}

// A number reference is kept as JSON wrote it ("0.5", "42"), so equivalence sees its digits.
std::string answer_text(const json& value, std::string_view where) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return value.dump();
  throw Error(str_cat(where, ": answer: expected a string or a number, found ", type_of(value)));
}

std::vector<sandbox::TestCase> parse_tests(const json& value, std::string_view where) {
  if (!value.is_array()) throw Error(str_cat(where, ": tests: expected a list of test objects, found ", type_of(value)));
  if (value.empty()) throw Error(str_cat(where, ": tests: expected at least one test, found an empty list"));
  std::vector<sandbox::TestCase> tests;
  tests.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i)
    tests.push_back(sandbox::parse_test_case(value[i], str_cat(where, ": tests[", i, "]")));
  return tests;
}

}  // namespace

Sample sample_from_json(const json& line, std::string_view where) {
  if (!line.is_object()) throw Error(str_cat(where, ": expected a JSON object, found ", type_of(line)));
  Sample sample;
  sample.prompt = required_string(line, "prompt", where);
  sample.completion = required_string(line, "completion", where);
  for (const auto& [key, value] : line.items()) {
    if (key == "prompt" || key == "completion") continue;
    if (key == "answer") {
      if (!value.is_null()) sample.answer = answer_text(value, where);
    } else if (key == "tests") {
      if (!value.is_null()) {
        sample.tests = parse_tests(value, where);
        sample.tests_json = value;
      }
    } else if (key == "language") {
      if (!value.is_string() && !value.is_null())
        throw Error(str_cat(where, ": language: expected a string such as \"en\" or \"zh\", found ", type_of(value)));
      if (value.is_string()) sample.language = value.get<std::string>();
    } else {
      if (key == "code_language") {
        if (!value.is_string())
          throw Error(str_cat(where, ": code_language: expected \"python\" or \"cpp\", found ", type_of(value)));
        sandbox::parse_language(value.get<std::string>(), str_cat(where, ": code_language"));
      }
      sample.extra[key] = value;
    }
  }
  if (sample.answer && sample.tests)
    throw Error(str_cat(where, ": expected one of `answer` (math) or `tests` (code), found both"));
  // Function-call tests run in the Python harness only (sandbox/judge.h); say so per line here
  // rather than letting one such sample fail a whole judged batch.
  const auto language = sample.extra.find("code_language");
  if (sample.tests && language != sample.extra.end() &&
      sandbox::parse_language(language->get<std::string>(), "code_language") == sandbox::Language::cpp)
    for (size_t i = 0; i < sample.tests->size(); ++i)
      if ((*sample.tests)[i].kind != sandbox::TestCase::Kind::stdio)
        throw Error(str_cat(where, ": tests[", i, "]: expected a stdin/stdout test for code_language "
                                   "\"cpp\", found an assert/check test (Python only)"));
  return sample;
}

json sample_to_json(const Sample& sample) {
  json out = {{"prompt", sample.prompt}, {"completion", sample.completion}};
  if (sample.answer) out["answer"] = *sample.answer;
  if (sample.tests) out["tests"] = sample.tests_json;
  if (!sample.language.empty()) out["language"] = sample.language;
  for (const auto& [key, value] : sample.extra.items()) out[key] = value;
  return out;
}

RewardResult RewardResult::scored_value(double value, json info) {
  R1_CHECK(std::isfinite(value), "a built-in reward produced ", value);
  RewardResult result;
  result.value = value;
  result.info = std::move(info);
  return result;
}

RewardResult RewardResult::make_unscored(std::string reason, std::string detail, json info) {
  RewardResult result;
  result.value = 0.0;
  result.info = std::move(info);
  result.info["unscored"] = reason;
  result.info["detail"] = detail;
  result.unscored = Unscored{std::move(reason), std::move(detail)};
  return result;
}

RewardStats::Entry& RewardStats::entry(std::string_view reward) {
  for (Entry& e : entries_)
    if (e.reward == reward) return e;
  entries_.push_back(Entry{std::string(reward)});
  return entries_.back();
}

void RewardStats::add(std::string_view reward, const RewardResult& result) {
  Entry& e = entry(reward);
  ++e.num_samples;
  if (result.scored()) {
    ++e.num_scored;
    e.sum += result.value;
    return;
  }
  for (auto& [reason, count] : e.unscored) {
    if (reason == result.unscored->reason) {
      ++count;
      return;
    }
  }
  e.unscored.emplace_back(result.unscored->reason, 1);
}

void RewardStats::merge(const RewardStats& other) {
  for (const Entry& o : other.entries_) {
    Entry& e = entry(o.reward);
    e.num_samples += o.num_samples;
    e.num_scored += o.num_scored;
    e.sum += o.sum;
    for (const auto& [reason, count] : o.unscored) {
      bool found = false;
      for (auto& [r, c] : e.unscored) {
        if (r == reason) {
          c += count;
          found = true;
        }
      }
      if (!found) e.unscored.emplace_back(reason, count);
    }
  }
}

json RewardStats::to_json() const {
  json out = json::object();
  for (const Entry& e : entries_) {
    json unscored = json::object();
    for (const auto& [reason, count] : e.unscored) unscored[reason] = count;
    out[e.reward] = {{"num_samples", e.num_samples},
                     {"num_scored", e.num_scored},
                     {"mean", e.num_scored > 0 ? json(e.sum / double(e.num_scored)) : json(nullptr)},
                     {"unscored", unscored}};
  }
  return out;
}

std::string RewardStats::summary() const {
  std::string out;
  for (const Entry& e : entries_) {
    if (!out.empty()) out += ", ";
    char mean[32] = "n/a";
    if (e.num_scored > 0) std::snprintf(mean, sizeof mean, "%.4f", e.sum / double(e.num_scored));
    out += str_cat(e.reward, " ", mean);
    if (e.unscored.empty()) continue;
    out += str_cat(" (", e.num_samples - e.num_scored, " unscored:");
    for (const auto& [reason, count] : e.unscored) out += str_cat(" ", reason, " ", count);
    out += ")";
  }
  return out;
}

int64_t RewardStats::num_unscored(std::string_view reward) const {
  for (const Entry& e : entries_)
    if (e.reward == reward) return e.num_samples - e.num_scored;
  return 0;
}

std::optional<double> RewardStats::mean(std::string_view reward) const {
  for (const Entry& e : entries_)
    if (e.reward == reward && e.num_scored > 0) return e.sum / double(e.num_scored);
  return std::nullopt;
}

}  // namespace r1::rewards
