// The parts of a tokenizer.json pipeline (tokenizers 0.23's types, one struct per family), shared
// by hf_load.cpp (JSON -> parts), hf_pipeline.cpp (normalizers, pre-tokenizers, decoders,
// post-processors), bpe.cpp (the model) and hf_tokenizer.cpp (encode/decode). Private to core.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/backend.h"
#include "core/tokenizer/regex.h"

namespace r1::tokenizer::hf_internal {

// Hash and equality that look up std::string keys by std::string_view without a copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept;
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, StringEq>;

// A Split/Replace pattern: {"String": s} (matched literally) or {"Regex": r}.
struct Pattern {
  std::string literal;
  std::optional<Regex> regex;
  // Matches in `text` as [begin, end) byte ranges, leftmost and non-overlapping.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
};

struct Normalizer {
  enum class Kind { Sequence, NFC, NFD, NFKC, NFKD, Replace, Prepend, Strip };
  Kind kind = Kind::Sequence;
  std::vector<Normalizer> children;  // Sequence
  Pattern pattern;                   // Replace
  std::string content;               // Replace: replacement; Prepend: the prefix
  bool strip_left = false, strip_right = false;
};
std::string normalize(const Normalizer& n, std::string text);

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
enum class PrependScheme { Always, Never, First };

// Text on its way from the normalizer to the model.
struct Piece {
  std::string text;
  bool at_origin = false;  // starts at offset 0 of the input (Metaspace's "first" scheme)
};

struct PreTokenizer {
  enum class Kind { Sequence, Split, ByteLevel, Digits, Metaspace };
  Kind kind = Kind::Sequence;
  std::vector<PreTokenizer> children;  // Sequence
  Pattern pattern;                     // Split
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  bool add_prefix_space = false;  // ByteLevel
  bool use_regex = true;          // ByteLevel
  bool individual_digits = false; // Digits
  char32_t replacement = U'\u2581';  // Metaspace
  PrependScheme prepend_scheme = PrependScheme::Always;
  bool split = true;
};
// Splits `pieces` in place (empty pieces dropped, as the library drops them). Returns true when a
// ByteLevel step ran last: the pieces then hold raw bytes that the model maps to byte characters.
bool pre_tokenize(const PreTokenizer& p, std::vector<Piece>& pieces);
// GPT-2's byte -> printable character table, and its inverse (-1 for other characters).
const std::array<char32_t, 256>& byte_to_char();
int char_to_byte(char32_t c);

struct Decoder {
  enum class Kind { Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
  Kind kind = Kind::Sequence;
  std::vector<Decoder> children;
  Pattern pattern;      // Replace
  std::string content;  // Replace
  char32_t strip_char = U' ';
  size_t strip_start = 0, strip_stop = 0;
  char32_t replacement = U'\u2581';  // Metaspace
  PrependScheme prepend_scheme = PrependScheme::Always;
};
std::vector<std::string> decode_chain(const Decoder& d, std::vector<std::string> tokens);

struct PostProcessor {
  enum class Kind { Sequence, ByteLevel, Template };
  Kind kind = Kind::Sequence;
  std::vector<PostProcessor> children;
  // Template "single": items in order; an item is the sequence (empty ids) or a special token's
  // ids.
  struct Item {
    bool is_sequence = false;
    std::vector<TokenId> ids;
  };
  std::vector<Item> single;
};
void post_process(const PostProcessor& p, std::vector<TokenId>& ids);

// The BPE model (tokenizers' models/bpe): merges by rank, optional byte fallback and unk token.
class Bpe {
 public:
  struct Options {
    std::optional<std::string> unk_token;
    bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  };
  // `merges` as pairs of token strings in rank order. Throws r1::Error (prefixed by `origin`)
  // naming the merge whose tokens are not in the vocabulary.
  Bpe(StringMap<TokenId> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      Options options, const std::string& origin);
  ~Bpe();

  // Appends the ids of one pre-token. With `raw_bytes`, `word` holds raw bytes that ByteLevel
  // maps to characters first (the fast path works on bytes directly).
  void tokenize(std::string_view word, bool raw_bytes, std::vector<TokenId>& out) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  const std::string* id_to_token(TokenId id) const;
  size_t vocab_len() const { return vocab_.size(); }

 private:
  struct Cache;
  void merge(std::vector<TokenId>& symbols) const;
  void tokenize_chars(std::string_view word, std::vector<TokenId>& out) const;
  void tokenize_bytes(std::string_view word, std::vector<TokenId>& out) const;

  StringMap<TokenId> vocab_;
  std::vector<const std::string*> id_to_token_;
  // (left id << 32 | right id) -> (rank << 32 | merged id), open addressing.
  std::vector<uint64_t> merge_keys_, merge_values_;
  uint64_t merge_mask_ = 0;
  Options options_;
  bool byte_path_ = false;             // every byte character is a token: merge on byte ids
  std::array<TokenId, 256> byte_ids_{};
  StringMap<TokenId> raw_vocab_;       // raw-byte spelling -> id (ignore_merges on the byte path)
  std::unique_ptr<Cache> cache_;

  bool find_merge(TokenId a, TokenId b, uint32_t* rank, TokenId* merged) const;
};

struct AddedToken {
  std::string content;
  TokenId id = 0;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
  std::string match;  // what is matched: content, or its normalized form when normalized
};

// Leftmost-longest matching of a set of strings (the library's Aho-Corasick with LeftmostLongest).
class TokenMatcher {
 public:
  void build(const std::vector<AddedToken>& tokens, bool normalized);
  bool empty() const { return nodes_.size() <= 1; }
  // The leftmost-longest match at or after `from`: sets [*begin, *end) and the token index.
  bool find(std::string_view text, size_t from, size_t* begin, size_t* end, int* token) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> next;
    int token = -1;
  };
  std::vector<Node> nodes_{1};
  std::array<bool, 256> first_{};
};

struct Parts {
  std::string origin;
  std::string json_text;
  std::optional<Normalizer> normalizer;
  std::optional<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Bpe> model;
  std::optional<PostProcessor> post_processor;
  std::optional<Decoder> decoder;
  std::vector<AddedToken> added;
  StringMap<int> added_by_content;               // content -> index in `added`
  std::unordered_map<TokenId, int> added_by_id;  // id -> index in `added`
  TokenMatcher raw_matcher, normalized_matcher;
  int64_t vocab_size = 0;                        // max id + 1
};

// Parses tokenizer.json text into parts (hf_load.cpp).
std::unique_ptr<Parts> load_parts(std::string_view json, std::string origin);

}  // namespace r1::tokenizer::hf_internal
