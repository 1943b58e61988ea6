// tokenizer.json -> pipeline parts. Follows the library's deserializers (serde field names and
// defaults); every unsupported component type or malformed field is an r1::Error that names the
// file and the JSON path, e.g.
//   /m/tokenizer.json: pre_tokenizer.pretokenizers[0].type: unsupported pre-tokenizer "Whitespace"
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hf/strict_json.h"
#include "core/tokenizer/internal/hf_parts.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::hf_internal {
namespace {

using nlohmann::json;

// A JSON value with its path, for messages.
struct At {
  const json& value;
  std::string path;
  const std::string& origin;

  [[noreturn]] void fail(std::string_view what) const {
    throw Error(str_cat(origin, ": ", path.empty() ? "(top level)" : path, ": ", what));
  }
  [[noreturn]] void expected(std::string_view what) const {
    fail(str_cat("expected ", what, ", found ", hf::json_excerpt(value)));
  }
  At operator[](std::string_view key) const {
    static const json kNull;
    const std::string p = path.empty() ? std::string(key) : str_cat(path, ".", key);
    if (!value.is_object()) expected("an object");
    const auto it = value.find(key);
    return {it == value.end() ? kNull : *it, p, origin};
  }
  At operator[](size_t i) const { return {value.at(i), str_cat(path, "[", i, "]"), origin}; }
  bool null() const { return value.is_null(); }
  std::string string() const {
    if (!value.is_string()) expected("a string");
    return value.get<std::string>();
  }
  std::string string_or(std::string fallback) const { return null() ? fallback : string(); }
  bool boolean_or(bool fallback) const {
    if (null()) return fallback;
    if (!value.is_boolean()) expected("true or false");
    return value.get<bool>();
  }
  int64_t integer(int64_t min) const {
    if (!value.is_number_integer() || value.get<int64_t>() < min)
      expected(str_cat("an integer >= ", min));
    return value.get<int64_t>();
  }
  const json& array() const {
    if (!value.is_array()) expected("an array");
    return value;
  }
  char32_t character() const {
    const std::string s = string();
    size_t len = 0;
    if (s.empty() || unicode::decode_utf8(s, 0, &len) == 0 || len != s.size())
      expected("a single character");
    return unicode::decode_utf8(s, 0, &len);
  }
  std::string type(std::string_view family) const {
    const At t = (*this)["type"];
    if (t.null()) t.fail(str_cat("missing the ", family, " type"));
    return t.string();
  }
};

Pattern parse_pattern(const At& at) {
  const At s = at["String"];
  const At r = at["Regex"];
  if (!s.null()) return {s.string(), std::nullopt};
  if (!r.null()) {
    try {
      return {"", Regex::compile(r.string())};
    } catch (const Error& e) {
      r.fail(e.what());
    }
  }
  at.expected("{\"String\": ...} or {\"Regex\": ...}");
}

PrependScheme parse_prepend(const At& at) {
  if (at["prepend_scheme"].null())  // older files: add_prefix_space
    return at["add_prefix_space"].boolean_or(true) ? PrependScheme::Always : PrependScheme::Never;
  const std::string s = at["prepend_scheme"].string();
  if (s == "always") return PrependScheme::Always;
  if (s == "never") return PrependScheme::Never;
  if (s == "first") return PrependScheme::First;
  at["prepend_scheme"].expected("\"always\", \"never\" or \"first\"");
}

Normalizer parse_normalizer(const At& at) {
  const std::string type = at.type("normalizer");
  Normalizer n;
  using K = Normalizer::Kind;
  if (type == "Sequence") {
    const At list = at["normalizers"];
    for (size_t i = 0; i < list.array().size(); ++i) n.children.push_back(parse_normalizer(list[i]));
  } else if (type == "NFC") { n.kind = K::NFC;
  } else if (type == "NFD") { n.kind = K::NFD;
  } else if (type == "NFKC") { n.kind = K::NFKC;
  } else if (type == "NFKD") { n.kind = K::NFKD;
  } else if (type == "Replace") {
    n.kind = K::Replace;
    n.pattern = parse_pattern(at["pattern"]);
    n.content = at["content"].string();
  } else if (type == "Prepend") {
    n.kind = K::Prepend;
    n.content = at["prepend"].string();
  } else if (type == "Strip") {
    n.kind = K::Strip;
    n.strip_left = at["strip_left"].boolean_or(false);
    n.strip_right = at["strip_right"].boolean_or(false);
  } else {
    at["type"].fail(str_cat("unsupported normalizer \"", type,
                            "\" (r1kit has Sequence, NFC, NFD, NFKC, NFKD, Replace, Prepend, Strip)"));
  }
  return n;
}

SplitBehavior parse_behavior(const At& at) {
  const std::string s = at.string();
  if (s == "Removed") return SplitBehavior::Removed;
  if (s == "Isolated") return SplitBehavior::Isolated;
  if (s == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (s == "Contiguous") return SplitBehavior::Contiguous;
  at.expected("one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

PreTokenizer parse_pre_tokenizer(const At& at, bool last) {
  const std::string type = at.type("pre-tokenizer");
  PreTokenizer p;
  using K = PreTokenizer::Kind;
  if (type == "Sequence") {
    const At list = at["pretokenizers"];
    const size_t n = list.array().size();
    for (size_t i = 0; i < n; ++i) p.children.push_back(parse_pre_tokenizer(list[i], last && i + 1 == n));
  } else if (type == "Split") {
    p.kind = K::Split;
    p.pattern = parse_pattern(at["pattern"]);
    p.behavior = parse_behavior(at["behavior"]);
    p.invert = at["invert"].boolean_or(false);
  } else if (type == "ByteLevel") {
    // r1kit merges byte-level words on raw bytes, so nothing may split after the byte mapping.
    if (!last) at["type"].fail("a ByteLevel pre-tokenizer followed by another one is not supported");
    p.kind = K::ByteLevel;
    p.add_prefix_space = at["add_prefix_space"].boolean_or(true);
    p.use_regex = at["use_regex"].boolean_or(true);
  } else if (type == "Digits") {
    p.kind = K::Digits;
    p.individual_digits = at["individual_digits"].boolean_or(false);
  } else if (type == "Metaspace") {
    p.kind = K::Metaspace;
    p.replacement = at["replacement"].character();
    p.prepend_scheme = parse_prepend(at);
    p.split = at["split"].boolean_or(true);
  } else {
    at["type"].fail(str_cat("unsupported pre-tokenizer \"", type,
                            "\" (r1kit has Sequence, Split, ByteLevel, Digits, Metaspace)"));
  }
  return p;
}

Decoder parse_decoder(const At& at) {
  const std::string type = at.type("decoder");
  Decoder d;
  using K = Decoder::Kind;
  if (type == "Sequence") {
    const At list = at["decoders"];
    for (size_t i = 0; i < list.array().size(); ++i) d.children.push_back(parse_decoder(list[i]));
  } else if (type == "ByteLevel") { d.kind = K::ByteLevel;
  } else if (type == "ByteFallback") { d.kind = K::ByteFallback;
  } else if (type == "Fuse") { d.kind = K::Fuse;
  } else if (type == "Replace") {
    d.kind = K::Replace;
    d.pattern = parse_pattern(at["pattern"]);
    d.content = at["content"].string();
  } else if (type == "Strip") {
    d.kind = K::Strip;
    d.strip_char = at["content"].character();
    d.strip_start = static_cast<size_t>(at["start"].integer(0));
    d.strip_stop = static_cast<size_t>(at["stop"].integer(0));
  } else if (type == "Metaspace") {
    d.kind = K::Metaspace;
    d.replacement = at["replacement"].character();
    d.prepend_scheme = parse_prepend(at);
  } else {
    at["type"].fail(str_cat("unsupported decoder \"", type,
                            "\" (r1kit has Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace)"));
  }
  return d;
}

PostProcessor parse_post_processor(const At& at) {
  const std::string type = at.type("post-processor");
  PostProcessor p;
  using K = PostProcessor::Kind;
  if (type == "Sequence") {
    const At list = at["processors"];
    for (size_t i = 0; i < list.array().size(); ++i) p.children.push_back(parse_post_processor(list[i]));
  } else if (type == "ByteLevel") {
    p.kind = K::ByteLevel;
  } else if (type == "TemplateProcessing") {
    p.kind = K::Template;
    const At single = at["single"];
    const At specials = at["special_tokens"];
    for (size_t i = 0; i < single.array().size(); ++i) {
      const At item = single[i];
      if (!item["Sequence"].null()) {
        const std::string seq = item["Sequence"]["id"].string();
        if (seq != "A") item["Sequence"]["id"].expected("\"A\" in a single-sequence template");
        p.single.push_back({true, {}});
        continue;
      }
      const At name = item["SpecialToken"]["id"];
      const At special = specials[name.string()];
      if (special.null()) name.fail(str_cat("special token \"", name.string(), "\" is not in special_tokens"));
      PostProcessor::Item out;
      const At ids = special["ids"];
      for (size_t k = 0; k < ids.array().size(); ++k)
        out.ids.push_back(static_cast<TokenId>(ids[k].integer(0)));
      p.single.push_back(std::move(out));
    }
  } else {
    at["type"].fail(str_cat("unsupported post-processor \"", type,
                            "\" (r1kit has Sequence, ByteLevel, TemplateProcessing)"));
  }
  return p;
}

std::unique_ptr<Bpe> parse_model(const At& at) {
  if (at.null()) at.fail("missing: a tokenizer.json needs a model");
  const std::string type = at.type("model");
  if (type != "BPE")
    at["type"].fail(str_cat("unsupported model \"", type, "\" (r1kit has BPE)"));
  const At dropout = at["dropout"];
  if (!dropout.null() && (!dropout.value.is_number() || dropout.value.get<double>() != 0.0))
    dropout.fail("BPE dropout is a training-time randomization that r1kit does not support");
  Bpe::Options options;
  if (!at["unk_token"].null()) options.unk_token = at["unk_token"].string();
  // Subword prefixes/suffixes (WordPiece-style BPE, e.g. "##", "</w>") are not used by the model
  // families r1kit serves, and the library's handling of them could not be checked here.
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!at[key].string_or("").empty())
      at[key].fail("BPE subword prefixes and suffixes are not supported by r1kit");
  options.fuse_unk = at["fuse_unk"].boolean_or(false);
  options.byte_fallback = at["byte_fallback"].boolean_or(false);
  options.ignore_merges = at["ignore_merges"].boolean_or(false);

  const At vocab_at = at["vocab"];
  if (!vocab_at.value.is_object()) vocab_at.expected("an object of token -> id");
  StringMap<TokenId> vocab;
  vocab.reserve(vocab_at.value.size());
  for (const auto& [token, id] : vocab_at.value.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      vocab_at[token].expected("a token id (an integer >= 0)");
    vocab.emplace(token, static_cast<TokenId>(id.get<int64_t>()));
  }
  const At merges_at = at["merges"];
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(merges_at.array().size());
  for (size_t i = 0; i < merges_at.value.size(); ++i) {
    const json& m = merges_at.value[i];
    if (m.is_string()) {
      // The legacy form "a b": exactly one space (models/bpe/serialization.rs).
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        merges_at[i].expected("\"<left> <right>\" with exactly one space");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      merges_at[i].expected("\"<left> <right>\" or [\"<left>\", \"<right>\"]");
    }
  }
  return std::make_unique<Bpe>(std::move(vocab), merges, std::move(options), at.origin);
}

// tokenizer/added_vocabulary.rs add_tokens: an added token whose content is in the model's vocab
// takes that id; the others take ids from the model's vocab size on, in file order.
void add_tokens(Parts& parts, const At& list) {
  int64_t next_id = static_cast<int64_t>(parts.model->vocab_len());
  for (size_t i = 0; i < list.array().size(); ++i) {
    const At t = list[i];
    AddedToken token;
    token.content = t["content"].string();
    if (token.content.empty()) continue;
    token.single_word = t["single_word"].boolean_or(false);
    token.lstrip = t["lstrip"].boolean_or(false);
    token.rstrip = t["rstrip"].boolean_or(false);
    token.special = t["special"].boolean_or(false);
    token.normalized = t["normalized"].boolean_or(!token.special);
    if (const auto it = parts.added_by_content.find(token.content); it != parts.added_by_content.end()) {
      token.id = parts.added[static_cast<size_t>(it->second)].id;
      parts.added[static_cast<size_t>(it->second)] = token;
    } else {
      if (const auto id = parts.model->token_to_id(token.content)) {
        token.id = *id;
      } else {
        token.id = static_cast<TokenId>(next_id++);
      }
      parts.added_by_content.emplace(token.content, static_cast<int>(parts.added.size()));
      parts.added.push_back(token);
    }
  }
  for (size_t i = 0; i < parts.added.size(); ++i) {
    AddedToken& token = parts.added[i];
    token.match = token.normalized && parts.normalizer ? normalize(*parts.normalizer, token.content)
                                                       : token.content;
    parts.added_by_id[token.id] = static_cast<int>(i);
  }
}

}  // namespace

std::unique_ptr<Parts> load_parts(std::string_view text, std::string origin) {
  auto parts = std::make_unique<Parts>();
  parts->origin = std::move(origin);
  parts->json_text = std::string(text);
  const json doc = hf::parse_json(text, parts->origin);
  const At root{doc, "", parts->origin};
  if (!doc.is_object()) root.expected("a JSON object");
  if (!root["version"].null() && root["version"].string() != "1.0")
    root["version"].expected("\"1.0\"");
  // Truncation and padding settings change what the library's encode returns; r1kit's callers
  // truncate and pad themselves, so a file that sets them is refused rather than half-honoured.
  for (const char* key : {"truncation", "padding"})
    if (!root[key].null())
      root[key].fail("truncation and padding inside tokenizer.json are not supported (set it to null)");
  if (!root["normalizer"].null()) parts->normalizer = parse_normalizer(root["normalizer"]);
  if (!root["pre_tokenizer"].null())
    parts->pre_tokenizer = parse_pre_tokenizer(root["pre_tokenizer"], true);
  parts->model = parse_model(root["model"]);
  if (!root["post_processor"].null())
    parts->post_processor = parse_post_processor(root["post_processor"]);
  if (!root["decoder"].null()) parts->decoder = parse_decoder(root["decoder"]);
  if (!root["added_tokens"].null()) add_tokens(*parts, root["added_tokens"]);
  parts->raw_matcher.build(parts->added, false);
  parts->normalized_matcher.build(parts->added, true);
  int64_t max_id = static_cast<int64_t>(parts->model->vocab_len()) - 1;
  for (const AddedToken& t : parts->added) max_id = std::max<int64_t>(max_id, t.id);
  parts->vocab_size = max_id + 1;
  return parts;
}

}  // namespace r1::tokenizer::hf_internal
