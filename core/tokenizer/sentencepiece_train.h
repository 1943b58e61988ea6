// Trains a sentencepiece model on in-memory sentences with the sentencepiece library (the Debian
// build, 0.1.97). The result is a .model file's bytes, loadable by SentencePieceTokenizer and by
// every sentencepiece and transformers version. Same sentences + same config = same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace r1::tokenizer {

// Field names are sentencepiece's trainer flags, so its documentation applies.
struct SentencePieceTrainConfig {
  // "bpe" or "unigram". BPE is what Llama 2 and most sentencepiece LLM tokenizers use.
  std::string model_type = "bpe";
  // Pieces in the model, everything included (unk/bos/eos/pad, user-defined and control symbols,
  // the 256 byte pieces, single characters). >= the reserved pieces + 1. Training fails when the
  // corpus cannot supply that many pieces (sentencepiece's hard vocabulary limit).
  int vocab_size = 2000;
  // Characters outside the vocabulary become <0xNN> byte pieces instead of <unk>, so every text
  // round-trips. Adds 256 pieces.
  bool byte_fallback = true;
  // Share of the corpus' characters covered by single-character pieces, in [0.98, 1]; the rarest
  // rest are left to byte fallback. 1.0 suits small corpora and CJK text.
  double character_coverage = 1.0;
  // Always one piece, matched in the text before the model runs (<think>, chat markers). Non-empty,
  // distinct, without ',' (sentencepiece's flag syntax splits on it).
  std::vector<std::string> user_defined_symbols;
  // Pieces that only appear as ids, never matched in text (as <s>). Same rules as above.
  std::vector<std::string> control_symbols;
  // Ids of the reserved pieces; -1 leaves one out (unk is required). Distinct, < vocab_size.
  int unk_id = 0;
  int bos_id = 1;
  int eos_id = 2;
  int pad_id = -1;  // sentencepiece's default: Llama 2 has no pad piece
  std::string unk_piece = "<unk>";
  std::string bos_piece = "<s>";
  std::string eos_piece = "</s>";
  std::string pad_piece = "<pad>";
  // "identity" keeps text byte-exact (Llama 2's choice); "nmt_nfkc" etc. are sentencepiece's
  // built-in rules.
  std::string normalization_rule_name = "identity";
  // Prepend a space (U+2581) to each text, so a word is the same piece at the start of a text
  // and after a space. Llama 2's choice.
  bool add_dummy_prefix = true;
  // false keeps runs of spaces, so decode(encode(text)) == text; true collapses them.
  bool remove_extra_whitespaces = false;
  // Each digit its own piece, as Llama and DeepSeek; numbers then tokenize uniformly.
  bool split_digits = true;
  // Longest piece, in characters, in [1, 512].
  int max_sentencepiece_length = 16;
  // Longest sentence, in bytes, in [10, 2^30]. sentencepiece would skip longer ones silently;
  // train_sentencepiece refuses them instead.
  int max_sentence_length = 1 << 16;
  // Trainer threads, in [1, 128]. The unigram trainer's sums depend on it, so a model is
  // reproducible for a fixed value; 1 is the safe default on small machines.
  int num_threads = 1;
};

// Trains on `sentences` (each one line of text; empty ones are ignored) and returns the serialized
// model. Every sentence is used (no sampling), so the result has no random seed and is the same
// for the same input. Silences sentencepiece's logging: it sets the library's process-wide
// minimum log level to errors (the library has no per-call setting).
// Throws r1::Error naming the option for a config out of range, no non-empty sentence, a
// sentence that is not valid UTF-8 or too long (naming its index and byte offset), and for
// sentencepiece's own refusals (e.g. "vocab_size = 5000: Vocabulary size too high ...").
std::string train_sentencepiece(std::span<const std::string> sentences,
                                const SentencePieceTrainConfig& config);

// train_sentencepiece, then writes the bytes to `model_file` atomically (temp + fsync + rename).
void train_sentencepiece_file(std::span<const std::string> sentences,
                              const SentencePieceTrainConfig& config,
                              const std::filesystem::path& model_file);

}  // namespace r1::tokenizer
