// Parser of the regex subset (core/tokenizer/regex.h) into a parse tree, with Oniguruma's
// syntax (ONIG_SYNTAX_ONIGURUMA, the `onig` crate's default): what it accepts means what
// Oniguruma means by it, and anything else is an r1::Error naming the pattern and the offset.
#include <algorithm>

#include "core/error.h"
#include "core/tokenizer/internal/regex_program.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::regex_internal {

std::string shown_pattern(std::string_view pattern) {
  std::string shown;
  for (const char ch : pattern) {
    if (uint8_t(ch) < 0x20 || ch == 0x7F) {
      shown += str_cat("\\x", "0123456789ABCDEF"[uint8_t(ch) >> 4], "0123456789ABCDEF"[ch & 15]);
    } else {
      shown += ch;
    }
  }
  return shown;
}

std::string error_prefix(std::string_view pattern, std::size_t offset) {
  return str_cat("regex ", shown_pattern(pattern), ": at offset ", offset, ": ");
}

namespace {

// Oniguruma's ONIG_MAX_REPEAT_NUM.
constexpr uint32_t kMaxRepeat = 100000;

// What an escape sequence denotes.
struct Escape {
  enum class Kind { kCodePoint, kProperty, kAssertion } kind = Kind::kCodePoint;
  char32_t cp = 0;
  PropertySet property;
  NodeKind assertion = NodeKind::kEmpty;
  char letter = 0;  // the escape letter (\w and \W differ outside brackets)
};

class Parser {
 public:
  explicit Parser(std::string_view pattern) : p_(pattern) {}

  Tree run() {
    const std::size_t bad = unicode::find_invalid_utf8(p_);
    if (bad != std::string_view::npos) fail(bad, "expected valid UTF-8");
    tree_.root = parse_alternation(false);
    if (i_ < p_.size()) fail(i_, "unmatched ')'");
    return std::move(tree_);
  }

 private:
  [[noreturn]] void fail(std::size_t offset, std::string_view what) const {
    throw Error(error_prefix(p_, offset) + std::string(what));
  }

  bool at_end() const { return i_ >= p_.size(); }
  char peek(std::size_t ahead = 0) const { return i_ + ahead < p_.size() ? p_[i_ + ahead] : '\0'; }
  bool accept(std::string_view s) {
    if (p_.substr(i_, s.size()) != s) return false;
    i_ += s.size();
    return true;
  }
  char32_t next_code_point() {
    std::size_t len = 0;
    const char32_t c = unicode::decode_utf8(p_, i_, &len);
    i_ += len;
    return c;
  }

  uint32_t add(Node node) {
    tree_.nodes.push_back(std::move(node));
    return uint32_t(tree_.nodes.size() - 1);
  }
  uint32_t add_set(CharSet set, std::size_t offset) {
    tree_.sets.push_back(std::move(set));
    Node node{.kind = NodeKind::kSet, .set = uint32_t(tree_.sets.size() - 1), .offset = offset};
    return add(std::move(node));
  }

  uint32_t parse_alternation(bool fold) {
    const std::size_t start = i_;
    std::vector<uint32_t> alternatives{parse_sequence(fold)};
    while (accept("|")) alternatives.push_back(parse_sequence(fold));
    if (alternatives.size() == 1) return alternatives[0];
    return add(Node{.kind = NodeKind::kAlt, .offset = start, .children = std::move(alternatives)});
  }

  uint32_t parse_sequence(bool fold) {
    const std::size_t start = i_;
    std::vector<uint32_t> items;
    while (!at_end() && peek() != '|' && peek() != ')') {
      const std::size_t atom_offset = i_;
      const uint32_t atom = parse_atom(fold);
      items.push_back(parse_quantifiers(atom, atom_offset));
    }
    if (items.empty()) return add(Node{.kind = NodeKind::kEmpty, .offset = start});
    if (items.size() == 1) return items[0];
    return add(Node{.kind = NodeKind::kConcat, .offset = start, .children = std::move(items)});
  }

