// Generated text and small trained models for the sentencepiece tests: a seeded corpus of English-
// like words, Chinese, digits, code and <think> blocks; parity strings that add what the corpus
// lacks (unseen scripts, emoji, U+2581, control characters, odd spacing, user and control piece
// strings). Deterministic for a seed: std::mt19937's output is fixed by the standard.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/tokenizer/sentencepiece_train.h"

namespace r1::tokenizer::test_fixtures {

class TextGen {
 public:
  explicit TextGen(uint32_t seed) : rng_(seed) {}
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  template <typename T>
  const T& pick(const std::vector<T>& items) { return items[below(static_cast<uint32_t>(items.size()))]; }

  std::string word() {
    static const std::vector<std::string> kSyllables = {
        "ka", "ri", "to", "men", "sha", "lo", "pe", "qu", "ant", "ex", "ion", "ing", "str",
        "ba", "nu", "ze", "ly", "or", "the", "an", "re", "de", "con", "ver", "al", "is"};
    static const std::vector<std::string> kChinese = {
        "的", "一", "是", "在", "不", "了", "有", "和", "人", "这", "中", "大", "为", "上", "个",
        "国", "我", "以", "要", "他", "时", "来", "用", "们", "生", "到", "作", "地", "于", "出",
        "模型", "训练", "数据", "推理", "答案"};
    static const std::vector<std::string> kCode = {
        "def f(x):", "return x + 1;", "if (a == b) {", "}", "for i in range(10):", "x = [1, 2]",
        "print(\"hi\")", "#include <vector>", "a->b", "s += 'q'", "//", "&&", "x_1 = y_2 * 3"};
    const uint32_t r = below(100);
    if (r < 55) {
      std::string w;
      const uint32_t n = 1 + below(3);
      for (uint32_t i = 0; i < n; ++i) w += pick(kSyllables);
      if (below(10) == 0) w[0] = static_cast<char>(w[0] - 'a' + 'A');
      return w;
    }
    if (r < 75) {
      std::string w;
      const uint32_t n = 1 + below(3);
      for (uint32_t i = 0; i < n; ++i) w += pick(kChinese);
      return w;
    }
    if (r < 87) return std::to_string(below(100000));
    if (r < 97) return pick(kCode);
    return below(2) ? "." : ",";
  }

  std::string sentence() {
    std::string s;
    const uint32_t n = 1 + below(14);
    for (uint32_t i = 0; i < n; ++i) s += (i ? " " : "") + word();
    if (below(8) == 0) s = "<think>" + s + "</think> " + word();
    return s;
  }

 private:
  std::mt19937 rng_;
};

inline std::vector<std::string> training_corpus(uint32_t seed, std::size_t num_sentences) {
  TextGen gen(seed);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < num_sentences; ++i) out.push_back(gen.sentence());
  return out;
}

// Strings for the parity checks. With `with_special_strings`, some hold the control and unknown
// pieces' text ("<s>", "<unk>"), which sentencepiece encodes as text and `tokenizers` as ids.
inline std::vector<std::string> parity_texts(uint32_t seed, std::size_t n, bool with_special_strings) {
  static const std::vector<std::string> kFragments = {
      " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", "<think>", "</think>", "<thin", "</think",
      "<think></think>", "\xE2\x96\x81", "\xE2\x96\x81\xE2\x96\x81" "a",  // U+2581, sentencepiece's space
      "Привет мир", "λόγος", "한국어", "مرحبا", "नमस्ते", "e\xCC\x81", "ß", "Å", "\xC2\xA0",
      "😀", "👩‍💻", "🇫🇷", "𝔘", "\x01", "\x7F", std::string("\0", 1), "12345", "3.14159", "{", "}",
      "()", "==", "->", "#include <x>", "über", "naïve", "日本語", "ｶﾀｶﾅ", "①", "ﬁ", "\xE3\x80\x80"};
  static const std::vector<std::string> kSpecial = {"<s>", "</s>", "<unk>", "<pad>",
                                                    "<|reserved|>", "<s></s>", "<<s>>"};
  TextGen gen(seed);
  std::vector<std::string> out;
  if (!with_special_strings) {
    out = {"", " ", "  ", "\n", "a", " a", "a ", "  a  b  ", "<think>", " <think> ",
           "<think>x</think>", "x<think>y", "\xE2\x96\x81", "\xE2\x96\x81\xE2\x96\x81" "a", "😀",
           "\n\n\n", "a\n b", "<think>\n\n</think>\n\n"};
  }
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += gen.word() + (i % 17 ? " " : "\n");
  out.push_back(long_text);
  while (out.size() < n) {
    std::string s;
    if (gen.below(4) == 0) s += std::string(1 + gen.below(3), ' ');
    const uint32_t parts = gen.below(10);
    for (uint32_t i = 0; i < parts; ++i) {
      const uint32_t r = gen.below(100);
      if (with_special_strings && r < 20) s += gen.pick(kSpecial);
      else if (r < 55) s += gen.word() + (gen.below(2) ? " " : "");
      else s += gen.pick(kFragments);
    }
    if (gen.below(4) == 0) s += std::string(1 + gen.below(3), ' ');
    out.push_back(s);
  }
  return out;
}

// The model most tests use: BPE, byte fallback, <think> / </think> user-defined, a pad piece and
// one extra control piece.
inline SentencePieceTrainConfig test_train_config(const std::string& model_type = "bpe") {
  SentencePieceTrainConfig c;
  c.model_type = model_type;
  c.vocab_size = 1500;
  c.user_defined_symbols = {"<think>", "</think>"};
  c.control_symbols = {"<|reserved|>"};
  c.pad_id = 3;
  return c;
}

}  // namespace r1::tokenizer::test_fixtures
