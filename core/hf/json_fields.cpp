#include "core/hf/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/hf/strict_json.h"
#include "core/strings.h"

namespace r1::hf {
namespace {

using nlohmann::json;

// A value as messages quote it: compact JSON, cut short so one line stays readable.
std::string quote(const json& value) { return json_excerpt(value, 60); }

std::string int_expectation(int64_t min) {
  if (min == 1) return "a positive integer";
  if (min == 0) return "a non-negative integer";
  return str_cat("an integer >= ", min);
}

bool is_int(const json& value) { return value.is_number_integer(); }

}  // namespace

FieldReader::FieldReader(const json& object, std::string origin, std::string prefix)
    : object_(object), origin_(std::move(origin)), prefix_(std::move(prefix)) {
  if (!object_.is_object()) {
    throw Error(str_cat(origin_, ": ", prefix_.empty() ? "top level" : prefix_,
                        ": expected a JSON object, found ", quote(object_)));
  }
}

std::string FieldReader::path(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : str_cat(prefix_, ".", key);
}

void FieldReader::fail(std::string_view key, std::string_view expected, const json& found) const {
  throw Error(str_cat(origin_, ": ", path(key), ": expected ", expected, ", found ", quote(found)));
}

void FieldReader::fail_message(std::string_view key, std::string_view message) const {
  throw Error(str_cat(origin_, ": ", path(key), ": ", message));
}

bool FieldReader::has(std::string_view key) const { return object_.contains(key); }

bool FieldReader::is_null(std::string_view key) const {
  const auto it = object_.find(key);
  return it != object_.end() && it->is_null();
}

void FieldReader::consume(std::string_view key) {
  if (std::find(read_.begin(), read_.end(), key) == read_.end()) read_.emplace_back(key);
}

const json* FieldReader::find(std::string_view key) {
  consume(key);
  const auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<int64_t> FieldReader::get_int(std::string_view key, int64_t min) {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  // Unsigned values above int64 max are out of range, not a wrap-around.
  if (!is_int(*value) || (value->is_number_unsigned() &&
                          value->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())))
    fail(key, int_expectation(min), *value);
  const int64_t result = value->get<int64_t>();
  if (result < min) fail(key, int_expectation(min), *value);
  return result;
}

std::optional<double> FieldReader::get_number(std::string_view key, double min, bool min_inclusive,
                                              std::optional<double> max) {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  const std::string expected =
      max ? str_cat("a number in ", min_inclusive ? "[" : "(", min, ", ", *max, "]")
          : str_cat("a number ", min_inclusive ? ">= " : "> ", min);
  if (!value->is_number()) fail(key, expected, *value);
  const double result = value->get<double>();
  const bool above_min = min_inclusive ? result >= min : result > min;
  if (!std::isfinite(result) || !above_min || (max && result > *max)) fail(key, expected, *value);
  return result;
}

std::optional<bool> FieldReader::get_bool(std::string_view key) {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) fail(key, "true or false", *value);
  return value->get<bool>();
}

std::optional<std::string> FieldReader::get_string(std::string_view key,
                                                   std::span<const std::string_view> allowed) {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  std::string expected = "a non-empty string";
  if (!allowed.empty()) {
    expected = "one of";
    for (std::size_t i = 0; i < allowed.size(); ++i)
      expected += str_cat(i == 0 ? " \"" : ", \"", allowed[i], "\"");
  }
  if (!value->is_string() || value->get_ref<const std::string&>().empty())
    fail(key, expected, *value);
  std::string result = value->get<std::string>();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), result) == allowed.end())
    fail(key, expected, *value);
  return result;
}

std::optional<std::vector<int64_t>> FieldReader::get_int_list(std::string_view key, int64_t min,
                                                              bool allow_scalar) {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  const std::string expected = allow_scalar ? int_expectation(min) + " or a list of them"
                                            : str_cat("a list of integers >= ", min);
  if (allow_scalar && is_int(*value)) {
    if (value->get<int64_t>() < min) fail(key, expected, *value);
    return std::vector<int64_t>{value->get<int64_t>()};
  }
  if (!value->is_array()) fail(key, expected, *value);
  std::vector<int64_t> result;
  for (const json& item : *value) {
    if (!is_int(item) || item.get<int64_t>() < min) fail(key, expected, *value);
    result.push_back(item.get<int64_t>());
  }
  return result;
}

std::optional<std::vector<std::string>> FieldReader::get_string_list(std::string_view key) {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_array()) fail(key, "a list of strings", *value);
  std::vector<std::string> result;
  for (const json& item : *value) {
    if (!item.is_string()) fail(key, "a list of strings", *value);
    result.push_back(item.get<std::string>());
  }
  return result;
}

const json* FieldReader::get_object(std::string_view key) {
  const json* value = find(key);
  if (value != nullptr && !value->is_object()) fail(key, "a JSON object", *value);
  return value;
}

int64_t FieldReader::require_int(std::string_view key, int64_t min) {
  if (std::optional<int64_t> value = get_int(key, min)) return *value;
  if (is_null(key)) fail(key, int_expectation(min), nullptr);
  // Point at a likely typo among the keys the file does have.
  std::vector<std::string> names;
  for (const auto& [name, unused] : object_.items()) names.push_back(name);
  const std::string nearest = core::nearest(key, names).value_or("");
  fail_message(key, str_cat("missing required key (expected ", int_expectation(min), ")",
                            nearest.empty() ? "" : str_cat("; the file has \"", nearest, "\"")));
}

json FieldReader::extras() const {
  json out = json::object();
  for (const auto& [name, value] : object_.items()) {
    if (std::find(read_.begin(), read_.end(), name) == read_.end()) out[name] = value;
  }
  return out;
}

void merge_extras(json& out, const json& extras) {
  for (const auto& [name, value] : extras.items()) {
    if (!out.contains(name)) out[name] = value;
  }
}

}  // namespace r1::hf
