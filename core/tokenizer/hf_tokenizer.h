// Tokenizers in the Hugging Face `tokenizers` format (tokenizer.json): the BPE model with the
// normalizers, pre-tokenizers, post-processors and decoders that Qwen2/Qwen3, Llama 3 and
// DeepSeek-V3 files use (and sentencepiece conversions: Metaspace, byte fallback). Ids and decoded
// text equal the library's (tokenizers 0.23) for the same file; a component r1kit does not
// implement is an r1::Error naming its type and JSON path, never a silent fallback.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/tokenizer/backend.h"

namespace r1::tokenizer {

namespace hf_internal {
struct Parts;
}

class HfTokenizer final : public Backend {
 public:
  // Parses tokenizer.json text; `origin` names it in messages ("<dir>/tokenizer.json").
  // Throws r1::Error for malformed JSON, a missing model, bad merges, an unknown component type.
  static std::shared_ptr<const HfTokenizer> from_json(std::string_view json, std::string origin);
  static std::shared_ptr<const HfTokenizer> from_file(const std::filesystem::path& path);

  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens) const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(TokenId id) const override;
  int64_t vocab_size() const override;
  bool is_special(TokenId id) const override;
  // Writes the tokenizer.json text it was loaded from (byte for byte) to dir/tokenizer.json.
  void save(const std::filesystem::path& dir) const override;

  explicit HfTokenizer(std::unique_ptr<hf_internal::Parts> parts);
  ~HfTokenizer() override;

 private:
  std::unique_ptr<hf_internal::Parts> parts_;
};

}  // namespace r1::tokenizer
