// The backtracking matcher (Oniguruma's match_at over our flat program: depth-first, leftmost
// alternative and longest repeat first, first success wins) and the search loops of Regex,
// including the `onig` crate's find_iter rule for empty matches.
#include <bit>
#include <cstring>

#include "core/error.h"
#include "core/tokenizer/internal/regex_program.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer {

namespace regex_internal {

namespace {

constexpr std::size_t kNoMatch = ~std::size_t(0);

enum class FrameKind : uint8_t {
  kResume,    // go to pc at pos
  kAltNext,   // try alternative `aux` of the kAlt at pc, at pos
  kLoopBack,  // the kLoop at pc gives back one code point: it ended at pos2, may shrink to pos
  kSlot,      // restore slots[aux] = pos
};

struct Frame {
  FrameKind kind;
  uint32_t pc;
  uint32_t aux;
  std::size_t pos;
  std::size_t pos2;
};

class Matcher {
 public:
  Matcher(const Program& prog, std::string_view text, std::vector<Frame>& stack,
          std::vector<std::size_t>& slots)
      : prog_(prog),
        text_(reinterpret_cast<const uint8_t*>(text.data())),
        n_(text.size()),
        stack_(stack),
        slots_(slots) {
    slots_.assign(prog.num_slots, kNoMatch);
  }

  // The leftmost-first match starting at or after `start`.
  std::optional<std::pair<std::size_t, std::size_t>> search(std::size_t start) {
    for (std::size_t pos = start;;) {
      if (pos < n_ && !prog_.start_nullable) {
        pos = skip_to_candidate(pos);
        if (pos >= n_) return std::nullopt;
      }
      if (prog_.start_nullable || pos < n_) {
        stack_.clear();
        const std::size_t end = exec(0, pos);
        if (end != kNoMatch) return std::pair{pos, end};
      }
      if (pos >= n_) return std::nullopt;
      pos += length_at(pos);
    }
  }

  std::size_t length_at(std::size_t pos) const {
    std::size_t len = 1;
    if (text_[pos] >= 0x80) decode(pos, &len);
    return len;
  }

