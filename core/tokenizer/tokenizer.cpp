// Tokenizer: a Backend (tokenizer.json or sentencepiece) plus tokenizer_config.json.
#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/sentencepiece.h"

namespace r1::tokenizer {
namespace {

// The LlamaTokenizer flags of tokenizer_config.json, with transformers' defaults (BOS yes, EOS
// no) when the file does not set them.
SentencePieceConfig sentencepiece_config(const TokenizerConfig& config) {
  SentencePieceConfig out;
  const nlohmann::json raw = nlohmann::json::parse(config.raw_json);
  if (raw.contains("add_bos_token")) out.add_bos_token = config.add_bos_token;
  if (raw.contains("add_eos_token")) out.add_eos_token = config.add_eos_token;
  return out;
}

}  // namespace

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw Error(str_cat(dir.string(), ": not a directory (expected a model directory with ",
                        "tokenizer.json or tokenizer.model)"));
  TokenizerConfig config = load_tokenizer_config(dir);
  std::shared_ptr<const Backend> backend;
  if (std::filesystem::exists(dir / "tokenizer.json")) {
    backend = HfTokenizer::from_file(dir / "tokenizer.json");
  } else if (std::filesystem::exists(dir / "tokenizer.model")) {
    backend = std::make_shared<const SentencePieceTokenizer>(
        SentencePieceTokenizer::load(dir / "tokenizer.model", sentencepiece_config(config)));
  } else {
    throw Error(str_cat(dir.string(), ": no tokenizer.json or tokenizer.model in the directory"));
  }
  return Tokenizer(std::move(backend), std::move(config));
}

Tokenizer::Tokenizer(std::shared_ptr<const Backend> backend, TokenizerConfig config)
    : backend_(std::move(backend)), config_(std::move(config)) {
  if (const std::string* source = config_.default_chat_template())
    chat_template_ = std::make_shared<const ChatTemplate>(
        ChatTemplate::parse(*source, config_.origin + ": chat_template"));
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  return backend_->encode(text, add_special_tokens);
}

std::vector<std::vector<TokenId>> Tokenizer::encode_batch(std::span<const std::string> texts,
                                                          bool add_special_tokens,
                                                          int num_threads) const {
  std::vector<std::vector<TokenId>> out(texts.size());
  size_t threads = num_threads > 0 ? static_cast<size_t>(num_threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, texts.size());
  if (threads <= 1) {
    for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], add_special_tokens);
    return out;
  }
  // Work stealing by index: texts vary in length, so static chunks would leave threads idle.
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (size_t i = next++; i < texts.size(); i = next++) {
      try {
        out[i] = encode(texts[i], add_special_tokens);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = texts.size();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
  return backend_->decode(ids, skip_special_tokens);
}

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
  return backend_->token_to_id(token);
}
std::optional<std::string> Tokenizer::id_to_token(TokenId id) const { return backend_->id_to_token(id); }
int64_t Tokenizer::vocab_size() const { return backend_->vocab_size(); }
bool Tokenizer::is_special(TokenId id) const { return backend_->is_special(id); }

namespace {
std::optional<TokenId> id_of(const Backend& backend, const std::optional<std::string>& token) {
  if (!token) return std::nullopt;
  return backend.token_to_id(*token);
}
}  // namespace

std::optional<TokenId> Tokenizer::bos_id() const { return id_of(*backend_, config_.bos_token); }
std::optional<TokenId> Tokenizer::eos_id() const { return id_of(*backend_, config_.eos_token); }
std::optional<TokenId> Tokenizer::pad_id() const { return id_of(*backend_, config_.pad_token); }

const ChatTemplate& Tokenizer::chat_template() const {
  if (!chat_template_)
    throw Error(str_cat(config_.origin, ": no chat_template (in tokenizer_config.json or ",
                        "chat_template.jinja)"));
  return *chat_template_;
}

ChatTemplate::Rendered Tokenizer::apply_chat_template(const nlohmann::ordered_json& messages,
                                                      bool add_generation_prompt,
                                                      const nlohmann::ordered_json& extra) const {
  return chat_template().render(make_chat_context(messages, add_generation_prompt, config_, extra));
}

ChatTemplate::Rendered Tokenizer::apply_chat_template(const nlohmann::ordered_json& messages,
                                                      bool add_generation_prompt) const {
  return apply_chat_template(messages, add_generation_prompt, nlohmann::ordered_json());
}

Tokenizer::ChatEncoding Tokenizer::encode_chat(const nlohmann::ordered_json& messages,
                                               bool add_generation_prompt) const {
  return encode_chat(messages, add_generation_prompt, nlohmann::ordered_json());
}

Tokenizer::ChatEncoding Tokenizer::encode_chat(const nlohmann::ordered_json& messages,
                                               bool add_generation_prompt,
                                               const nlohmann::ordered_json& extra) const {
  ChatTemplate::Rendered rendered = apply_chat_template(messages, add_generation_prompt, extra);
  ChatEncoding out;
  out.ids = encode(rendered.text, false);
  out.assistant_mask.assign(out.ids.size(), 0);
  // A boundary's token index is the length of the encoding of the text before it, provided that
  // encoding is a prefix of the whole one (true at the token boundaries templates put blocks on).
  auto token_index = [&](size_t byte) -> size_t {
    if (byte == 0) return 0;
    if (byte == rendered.text.size()) return out.ids.size();
    const std::vector<TokenId> prefix = encode(std::string_view(rendered.text).substr(0, byte), false);
    if (prefix.size() > out.ids.size() || !std::equal(prefix.begin(), prefix.end(), out.ids.begin()))
      throw Error(str_cat(chat_template().name(), ": a {% generation %} block boundary at byte ", byte,
                          " of the rendered chat falls inside a token; the assistant mask needs it ",
                          "between tokens"));
    return prefix.size();
  };
  for (const auto& [begin, end] : rendered.generation_spans) {
    const size_t first = token_index(begin), last = token_index(end);
    std::fill(out.assistant_mask.begin() + static_cast<std::ptrdiff_t>(first),
              out.assistant_mask.begin() + static_cast<std::ptrdiff_t>(last), 1);
  }
  out.text = std::move(rendered.text);
  return out;
}

void Tokenizer::save(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  backend_->save(dir);
  TokenizerConfig config = config_;
  // A sentencepiece model is saved with its tokenizer.json conversion, whose pipeline (BOS/EOS
  // template included) transformers must take as is: LlamaTokenizerFast would rebuild its own and
  // encode differently, so the class written is the generic fast tokenizer.
  if (dynamic_cast<const SentencePieceTokenizer*>(backend_.get()))
    config.tokenizer_class = "PreTrainedTokenizerFast";
  save_tokenizer_config(config, dir);
}

}  // namespace r1::tokenizer
