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
// Oniguruma's DEFAULT_RETRY_LIMIT_IN_MATCH: backtracks allowed in one match attempt. Past it both
// engines give up (the library panics); here it is an r1::Error rather than a hang.
constexpr uint64_t kRetryLimit = 10000000;

enum class FrameKind : uint8_t {
  kResume,    // go to pc at pos
  kAltNext,   // try the lowest alternative of mask pos2 of the kAlt at pc, at pos
  kLoopBack,  // the kLoop at pc gives back one code point: it ended at pos2, may shrink to pos
  kSlot,      // restore slots[aux] = pos
};

struct Frame {
  FrameKind kind;
  uint32_t pc;
  uint32_t aux;
  std::size_t pos;
  uint64_t pos2;
};

// The backtrack stack over reusable storage: push is inline, growth is out of line.
class FrameStack {
 public:
  explicit FrameStack(std::vector<Frame>& storage) : storage_(storage) {
    if (storage_.size() < 64) storage_.resize(64);
    data_ = storage_.data();
  }
  std::size_t size() const { return size_; }
  void truncate(std::size_t n) { size_ = n; }
  Frame& back() { return data_[size_ - 1]; }
  void pop() { --size_; }
  void push(const Frame& f) {
    if (size_ == storage_.size()) [[unlikely]] grow();
    data_[size_++] = f;
  }

 private:
  [[gnu::noinline]] void grow() {
    storage_.resize(2 * storage_.size());
    data_ = storage_.data();
  }

  std::vector<Frame>& storage_;
  Frame* data_ = nullptr;
  std::size_t size_ = 0;
};

class Matcher {
 public:
  Matcher(const Program& prog, std::string_view text, std::vector<Frame>& stack,
          std::vector<std::size_t>& slots)
      : prog_(prog),
        insts_(prog.insts.data()),
        sets_(prog.sets.data()),
        alts_(prog.alts.data()),
        text_(reinterpret_cast<const uint8_t*>(text.data())),
        n_(text.size()),
        stack_(stack),
        slots_(slots) {
    slots_.assign(prog.num_slots, kNoMatch);
  }

  // The leftmost-first match starting at or after `start`: true with [*begin, *end) set.
  bool search(std::size_t start, std::size_t* begin, std::size_t* end) {
    for (std::size_t pos = start;;) {
      if (pos < n_ && !prog_.start_nullable) {
        pos = skip_to_candidate(pos);
        if (pos >= n_) return false;
      }
      if (prog_.start_nullable || pos < n_) {
        stack_.truncate(0);
        retries_ = 0;
        const std::size_t e = exec(0, pos);
        if (e != kNoMatch) {
          *begin = pos;
          *end = e;
          return true;
        }
      }
      if (pos >= n_) return false;
      pos += length_at(pos);
    }
  }

