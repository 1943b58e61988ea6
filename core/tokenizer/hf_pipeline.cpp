// Normalizers, pre-tokenizers, decoders and post-processors of tokenizer.json pipelines, each as
// the corresponding tokenizers 0.23 type computes it (normalizers/, pre_tokenizers/, decoders/,
// processors/). Only ids and text are produced: r1kit does not track offsets through them.
#include <algorithm>

#include "core/error.h"
#include "core/tokenizer/internal/hf_parts.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::hf_internal {

void Pattern::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  if (regex) {
    regex->find_all(text, out);
    return;
  }
  if (literal.empty()) return;  // the library matches nothing for an empty string pattern
  for (size_t at = text.find(literal); at != std::string_view::npos;
       at = text.find(literal, at + literal.size()))
    out.emplace_back(at, at + literal.size());
}

namespace {

// (range, is_match) pieces covering `text`, as pattern.rs find_matches returns them.
std::vector<std::pair<std::pair<size_t, size_t>, bool>> find_matches(const Pattern& pattern,
                                                                    std::string_view text) {
  std::vector<std::pair<size_t, size_t>> found;
  pattern.find_all(text, found);
  std::vector<std::pair<std::pair<size_t, size_t>, bool>> out;
  size_t prev = 0;
  for (const auto& [b, e] : found) {
    if (prev != b) out.push_back({{prev, b}, false});
    out.push_back({{b, e}, true});
    prev = e;
  }
  if (prev != text.size()) out.push_back({{prev, text.size()}, false});
  return out;
}

std::string replace_all(const Pattern& pattern, std::string_view text, std::string_view content) {
  std::string out;
  for (const auto& [range, is_match] : find_matches(pattern, text)) {
    if (is_match) out += content; else out += text.substr(range.first, range.second - range.first);
  }
  return out;
}

// NormalizedString::split with a delimiter behaviour (tokenizer/normalizer.rs).
std::vector<std::pair<size_t, size_t>> split_ranges(
    std::vector<std::pair<std::pair<size_t, size_t>, bool>> matches, SplitBehavior behavior) {
  std::vector<std::pair<size_t, size_t>> out;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const auto& [r, m] : matches) out.push_back(r);
      break;
    case SplitBehavior::Removed:
      for (const auto& [r, m] : matches)
        if (!m) out.push_back(r);
      break;
    case SplitBehavior::Contiguous: {
      bool previous = false;
      for (const auto& [r, m] : matches) {
        if (m == previous && !out.empty()) out.back().second = r.second; else out.push_back(r);
        previous = m;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool previous = false;
      for (const auto& [r, m] : matches) {
        if (m && !previous && !out.empty()) out.back().second = r.second; else out.push_back(r);
        previous = m;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->second && !previous && !out.empty()) out.back().first = it->first.first;
        else out.push_back(it->first);
        previous = it->second;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  return out;
}

// Applies `split` to every piece; the pieces it returns replace it (empty ones dropped).
template <class F>
void split_each(std::vector<Piece>& pieces, F&& split) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  std::vector<std::pair<size_t, size_t>> ranges;
  for (Piece& piece : pieces) {
    ranges.clear();
    split(piece, ranges);
    for (const auto& [b, e] : ranges) {
      if (b == e) continue;
      out.push_back({piece.text.substr(b, e - b), piece.at_origin && b == 0});
    }
  }
  pieces.swap(out);
}

// ByteLevel's own split (use_regex), compiled once.
const Pattern& gpt2_pattern() {
  static const Pattern pattern{"", Regex::compile(
      R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)")};
  return pattern;
}

void replace_char(std::string& s, char32_t from, std::string_view to) {
  std::string f;
  unicode::append_utf8(f, from);
  std::string out;
  size_t prev = 0;
  for (size_t at = s.find(f); at != std::string::npos; at = s.find(f, prev)) {
    out.append(s, prev, at - prev);
    out += to;
    prev = at + f.size();
  }
  out.append(s, prev);
  s.swap(out);
}

}  // namespace

std::string normalize(const Normalizer& n, std::string text) {
  switch (n.kind) {
    case Normalizer::Kind::Sequence:
      for (const Normalizer& child : n.children) text = normalize(child, std::move(text));
      return text;
    case Normalizer::Kind::NFC: return unicode::normalize(text, unicode::Form::NFC);
    case Normalizer::Kind::NFD: return unicode::normalize(text, unicode::Form::NFD);
    case Normalizer::Kind::NFKC: return unicode::normalize(text, unicode::Form::NFKC);
    case Normalizer::Kind::NFKD: return unicode::normalize(text, unicode::Form::NFKD);
    case Normalizer::Kind::Replace: return replace_all(n.pattern, text, n.content);
    case Normalizer::Kind::Prepend:
      // normalizers/prepend.rs: only a non-empty string gets the prefix.
      return text.empty() ? text : n.content + text;
    case Normalizer::Kind::Strip: {
      size_t b = 0, e = text.size();
      size_t len = 0;
      if (n.strip_left)
        while (b < e && unicode::is_whitespace(unicode::decode_utf8(text, b, &len))) b += len;
      if (n.strip_right) {
        while (e > b) {
          size_t start = e - 1;
          while (start > b && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
          if (!unicode::is_whitespace(unicode::decode_utf8(text, start, &len))) break;
          e = start;
        }
      }
      return text.substr(b, e - b);
    }
  }
  R1_CHECK(false, "unhandled normalizer kind");
  return text;
}

const std::array<char32_t, 256>& byte_to_char() {
  // pre_tokenizers/byte_level.rs bytes_char(): printable bytes map to themselves, the others to
  // U+0100 onwards in byte order.
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t n = 0;
    for (int b = 0; b < 256; ++b) t[static_cast<size_t>(b)] = printable(b) ? char32_t(b) : 256 + n++;
    return t;
  }();
  return table;
}

int char_to_byte(char32_t c) {
  static const std::array<int16_t, 512> inverse = [] {
    std::array<int16_t, 512> t;
    t.fill(-1);
    for (int b = 0; b < 256; ++b) t[byte_to_char()[static_cast<size_t>(b)]] = static_cast<int16_t>(b);
    return t;
  }();
  return c < 512 ? inverse[c] : -1;
}

bool pre_tokenize(const PreTokenizer& p, std::vector<Piece>& pieces) {
  switch (p.kind) {
    case PreTokenizer::Kind::Sequence: {
      bool raw_bytes = false;
      for (const PreTokenizer& child : p.children) raw_bytes = pre_tokenize(child, pieces);
      return raw_bytes;
    }
    case PreTokenizer::Kind::Split:
      split_each(pieces, [&](Piece& piece, std::vector<std::pair<size_t, size_t>>& out) {
        auto matches = find_matches(p.pattern, piece.text);
        if (p.invert)
          for (auto& m : matches) m.second = !m.second;
        out = split_ranges(std::move(matches), p.behavior);
      });
      return false;
    case PreTokenizer::Kind::Digits:
      split_each(pieces, [&](Piece& piece, std::vector<std::pair<size_t, size_t>>& out) {
        std::vector<std::pair<std::pair<size_t, size_t>, bool>> matches;
        size_t len = 0;
        for (size_t i = 0; i < piece.text.size(); i += len) {
          const bool digit = unicode::is_number(unicode::decode_utf8(piece.text, i, &len));
          matches.push_back({{i, i + len}, digit});
        }
        out = split_ranges(std::move(matches), p.individual_digits ? SplitBehavior::Isolated
                                                                   : SplitBehavior::Contiguous);
      });
      return false;
    case PreTokenizer::Kind::Metaspace: {
      std::string rep;
      unicode::append_utf8(rep, p.replacement);
      const Pattern pattern{rep, std::nullopt};
      split_each(pieces, [&](Piece& piece, std::vector<std::pair<size_t, size_t>>& out) {
        replace_char(piece.text, U' ', rep);
        const bool prepend = p.prepend_scheme == PrependScheme::Always ||
                             (p.prepend_scheme == PrependScheme::First && piece.at_origin);
        if (prepend && piece.text.compare(0, rep.size(), rep) != 0) piece.text.insert(0, rep);
        if (!p.split) {
          out.emplace_back(0, piece.text.size());
          return;
        }
        out = split_ranges(find_matches(pattern, piece.text), SplitBehavior::MergedWithNext);
      });
      return false;
    }
    case PreTokenizer::Kind::ByteLevel:
      split_each(pieces, [&](Piece& piece, std::vector<std::pair<size_t, size_t>>& out) {
        if (p.add_prefix_space && piece.text.compare(0, 1, " ") != 0) piece.text.insert(0, " ");
        if (!p.use_regex) {
          out.emplace_back(0, piece.text.size());
          return;
        }
        out = split_ranges(find_matches(gpt2_pattern(), piece.text), SplitBehavior::Isolated);
      });
      return true;
  }
  R1_CHECK(false, "unhandled pre-tokenizer kind");
  return false;
}

std::vector<std::string> decode_chain(const Decoder& d, std::vector<std::string> tokens) {
  switch (d.kind) {
    case Decoder::Kind::Sequence:
      for (const Decoder& child : d.children) tokens = decode_chain(child, std::move(tokens));
      return tokens;
    case Decoder::Kind::ByteLevel: {
      // decoders: a token whose characters all map back to bytes contributes those bytes; any
      // other token its UTF-8 as is. The whole is then decoded lossily.
      std::string bytes;
      for (const std::string& t : tokens) {
        const size_t mark = bytes.size();
        size_t len = 0;
        bool all = true;
        for (size_t i = 0; i < t.size() && all; i += len) {
          const int b = char_to_byte(unicode::decode_utf8(t, i, &len));
          if (b < 0) all = false; else bytes.push_back(static_cast<char>(b));
        }
        if (!all) {
          bytes.resize(mark);
          bytes += t;
        }
      }
      std::string out;
      unicode::append_utf8_lossy(out, bytes);
      return {std::move(out)};
    }
    case Decoder::Kind::Replace:
      for (std::string& t : tokens) t = replace_all(d.pattern, t, d.content);
      return tokens;
    case Decoder::Kind::ByteFallback: {
      std::vector<std::string> out;
      std::string pending;
      auto flush = [&] {
        if (pending.empty()) return;
        if (unicode::find_invalid_utf8(pending) == std::string::npos) {
          out.push_back(pending);
        } else {
          for (size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
        }
        pending.clear();
      };
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
      };
      for (std::string& t : tokens) {
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) >= 0 &&
            hex(t[4]) >= 0) {
          pending.push_back(static_cast<char>(hex(t[3]) * 16 + hex(t[4])));
        } else {
          flush();
          out.push_back(std::move(t));
        }
      }
      flush();
      return out;
    }
    case Decoder::Kind::Fuse: {
      std::string all;
      for (const std::string& t : tokens) all += t;
      return {std::move(all)};
    }
    case Decoder::Kind::Strip:
      for (std::string& t : tokens) {
        std::vector<std::pair<size_t, char32_t>> chars;  // (byte offset, char)
        size_t len = 0;
        for (size_t i = 0; i < t.size(); i += len) chars.emplace_back(i, unicode::decode_utf8(t, i, &len));
        size_t start_cut = 0, stop_cut = chars.size();
        for (size_t i = 0; i < std::min(d.strip_start, chars.size()) && chars[i].second == d.strip_char; ++i)
          start_cut = i + 1;
        for (size_t i = 0; i < d.strip_stop && i < chars.size(); ++i) {
          const size_t index = chars.size() - i - 1;
          if (chars[index].second != d.strip_char) break;
          stop_cut = index;
        }
        if (start_cut >= stop_cut) { t.clear(); continue; }
        const size_t b = chars[start_cut].first;
        const size_t e = stop_cut < chars.size() ? chars[stop_cut].first : t.size();
        t = t.substr(b, e - b);
      }
      return tokens;
    case Decoder::Kind::Metaspace:
      for (size_t i = 0; i < tokens.size(); ++i) {
        const bool drop = i == 0 && d.prepend_scheme != PrependScheme::Never;
        replace_char(tokens[i], d.replacement, drop ? "" : " ");
      }
      return tokens;
  }
  R1_CHECK(false, "unhandled decoder kind");
  return tokens;
}

void post_process(const PostProcessor& p, std::vector<TokenId>& ids) {
  switch (p.kind) {
    case PostProcessor::Kind::Sequence:
      for (const PostProcessor& child : p.children) post_process(child, ids);
      return;
    case PostProcessor::Kind::ByteLevel:
      return;  // only trims offsets, which r1kit does not return
    case PostProcessor::Kind::Template: {
      std::vector<TokenId> out;
      for (const PostProcessor::Item& item : p.single) {
        if (item.is_sequence) out.insert(out.end(), ids.begin(), ids.end());
        else out.insert(out.end(), item.ids.begin(), item.ids.end());
      }
      ids.swap(out);
      return;
    }
  }
}

}  // namespace r1::tokenizer::hf_internal
