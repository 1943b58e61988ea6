// jinja2's filters over sequences and mappings (jinja2/filters.py): the ones that return
// generators in jinja2 (map, select, reject, unique, batch, slice, items, reverse of a list) return
// one-pass iterators here too, so that printing, len() and a second pass behave as in Python.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {
namespace {

// ignore_case: lower-cases strings, leaves the rest.
Value ignore_case(const Value& v) { return v.is_str() ? Value::str(py::lower(v.text())) : v; }

// _prepare_attribute_parts: "a.0.b" -> ["a", 0, "b"]; an int attribute is one part.
std::vector<Value> attribute_parts(const std::optional<Value>& attr) {
  std::vector<Value> parts;
  if (!attr || attr->is_none()) return parts;
  if (!attr->is_str()) return {*attr};
  const std::string& s = attr->text();
  std::size_t i = 0;
  while (true) {
    const std::size_t dot = s.find('.', i);
    const std::string p = s.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    const bool digits =
        !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
    parts.push_back(digits ? Value::integer(std::stoll(p)) : Value::str(p));
    if (dot == std::string::npos) break;
    i = dot + 1;
  }
  return parts;
}

// make_attrgetter: item[part0][part1]..., with `default` for an Undefined result.
Value get_path(Value item, const std::vector<Value>& parts,
               const std::optional<Value>& dflt = std::nullopt) {
  for (const Value& p : parts) {
    item = get_item(item, p);
    if (dflt && !dflt->is_none() && item.is_undefined()) item = *dflt;
  }
  return item;
}

bool flag(const std::optional<Value>& v) { return v && truthy(*v); }

Value f_length(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "length", {});
  return Value::integer(length(v));
}

Value f_list(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "list", {});
  return Value::seq(iterate(v));
}

Value f_first(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "first", {});
  if (v.kind == Kind::Seq && v.as_seq().kind == SeqKind::Iterator) {
    SeqObj& s = v.as_seq();
    if (!s.deferred_error.empty()) fail(s.deferred_error);
    if (s.pos < s.items.size()) return s.items[s.pos++];
  } else {
    const std::vector<Value> items = iterate(v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

// reversed(v) as a list, or a TypeError like Python's.
std::vector<Value> reversed_items(const Value& v) {
  if (v.kind == Kind::Seq && v.as_seq().kind == SeqKind::Iterator)
    fail("'" + type_name(v) + "' object is not reversible");
  if (v.kind != Kind::Undefined && v.kind != Kind::Str && v.kind != Kind::Seq &&
      v.kind != Kind::Dict) {
    fail("'" + type_name(v) + "' object is not reversible");
  }
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  return items;
}

Value f_last(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "last", {});
  const std::vector<Value> items = reversed_items(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.front();
}

Value f_reverse(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "reverse", {});
  if (v.is_str()) {
    std::u32string s = py::to_u32(v.text());
    std::reverse(s.begin(), s.end());
    return Value::str(py::to_utf8(s), v.markup);
  }
  if (v.kind == Kind::Seq &&
      v.as_seq().kind == SeqKind::Iterator) {  // reversed() fails: list(value)[::-1]
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::seq(std::move(items));
  }
  if (v.kind != Kind::Undefined && v.kind != Kind::Seq && v.kind != Kind::Dict)
    fail("argument must be iterable");
  const char* name = v.kind == Kind::Dict                ? "dict_reversekeyiterator"
                     : v.kind == Kind::Undefined         ? "reversed"
                     : v.as_seq().kind == SeqKind::Range ? "range_iterator"
                                                         : "list_reverseiterator";
  return Value::iterator(reversed_items(v), name);
}

Value f_join(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "join", {"d", "attribute"});
  const std::string sep = a[0] ? to_str(*a[0]) : "";
  const std::vector<Value> parts = attribute_parts(a[1]);
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += sep;
    out += to_str(a[1] ? get_path(item, parts) : item);
    first = false;
  }
  return Value::str(std::move(out));
}

Value f_items(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "items", {});
  if (v.is_undefined()) return Value::iterator({}, "generator");
  if (v.kind != Kind::Dict) {  // do_items is a generator: the TypeError comes when it is consumed
    Value it = Value::iterator({}, "generator");
    it.as_seq().deferred_error = "Can only get item pairs from a mapping.";
    return it;
  }
  std::vector<Value> items;
  for (const auto& [k, val] : v.as_dict().items)
    items.push_back(Value::seq({k, val}, SeqKind::Tuple));
  return Value::iterator(std::move(items), "generator");
}

