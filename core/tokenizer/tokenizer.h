// A tokenizer loaded from a Hugging Face model directory: tokenizer.json (byte-level BPE, the
// `tokenizers` library's format) or tokenizer.model (sentencepiece), plus tokenizer_config.json for
// the special tokens and chat template. Ids and decoded text equal what the `tokenizers` library
// returns for the same files. Immutable after load; every method is safe from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/backend.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer_config.h"

namespace r1::tokenizer {

class Tokenizer {
 public:
  // Loads dir/tokenizer.json when present, else dir/tokenizer.model; and tokenizer_config.json.
  // Throws r1::Error naming the file and what is wrong (missing files, malformed JSON, an
  // unsupported component type).
  static Tokenizer load(const std::filesystem::path& dir);
  Tokenizer(std::shared_ptr<const Backend> backend, TokenizerConfig config);

  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = false) const;
  // Encodes each text on up to `num_threads` threads (0: hardware concurrency); result order is
  // input order.
  std::vector<std::vector<TokenId>> encode_batch(std::span<const std::string> texts,
                                                 bool add_special_tokens = false,
                                                 int num_threads = 0) const;
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens = false) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(TokenId id) const;
  int64_t vocab_size() const;
  bool is_special(TokenId id) const;
  // Ids of the config's special tokens; nullopt when the config names none.
  std::optional<TokenId> bos_id() const;
  std::optional<TokenId> eos_id() const;
  std::optional<TokenId> pad_id() const;

  const TokenizerConfig& config() const { return config_; }
  const std::shared_ptr<const Backend>& backend() const { return backend_; }

  // The config's default chat template, parsed once. Throws r1::Error when there is none.
  const ChatTemplate& chat_template() const;
  // Renders `messages` (a JSON array of {"role", "content", ...}) with the variables transformers
  // passes (make_chat_context in chat_template.h): special tokens, tools/documents and the other
  // keys of `extra` (a JSON object or null: tools, enable_thinking, ...). Key order is kept.
  ChatTemplate::Rendered apply_chat_template(const nlohmann::ordered_json& messages,
                                             bool add_generation_prompt,
                                             const nlohmann::ordered_json& extra) const;
  ChatTemplate::Rendered apply_chat_template(const nlohmann::ordered_json& messages,
                                             bool add_generation_prompt) const;

  // The chat rendered and encoded (without adding BOS/EOS beyond what the template writes), with
  // assistant_mask[i] = 1 for tokens produced inside {% generation %} blocks (the tokens an SFT
  // loss trains on; templates without such blocks give an all-zero mask). A block boundary must
  // fall between tokens: the tokens of the text before it must be a prefix of the whole
  // encoding, else r1::Error names the byte offset.
  struct ChatEncoding {
    std::string text;
    std::vector<TokenId> ids;
    std::vector<uint8_t> assistant_mask;
  };
  ChatEncoding encode_chat(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                           const nlohmann::ordered_json& extra) const;
  ChatEncoding encode_chat(const nlohmann::ordered_json& messages, bool add_generation_prompt) const;

  // Writes the model file(s) and tokenizer_config.json into `dir` (created if missing) so that
  // transformers.AutoTokenizer.from_pretrained(dir) loads an equivalent tokenizer.
  void save(const std::filesystem::path& dir) const;

 private:
  std::shared_ptr<const Backend> backend_;
  TokenizerConfig config_;
  std::shared_ptr<const ChatTemplate> chat_template_;  // parsed at construction when present
};

}  // namespace r1::tokenizer
