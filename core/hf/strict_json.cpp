#include "core/hf/strict_json.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/hf/safetensors.h"

namespace r1::hf {
namespace {

using nlohmann::json;

// nlohmann quotes the last token read, which in a damaged file can be most of it.
constexpr std::size_t kMaxReason = 240;

// nlohmann's SAX interface, building the same DOM as json::parse but refusing a key that appears
// twice in one object, and reporting errors as text instead of exceptions.
class StrictJsonBuilder {
 public:
  explicit StrictJsonBuilder(json& root) : root_(root) {}

  bool null() { return add(json(nullptr)) != nullptr; }
  bool boolean(bool v) { return add(json(v)) != nullptr; }
  bool number_integer(json::number_integer_t v) { return add(json(v)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t v) { return add(json(v)) != nullptr; }
  bool number_float(json::number_float_t v, const json::string_t&) { return add(json(v)) != nullptr; }
  bool string(json::string_t& v) { return add(json(std::move(v))) != nullptr; }
  bool binary(json::binary_t&) { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) {
    open_.push_back(add(json::object()));
    keys_.emplace_back();
    return true;
  }
  bool key(json::string_t& k) {
    if (!keys_.back().insert(k).second) return fail(str_cat("key ", quoted(k), " appears twice"));
    key_ = k;
    return true;
  }
  bool end_object() {
    open_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    open_.push_back(add(json::array()));
    keys_.emplace_back();  // unused for arrays; keeps keys_ parallel to open_
    return true;
  }
  bool end_array() { return end_object(); }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the file name says enough.
    std::string what = e.what();
    const std::size_t bracket = what.find("] ");
    if (bracket != std::string::npos) what.erase(0, bracket + 2);
    if (what.size() > kMaxReason) what = what.substr(0, kMaxReason) + "...";
    return fail(str_cat(what, " (byte ", position, ")"));
  }

  const std::string& error() const { return error_; }

 private:
  // Inserts `value` where the parser is and returns its address (stable: map nodes never move,
  // and an array is not appended to while one of its elements is open).
  json* add(json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  json& root_;
  std::vector<json*> open_;
  std::vector<std::set<std::string>> keys_;
  std::string key_;
  std::string error_;
};

}  // namespace

json parse_json(std::string_view text, std::string_view what) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string reason = e.what();
    const std::size_t bracket = reason.find("] ");
    if (bracket != std::string::npos) reason.erase(0, bracket + 2);
    if (reason.size() > kMaxReason) reason = reason.substr(0, kMaxReason) + "...";
    throw Error(str_cat(what, " is not valid JSON: ", reason, " (byte ", e.byte, ")"));
  }
}

json parse_json_strict(std::string_view text, std::string_view what) {
  json root;
  StrictJsonBuilder builder(root);
  if (!json::sax_parse(text.begin(), text.end(), &builder) || !builder.error().empty()) {
    throw Error(str_cat(what, " is not valid JSON: ", builder.error()));
  }
  return root;
}

std::string json_excerpt(const json& value, std::size_t max_chars) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > max_chars) text = text.substr(0, max_chars) + "...";
  return text;
}

}  // namespace r1::hf