Value f_map(Interp& in, const Value& v, CallArgs& args) {
  std::vector<Value> out;
  if (!truthy(v)) return Value::iterator({}, "generator");
  const auto attr = std::find_if(args.kw.begin(), args.kw.end(),
                                 [](const auto& kv) { return kv.first == "attribute"; });
  if (args.pos.empty() && attr != args.kw.end()) {
    std::optional<Value> dflt;
    for (const auto& [k, val] : args.kw) {
      if (k == "default")
        dflt = val;
      else if (k != "attribute")
        fail("Unexpected keyword argument '" + k + "'");
    }
    const std::vector<Value> parts = attribute_parts(attr->second);
    for (const Value& item : iterate(v)) out.push_back(get_path(item, parts, dflt));
  } else {
    if (args.pos.empty()) fail("map requires a filter argument");
    const std::string name = to_str(args.pos[0]);
    CallArgs rest;
    rest.pos.assign(args.pos.begin() + 1, args.pos.end());
    rest.kw = args.kw;
    for (const Value& item : iterate(v)) {
      CallArgs call = rest;
      out.push_back(in.call_filter(name, item, call));
    }
  }
  return Value::iterator(std::move(out), "generator");
}

// select / reject / selectattr / rejectattr (select_or_reject).
Value select_or_reject(Interp& in, const Value& v, CallArgs& args, bool keep_if, bool lookup_attr) {
  if (!truthy(v)) return Value::iterator({}, "generator");
  std::size_t off = 0;
  std::vector<Value> parts;
  if (lookup_attr) {
    if (args.pos.empty()) fail("Missing parameter for attribute name");
    parts = attribute_parts(args.pos[0]);
    off = 1;
  }
  std::vector<Value> out;
  for (const Value& item : iterate(v)) {
    const Value x = lookup_attr ? get_path(item, parts) : item;
    bool result;
    if (args.pos.size() > off) {
      CallArgs call;
      call.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(off + 1), args.pos.end());
      call.kw = args.kw;
      result = in.call_test(to_str(args.pos[off]), x, call);
    } else {
      result = truthy(x);
    }
    if (result == keep_if) out.push_back(item);
  }
  return Value::iterator(std::move(out), "generator");
}
Value f_select(Interp& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, true, false);
}
Value f_reject(Interp& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, false, false);
}
Value f_selectattr(Interp& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, true, true);
}
Value f_rejectattr(Interp& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, false, true);
}

// sorted(items, key=..., reverse=...): stable, and with reverse the equal items keep their order.
std::vector<Value> sorted_by(std::vector<Value> items, const std::vector<Value>& keys,
                             bool reverse) {
  std::vector<std::size_t> order(items.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return reverse ? less(keys[b], keys[a]) : less(keys[a], keys[b]);
  });
  std::vector<Value> out;
  for (std::size_t k : order) out.push_back(std::move(items[k]));
  return out;
}

Value f_sort(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "sort", {"reverse", "case_sensitive", "attribute"});
  const bool case_sensitive = flag(a[1]);
  // make_multi_attrgetter: comma-separated attributes, each a dotted path; the key is a list.
  std::vector<std::vector<Value>> paths;
  if (a[2] && a[2]->is_str()) {
    const std::string& s = a[2]->text();
    for (std::size_t i = 0;;) {
      const std::size_t comma = s.find(',', i);
      paths.push_back(attribute_parts(
          Value::str(s.substr(i, comma == std::string::npos ? std::string::npos : comma - i))));
      if (comma == std::string::npos) break;
      i = comma + 1;
    }
  } else {
    paths.push_back(attribute_parts(a[2]));
  }
  std::vector<Value> items = iterate(v), keys;
  for (const Value& item : items) {
    std::vector<Value> key;
    for (const auto& p : paths) {
      const Value k = get_path(item, p);
      key.push_back(case_sensitive ? k : ignore_case(k));
    }
    keys.push_back(Value::seq(std::move(key)));
  }
  return Value::seq(sorted_by(std::move(items), keys, flag(a[0])));
}

Value f_dictsort(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "dictsort", {"case_sensitive", "by", "reverse"});
  const std::string by = a[1] ? to_str(*a[1]) : "key";
  if (by != "key" && by != "value") fail("You can only sort by either \"key\" or \"value\"");
  if (v.kind != Kind::Dict) fail("'" + type_name(v) + "' object has no attribute 'items'");
  std::vector<Value> items, keys;
  for (const auto& [k, val] : v.as_dict().items) {
    items.push_back(Value::seq({k, val}, SeqKind::Tuple));
    const Value& key = by == "key" ? k : val;
    keys.push_back(flag(a[0]) ? key : ignore_case(key));
  }
  return Value::seq(sorted_by(std::move(items), keys, flag(a[2])));
}

Value f_unique(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "unique", {"case_sensitive", "attribute"});
  const std::vector<Value> parts = attribute_parts(a[1]);
  std::vector<Value> seen, out;
  for (const Value& item : iterate(v)) {
    Value key = get_path(item, parts);
    if (!flag(a[0])) key = ignore_case(key);
    if (key.kind == Kind::Dict || (key.kind == Kind::Seq && key.as_seq().kind == SeqKind::List))
      fail("unhashable type: '" + type_name(key) + "'");
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equal(s, key); })) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::iterator(std::move(out), "generator");
}

