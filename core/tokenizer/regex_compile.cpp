// Compiles the parse tree into the flat program regex_match.cpp runs, laid out as Oniguruma's
// compiler lays out the same constructs (so that backtracking explores alternatives in the same
// order), then annotates it: the first-character sets that let an alternation skip alternatives
// and the search skip start positions, and the greedy loops that can never usefully give back.
#include <algorithm>
#include <span>

#include "core/error.h"
#include "core/tokenizer/internal/regex_program.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::regex_internal {

namespace {

// Bounds the unrolled copies of counted repeats ({n,m} of a group).
constexpr std::size_t kMaxInsts = 200000;

FirstSet first_set_of_code_point(char32_t c) {
  FirstSet out;
  if (c < 0x80) {
    out.ascii.set(unsigned(c));
  } else {
    out.props.set(unicode::tables::prop_raw(c));
  }
  return out;
}

// What a program position may do first: the code points it may consume first (a superset),
// whether it may succeed (reach kMatch or kLookEnd) without consuming, and whether it may do so
// through no assertion at all, in which case it cannot fail.
struct FirstInfo {
  FirstSet first;
  bool nullable = false;
  bool unconditional = false;
};

class Compiler {
 public:
  Compiler(std::string_view pattern, Tree tree) : tree_(std::move(tree)) {
    prog_.pattern = std::string(pattern);
    prog_.sets = tree_.sets;
  }

  Program run() {
    emit(tree_.root);
    add(Op::kMatch);
    annotate();
    return std::move(prog_);
  }

 private:
  [[noreturn]] void fail(const Node& node, std::string_view what) const {
    throw Error(error_prefix(prog_.pattern, node.offset) + std::string(what));
  }

  uint32_t pc() const { return uint32_t(prog_.insts.size()); }
  // x defaults to the next instruction (the continuation of kString, kSet and kLoop).
  uint32_t add(Op op, uint32_t arg = 0) {
    prog_.insts.push_back(Inst{.op = op, .arg = arg, .x = pc() + 1});
    return pc() - 1;
  }

  // Minimum length in code points (Oniguruma's node_min_byte_len is 0 exactly when this is).
  uint64_t min_length(uint32_t n) const {
    const Node& node = tree_.nodes[n];
    switch (node.kind) {
      case NodeKind::kChar:
      case NodeKind::kSet: return 1;
      case NodeKind::kConcat: {
        uint64_t sum = 0;
        for (const uint32_t c : node.children) sum += min_length(c);
        return sum;
      }
      case NodeKind::kAlt: {
        uint64_t best = ~uint64_t(0);
        for (const uint32_t c : node.children) best = std::min(best, min_length(c));
        return best;
      }
      case NodeKind::kRepeat: return node.min == 0 ? 0 : node.min * min_length(node.children[0]);
      case NodeKind::kGroup: return min_length(node.children[0]);
      default: return 0;  // empty, lookahead, anchors
    }
  }

  void emit(uint32_t n) {
    const Node& node = tree_.nodes[n];
    switch (node.kind) {
      case NodeKind::kEmpty: return;
      case NodeKind::kChar: emit_string({&n, 1}); return;
      case NodeKind::kSet: add(Op::kSet, node.set); return;
      case NodeKind::kConcat: emit_concat(node); return;
      case NodeKind::kAlt: emit_alt(node); return;
      case NodeKind::kRepeat: emit_repeat(node); return;
      case NodeKind::kGroup: emit(node.children[0]); return;
      case NodeKind::kLookahead: {
        const uint32_t look = add(Op::kLookahead);
        prog_.insts[look].flag = node.negative;
        emit(node.children[0]);
        add(Op::kLookEnd);
        prog_.insts[look].x = pc();
        return;
      }
      case NodeKind::kLineStart: add(Op::kLineStart); return;
      case NodeKind::kLineEnd: add(Op::kLineEnd); return;
      case NodeKind::kTextStart: add(Op::kTextStart); return;
      case NodeKind::kTextEnd: add(Op::kTextEnd); return;
    }
  }

  // Consecutive literal code points become one string compared bytewise.
  void emit_string(std::span<const uint32_t> chars) {
    std::string bytes;
    for (const uint32_t c : chars) unicode::append_utf8(bytes, tree_.nodes[c].cp);
    prog_.strings.push_back(std::move(bytes));
    add(Op::kString, uint32_t(prog_.strings.size() - 1));
  }

  void emit_concat(const Node& node) {
    const std::vector<uint32_t>& kids = node.children;
    for (std::size_t i = 0; i < kids.size();) {
      std::size_t j = i;
      while (j < kids.size() && tree_.nodes[kids[j]].kind == NodeKind::kChar) ++j;
      if (j > i) {
        emit_string({kids.data() + i, j - i});
        i = j;
      } else {
        emit(kids[i++]);
      }
    }
  }

  // Oniguruma's alternation: try each branch in order, each ending in a jump past the rest. A
  // table holds at most 64 branches (one bit mask); the 64th of a longer list is an alternation
  // of the rest, which tries them in the same order.
  void emit_alt(const Node& node) { emit_alt_range(node.children, 0); }