  // Reads {n}, {n,}, {,m} or {n,m} at '{'; false (position unchanged) when it is none of them.
  bool parse_interval(uint32_t* min, uint32_t* max) {
    const std::size_t start = i_;
    ++i_;
    const auto number = [this](uint32_t* out) {
      if (!std::isdigit(uint8_t(peek()))) return false;
      uint64_t v = 0;
      while (std::isdigit(uint8_t(peek()))) {
        v = std::min<uint64_t>(v * 10 + uint64_t(peek() - '0'), uint64_t(kMaxRepeat) + 1);
        ++i_;
      }
      if (v > kMaxRepeat) fail(i_, str_cat("repeat count above Oniguruma's limit ", kMaxRepeat));
      *out = uint32_t(v);
      return true;
    };
    const bool has_min = number(min);
    const bool comma = accept(",");
    const bool has_max = comma && number(max);
    if ((!has_min && !has_max) || !accept("}")) {
      i_ = start;
      return false;
    }
    if (!has_min) *min = 0;
    if (!comma) *max = *min;
    if (comma && !has_max) *max = kInfinite;
    return true;
  }

  uint32_t parse_quantifiers(uint32_t atom, std::size_t atom_offset) {
    bool quantified = false;
    for (;;) {
      const std::size_t at = i_;
      uint32_t min = 0, max = 0;
      const char c = peek();
      if (c == '*' || c == '+' || c == '?') {
        ++i_;
        min = c == '+' ? 1 : 0;
        max = c == '?' ? 1 : kInfinite;
      } else if (c == '{') {
        if (!parse_interval(&min, &max))
          fail(at, "'{' that does not start {n}, {n,}, {,m} or {n,m} (write \\{ for a literal)");
        if (min > max) fail(at, "repeat range with min above max");
      } else {
        return atom;
      }
      if (quantified) {
        if (c == '?') fail(at, "lazy quantifiers are not supported");
        if (c == '+') fail(at, "possessive quantifiers are not supported");
        fail(at, "nested quantifier (wrap the inner one in (?:...))");
      }
      if (invalid_quantifier_target(atom)) fail(at, "quantifier after an assertion");
      atom = add(Node{.kind = NodeKind::kRepeat, .min = min, .max = max, .offset = atom_offset,
                      .children = {atom}});
      quantified = true;
    }
  }

  // Oniguruma's is_invalid_quantifier_target: an assertion, seen through non-capturing groups
  // without flags, or an alternation with such an alternative.
  bool invalid_quantifier_target(uint32_t n) const {
    const Node& node = tree_.nodes[n];
    switch (node.kind) {
      case NodeKind::kLookahead:
      case NodeKind::kLineStart:
      case NodeKind::kLineEnd:
      case NodeKind::kTextStart:
      case NodeKind::kTextEnd: return true;
      case NodeKind::kGroup: return !node.bag && invalid_quantifier_target(node.children[0]);
      case NodeKind::kAlt:
        return std::any_of(node.children.begin(), node.children.end(),
                           [this](uint32_t c) { return invalid_quantifier_target(c); });
      default: return false;
    }
  }

  uint32_t literal(char32_t cp, bool fold, std::size_t offset) {
    if (!fold) return add(Node{.kind = NodeKind::kChar, .cp = cp, .offset = offset});
    std::vector<char32_t> members;
    unicode::case_fold_class(cp, members);
    SetBuilder builder;
    for (const char32_t m : members) builder.add(m, m);
    if (const char32_t multi = builder.multi_fold_member())
      fail(offset, str_cat("case-insensitive U+", hex(multi),
                           " (its case folding has several code points) is not supported"));
    if (members.size() == 1) return add(Node{.kind = NodeKind::kChar, .fold = true, .cp = cp,
                                             .offset = offset});
    const uint32_t node = add_set(builder.finish(false), offset);
    tree_.nodes[node].fold = true;
    tree_.nodes[node].cp = cp;
    return node;
  }

  static std::string hex(char32_t c) {
    std::string out;
    for (int shift = c > 0xFFFF ? 20 : 12; shift >= 0; shift -= 4)
      out += "0123456789ABCDEF"[(c >> shift) & 15];
    return out;
  }