Value min_or_max(const Value& v, CallArgs& args, bool is_max) {
  const auto a = bind_args(args, is_max ? "max" : "min", {"case_sensitive", "attribute"});
  const std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const std::vector<Value> parts = attribute_parts(a[1]);
  const auto key = [&](const Value& item) {
    const Value k = get_path(item, parts);
    return flag(a[0]) ? k : ignore_case(k);
  };
  std::size_t best = 0;
  Value best_key = key(items[0]);
  for (std::size_t k = 1; k < items.size(); ++k) {
    Value kk = key(items[k]);
    if (is_max ? less(best_key, kk) : less(kk, best_key)) best = k, best_key = std::move(kk);
  }
  return items[best];
}
Value f_max(Interp&, const Value& v, CallArgs& a) { return min_or_max(v, a, true); }
Value f_min(Interp&, const Value& v, CallArgs& a) { return min_or_max(v, a, false); }

Value f_sum(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "sum", {"attribute", "start"});
  const std::vector<Value> parts = attribute_parts(a[0]);
  Value total = a[1].value_or(Value::integer(0));
  for (const Value& item : iterate(v))
    total = binary_op(BinOp::Add, total, a[0] ? get_path(item, parts) : item);
  return total;
}

Value f_batch(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "batch", {"linecount", "fill_with"}, 1);
  const std::int64_t n = a[0]->i;
  if (n <= 0) fail("batch size must be positive");
  std::vector<Value> out, tmp;
  for (const Value& item : iterate(v)) {
    if (static_cast<std::int64_t>(tmp.size()) == n)
      out.push_back(Value::seq(std::move(tmp))), tmp.clear();
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (a[1] && !a[1]->is_none())
      while (static_cast<std::int64_t>(tmp.size()) < n) tmp.push_back(*a[1]);
    out.push_back(Value::seq(std::move(tmp)));
  }
  return Value::iterator(std::move(out), "generator");
}

Value f_slice(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "slice", {"slices", "fill_with"}, 1);
  const std::vector<Value> seq = iterate(v);
  const std::int64_t slices = a[0]->i;
  if (slices <= 0) fail("integer division or modulo by zero");
  const auto len = static_cast<std::int64_t>(seq.size());
  const std::int64_t per = len / slices, extra = len % slices;
  std::int64_t offset = 0;
  std::vector<Value> out;
  for (std::int64_t n = 0; n < slices; ++n) {
    const std::int64_t start = offset + n * per;
    if (n < extra) ++offset;
    const std::int64_t end = offset + (n + 1) * per;
    std::vector<Value> tmp(seq.begin() + start, seq.begin() + end);
    if (a[1] && !a[1]->is_none() && n >= extra) tmp.push_back(*a[1]);
    out.push_back(Value::seq(std::move(tmp)));
  }
  return Value::iterator(std::move(out), "generator");
}

Value f_groupby(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "groupby", {"attribute", "default", "case_sensitive"}, 1);
  const std::vector<Value> parts = attribute_parts(a[0]);
  const bool case_sensitive = flag(a[2]);
  std::vector<Value> items = iterate(v), keys;
  for (const Value& item : items) {
    const Value k = get_path(item, parts, a[1]);
    keys.push_back(case_sensitive ? k : ignore_case(k));
  }
  std::vector<std::size_t> order(items.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return less(keys[x], keys[y]); });
  std::vector<Value> out;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    std::vector<Value> group;
    while (j < order.size() && equal(keys[order[j]], keys[order[i]]))
      group.push_back(items[order[j++]]);
    // Without case_sensitive the grouper is the first item's original value.
    Value grouper = case_sensitive ? keys[order[i]] : get_path(group.front(), parts, a[1]);
    Value t = Value::seq({grouper, Value::seq(std::move(group))}, SeqKind::Tuple);
    t.as_seq().type_name = "_GroupTuple";
    out.push_back(std::move(t));
    i = j;
  }
  return Value::seq(std::move(out));
}

const std::unordered_map<std::string_view, FilterFn>& seq_filters() {
  static const std::unordered_map<std::string_view, FilterFn> k = {
      {"batch", f_batch},     {"count", f_length},    {"dictsort", f_dictsort},
      {"first", f_first},     {"groupby", f_groupby}, {"items", f_items},
      {"join", f_join},       {"last", f_last},       {"length", f_length},
      {"list", f_list},       {"map", f_map},         {"max", f_max},
      {"min", f_min},         {"reject", f_reject},   {"rejectattr", f_rejectattr},
      {"reverse", f_reverse}, {"select", f_select},   {"selectattr", f_selectattr},
      {"slice", f_slice},     {"sort", f_sort},       {"sum", f_sum},
      {"unique", f_unique}};
  return k;
}

}  // namespace

FilterFn find_sequence_filter(std::string_view name) {
  const auto it = seq_filters().find(name);
  return it != seq_filters().end() ? it->second : nullptr;
}

}  // namespace r1::tokenizer::jinja
