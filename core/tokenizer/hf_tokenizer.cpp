// Encoding and decoding through a tokenizer.json pipeline, in the library's order
// (tokenizer/mod.rs encode_single_sequence, added_vocabulary.rs extract_and_normalize):
//   1. split out added tokens that match the raw text (normalized: false),
//   2. normalize each remaining segment, then split out added tokens matching the normalized text,
//   3. pre-tokenize each remaining piece, 4. BPE each pre-token, 5. post-process (BOS/EOS).
#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/internal/hf_parts.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer {
namespace hf_internal {
namespace {

// \w of Rust's regex crate (Alphabetic, marks, decimal digits, connector punctuation, joiners),
// approximated by general categories: Other_Alphabetic symbols such as circled letters differ.
bool is_word_char(char32_t c) {
  using unicode::Category;
  if (unicode::is_letter(c) || unicode::is_mark(c)) return true;
  const Category cat = unicode::category(c);
  return cat == Category::Nd || cat == Category::Nl || cat == Category::Pc || c == 0x200C ||
         c == 0x200D;
}

char32_t last_char(std::string_view s, size_t end, size_t* start) {
  size_t b = end - 1;
  while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  size_t len = 0;
  *start = b;
  return unicode::decode_utf8(s, b, &len);
}

}  // namespace

void TokenMatcher::build(const std::vector<AddedToken>& tokens, bool normalized) {
  nodes_.assign(1, Node{});
  first_.fill(false);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].normalized != normalized || tokens[i].match.empty()) continue;
    int node = 0;
    for (const char ch : tokens[i].match) {
      const auto c = static_cast<unsigned char>(ch);
      auto& next = nodes_[static_cast<size_t>(node)].next;
      const auto it = std::find_if(next.begin(), next.end(), [&](const auto& e) { return e.first == c; });
      if (it != next.end()) {
        node = it->second;
      } else {
        next.emplace_back(c, static_cast<int>(nodes_.size()));
        node = static_cast<int>(nodes_.size());
        nodes_.emplace_back();
      }
    }
    // Two tokens with the same text: the library's trie keeps the last one added.
    nodes_[static_cast<size_t>(node)].token = static_cast<int>(i);
    first_[static_cast<unsigned char>(tokens[i].match[0])] = true;
  }
}

bool TokenMatcher::find(std::string_view text, size_t from, size_t* begin, size_t* end,
                        int* token) const {
  for (size_t i = from; i < text.size(); ++i) {
    if (!first_[static_cast<unsigned char>(text[i])]) continue;
    int node = 0, best = -1;
    size_t best_end = 0;
    for (size_t j = i; j < text.size(); ++j) {
      const auto c = static_cast<unsigned char>(text[j]);
      const auto& next = nodes_[static_cast<size_t>(node)].next;
      const auto it = std::find_if(next.begin(), next.end(), [&](const auto& e) { return e.first == c; });
      if (it == next.end()) break;
      node = it->second;
      if (nodes_[static_cast<size_t>(node)].token >= 0) {
        best = nodes_[static_cast<size_t>(node)].token;
        best_end = j + 1;
      }
    }
    if (best >= 0) {
      *begin = i;
      *end = best_end;
      *token = best;
      return true;
    }
  }
  return false;
}

namespace {

struct Segment {
  size_t begin, end;
  int token;  // index into Parts::added, or -1 for text
};

// added_vocabulary.rs find_matches: leftmost-longest matches, then single_word / lstrip / rstrip.
std::vector<Segment> split_added(const Parts& parts, const TokenMatcher& matcher, std::string_view s) {
  std::vector<Segment> out;
  size_t start_offset = 0;
  size_t b = 0, e = 0;
  int token = -1;
  for (size_t from = 0; !matcher.empty() && matcher.find(s, from, &b, &e, &token); from = e) {
    const AddedToken& t = parts.added[static_cast<size_t>(token)];
    size_t start = b, stop = e;
    if (t.single_word) {
      size_t cs = 0;
      const bool start_space = start == 0 || !is_word_char(last_char(s, start, &cs));
      size_t len = 0;
      const bool stop_space = stop == s.size() || !is_word_char(unicode::decode_utf8(s, stop, &len));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t new_start = start;
      size_t cs = 0;
      while (new_start > 0 && unicode::is_whitespace(last_char(s, new_start, &cs))) new_start = cs;
      start = std::max(new_start, start_offset);
    }
    if (t.rstrip) {
      size_t len = 0;
      while (stop < s.size() && unicode::is_whitespace(unicode::decode_utf8(s, stop, &len))) stop += len;
    }
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, token});
    start_offset = stop;
  }
  if (start_offset != s.size()) out.push_back({start_offset, s.size(), -1});
  return out;
}

}  // namespace
}  // namespace hf_internal