  uint32_t parse_atom(bool fold) {
    const std::size_t at = i_;
    const char c = peek();
    switch (c) {
      case '(': return parse_group(fold);
      case '[': return parse_class(fold);
      case '*': case '+': case '?': fail(at, "quantifier with nothing to repeat");
      case '{': {
        uint32_t min = 0, max = 0;
        if (parse_interval(&min, &max)) fail(at, "quantifier with nothing to repeat");
        fail(at, "'{' that does not start {n}, {n,}, {,m} or {n,m} (write \\{ for a literal)");
      }
      case '.': {  // any code point but a newline
        ++i_;
        CharSet set;
        set.ascii = complement(PropertySet{}).ascii;
        set.ascii.w[0] &= ~(uint64_t(1) << '\n');
        set.props = complement(PropertySet{}).props;
        set.dot = true;
        return add_set(std::move(set), at);
      }
      case '^': ++i_; return add(Node{.kind = NodeKind::kLineStart, .offset = at});
      case '$': ++i_; return add(Node{.kind = NodeKind::kLineEnd, .offset = at});
      case '\\': {
        const Escape e = parse_escape(false);
        if (e.kind == Escape::Kind::kAssertion) return add(Node{.kind = e.assertion, .offset = at});
        if (e.kind == Escape::Kind::kProperty) {  // no case folding outside brackets
          SetBuilder builder;
          if (e.letter != 'w' && e.letter != 'W') {
            builder.add(e.property);
            return add_set(builder.finish(false), at);
          }
          // Outside brackets Oniguruma decides \w below U+0100 by its Latin-1 ctype table, which
          // also counts the superscripts and fractions U+00B2 U+00B3 U+00B9 U+00BC-U+00BE.
          builder.add(word_property());
          builder.add(0xB2, 0xB3);
          builder.add(0xB9, 0xB9);
          builder.add(0xBC, 0xBE);
          return add_set(builder.finish(e.letter == 'W'), at);
        }
        return literal(e.cp, fold, at);
      }
      default: return literal(next_code_point(), fold, at);
    }
  }

  uint32_t parse_group(bool fold) {
    const std::size_t at = i_;
    ++i_;  // '('
    NodeKind kind = NodeKind::kGroup;
    bool negative = false;
    bool body_fold = fold;
    bool bag = true;
    if (accept("?")) {
      if (accept(":")) {
        bag = false;
      } else if (accept("=")) {
        kind = NodeKind::kLookahead;
      } else if (accept("!")) {
        kind = NodeKind::kLookahead;
        negative = true;
      } else if (peek() == '<' && (peek(1) == '=' || peek(1) == '!')) {
        fail(at, "lookbehind is not supported");
      } else if (peek() == '<' || peek() == 'P' || peek() == '\'') {
        fail(at, "named groups are not supported");
      } else if (peek() == '>') {
        fail(at, "atomic groups are not supported");
      } else {
        body_fold = parse_flags(at, fold);
      }
    }
    const uint32_t body = parse_alternation(body_fold);
    if (!accept(")")) fail(at, "unmatched '('");
    return add(Node{.kind = kind, .negative = negative, .bag = bag, .offset = at, .children = {body}});
  }

  // The flags of "(?flags:" after "(?"; only i and -i are supported. Returns the new (?i) state.
  bool parse_flags(std::size_t group_offset, bool fold) {
    bool on = true;
    while (std::isalpha(uint8_t(peek())) || peek() == '-') {
      if (peek() == '-') {
        on = false;
      } else if (peek() == 'i') {
        fold = on;
      } else {
        fail(i_, str_cat("group flag '", peek(), "' is not supported (only i and -i)"));
      }
      ++i_;
    }
    if (accept(":")) return fold;
    if (peek() == ')') fail(group_offset, "option groups without ':' are not supported; write (?i:...)");
    fail(group_offset, "unsupported group syntax after '(?'");
  }

  uint32_t parse_class(bool fold) {
    const std::size_t at = i_;
    ++i_;  // '['
    const bool negated = accept("^");
    SetBuilder builder;
    parse_class_items(builder, at);
    if (fold) {
      builder.close_case();
      // Oniguruma lets a non-negated class under (?i) also match a multi-code-point folding.
      if (const char32_t multi = negated ? 0 : builder.multi_fold_member())
        fail(at, str_cat("case-insensitive class containing U+", hex(multi),
                         " (its case folding has several code points) is not supported"));
    }
    return add_set(builder.finish(negated), at);
  }

