// Typed reads out of one JSON object of a Hugging Face file (config.json, generation_config.json),
// with r1::Error messages that name the file, the key path, what was expected and what was found:
//   /x/config.json: hidden_size: expected a positive integer, found "big"
// The reader remembers which keys it read; the rest are the object's extras, kept so the file can
// be written back with the keys r1kit does not model.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace r1::hf {

class FieldReader {
 public:
  // `object` must outlive the reader. `origin` names the file in messages; `prefix` is the key
  // path of `object` inside the file ("" at the top, "rope_scaling" for a nested object).
  // Throws r1::Error when `object` is not a JSON object.
  FieldReader(const nlohmann::json& object, std::string origin, std::string prefix = "");

  // The getters below return nullopt when the key is absent or null, mark the key as read, and
  // throw r1::Error when the value has the wrong type or is out of range.
  // Integers >= min ("a positive integer" for min 1).
  std::optional<int64_t> get_int(std::string_view key, int64_t min);
  // Numbers (integers accepted) > min (or >= min when min_inclusive), and <= max when given.
  std::optional<double> get_number(std::string_view key, double min, bool min_inclusive,
                                   std::optional<double> max = std::nullopt);
  std::optional<bool> get_bool(std::string_view key);
  // Non-empty strings; when `allowed` is not empty, one of them.
  std::optional<std::string> get_string(std::string_view key,
                                        std::span<const std::string_view> allowed = {});
  // A list of integers >= min; with `allow_scalar`, a lone integer reads as a one-element list.
  std::optional<std::vector<int64_t>> get_int_list(std::string_view key, int64_t min,
                                                   bool allow_scalar);
  std::optional<std::vector<std::string>> get_string_list(std::string_view key);
  // A nested object, or nullptr when absent or null.
  const nlohmann::json* get_object(std::string_view key);

  // Required forms: a missing (or null) key throws r1::Error naming it, and the nearest key the
  // object does have when one is a likely typo.
  int64_t require_int(std::string_view key, int64_t min);

  // True when the key is present with a null value (for nullable fields such as q_lora_rank).
  bool is_null(std::string_view key) const;
  bool has(std::string_view key) const;
  // Marks a key as read without reading it (a field derived or deliberately dropped).
  void consume(std::string_view key);

  // "<prefix>.<key>" or "<key>", as messages write it.
  std::string path(std::string_view key) const;
  // Throws r1::Error "<origin>: <path(key)>: expected <expected>, found <value>".
  [[noreturn]] void fail(std::string_view key, std::string_view expected,
                         const nlohmann::json& found) const;
  // Throws r1::Error "<origin>: <path(key)>: <message>" (cross-field invariants, missing keys).
  [[noreturn]] void fail_message(std::string_view key, std::string_view message) const;

  // The keys not read so far, with their values (an object, possibly empty).
  nlohmann::json extras() const;
  const std::string& origin() const { return origin_; }

 private:
  const nlohmann::json* find(std::string_view key);

  const nlohmann::json& object_;
  std::string origin_;
  std::string prefix_;
  std::vector<std::string> read_;
};

// Copies every key of `extras` that `out` does not already have into `out` (typed fields win).
void merge_extras(nlohmann::json& out, const nlohmann::json& extras);

}  // namespace r1::hf