 private:
  // Decodes the code point at pos (< n_). Valid UTF-8 is assumed; invalid input cannot read out
  // of bounds or produce a value above U+10FFFF.
  char32_t decode(std::size_t pos, std::size_t* len) const {
    const uint8_t* p = text_ + pos;
    const std::size_t left = n_ - pos;
    if (p[0] < 0x80) {
      *len = 1;
      return p[0];
    }
    if (p[0] < 0xE0 && left >= 2) {
      *len = 2;
      return char32_t(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    }
    if (p[0] < 0xF0 && left >= 3) {
      *len = 3;
      return char32_t(p[0] & 0x0F) << 12 | char32_t(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    }
    if (left >= 4) {
      *len = 4;
      const char32_t c = char32_t(p[0] & 0x07) << 18 | char32_t(p[1] & 0x3F) << 12 |
                         char32_t(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
      return c <= 0x10FFFF ? c : 0xFFFD;
    }
    *len = 1;
    return 0xFFFD;
  }

  // The first position at or after pos whose code point may begin a match (or n_).
  std::size_t skip_to_candidate(std::size_t pos) const {
    while (pos < n_) {
      const uint8_t b = text_[pos];
      if (b < 0x80) {
        if (prog_.start.ascii.test(b)) return pos;
        ++pos;
        continue;
      }
      std::size_t len = 1;
      if (prog_.start.props.test(unicode::tables::prop_raw(decode(pos, &len)))) return pos;
      pos += len;
    }
    return pos;
  }

  // Alternatives of `table` at or after `from` that may succeed at pos, as a bit mask (tables
  // of at most 64 alternatives) or by scanning.
  int next_viable(const AltTable& table, std::size_t from, std::size_t pos) const {
    if (table.has_masks) {
      uint64_t mask = table.end_mask;
      if (pos < n_) {
        const uint8_t b = text_[pos];
        std::size_t len = 1;
        mask = b < 0x80 ? table.ascii_mask[b]
                        : table.props_mask[unicode::tables::prop_raw(decode(pos, &len))];
      }
      mask &= from >= 64 ? 0 : ~uint64_t(0) << from;
      return mask ? std::countr_zero(mask) : -1;
    }
    std::size_t len = 1;
    const bool at_end = pos >= n_;
    const char32_t c = at_end ? 0 : decode(pos, &len);
    for (std::size_t i = from; i < table.pcs.size(); ++i)
      if (table.nullable[i] || (!at_end && table.firsts[i].contains(c))) return int(i);
    return -1;
  }

  void push(FrameKind kind, uint32_t pc, uint32_t aux, std::size_t pos, std::size_t pos2 = 0) {
    stack_.push_back(Frame{kind, pc, aux, pos, pos2});
  }

  std::size_t exec(uint32_t pc, std::size_t pos);
  bool backtrack(std::size_t base, uint32_t* pc, std::size_t* pos);

  const Program& prog_;
  const uint8_t* text_;
  std::size_t n_;
  std::vector<Frame>& stack_;
  std::vector<std::size_t>& slots_;
};

// Runs from pc at pos until kMatch/kLookEnd (returns the position) or until every choice point
// pushed since the call is exhausted (returns kNoMatch).
std::size_t Matcher::exec(uint32_t pc, std::size_t pos) {
  const std::size_t base = stack_.size();
  for (;;) {
    const Inst& in = prog_.insts[pc];
    switch (in.op) {
      case Op::kMatch:
      case Op::kLookEnd: return pos;
      case Op::kString: {
        const std::string& s = prog_.strings[in.arg];
        if (n_ - pos >= s.size() && std::memcmp(text_ + pos, s.data(), s.size()) == 0) {
          pos += s.size();
          ++pc;
          continue;
        }
        break;
      }
      case Op::kSet: {
        if (pos >= n_) break;
        std::size_t len = 1;
        const uint8_t b = text_[pos];
        const CharSet& set = prog_.sets[in.arg];
        if (b < 0x80 ? !set.ascii.test(b) : !set.contains(decode(pos, &len))) break;
        pos += len;
        ++pc;
        continue;
      }
      case Op::kLoop: {
        const CharSet& set = prog_.sets[in.arg];
        std::size_t p = pos, min_pos = pos;
        uint32_t count = 0;
        while (count < in.max && p < n_) {
          const uint8_t b = text_[p];
          std::size_t len = 1;
          if (b < 0x80 ? !set.ascii.test(b) : !set.contains(decode(p, &len))) break;
          p += len;
          if (++count == in.min) min_pos = p;
        }
        if (count < in.min) break;
        if (!in.flag && p > min_pos) push(FrameKind::kLoopBack, pc, 0, min_pos, p);
        pos = p;
        pc = in.x;
        continue;
      }
      case Op::kSplit:
        push(FrameKind::kResume, in.x, 0, pos);
        ++pc;
        continue;
      case Op::kJump: pc = in.x; continue;
      case Op::kAlt: {
        const AltTable& table = prog_.alts[in.arg];
        const int first = next_viable(table, 0, pos);
        if (first < 0) break;
        const int next = next_viable(table, std::size_t(first) + 1, pos);
        if (next >= 0) push(FrameKind::kAltNext, pc, uint32_t(next), pos);
        pc = table.pcs[std::size_t(first)];
        continue;
      }
      case Op::kEmptyStart:
        push(FrameKind::kSlot, 0, in.arg, slots_[in.arg]);
        slots_[in.arg] = pos;
        ++pc;
        continue;
      case Op::kEmptyEnd: pc = pos == slots_[in.arg] ? in.x : pc + 1; continue;
      case Op::kLookahead: {
        // Atomic, as Oniguruma's: the body's choice points are dropped once it has decided.
        const std::size_t mark = stack_.size();
        const bool body_matched = exec(pc + 1, pos) != kNoMatch;
        stack_.resize(mark);
        if (body_matched == in.flag) break;
        pc = in.x;
        continue;
      }
      case Op::kLineStart:
        if (pos != 0 && text_[pos - 1] != '\n') break;
        ++pc;
        continue;
      case Op::kLineEnd:
        if (pos != n_ && text_[pos] != '\n') break;
        ++pc;
        continue;
      case Op::kTextStart:
        if (pos != 0) break;
        ++pc;
        continue;
      case Op::kTextEnd:
        if (pos != n_) break;
        ++pc;
        continue;
    }
    if (!backtrack(base, &pc, &pos)) return kNoMatch;
  }
}

bool Matcher::backtrack(std::size_t base, uint32_t* pc, std::size_t* pos) {
  while (stack_.size() > base) {
    Frame& f = stack_.back();
    switch (f.kind) {
      case FrameKind::kResume:
        *pc = f.pc;
        *pos = f.pos;
        stack_.pop_back();
        return true;
      case FrameKind::kSlot:
        slots_[f.aux] = f.pos;
        stack_.pop_back();
        continue;
      case FrameKind::kAltNext: {
        const AltTable& table = prog_.alts[prog_.insts[f.pc].arg];
        const uint32_t alt = f.aux;
        *pos = f.pos;
        *pc = table.pcs[alt];
        const int next = next_viable(table, std::size_t(alt) + 1, f.pos);
        if (next >= 0) {
          f.aux = uint32_t(next);
        } else {
          stack_.pop_back();
        }
        return true;
      }
      case FrameKind::kLoopBack: {
        std::size_t p = f.pos2 - 1;
        while (p > f.pos && (text_[p] & 0xC0) == 0x80) --p;
        *pos = p;
        *pc = prog_.insts[f.pc].x;
        if (p > f.pos) {
          f.pos2 = p;
        } else {
          stack_.pop_back();
        }
        return true;
      }
    }
  }
  return false;
}

// Per-thread scratch, so that a search allocates only while its stack grows past any before.
struct Scratch {
  std::vector<Frame> stack;
  std::vector<std::size_t> slots;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

}  // namespace regex_internal

Regex Regex::compile(std::string_view pattern) {
  Regex regex;
  regex.program_ = std::make_shared<const regex_internal::Program>(
      regex_internal::compile(pattern, regex_internal::parse(pattern)));
  return regex;
}

const std::string& Regex::pattern() const {
  R1_CHECK(program_ != nullptr, "Regex used before compile()");
  return program_->pattern;
}

std::optional<std::pair<std::size_t, std::size_t>> Regex::find(std::string_view text,
                                                               std::size_t start) const {
  R1_CHECK(program_ != nullptr, "Regex used before compile()");
  R1_CHECK(start <= text.size(), "find from ", start, " in ", text.size(), " bytes");
  regex_internal::Scratch& s = regex_internal::scratch();
  regex_internal::Matcher matcher(*program_, text, s.stack, s.slots);
  return matcher.search(start);
}

void Regex::find_all(std::string_view text,
                     std::vector<std::pair<std::size_t, std::size_t>>& out) const {
  R1_CHECK(program_ != nullptr, "Regex used before compile()");
  const std::size_t bad = unicode::find_invalid_utf8(text);
  if (bad != std::string_view::npos)
    throw Error(str_cat("regex ", program_->pattern, ": expected valid UTF-8 text to search, found an "
                        "invalid sequence at byte ", bad));
  regex_internal::Scratch& s = regex_internal::scratch();
  regex_internal::Matcher matcher(*program_, text, s.stack, s.slots);
  // The onig crate's FindMatches: search from last_end; an empty match at the end of the
  // previous match is skipped by moving last_end one code point on; others are yielded.
  std::size_t last_end = 0;
  std::size_t last_match_end = regex_internal::kNoMatch;
  while (last_end <= text.size()) {
    const auto match = matcher.search(last_end);
    if (!match) return;
    const auto [begin, end] = *match;
    if (begin == end && end == last_match_end) {
      last_end += last_end < text.size() ? matcher.length_at(last_end) : 1;
      continue;
    }
    last_end = end;
    last_match_end = end;
    out.emplace_back(begin, end);
  }
}

}  // namespace r1::tokenizer
