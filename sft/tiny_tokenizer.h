// The demo model's tokenizer, made from nothing: a sentencepiece BPE model trained on the pretrain
// corpus (byte fallback, split digits, identity normalization, no dummy prefix), the R1-like chat
// template below, and the special tokens the model config takes its ids from. Saved with
// Tokenizer::save, the directory loads in r1kit (Tokenizer::load) and in transformers
// (AutoTokenizer) with the same ids; tests/sft/pretrain_tokenizer_test.cpp checks both.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/recipe/bind.h"
#include "core/tokenizer/tokenizer.h"

namespace r1::sft {

// Reserved pieces, at fixed ids so the model config's pad/bos/eos ids (0/1/2, as in
// recipes/models/tiny_deepseek_v3.json) hold for every trained vocabulary. Names are DeepSeek's,
// spelled in ASCII ("<|begin_of_sentence|>" for DeepSeek's fullwidth-bar form).
inline constexpr int kTinyPadId = 0;
inline constexpr int kTinyBosId = 1;
inline constexpr int kTinyEosId = 2;
inline constexpr int kTinyUnkId = 3;
inline constexpr std::string_view kTinyPadToken = "<|pad|>";
inline constexpr std::string_view kTinyBosToken = "<|begin_of_sentence|>";
inline constexpr std::string_view kTinyEosToken = "<|end_of_sentence|>";
inline constexpr std::string_view kTinyUnkToken = "<|unk|>";
// User-defined pieces (always one token, matched in text, not "special": decoding keeps them, so a
// completion's text carries its <think> block). Ids 4..7 in this order.
inline constexpr std::string_view kTinyUserToken = "<|User|>";
inline constexpr std::string_view kTinyAssistantToken = "<|Assistant|>";
inline constexpr std::string_view kTinyThinkToken = "<think>";
inline constexpr std::string_view kTinyEndThinkToken = "</think>";

struct TinyTokenizerConfig {
  // Pieces in the vocabulary, everything included (4 reserved, 4 markers, 256 byte pieces); the
  // model config's vocab_size becomes this. 2048 keeps the tiny model's embedding and head at
  // 2 x 0.5M parameters; sentencepiece refuses a size the corpus cannot supply.
  int64_t vocab_size = 2048;
  // Texts of the corpus the tokenizer trains on (the first ones; 0: all). sentencepiece's BPE
  // trainer is the slow part of pretraining's setup: 20k texts (a few MB) take seconds and already
  // hold every character and frequent word of the generated tasks.
  int64_t max_texts = 20000;
  // Longest piece, in characters.
  int64_t max_piece_length = 16;

  template <typename V>
  void visit(V& v) {
    v.field("vocab_size", vocab_size, "pieces in the vocabulary (reserved, markers and 256 bytes included)",
            recipe::AtLeast{300}, recipe::AtMost{1 << 20});
    v.field("max_texts", max_texts, "corpus texts the tokenizer trains on (the first ones; 0: all)",
            recipe::AtLeast{0});
    v.field("max_piece_length", max_piece_length, "longest piece, in characters", recipe::AtLeast{1},
            recipe::AtMost{512});
  }
};

// The chat template (Jinja, transformers' dialect): BOS, an optional leading system message's
// content as it is (as DeepSeek-R1's template places it), then "<|User|>" + content per user turn
// and "<|Assistant|>" + content + EOS per assistant turn, the assistant content and EOS inside
// {% generation %} so Tokenizer::encode_chat masks exactly them. add_generation_prompt appends
// "<|Assistant|>". A system message elsewhere or another role raises a template error.
std::string tiny_chat_template();

// Trains the tokenizer on `texts` (each a document; newlines are ordinary characters) and returns
// it with the chat template and special tokens set: encode(text, true) prepends BOS; vocab_size()
// == config.vocab_size. Deterministic: the same texts and config give the same tokenizer.
// Throws r1::Error for a text that is not valid UTF-8 (naming its index) and when sentencepiece
// cannot reach vocab_size on these texts (naming vocab_size and sentencepiece's largest size).
tokenizer::Tokenizer train_tiny_tokenizer(std::span<const std::string> texts,
                                          const TinyTokenizerConfig& config);

}  // namespace r1::sft
