// The regex engine's internals: code point sets, the parse tree (regex_parse.cpp), the flat
// program it compiles to (regex_compile.cpp) and that regex_match.cpp runs by backtracking.
// Private to core/tokenizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tokenizer/internal/unicode_tables.h"

namespace r1::tokenizer::regex_internal {

// 128 bits indexed by a byte < 128: an ASCII code point or a raw property byte.
struct Bits128 {
  uint64_t w[2] = {0, 0};
  bool test(unsigned i) const { return (w[i >> 6] >> (i & 63)) & 1; }
  void set(unsigned i) { w[i >> 6] |= uint64_t(1) << (i & 63); }
  Bits128& operator|=(const Bits128& o) {
    w[0] |= o.w[0];
    w[1] |= o.w[1];
    return *this;
  }
  bool intersects(const Bits128& o) const { return (w[0] & o.w[0]) || (w[1] & o.w[1]); }
};

// A set of code points. ASCII by bitmap (negation applied); above ASCII, a code point c is in the
// set iff (props has prop_raw(c) or c is in `ranges`) != negated. Properties (categories, \s, \w
// and their negations) are sets of property bytes, so any union of them is one bit test.
struct CharSet {
  Bits128 ascii;
  uint8_t byte_in[256] = {};  // byte_in[b]: b < 0x80 and in the set (the matcher's hot loops)
  Bits128 props;
  std::vector<std::pair<char32_t, char32_t>> ranges;  // inclusive, sorted, disjoint, all >= 0x80
  bool negated = false;
  bool dot = false;  // made by '.' (Oniguruma's anychar, which its search optimizes specially)

  bool contains(char32_t c) const {
    if (c < 0x80) return ascii.test(unsigned(c));
    bool in = props.test(unicode::tables::prop_raw(c));
    for (std::size_t i = 0; !in && i < ranges.size() && ranges[i].first <= c; ++i)
      in = c <= ranges[i].second;
    return in != negated;
  }
};

// A superset of the code points a set or a program position can consume first: ASCII exactly,
// the rest by property byte. Two code point sets whose FirstSets do not intersect are disjoint.
struct FirstSet {
  Bits128 ascii;
  Bits128 props;
  bool contains(char32_t c) const {
    return c < 0x80 ? ascii.test(unsigned(c)) : props.test(unicode::tables::prop_raw(c));
  }
  bool intersects(const FirstSet& o) const {
    return ascii.intersects(o.ascii) || props.intersects(o.props);
  }
  FirstSet& operator|=(const FirstSet& o) {
    ascii |= o.ascii;
    props |= o.props;
    return *this;
  }
};
FirstSet first_set_of(const CharSet& set);

// A property (category union, \s, \w, \d or a negation): its ASCII members and property bytes.
struct PropertySet {
  Bits128 ascii;
  Bits128 props;
};
// \p{name} for the general categories (Lu ... Cn) and their groups (L M N P S Z C), names
// case-insensitive; false when `name` is none of them.
bool category_property(std::string_view name, PropertySet* out);
PropertySet space_property();  // \s
PropertySet word_property();   // \w
PropertySet digit_property();  // \d = \p{Nd}
PropertySet complement(const PropertySet& p);

// Accumulates the members of a bracket class (or a case-insensitive literal), then builds it.
class SetBuilder {
 public:
  void add(char32_t lo, char32_t hi);
  void add(const PropertySet& p);
  bool contains(char32_t c) const;
  // Adds every code point that (?i) matches against a member (Oniguruma's class case folding).
  void close_case();
  // A member whose full case folding has several code points (Oniguruma would also match that
  // sequence), or 0.
  char32_t multi_fold_member() const;
  CharSet finish(bool negated);

