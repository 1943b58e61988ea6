// The demo tokenizer: sentencepiece training flags, the chat template and the tokenizer_config.json
// fields. Decisions are in tiny_tokenizer.h and docs/training.md ("Pretraining the tiny model").
#include "sft/tiny_tokenizer.h"

#include <memory>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/sentencepiece.h"
#include "core/tokenizer/sentencepiece_train.h"
#include "core/tokenizer/tokenizer_config.h"

namespace r1::sft {
namespace {

// One line of Jinja per construct, joined without newlines: the rendered text carries no
// whitespace the template did not ask for. Messages are read with ['key'] as transformers' own
// templates do. The EOS after each assistant turn sits inside {% generation %}: the model learns
// to stop, and generation stops on EOS.
constexpr std::string_view kChatTemplateLines[] = {
    "{{ bos_token }}",
    "{% for message in messages %}",
    "{% if message['role'] == 'system' %}",
    "{% if not loop.first %}{{ raise_exception('a system message must come first') }}{% endif %}",
    "{{ message['content'] }}",
    "{% elif message['role'] == 'user' %}",
    "<|User|>{{ message['content'] }}",
    "{% elif message['role'] == 'assistant' %}",
    "<|Assistant|>{% generation %}{{ message['content'] }}{{ eos_token }}{% endgeneration %}",
    "{% else %}",
    "{{ raise_exception('unknown role ' + message['role']) }}",
    "{% endif %}",
    "{% endfor %}",
    "{% if add_generation_prompt %}<|Assistant|>{% endif %}",
};

tokenizer::SentencePieceTrainConfig train_config(const TinyTokenizerConfig& config) {
  tokenizer::SentencePieceTrainConfig c;
  c.model_type = "bpe";
  c.vocab_size = static_cast<int>(config.vocab_size);
  c.byte_fallback = true;        // every text round-trips, whatever the corpus missed
  c.character_coverage = 1.0;    // small corpus with CJK: keep every character it has
  c.user_defined_symbols = {std::string(kTinyUserToken), std::string(kTinyAssistantToken),
                            std::string(kTinyThinkToken), std::string(kTinyEndThinkToken)};
  c.pad_id = kTinyPadId;
  c.bos_id = kTinyBosId;
  c.eos_id = kTinyEosId;
  c.unk_id = kTinyUnkId;
  c.pad_piece = std::string(kTinyPadToken);
  c.bos_piece = std::string(kTinyBosToken);
  c.eos_piece = std::string(kTinyEosToken);
  c.unk_piece = std::string(kTinyUnkToken);
  c.normalization_rule_name = "identity";  // byte-exact text: answers and code keep their spelling
  // No dummy prefix: with one, every chunk after a special piece (BOS, EOS) would begin with a
  // lone U+2581 token, so each chat turn would cost a token that carries nothing.
  c.add_dummy_prefix = false;
  c.remove_extra_whitespaces = false;  // code indentation and "\n\n" survive
  c.split_digits = true;               // numbers tokenize digit by digit: arithmetic stays learnable
  c.max_sentencepiece_length = static_cast<int>(config.max_piece_length);
  c.num_threads = 1;
  return c;
}

}  // namespace

std::string tiny_chat_template() {
  std::string out;
  for (std::string_view line : kChatTemplateLines) out += line;
  return out;
}

tokenizer::Tokenizer train_tiny_tokenizer(std::span<const std::string> texts,
                                          const TinyTokenizerConfig& config) {
  std::span<const std::string> used = texts;
  if (config.max_texts > 0 && used.size() > static_cast<std::size_t>(config.max_texts))
    used = used.first(static_cast<std::size_t>(config.max_texts));
  std::string model;
  try {
    model = tokenizer::train_sentencepiece(used, train_config(config));
  } catch (const Error& e) {
    throw Error(str_cat("pretrain tokenizer (vocab_size = ", config.vocab_size, ", ", used.size(),
                        " texts): ", e.what()));
  }
  // BOS on encode(text, true), no EOS: LlamaTokenizer's flags. Pretraining documents get their EOS
  // from the trainer's packing, chats from the template.
  tokenizer::SentencePieceConfig flags;
  flags.add_bos_token = true;
  flags.add_eos_token = false;
  auto backend = std::make_shared<const tokenizer::SentencePieceTokenizer>(
      tokenizer::SentencePieceTokenizer::from_serialized(std::move(model), flags, "pretrain tokenizer"));
  R1_CHECK(backend->vocab_size() == config.vocab_size, backend->vocab_size(), config.vocab_size);

  tokenizer::TokenizerConfig tc;
  tc.bos_token = std::string(kTinyBosToken);
  tc.eos_token = std::string(kTinyEosToken);
  tc.pad_token = std::string(kTinyPadToken);
  tc.unk_token = std::string(kTinyUnkToken);
  tc.add_bos_token = true;
  tc.add_eos_token = false;
  tc.chat_templates["default"] = tiny_chat_template();
  // The flags are stated in the file (not left to library defaults), and decode must not "clean
  // up" spaces before punctuation: "1 , 2" stays as generated.
  tc.raw_json = R"({"add_bos_token": true, "add_eos_token": false, "clean_up_tokenization_spaces": false})";
  tc.origin = "pretrain tokenizer";
  return tokenizer::Tokenizer(std::move(backend), std::move(tc));
}

}  // namespace r1::sft