using namespace hf_internal;

HfTokenizer::HfTokenizer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
HfTokenizer::~HfTokenizer() = default;

std::shared_ptr<const HfTokenizer> HfTokenizer::from_json(std::string_view json, std::string origin) {
  return std::make_shared<const HfTokenizer>(load_parts(json, std::move(origin)));
}

std::shared_ptr<const HfTokenizer> HfTokenizer::from_file(const std::filesystem::path& path) {
  return from_json(core::read_file(path), path.string());
}

std::vector<TokenId> HfTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  if (const size_t bad = unicode::find_invalid_utf8(text); bad != std::string_view::npos)
    throw Error(str_cat("tokenizer input is not valid UTF-8 (byte ", bad, ")"));
  const Parts& p = *parts_;
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<Piece> pieces;
  for (const Segment& seg : split_added(p, p.raw_matcher, text)) {
    if (seg.token >= 0) {
      ids.push_back(p.added[static_cast<size_t>(seg.token)].id);
      continue;
    }
    std::string normalized(text.substr(seg.begin, seg.end - seg.begin));
    if (p.normalizer) normalized = normalize(*p.normalizer, std::move(normalized));
    for (const Segment& sub : split_added(p, p.normalized_matcher, normalized)) {
      if (sub.token >= 0) {
        ids.push_back(p.added[static_cast<size_t>(sub.token)].id);
        continue;
      }
      if (sub.begin == sub.end) continue;
      pieces.clear();
      pieces.push_back({normalized.substr(sub.begin, sub.end - sub.begin), seg.begin == 0 && sub.begin == 0});
      const bool raw_bytes = p.pre_tokenizer ? pre_tokenize(*p.pre_tokenizer, pieces) : false;
      for (const Piece& piece : pieces) p.model->tokenize(piece.text, raw_bytes, ids);
    }
  }
  if (add_special_tokens && p.post_processor) post_process(*p.post_processor, ids);
  return ids;
}

std::string HfTokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
  const Parts& p = *parts_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const TokenId id : ids) {
    if (const auto it = p.added_by_id.find(id); it != p.added_by_id.end()) {
      const AddedToken& t = p.added[static_cast<size_t>(it->second)];
      // The library looks specialness up by the (possibly normalized) text it decodes.
      if (skip_special_tokens) {
        const auto sp = p.added_by_content.find(t.match);
        if (sp != p.added_by_content.end() && p.added[static_cast<size_t>(sp->second)].special) continue;
      }
      tokens.push_back(t.match);
    } else if (const std::string* s = p.model->id_to_token(id)) {
      if (skip_special_tokens) {
        const auto sp = p.added_by_content.find(*s);
        if (sp != p.added_by_content.end() && p.added[static_cast<size_t>(sp->second)].special) continue;
      }
      tokens.push_back(*s);
    }
  }
  std::string out;
  if (!p.decoder) {
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const std::string& piece : decode_chain(*p.decoder, std::move(tokens))) out += piece;
  return out;
}

std::optional<TokenId> HfTokenizer::token_to_id(std::string_view token) const {
  if (const auto it = parts_->added_by_content.find(token); it != parts_->added_by_content.end())
    return parts_->added[static_cast<size_t>(it->second)].id;
  return parts_->model->token_to_id(token);
}

std::optional<std::string> HfTokenizer::id_to_token(TokenId id) const {
  if (const auto it = parts_->added_by_id.find(id); it != parts_->added_by_id.end())
    return parts_->added[static_cast<size_t>(it->second)].match;
  if (const std::string* s = parts_->model->id_to_token(id)) return *s;
  return std::nullopt;
}

int64_t HfTokenizer::vocab_size() const { return parts_->vocab_size; }

bool HfTokenizer::is_special(TokenId id) const {
  const auto it = parts_->added_by_id.find(id);
  return it != parts_->added_by_id.end() && parts_->added[static_cast<size_t>(it->second)].special;
}

void HfTokenizer::save(const std::filesystem::path& dir) const {
  core::write_file_atomic(dir / "tokenizer.json", parts_->json_text);
}

}  // namespace r1::tokenizer