  void emit_alt_range(const std::vector<uint32_t>& children, std::size_t begin) {
    const uint32_t table = uint32_t(prog_.alts.size());
    prog_.alts.emplace_back();
    add(Op::kAlt, table);
    std::vector<uint32_t> jumps;
    const std::size_t n = std::min<std::size_t>(children.size() - begin, 64);
    for (std::size_t i = 0; i < n; ++i) {
      prog_.alts[table].pcs.push_back(pc());
      if (i == 63 && begin + 64 < children.size()) {
        emit_alt_range(children, begin + 63);
        break;
      }
      emit(children[begin + i]);
      if (i + 1 < n) jumps.push_back(add(Op::kJump));
    }
    for (const uint32_t j : jumps) prog_.insts[j].x = pc();
  }

  // The set a single-code-point body consumes (through groups), or -1.
  int64_t single_set(uint32_t n) {
    const Node& node = tree_.nodes[n];
    if (node.kind == NodeKind::kGroup) return single_set(node.children[0]);
    if (node.kind == NodeKind::kSet) return node.set;
    if (node.kind != NodeKind::kChar) return -1;
    SetBuilder builder;
    builder.add(node.cp, node.cp);
    prog_.sets.push_back(builder.finish(false));
    return int64_t(prog_.sets.size() - 1);
  }

  void check_size(const Node& node) const {
    if (prog_.insts.size() > kMaxInsts)
      fail(node, str_cat("repetition makes the program too large (over ", kMaxInsts,
                         " instructions)"));
  }

  // Greedy repeats. A single code point repeated is one kLoop. Otherwise, as Oniguruma: `min`
  // copies of the body, then either a loop (push exit; body; jump back) whose iterations end
  // with an empty check when the body may match empty, or max - min nested optional copies.
  void emit_repeat(const Node& node) {
    const uint32_t body = node.children[0];
    if (node.max == 0) return;  // Oniguruma compiles x{0} to nothing
    const int64_t set = single_set(body);
    if (set >= 0) {
      const uint32_t loop = add(Op::kLoop, uint32_t(set));
      prog_.insts[loop].offset = uint32_t(node.offset);
      prog_.insts[loop].min = node.min;
      prog_.insts[loop].max = node.max;
      return;
    }
    const bool nullable = min_length(body) == 0;
    // Oniguruma compiles these with a counter whose empty check ends the repeat early, or unrolls
    // them without one, depending on their compiled size: not reproduced.
    const bool counted = node.max == kInfinite ? node.min > 1 : node.max > 1;
    if (nullable && counted)
      fail(node, "a counted repeat of something that can match empty is not supported");
    for (uint32_t i = 0; i < node.min; ++i) {
      emit(body);
      check_size(node);
    }
    if (node.max == kInfinite) {
      const uint32_t head = add(Op::kSplit);
      uint32_t slot = 0, empty_end = 0;
      if (nullable) {
        slot = prog_.num_slots++;
        add(Op::kEmptyStart, slot);
      }
      emit(body);
      if (nullable) empty_end = add(Op::kEmptyEnd, slot);
      prog_.insts[add(Op::kJump)].x = head;
      prog_.insts[head].x = pc();
      if (nullable) prog_.insts[empty_end].x = pc();
      return;
    }
    std::vector<uint32_t> splits;
    for (uint32_t i = node.min; i < node.max; ++i) {
      splits.push_back(add(Op::kSplit));
      emit(body);
      check_size(node);
    }
    for (const uint32_t s : splits) prog_.insts[s].x = pc();
  }

  // `on_consumer(pc, conditional)` sees each consuming instruction reached.
  template <typename OnConsumer>
  FirstInfo first_info(uint32_t start, OnConsumer on_consumer) const;
  FirstInfo first_info(uint32_t start) const {
    return first_info(start, [](uint32_t, bool) {});
  }
  void check_leading_dot_loop() const;
  void thread_jumps();
  void annotate();