  void parse_class_items(SetBuilder& builder, std::size_t open_offset) {
    for (bool first = true;; first = false) {
      if (at_end()) fail(open_offset, "unterminated character class");
      const std::size_t at = i_;
      if (peek() == ']') {
        if (first) fail(at, "']' at the start of a class (write \\])");
        ++i_;
        return;
      }
      if (peek() == '[') {
        if (peek(1) == ':') fail(at, "POSIX bracket classes [:name:] are not supported");
        if (peek(1) == '^') fail(at, "negated nested classes are not supported");
        ++i_;
        parse_class_items(builder, at);
        continue;
      }
      if (peek() == '&' && peek(1) == '&') fail(at, "class intersection && is not supported");
      const Escape lo = class_item();
      if (peek() != '-' || peek(1) == ']') {
        if (lo.kind == Escape::Kind::kProperty) {
          builder.add(lo.property);
        } else {
          builder.add(lo.cp, lo.cp);
        }
        continue;
      }
      if (lo.kind == Escape::Kind::kProperty) fail(at, "range starting at a class escape");
      ++i_;  // '-'
      const std::size_t hi_at = i_;
      if (at_end() || peek() == '[') fail(hi_at, "expected the end of a range");
      const Escape hi = class_item();
      if (hi.kind == Escape::Kind::kProperty) fail(hi_at, "range ending at a class escape");
      if (hi.cp < lo.cp) fail(at, "empty range in a class");
      builder.add(lo.cp, hi.cp);
      if (peek() == '-' && peek(1) != ']') fail(i_, "'-' right after a range (write \\-)");
    }
  }

  Escape class_item() {
    if (peek() == '\\') return parse_escape(true);
    Escape e;
    e.cp = next_code_point();
    return e;
  }

  char32_t parse_hex(std::size_t at, std::size_t max_digits, bool exact) {
    uint32_t v = 0;
    std::size_t n = 0;
    while (n < max_digits && std::isxdigit(uint8_t(peek()))) {
      const char h = peek();
      v = v * 16 + uint32_t(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
      ++i_;
      ++n;
    }
    if (n == 0 || (exact && n != max_digits)) fail(at, "malformed hexadecimal escape");
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
      fail(at, str_cat("escape of U+", hex(v), ", not a Unicode scalar value"));
    return char32_t(v);
  }

  Escape parse_escape(bool in_class) {
    const std::size_t at = i_;
    ++i_;  // backslash
    if (at_end()) fail(at, "trailing backslash");
    Escape e;
    if (uint8_t(peek()) >= 0x80) {
      e.cp = next_code_point();
      return e;
    }
    const char c = p_[i_++];
    e.letter = c;
    static constexpr std::string_view kControls = "t\tn\nr\rf\fv\va\ae\x1B";
    if (const std::size_t k = kControls.find(c); k != std::string_view::npos && k % 2 == 0) {
      e.cp = char32_t(kControls[k + 1]);
      return e;
    }
    switch (c) {
      case 'd': case 'D': return property_escape(c, digit_property(), c == 'D');
      case 's': case 'S': return property_escape(c, space_property(), c == 'S');
      case 'w': case 'W': return property_escape(c, word_property(), c == 'W');
      case 'p': case 'P': {
        const PropertySet p = parse_property_name(at);  // sets negate_
        return property_escape(c, p, (c == 'P') != negate_);
      }
      case 'x':
        if (accept("{")) {
          e.cp = parse_hex(at, 8, false);
          if (!accept("}")) fail(at, "unterminated \\x{...}");
          return e;
        }
        e.cp = parse_hex(at, 2, false);
        if (e.cp >= 0x80) fail(at, "\\xHH above 7F is a raw byte in Oniguruma; write \\x{HHHH}");
        return e;
      case 'u': e.cp = parse_hex(at, 4, true); return e;
      case 'A': case 'z':
        if (in_class) fail(at, str_cat("\\", c, " inside a class"));
        e.kind = Escape::Kind::kAssertion;
        e.assertion = c == 'A' ? NodeKind::kTextStart : NodeKind::kTextEnd;
        return e;
      default: break;
    }
    if (std::isdigit(uint8_t(c)) || c == 'k' || c == 'g')
      fail(at, "backreferences, octal escapes and subexpression calls are not supported");
    if (std::isalnum(uint8_t(c))) fail(at, str_cat("escape \\", c, " is not supported"));
    e.cp = char32_t(uint8_t(c));  // an escaped punctuation or space character is itself
    return e;
  }

  static Escape property_escape(char letter, const PropertySet& p, bool negate) {
    Escape e;
    e.kind = Escape::Kind::kProperty;
    e.letter = letter;
    e.property = negate ? complement(p) : p;
    return e;
  }

  // The {name} or {^name} after \p or \P; sets negate_ for the '^'.
  PropertySet parse_property_name(std::size_t at) {
    if (!accept("{")) fail(at, "expected '{' after \\p");
    negate_ = accept("^");
    const std::size_t name_start = i_;
    while (std::isalnum(uint8_t(peek())) || peek() == '_') ++i_;
    const std::string_view name = p_.substr(name_start, i_ - name_start);
    if (!accept("}")) fail(at, "unterminated \\p{...}");
    PropertySet p;
    if (!category_property(name, &p))
      fail(at, str_cat("unsupported property '", name, "' (general categories only)"));
    return p;
  }


  std::string_view p_;
  std::size_t i_ = 0;
  bool negate_ = false;  // the last \p{^...} had its '^'
  Tree tree_;
};

// Oniguruma merges the literals of a (?i) run (through non-capturing groups and {1}) and then
// matches multi-code-point foldings across them ("ss" against U+00DF). Runs are gathered more
// widely here (through every group), and a run that spells such a folding is refused.
class FoldRunCheck {
 public:
  FoldRunCheck(const Tree& tree, std::string_view pattern) : tree_(tree), pattern_(pattern) {}

