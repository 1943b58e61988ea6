// tokenizer_config.json (plus chat_template.jinja) of a Hugging Face model directory: the special
// tokens, BOS/EOS flags and chat templates that transformers reads beside tokenizer.json. The
// whole file is kept as text so that saving writes back the keys r1kit does not model.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace r1::tokenizer {

struct TokenizerConfig {
  // Special tokens as their content strings ("<|im_end|>"); the file may hold a plain string or an
  // AddedToken object {"__type": "AddedToken", "content": ...} (also accepted without "__type",
  // as older transformers wrote it). nullopt when absent or null.
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;
  // The other named special tokens transformers hands to chat templates: sep_token, cls_token,
  // mask_token, model-specific "*_token" keys with a token value (image_token, ...) and the
  // entries of an "extra_special_tokens" object, in file order.
  std::vector<std::pair<std::string, std::string>> other_special_tokens;
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
  // transformers' special_tokens_map: bos, eos, unk, sep, pad, cls, mask (those set), then the
  // model-specific ones; the variables make_chat_context() adds for a template.
  std::vector<std::pair<std::string, std::string>> special_tokens_map() const;
};

// Reads dir/tokenizer_config.json (absent file: an empty config) and the template files
// transformers reads beside it: chat_template.jinja ("default") and
// additional_chat_templates/<name>.jinja. When any of those files exists they replace the config's
// "chat_template" entirely, as in transformers. Throws r1::Error naming the file and key on
// malformed JSON, invalid UTF-8 or a wrongly typed field.
TokenizerConfig load_tokenizer_config(const std::filesystem::path& dir);

// Writes dir/tokenizer_config.json atomically as transformers' save_pretrained does (keys sorted,
// indent 2, non-ASCII kept): raw_json's keys, with the modelled fields set from `config`. Chat
// templates go where transformers 5 saves them: "default" to chat_template.jinja, the others to
// additional_chat_templates/<name>.jinja (template files there that `config` no longer has are
// removed, so loading the directory gives back `config`), and no "chat_template" key.
// Throws r1::Error when raw_json is not a JSON object, a template name is not a file name, or a
// write fails.
void save_tokenizer_config(const TokenizerConfig& config, const std::filesystem::path& dir);

}  // namespace r1::tokenizer
