#include "core/tokenizer/sentencepiece_convert.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace r1::tokenizer {

namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581, sentencepiece's escaped space

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Python's len() of a UTF-8 string: the number of code points.
std::size_t num_code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return !is_continuation(c); }));
}

// Python's re.escape (3.7+): a backslash before each of ()[]{}?*+-|^$\.&~# and whitespace.
// Oniguruma (the `tokenizers` regex engine) reads each of these escapes as the literal character.
std::string regex_escape(std::string_view s) {
  static constexpr std::string_view kSpecial = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
  std::string out;
  for (const char c : s) {
    if (kSpecial.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

ojson replace_string(std::string_view pattern, std::string_view content) {
  return {{"type", "Replace"}, {"pattern", {{"String", pattern}}}, {"content", content}};
}

ojson replace_regex(std::string_view pattern, std::string_view content) {
  return {{"type", "Replace"}, {"pattern", {{"Regex", pattern}}}, {"content", content}};
}

// SentencePieceExtractor's merges: every split of a normal piece into two normal pieces, ranked
// by the merged piece's score (highest first), then its id, then the split's strings. Splits fall
// on code points, as Python slices strings. sentencepiece's BPE merges the adjacent pair whose
// concatenation has the highest score, which this ranking reproduces.
ojson bpe_merges(const SentencePieceModelInfo& model) {
  std::unordered_map<std::string_view, std::size_t> normal;
  for (std::size_t id = 0; id < model.pieces.size(); ++id)
    if (model.pieces[id].type == PieceType::kNormal) normal.emplace(model.pieces[id].piece, id);
  struct Merge {
    float score;
    std::size_t id;
    std::string_view left, right;
  };
  std::vector<Merge> merges;
  for (const auto& [piece, id] : normal) {
    for (std::size_t split = 1; split < piece.size(); ++split) {
      if (is_continuation(piece[split])) continue;
      const std::string_view left = piece.substr(0, split);
      const std::string_view right = piece.substr(split);
      if (normal.count(left) && normal.count(right))
        merges.push_back({model.pieces[id].score, id, left, right});
    }
  }
  // std::string_view compares bytes as unsigned char: UTF-8 byte order is code point order, as
  // Python compares str.
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tuple(-a.score, a.id, a.left, a.right) <
           std::tuple(-b.score, b.id, b.left, b.right);
  });
  ojson out = ojson::array();
  for (const Merge& m : merges) out.push_back({m.left, m.right});
  return out;
}

ojson model_json(const SentencePieceModelInfo& model, bool has_user_defined) {
  if (model.model_type == SentencePieceModelType::kUnigram) {
    ojson vocab = ojson::array();
    int64_t unk_id = 0;
    for (std::size_t id = 0; id < model.pieces.size(); ++id) {
      vocab.push_back({model.pieces[id].piece, model.pieces[id].score});
      if (model.pieces[id].type == PieceType::kUnknown) unk_id = static_cast<int64_t>(id);
    }
    return {{"type", "Unigram"}, {"unk_id", unk_id}, {"vocab", std::move(vocab)},
            {"byte_fallback", model.byte_fallback}};
  }
  ojson vocab = ojson::object();
  for (std::size_t id = 0; id < model.pieces.size(); ++id) vocab[model.pieces[id].piece] = id;
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", model.unk_piece},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", true},
          {"byte_fallback", model.byte_fallback},
          {"ignore_merges", has_user_defined},
          {"vocab", std::move(vocab)},
          {"merges", bpe_merges(model)}};
}

ojson normalizer_json(const SentencePieceModelInfo& model) {
  ojson steps = ojson::array();
  if (!model.precompiled_charsmap.empty())
    steps.push_back({{"type", "Precompiled"},
                     {"precompiled_charsmap", base64(model.precompiled_charsmap)}});
  if (model.remove_extra_whitespaces) {
    // Only spaces: sentencepiece leaves other whitespace such as newlines alone.
    steps.push_back(replace_regex("\\A +| +\\z", ""));
    steps.push_back(replace_regex(" {2,}", " "));
  }
  if (model.escape_whitespaces) steps.push_back(replace_string(" ", kMetaspace));
  // Metaspace does not prepend U+2581 to text that already starts with one; sentencepiece does.
  if (model.add_dummy_prefix)
    steps.push_back(replace_regex(str_cat("\\A", kMetaspace), str_cat(kMetaspace, kMetaspace)));
  return {{"type", "Sequence"}, {"normalizers", std::move(steps)}};
}

ojson pre_tokenizer_json(const SentencePieceModelInfo& model,
                         const std::vector<std::string_view>& user_defined) {
  ojson steps = ojson::array();
  if (model.add_dummy_prefix)
    steps.push_back({{"type", "Metaspace"}, {"replacement", kMetaspace},
                     {"prepend_scheme", "always"}, {"split", false}});
  if (!user_defined.empty()) {
    // Longest first so that a piece is never cut by a shorter one that prefixes it.
    std::vector<std::string_view> sorted = user_defined;
    std::stable_sort(sorted.begin(), sorted.end(), [](std::string_view a, std::string_view b) {
      return num_code_points(a) > num_code_points(b);
    });
    std::string pattern;
    for (const std::string_view piece : sorted) {
      if (!pattern.empty()) pattern += '|';
      pattern += regex_escape(piece);
    }
    steps.push_back({{"type", "Split"}, {"pattern", {{"Regex", pattern}}},
                     {"behavior", "Isolated"}, {"invert", false}});
  }
  if (steps.empty()) return nullptr;
  return {{"type", "Sequence"}, {"pretokenizers", std::move(steps)}};
}