  Tree tree_;
  Program prog_;
  std::vector<FirstSet> set_firsts_;   // first_set_of(prog_.sets[i])
  mutable std::vector<uint32_t> seen_;  // first_info's visit marks (stamp | 1 | 2)
  mutable uint32_t stamp_ = 0;
};

// Depth-first over the instructions that consume nothing, tracking whether an assertion was
// passed on the way (`conditional`).
template <typename OnConsumer>
FirstInfo Compiler::first_info(uint32_t start, OnConsumer on_consumer) const {
  FirstInfo info;
  // seen_[at] == stamp | bit: visited in this call. Stamps spare clearing the array per call,
  // so a traversal costs what it visits, not the program size.
  if (seen_.size() != prog_.insts.size() || stamp_ > ~uint32_t(0) - 8) {
    seen_.assign(prog_.insts.size(), 0);
    stamp_ = 0;
  }
  stamp_ += 4;
  std::vector<std::pair<uint32_t, bool>> todo{{start, false}};
  while (!todo.empty()) {
    const auto [at, conditional] = todo.back();
    todo.pop_back();
    const uint32_t bit = conditional ? 2 : 1;
    if ((seen_[at] & ~uint32_t(3)) != stamp_) seen_[at] = stamp_;
    if (seen_[at] & bit) continue;
    seen_[at] |= bit;
    const Inst& in = prog_.insts[at];
    if (in.op == Op::kString || in.op == Op::kSet || in.op == Op::kLoop) on_consumer(at, conditional);
    switch (in.op) {
      case Op::kMatch:
      case Op::kLookEnd:
        info.nullable = true;
        info.unconditional |= !conditional;
        break;
      case Op::kString: {
        std::size_t len = 0;
        info.first |= first_set_of_code_point(unicode::decode_utf8(prog_.strings[in.arg], 0, &len));
        break;
      }
      case Op::kSet: info.first |= set_firsts_[in.arg]; break;
      case Op::kLoop:
        info.first |= set_firsts_[in.arg];
        if (in.min == 0) todo.emplace_back(in.x, conditional);
        break;
      case Op::kSplit:
      case Op::kEmptyEnd:
        todo.emplace_back(at + 1, conditional);
        todo.emplace_back(in.x, conditional);
        break;
      case Op::kJump: todo.emplace_back(in.x, conditional); break;
      case Op::kAlt:
        for (const uint32_t p : prog_.alts[in.arg].pcs) todo.emplace_back(p, conditional);
        break;
      case Op::kEmptyStart: todo.emplace_back(at + 1, conditional); break;
      case Op::kLookahead: todo.emplace_back(in.x, true); break;
      case Op::kLineStart:
      case Op::kLineEnd:
      case Op::kTextStart:
      case Op::kTextEnd: todo.emplace_back(at + 1, true); break;
    }
  }
  return info;
}

// Oniguruma searches a pattern whose first consumer is a greedy unbounded '.' repeat only from
// line starts (a match from anywhere else could have started there), and also does so when an
// assertion stands before that repeat, where the premise fails. Not reproduced: refused.
void Compiler::check_leading_dot_loop() const {
  first_info(0, [this](uint32_t at, bool conditional) {
    const Inst& in = prog_.insts[at];
    if (conditional && in.op == Op::kLoop && in.max == kInfinite && prog_.sets[in.arg].dot)
      throw Error(error_prefix(prog_.pattern, in.offset) +
                  "a greedy unbounded '.' repeat that begins a match after an assertion is not "
                  "supported (Oniguruma's search then skips start positions)");
  });
}

// Jump threading: an edge into a kJump goes straight to its target (one dispatch less per
// alternative that ends a match).
void Compiler::thread_jumps() {
  const auto target = [this](uint32_t at) {
    for (int hops = 0; prog_.insts[at].op == Op::kJump && hops < 64; ++hops) at = prog_.insts[at].x;
    return at;
  };
  for (Inst& in : prog_.insts) {
    if (in.op != Op::kAlt && in.op != Op::kEmptyStart && in.op != Op::kMatch &&
        in.op != Op::kLookEnd)
      in.x = target(in.x);
  }
  for (AltTable& table : prog_.alts)
    for (uint32_t& p : table.pcs) p = target(p);
}

void Compiler::annotate() {
  for (CharSet& set : prog_.sets) {
    for (unsigned b = 0; b < 0x80; ++b) set.byte_in[b] = set.ascii.test(b);
    set_firsts_.push_back(first_set_of(set));
  }
  thread_jumps();
  check_leading_dot_loop();
  for (AltTable& table : prog_.alts) {
    for (const uint32_t p : table.pcs) {
      const FirstInfo info = first_info(p);
      table.firsts.push_back(info.first);
      table.nullable.push_back(info.nullable);
    }
    R1_CHECK(table.pcs.size() <= 64, table.pcs.size(), " alternatives in one table");
    for (std::size_t i = 0; i < table.pcs.size(); ++i) {
      const uint64_t bit = uint64_t(1) << i;
      for (unsigned b = 0; b < 128; ++b) {
        if (table.nullable[i] || table.firsts[i].ascii.test(b)) table.ascii_mask[b] |= bit;
        if (table.nullable[i] || table.firsts[i].props.test(b)) table.props_mask[b] |= bit;
      }
      if (table.nullable[i]) table.end_mask |= bit;
    }
  }
  // A greedy loop never needs to give back a code point when what follows it cannot fail (it
  // reaches the end through no assertion, so the match ends before any backtracking), or when it
  // must consume first and cannot start with any code point the loop consumes: every position
  // given back would sit before such a code point.
  for (Inst& in : prog_.insts) {
    if (in.op != Op::kLoop) continue;
    const FirstInfo next = first_info(in.x);
    in.flag = next.unconditional ||
              (!next.nullable && !set_firsts_[in.arg].intersects(next.first));
  }
  const FirstInfo whole = first_info(0);
  prog_.start = whole.first;
  prog_.start_nullable = whole.nullable;
}

}  // namespace

Program compile(std::string_view pattern, Tree tree) {
  return Compiler(pattern, std::move(tree)).run();
}

}  // namespace r1::tokenizer::regex_internal