  void visit(uint32_t n) {
    const Node& node = tree_.nodes[n];
    if (node.kind == NodeKind::kConcat) {
      std::vector<const Node*> run;
      for (const uint32_t child : node.children) flatten(child, run);
      check(run);
    }
    for (const uint32_t child : node.children) visit(child);
  }

 private:
  static constexpr const Node* kBreak = nullptr;

  void flatten(uint32_t n, std::vector<const Node*>& run) const {
    const Node& node = tree_.nodes[n];
    if ((node.kind == NodeKind::kChar || node.kind == NodeKind::kSet) && node.fold) {
      run.push_back(&node);
    } else if (node.kind == NodeKind::kGroup ||
               (node.kind == NodeKind::kRepeat && node.min == 1 && node.max == 1)) {
      flatten(node.children[0], run);
    } else if (node.kind == NodeKind::kConcat) {
      for (const uint32_t child : node.children) flatten(child, run);
    } else {
      run.push_back(kBreak);
    }
  }

  void check(const std::vector<const Node*>& run) const {
    for (std::size_t j = 0; j < run.size(); ++j) {
      for (std::size_t r = 0; r < unicode::tables::kNumMultiFolds; ++r) {
        const auto& row = unicode::tables::kMultiFolds[r];
        const std::size_t len = row.folded[2] ? 3 : 2;
        std::size_t k = 0;
        while (k < len && j + k < run.size() && run[j + k] != kBreak &&
               unicode::simple_fold(run[j + k]->cp) == unicode::simple_fold(row.folded[k]))
          ++k;
        if (k == len)
          throw Error(error_prefix(pattern_, run[j]->offset) +
                      "case-insensitive literals that spell a multi-code-point case folding "
                      "(as \"ss\" of U+00DF) are not supported");
      }
    }
  }

  const Tree& tree_;
  std::string_view pattern_;
};

}  // namespace

Tree parse(std::string_view pattern) {
  Tree tree = Parser(pattern).run();
  FoldRunCheck(tree, pattern).visit(tree.root);
  return tree;
}

}  // namespace r1::tokenizer::regex_internal