ojson decoder_json(const SentencePieceModelInfo& model) {
  ojson steps = ojson::array();
  steps.push_back(replace_string(kMetaspace, " "));
  if (model.byte_fallback) steps.push_back({{"type", "ByteFallback"}});
  if (model.add_dummy_prefix) {
    // Strip applies to each token: fuse first so only the start of the text loses its space.
    steps.push_back({{"type", "Fuse"}});
    steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  } else if (model.byte_fallback) {
    steps.push_back({{"type", "Fuse"}});
  }
  return {{"type", "Sequence"}, {"decoders", std::move(steps)}};
}

ojson template_piece(const char* kind, const std::string& id, int type_id) {
  return {{kind, {{"id", id}, {"type_id", type_id}}}};
}

// TokenizersBackend.update_post_processor: "<bos>:0 $A:0 <eos>:0" and, for pairs, the same
// around $B:1.
ojson post_processor_json(const SentencePieceModelInfo& model, int bos_id, int eos_id,
                          const SentencePieceJsonOptions& options) {
  ojson special = ojson::object();
  const auto add = [&](ojson& seq, bool on, int id, int type_id) {
    if (!on) return;
    const std::string& piece = model.pieces[static_cast<std::size_t>(id)].piece;
    seq.push_back(template_piece("SpecialToken", piece, type_id));
    special[piece] = {{"id", piece}, {"ids", {id}}, {"tokens", {piece}}};
  };
  ojson single = ojson::array();
  add(single, options.add_bos_token, bos_id, 0);
  single.push_back(template_piece("Sequence", "A", 0));
  add(single, options.add_eos_token, eos_id, 0);
  ojson pair = single;
  add(pair, options.add_bos_token, bos_id, 1);
  pair.push_back(template_piece("Sequence", "B", 1));
  add(pair, options.add_eos_token, eos_id, 1);
  return {{"type", "TemplateProcessing"}, {"single", std::move(single)},
          {"pair", std::move(pair)}, {"special_tokens", std::move(special)}};
}

void check_convertible(const SentencePieceModelInfo& model, int bos_id, int eos_id,
                       const SentencePieceJsonOptions& options, std::string_view origin) {
  const auto refuse = [&](std::string_view what) {
    throw Error(str_cat(origin, ": cannot convert to tokenizer.json: ", what));
  };
  if (model.model_type != SentencePieceModelType::kBpe &&
      model.model_type != SentencePieceModelType::kUnigram)
    refuse(str_cat("expected model_type bpe or unigram, found ", to_string(model.model_type)));
  if (model.treat_whitespace_as_suffix)
    refuse("treat_whitespace_as_suffix is true; the tokenizers library has no equivalent");
  if (model.has_denormalizer_charsmap)
    refuse("the model has a denormalizer charsmap; the tokenizers library has no equivalent");
  const auto n = static_cast<int>(model.pieces.size());
  if (options.add_bos_token && (bos_id < 0 || bos_id >= n))
    refuse(str_cat("add_bos_token is true but the model has no bos piece (bos_id ", bos_id, ")"));
  if (options.add_eos_token && (eos_id < 0 || eos_id >= n))
    refuse(str_cat("add_eos_token is true but the model has no eos piece (eos_id ", eos_id, ")"));
}

}  // namespace

nlohmann::ordered_json sentencepiece_to_tokenizer_json(const SentencePieceModelInfo& model,
                                                       int bos_id, int eos_id,
                                                       const SentencePieceJsonOptions& options,
                                                       std::string_view origin) {
  check_convertible(model, bos_id, eos_id, options, origin);
  std::vector<std::string_view> user_defined;
  ojson added = ojson::array();
  for (std::size_t id = 0; id < model.pieces.size(); ++id) {
    const SentencePieceEntry& p = model.pieces[id];
    if (p.type == PieceType::kUserDefined) user_defined.push_back(p.piece);
    // Control and unknown pieces are special added tokens; user-defined pieces are left to the
    // Split pre-tokenizer, so the dummy prefix is applied once per text, as sentencepiece does.
    if (p.type == PieceType::kControl || p.type == PieceType::kUnknown)
      added.push_back({{"id", id}, {"content", p.piece}, {"single_word", false},
                       {"lstrip", false}, {"rstrip", false}, {"normalized", false},
                       {"special", true}});
  }
  ojson out = ojson::object();
  out["version"] = "1.0";
  out["truncation"] = nullptr;
  out["padding"] = nullptr;
  out["added_tokens"] = std::move(added);
  out["normalizer"] = normalizer_json(model);
  out["pre_tokenizer"] = pre_tokenizer_json(model, user_defined);
  out["post_processor"] = post_processor_json(model, bos_id, eos_id, options);
  out["decoder"] = decoder_json(model);
  out["model"] = model_json(model, !user_defined.empty());
  return out;
}

}  // namespace r1::tokenizer