  // Every match as the onig crate's FindMatches yields them: search from last_end; an empty
  // match at the end of the previous match is skipped by moving last_end one code point on.
  void find_all(std::vector<std::pair<std::size_t, std::size_t>>& out) {
    std::size_t last_end = 0;
    std::size_t last_match_end = kNoMatch;
    std::size_t begin = 0, end = 0;
    while (last_end <= n_ && search(last_end, &begin, &end)) {
      if (begin == end && end == last_match_end) {
        last_end += last_end < n_ ? length_at(last_end) : 1;
        continue;
      }
      last_end = end;
      last_match_end = end;
      out.emplace_back(begin, end);
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

  // The alternatives of `table` that may succeed at pos, as a bit mask (bit i: alternative i).
  uint64_t viable_mask(const AltTable& table, std::size_t pos) const {
    if (pos >= n_) return table.end_mask;
    const uint8_t b = text_[pos];
    if (b < 0x80) return table.ascii_mask[b];
    std::size_t len = 1;
    return table.props_mask[unicode::tables::prop_raw(decode(pos, &len))];
  }

  // The end of the longest run of at most `max` code points of `set` from pos. ASCII goes
  // through the set's byte table, a load and a test per byte.
  std::size_t run_of(const CharSet& set, std::size_t pos, uint32_t max) const {
    if (max != kInfinite) return counted_run_of(set, pos, max);
    const uint8_t* p = text_ + pos;
    const uint8_t* const end = text_ + n_;
    for (;;) {
      while (p < end && set.byte_in[*p]) ++p;
      if (p == end || *p < 0x80) break;
      std::size_t len = 1;
      if (!set.contains(decode(std::size_t(p - text_), &len))) break;
      p += len;
    }
    return std::size_t(p - text_);
  }

  std::size_t counted_run_of(const CharSet& set, std::size_t pos, uint32_t max) const {
    if (max == 1) {  // x? and x{1}: one test
      if (pos >= n_) return pos;
      if (set.byte_in[text_[pos]]) return pos + 1;
      std::size_t len = 1;
      return text_[pos] >= 0x80 && set.contains(decode(pos, &len)) ? pos + len : pos;
    }
    std::size_t p = pos;
    for (uint32_t count = 0; count < max && p < n_; ++count) {
      std::size_t len = 1;
      if (!set.byte_in[text_[p]] && (text_[p] < 0x80 || !set.contains(decode(p, &len)))) break;
      p += len;
    }
    return p;
  }

  // The position `count` code points after pos, or kNoMatch when that passes `end`.
  std::size_t advance(std::size_t pos, uint32_t count, std::size_t end) const {
    for (uint32_t i = 0; i < count; ++i) {
      if (pos >= end) return kNoMatch;
      pos += length_at(pos);
    }
    return pos;
  }

  void push(FrameKind kind, uint32_t pc, uint32_t aux, std::size_t pos, std::size_t pos2 = 0) {
    stack_.push(Frame{kind, pc, aux, pos, pos2});
  }

  std::size_t exec(uint32_t pc, std::size_t pos);
  bool backtrack(std::size_t base, uint32_t* pc, std::size_t* pos);

  // kLoop at pc: consumes its run from *pos and pushes the frame that gives it back, unless it
  // is possessive; false when the run is shorter than min.
  bool loop(const Inst& in, uint32_t pc, std::size_t* pos) {
    const std::size_t end = run_of(sets_[in.arg], *pos, in.max);
    std::size_t min_pos = *pos;  // where giving back must stop
    if (in.min == 1) {
      if (end == *pos) return false;
      if (!in.flag) min_pos = *pos + length_at(*pos);
    } else if (in.min > 1) {
      min_pos = advance(*pos, in.min, end);
      if (min_pos == kNoMatch) return false;
    }
    if (!in.flag && end > min_pos) push(FrameKind::kLoopBack, pc, 0, min_pos, end);
    *pos = end;
    return true;
  }

  // kAlt at *pc: goes to the first viable alternative and pushes the others (one frame holding
  // their mask); false when none is viable.
  bool alternation(const Inst& in, uint32_t* pc, std::size_t pos) {
    const AltTable& table = alts_[in.arg];
    uint64_t mask = viable_mask(table, pos);
    if (mask == 0) return false;
    const int first = std::countr_zero(mask);
    mask &= mask - 1;
    if (mask != 0) push(FrameKind::kAltNext, *pc, 0, pos, mask);
    *pc = table.pcs[std::size_t(first)];
    return true;
  }

  bool assertion(Op op, std::size_t pos) const {
    switch (op) {
      case Op::kLineStart:  // Oniguruma: not at the very end, even after a newline
        return pos == 0 || (pos != n_ && text_[pos - 1] == '\n');
      case Op::kLineEnd: return pos == n_ || text_[pos] == '\n';
      case Op::kTextStart: return pos == 0;
      case Op::kTextEnd: return pos == n_;
      default: R1_CHECK(false, "not an assertion: ", int(op)); return false;
    }
  }

  const Program& prog_;
  const Inst* insts_;  // prog_'s arrays, held directly
  const CharSet* sets_;
  const AltTable* alts_;
  const uint8_t* text_;
  std::size_t n_;
  FrameStack stack_;
  std::vector<std::size_t>& slots_;
  uint64_t retries_ = 0;
};

// Runs from pc at pos until kMatch/kLookEnd (returns the position) or until every choice point
// pushed since the call is exhausted (returns kNoMatch).
std::size_t Matcher::exec(uint32_t pc, std::size_t pos) {
  const std::size_t base = stack_.size();
  for (;;) {
    const Inst& in = insts_[pc];
    switch (in.op) {
      case Op::kMatch:
      case Op::kLookEnd: return pos;
      case Op::kString: {
        const std::string& s = prog_.strings[in.arg];
        if (n_ - pos >= s.size() && std::memcmp(text_ + pos, s.data(), s.size()) == 0) {
          pos += s.size();
          pc = in.x;
          continue;
        }
        break;
      }
      case Op::kSet: {
        if (pos >= n_) break;
        std::size_t len = 1;
        const uint8_t b = text_[pos];
        const CharSet& set = sets_[in.arg];
        if (b < 0x80 ? !set.ascii.test(b) : !set.contains(decode(pos, &len))) break;
        pos += len;
        pc = in.x;
        continue;
      }
      case Op::kLoop:
        if (!loop(in, pc, &pos)) break;
        pc = in.x;
        continue;
      case Op::kSplit:
        push(FrameKind::kResume, in.x, 0, pos);
        ++pc;
        continue;
      case Op::kJump: pc = in.x; continue;
      case Op::kAlt:
        if (!alternation(in, &pc, pos)) break;
        continue;
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
        stack_.truncate(mark);
        if (body_matched == in.flag) break;
        pc = in.x;
        continue;
      }
      case Op::kLineStart:
      case Op::kLineEnd:
      case Op::kTextStart:
      case Op::kTextEnd:
        if (!assertion(in.op, pos)) break;
        ++pc;
        continue;
    }
    if (!backtrack(base, &pc, &pos)) return kNoMatch;
  }
}

bool Matcher::backtrack(std::size_t base, uint32_t* pc, std::size_t* pos) {
  if (++retries_ >= kRetryLimit)
    throw Error(str_cat("regex ", shown_pattern(prog_.pattern), ": more than ", kRetryLimit,
                        " backtracking steps in one match attempt (Oniguruma's retry limit)"));
  while (stack_.size() > base) {
    Frame& f = stack_.back();
    switch (f.kind) {
      case FrameKind::kResume:
        *pc = f.pc;
        *pos = f.pos;
        stack_.pop();
        return true;
      case FrameKind::kSlot:
        slots_[f.aux] = f.pos;
        stack_.pop();
        continue;
      case FrameKind::kAltNext: {  // pos2: the viable alternatives not tried yet
        const AltTable& table = alts_[insts_[f.pc].arg];
        const int alt = std::countr_zero(uint64_t(f.pos2));
        *pos = f.pos;
        *pc = table.pcs[std::size_t(alt)];
        f.pos2 &= f.pos2 - 1;
        if (f.pos2 == 0) stack_.pop();
        return true;
      }
      case FrameKind::kLoopBack: {
        std::size_t p = f.pos2 - 1;
        while (p > f.pos && (text_[p] & 0xC0) == 0x80) --p;
        *pos = p;
        *pc = insts_[f.pc].x;
        if (p > f.pos) {
          f.pos2 = p;
        } else {
          stack_.pop();
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
  std::size_t begin = 0, end = 0;
  if (!matcher.search(start, &begin, &end)) return std::nullopt;
  return std::pair{begin, end};
}

void Regex::find_all(std::string_view text,
                     std::vector<std::pair<std::size_t, std::size_t>>& out) const {
  R1_CHECK(program_ != nullptr, "Regex used before compile()");
  const std::size_t bad = unicode::find_invalid_utf8(text);
  if (bad != std::string_view::npos)
    throw Error(str_cat("regex ", regex_internal::shown_pattern(program_->pattern),
                        ": expected valid UTF-8 text to search, found an invalid sequence at byte ",
                        bad));
  regex_internal::Scratch& s = regex_internal::scratch();
  regex_internal::Matcher(*program_, text, s.stack, s.slots).find_all(out);
}

}  // namespace r1::tokenizer
