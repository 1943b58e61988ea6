// Code point sets of the regex engine: properties as sets of property bytes, bracket classes,
// Oniguruma's case folding of classes, and the first-character supersets the compiler reasons with.
#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <map>

#include "core/tokenizer/internal/regex_program.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::regex_internal {

namespace tables = unicode::tables;

namespace {

// Property value (bits 0-4 category, kPropSpace, kPropWord) of a raw property byte and of ASCII.
unsigned value_of_raw(unsigned raw) { return raw - unsigned(tables::kPropBias); }

PropertySet property_where(const std::function<bool(unsigned value)>& pred) {
  PropertySet out;
  for (unsigned c = 0; c < 0x80; ++c)
    if (pred(value_of_raw(tables::prop_raw(c)))) out.ascii.set(c);
  for (unsigned raw = unsigned(tables::kPropBias); raw < 128; ++raw)
    if (pred(value_of_raw(raw))) out.props.set(raw);
  return out;
}

constexpr std::array<const char*, 30> kCategoryNames = {
    "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe",
    "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y));
         });
}

// Every case-insensitive class of two or more code points (kFoldPairs grouped by rep).
const std::vector<std::vector<char32_t>>& fold_groups() {
  static const std::vector<std::vector<char32_t>> groups = [] {
    std::map<char32_t, std::vector<char32_t>> by_rep;
    for (std::size_t i = 0; i < tables::kNumFoldPairs; ++i)
      by_rep[tables::kFoldPairs[i].rep].push_back(tables::kFoldPairs[i].cp);
    std::vector<std::vector<char32_t>> out;
    for (auto& [rep, members] : by_rep) {
      members.push_back(rep);
      out.push_back(std::move(members));
    }
    return out;
  }();
  return groups;
}

}  // namespace

bool category_property(std::string_view name, PropertySet* out) {
  uint32_t mask = 0;
  for (std::size_t k = 0; k < kCategoryNames.size(); ++k) {
    const std::string_view full = kCategoryNames[k];
    if (equal_ignoring_case(name, full) || equal_ignoring_case(name, full.substr(0, 1)))
      mask |= uint32_t(1) << k;
  }
  if (equal_ignoring_case(name, "LC")) mask = 0b111;  // cased letters: Lu Ll Lt
  if (mask == 0) return false;
  *out = property_where([mask](unsigned value) { return (mask >> (value & 31)) & 1; });
  return true;
}

PropertySet space_property() {
  return property_where([](unsigned value) { return (value & tables::kPropSpace) != 0; });
}

PropertySet word_property() {
  return property_where([](unsigned value) { return (value & tables::kPropWord) != 0; });
}

PropertySet digit_property() {
  PropertySet out;
  category_property("Nd", &out);
  return out;
}

PropertySet complement(const PropertySet& p) {
  PropertySet out;
  for (int k = 0; k < 2; ++k) {
    out.ascii.w[k] = ~p.ascii.w[k];
    out.props.w[k] = ~p.props.w[k];
  }
  return out;
}

void SetBuilder::add(char32_t lo, char32_t hi) {
  for (; lo <= hi && lo < 0x80; ++lo) ascii_.set(unsigned(lo));
  if (lo > hi) return;
  // Insert [lo, hi] and merge it with the ranges it touches.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                             [](const auto& r, char32_t key) { return r.second + 1 < key; });
  auto last = it;
  while (last != ranges_.end() && last->first <= hi + 1) {
    lo = std::min(lo, last->first);
    hi = std::max(hi, last->second);
    ++last;
  }
  it = ranges_.erase(it, last);
  ranges_.insert(it, {lo, hi});
}

void SetBuilder::add(const PropertySet& p) {
  ascii_ |= p.ascii;
  props_ |= p.props;
}

bool SetBuilder::contains(char32_t c) const {
  if (c < 0x80) return ascii_.test(unsigned(c));
  if (props_.test(tables::prop_raw(c))) return true;
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), c,
                             [](const auto& r, char32_t key) { return r.second < key; });
  return it != ranges_.end() && it->first <= c;
}

void SetBuilder::close_case() {
  // Groups are disjoint, so testing against the set as it was is Oniguruma's closure.
  std::vector<char32_t> additions;
  for (const std::vector<char32_t>& group : fold_groups()) {
    if (std::any_of(group.begin(), group.end(), [this](char32_t c) { return contains(c); }))
      additions.insert(additions.end(), group.begin(), group.end());
  }
  for (const char32_t c : additions) add(c, c);
}

char32_t SetBuilder::multi_fold_member() const {
  for (std::size_t i = 0; i < tables::kNumMultiFolds; ++i)
    if (contains(tables::kMultiFolds[i].cp)) return tables::kMultiFolds[i].cp;
  return 0;
}

CharSet SetBuilder::finish(bool negated) {
  CharSet out;
  out.ascii = ascii_;
  out.props = props_;
  out.ranges = ranges_;
  out.negated = negated;
  if (negated) {
    out.ascii.w[0] = ~out.ascii.w[0];
    out.ascii.w[1] = ~out.ascii.w[1];
  }
  return out;
}

FirstSet first_set_of(const CharSet& set) {
  FirstSet out;
  out.ascii = set.ascii;
  if (set.negated) {
    // Members are outside props and ranges: ~props is a superset.
    out.props.w[0] = ~set.props.w[0];
    out.props.w[1] = ~set.props.w[1];
    return out;
  }
  out.props = set.props;
  for (const auto& [lo, hi] : set.ranges)
    for (char32_t c = lo; c <= hi; ++c) out.props.set(tables::prop_raw(c));
  return out;
}

}  // namespace r1::tokenizer::regex_internal
