// A Backend over a sentencepiece model (a .model file, e.g. Llama 2's tokenizer.model), encoding
// with the sentencepiece library and behaving like the tokenizer transformers builds for it (the
// tokenizer.json that save() writes, loaded by `tokenizers` or by AutoTokenizer with
// tokenizer_class "PreTrainedTokenizerFast"). On text without control-piece strings, ids equal
// sentencepiece's own encode, and decode equals sentencepiece's decode for ids without special
// ones. Immutable after load; every method is safe from many threads.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/backend.h"
#include "core/tokenizer/sentencepiece_model.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace r1::tokenizer {

// The tokenizer_config.json flags that apply to a sentencepiece model (names as transformers').
struct SentencePieceConfig {
  bool add_bos_token = true;   // encode(.., true) starts with <bos>; LlamaTokenizer's default
  bool add_eos_token = false;  // encode(.., true) ends with <eos>; LlamaTokenizer's default
  // false (transformers' default): a control or unknown piece's string in the text ("<s>") encodes
  // to its id, as the `tokenizers` library matches special added tokens. true: such strings are
  // plain text, as sentencepiece's encode treats them.
  bool split_special_tokens = false;
};

class SentencePieceTokenizer final : public Backend {
 public:
  // Loads a .model file. Throws r1::Error naming the path when it is missing or unreadable, is
  // not a sentencepiece model (truncated, corrupt, another format), or when add_bos_token /
  // add_eos_token is set and the model has no bos / eos piece.
  static SentencePieceTokenizer load(const std::filesystem::path& model_file,
                                     const SentencePieceConfig& config = {});
  // The same from the file's bytes (e.g. from train_sentencepiece); `origin` names them in errors.
  static SentencePieceTokenizer from_serialized(std::string model_bytes,
                                                const SentencePieceConfig& config = {},
                                                std::string_view origin = "sentencepiece model");

  SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept;
  SentencePieceTokenizer& operator=(SentencePieceTokenizer&&) noexcept;
  ~SentencePieceTokenizer() override;

  // Requires valid UTF-8 (r1::Error "...: expected valid UTF-8, found byte 0x.. at byte offset N"
  // otherwise). Text between special-piece strings (see split_special_tokens) is encoded by
  // sentencepiece, each chunk with its own dummy prefix (as `tokenizers` does). With
  // add_special_tokens: <bos> first and <eos> last per the config (also for empty text).
  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens) const override;
  // The converted tokenizer.json's decoder chain, as the `tokenizers` library runs it: pieces
  // with U+2581 as a space; runs of byte pieces (<0xNN>) joined and decoded as UTF-8, a run that is
  // not valid UTF-8 becoming one U+FFFD per byte; one leading space stripped (add_dummy_prefix).
  // Special pieces (is_special) appear as their text, e.g. "<s>", unless skip_special_tokens.
  // Ids outside [0, vocab_size) are skipped.
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens) const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(TokenId id) const override;
  int64_t vocab_size() const override;
  // Control pieces (<s>, </s>, <pad>, ...) and the unknown piece: the pieces transformers marks
  // special. User-defined pieces (<think>, chat markers) are not special, as in transformers; a
  // tokenizer_config.json may still list them as special tokens at the Tokenizer level.
  bool is_special(TokenId id) const override;
  // Writes dir/tokenizer.model (the model bytes, unchanged) and dir/tokenizer.json (see
  // sentencepiece_convert.h), each atomically; the JSON is built first, so a model it cannot
  // express (word or char models) throws r1::Error before anything is written.
  void save(const std::filesystem::path& dir) const override;

  // -1 when the model has none, as sentencepiece reports.
  int bos_id() const;
  int eos_id() const;
  int unk_id() const;
  int pad_id() const;
  const SentencePieceConfig& config() const { return config_; }
  const SentencePieceModelInfo& model_info() const { return info_; }
  // The serialized ModelProto, as loaded.
  const std::string& serialized_model() const { return serialized_; }
  // The tokenizer.json text that save() writes.
  std::string tokenizer_json() const;

 private:
  SentencePieceTokenizer(std::string serialized, SentencePieceConfig config, std::string origin);
  void append_chunk(std::string_view chunk, std::vector<TokenId>& ids) const;

  std::string serialized_;
  SentencePieceConfig config_;
  std::string origin_;  // the file path or from_serialized's origin, for messages
  SentencePieceModelInfo info_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::vector<std::pair<std::string, TokenId>> special_pieces_;  // matched in text, longest wins
  std::array<bool, 256> special_first_bytes_{};  // bytes that start a special piece
};

}  // namespace r1::tokenizer
