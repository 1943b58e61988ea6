// tokenizer_config.json (plus chat_template.jinja) of a Hugging Face model directory: the special
// tokens, BOS/EOS flags and chat templates that transformers reads beside tokenizer.json. The
// whole file is kept as text so that saving writes back the keys r1kit does not model.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace r1::tokenizer {

struct TokenizerConfig {
  // Special tokens as their content strings ("<|im_end|>"); the file may hold a plain string or an
  // AddedToken object {"content": ...}. nullopt when absent or null.
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;
  // LlamaTokenizer-style flags; only sentencepiece tokenizers use them (a tokenizer.json has its
  // post-processor instead).
  bool add_bos_token = false;
  bool add_eos_token = false;
  // Chat templates by name: "default" for a single template. chat_template.jinja in the directory
  // (how transformers >= 4.43 saves it) wins over the config's "chat_template" key, as there.
  std::map<std::string, std::string> chat_templates;
  std::optional<std::string> tokenizer_class;
  // The whole tokenizer_config.json as read ("{}" when the file is absent).
  std::string raw_json = "{}";
  // Where it came from, for messages ("<dir>/tokenizer_config.json").
  std::string origin;

  // The "default" template, or the only one; nullptr when there is none.
  const std::string* default_chat_template() const;
};

// Reads dir/tokenizer_config.json (absent file: an empty config) and dir/chat_template.jinja.
// Throws r1::Error naming the file and key on malformed JSON or a wrongly typed field.
TokenizerConfig load_tokenizer_config(const std::filesystem::path& dir);

// Writes dir/tokenizer_config.json (atomically): raw_json with the modelled fields set from
// `config`, chat templates inline as transformers writes them.
void save_tokenizer_config(const TokenizerConfig& config, const std::filesystem::path& dir);

}  // namespace r1::tokenizer