 private:
  Bits128 ascii_;
  Bits128 props_;
  std::vector<std::pair<char32_t, char32_t>> ranges_;  // >= 0x80, kept sorted and merged
};

// ---- Parse tree ----------------------------------------------------------------------------
enum class NodeKind : uint8_t {
  kEmpty,      // matches the empty string
  kChar,       // one code point `cp`, case-sensitive
  kSet,        // one code point of sets[set]
  kConcat,     // children in order
  kAlt,        // children, leftmost first
  kRepeat,     // children[0] between min and max (kInfinite) times, greedy
  kGroup,      // children[0]; a ( ) or (?flags: ) group, which only scopes the flags
  kLookahead,  // (?= children[0]) or, when negative, (?! children[0])
  kLineStart,  // ^
  kLineEnd,    // $
  kTextStart,  // \A
  kTextEnd,    // \z
};
inline constexpr uint32_t kInfinite = ~uint32_t(0);

struct Node {
  NodeKind kind = NodeKind::kEmpty;
  bool negative = false;  // kLookahead
  bool fold = false;      // kChar/kSet: a literal under (?i), `cp` as written
  bool bag = false;       // kGroup: capturing or with flags (Oniguruma keeps it as a node)
  char32_t cp = 0;        // kChar, or the literal of a fold kSet
  uint32_t set = 0;       // kSet
  uint32_t min = 0, max = 0;  // kRepeat
  std::size_t offset = 0;     // byte offset in the pattern, for error messages
  std::vector<uint32_t> children;
};

struct Tree {
  std::vector<Node> nodes;  // nodes[root] is the whole pattern
  uint32_t root = 0;
  std::vector<CharSet> sets;
};

// Parses `pattern`; throws r1::Error "regex <pattern>: at offset N: <what>" outside the subset.
Tree parse(std::string_view pattern);
// The message prefix "regex <pattern>: at offset N: " (control characters escaped).
std::string error_prefix(std::string_view pattern, std::size_t offset);
// The pattern as messages show it: control characters as \xHH.
std::string shown_pattern(std::string_view pattern);

// ---- Program -------------------------------------------------------------------------------
enum class Op : uint8_t {
  kMatch,       // success: the match ends here
  kLookEnd,     // success of a lookahead body
  kString,      // the UTF-8 bytes strings[arg]
  kSet,         // one code point of sets[arg]
  kLoop,        // greedy run of sets[arg], min..max times, then x; possessive: never gives back
  kSplit,       // try pc + 1, then x
  kJump,        // go to x
  kAlt,         // try alts[arg].pcs in order (at most 64), skipping those whose first set rules out
  kEmptyStart,  // slots[arg] = position (Oniguruma's empty check of a loop that may match empty)
  kEmptyEnd,    // position == slots[arg]: leave the loop (go to x); else go on to pc + 1
  kLookahead,   // run the body at pc + 1 (ends in kLookEnd) without consuming; then go to x
  kLineStart,
  kLineEnd,
  kTextStart,
  kTextEnd,
};

struct Inst {
  Op op = Op::kMatch;
  bool flag = false;  // kLoop: possessive; kLookahead: negative
  uint32_t arg = 0;
  uint32_t x = 0;
  uint32_t min = 0, max = 0;  // kLoop
  uint32_t offset = 0;        // kLoop: the repeat's offset in the pattern, for error messages
};

struct AltTable {
  std::vector<uint32_t> pcs;
  std::vector<FirstSet> firsts;
  std::vector<uint8_t> nullable;  // the alternative may succeed without consuming
  // Bit i set when alternative i may start with that ASCII code point, with a code point of that
  // raw property byte, or at the end of the text. Tables have at most 64 alternatives.
  uint64_t ascii_mask[128] = {};
  uint64_t props_mask[128] = {};
  uint64_t end_mask = 0;
};

struct Program {
  std::string pattern;
  std::vector<Inst> insts;
  std::vector<CharSet> sets;
  std::vector<std::string> strings;
  std::vector<AltTable> alts;
  uint32_t num_slots = 0;
  FirstSet start;               // code points a match can begin with
  bool start_nullable = false;  // a match may be empty: every position is a candidate
};

// Compiles a parse tree; throws r1::Error (with the pattern and offset) for constructs whose
// Oniguruma semantics the engine does not reproduce.
Program compile(std::string_view pattern, Tree tree);

}  // namespace r1::tokenizer::regex_internal
