// The interface both tokenizer implementations provide (tokenizer.json byte-level BPE in
// hf_tokenizer.h, sentencepiece .model files in sentencepiece.h). Users hold a Tokenizer
// (tokenizer.h), which adds the tokenizer_config.json layer; this is the part that maps text to ids.
// Implementations are immutable after construction and safe to call from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace r1::tokenizer {

using TokenId = int32_t;

class Backend {
 public:
  virtual ~Backend() = default;

  // Requires: `text` is valid UTF-8 (r1::Error otherwise, naming the byte offset).
  // add_special_tokens applies the post-processor (BOS/EOS templates) as the library does.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special_tokens) const = 0;
  // Unknown ids are skipped, as the library does. Invalid UTF-8 produced by byte-level pieces
  // becomes U+FFFD (Rust's String::from_utf8_lossy rules).
  virtual std::string decode(std::span<const TokenId> ids, bool skip_special_tokens) const = 0;
  virtual std::optional<TokenId> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(TokenId id) const = 0;
  // Number of ids, added tokens included (max id + 1).
  virtual int64_t vocab_size() const = 0;
  virtual bool is_special(TokenId id) const = 0;
  // Writes the model file(s) into `dir` (tokenizer.json, or tokenizer.model plus a converted
  // tokenizer.json) atomically. `dir` exists.
  virtual void save(const std::filesystem::path& dir) const = 0;
};

}  // namespace r1::tokenizer
