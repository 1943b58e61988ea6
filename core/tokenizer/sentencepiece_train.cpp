#include "core/tokenizer/sentencepiece_train.h"

#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/fs.h"
#include "core/tokenizer/internal/utf8_check.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer {

namespace {

constexpr std::string_view kWhere = "sentencepiece training";

[[noreturn]] void bad_option(std::string_view option, std::string_view expected,
                             std::string_view found) {
  throw Error(str_cat(kWhere, ": ", option, ": expected ", expected, ", found ", found));
}

// True when `s` is valid UTF-8; *offset gets the first bad byte otherwise.
bool valid_utf8(std::string_view s, std::size_t* offset) {
  *offset = unicode::find_invalid_utf8(s);
  return *offset == std::string_view::npos;
}

void check_range(std::string_view option, double value, double lo, double hi) {
  if (value >= lo && value <= hi) return;
  bad_option(option, str_cat("a value in [", lo, ", ", hi, "]"), str_cat(value));
}

// user_defined_symbols / control_symbols: sentencepiece's flag parser splits on ','.
void check_symbols(std::string_view option, const std::vector<std::string>& symbols,
                   std::set<std::string>& seen) {
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    const std::string at = str_cat(option, "[", i, "]");
    std::size_t bad = 0;
    if (symbols[i].empty()) bad_option(at, "a non-empty string", "\"\"");
    if (symbols[i].find(',') != std::string::npos)
      bad_option(at, "a string without ','", str_cat('"', symbols[i], '"'));
    if (!valid_utf8(symbols[i], &bad))
      throw Error(str_cat(kWhere, ": ", at, ": expected valid UTF-8, ",
                          internal::describe_invalid_utf8(symbols[i], bad)));
    if (!seen.insert(symbols[i]).second)
      bad_option(at, "a piece not defined before", str_cat('"', symbols[i], "\" again"));
  }
}

void check_config(const SentencePieceTrainConfig& c) {
  if (c.model_type != "bpe" && c.model_type != "unigram")
    bad_option("model_type", "\"bpe\" or \"unigram\"", str_cat('"', c.model_type, '"'));
  static const std::set<std::string> kRules = {"identity", "nmt_nfkc", "nfkc", "nmt_nfkc_cf",
                                               "nfkc_cf"};
  if (!kRules.count(c.normalization_rule_name))
    bad_option("normalization_rule_name",
               "one of identity, nmt_nfkc, nfkc, nmt_nfkc_cf, nfkc_cf",
               str_cat('"', c.normalization_rule_name, '"'));
  check_range("character_coverage", c.character_coverage, 0.98, 1.0);
  check_range("max_sentencepiece_length", c.max_sentencepiece_length, 1, 512);
  check_range("max_sentence_length", c.max_sentence_length, 10, 1 << 30);
  check_range("num_threads", c.num_threads, 1, 128);

  // Reserved pieces: the special ones, then user-defined and control symbols, then bytes.
  std::set<std::string> seen;
  std::set<int> ids;
  int num_reserved = 0;
  const auto reserve = [&](const char* id_name, int id, const char* piece_name,
                           const std::string& piece, int min_id) {
    if (id < min_id || id >= c.vocab_size)
      bad_option(id_name, str_cat("an id in [", min_id, ", vocab_size = ", c.vocab_size, ")"),
                 str_cat(id));
    if (id < 0) return;
    if (!ids.insert(id).second) bad_option(id_name, "an id not used by another piece", str_cat(id));
    if (piece.empty()) bad_option(piece_name, "a non-empty string", "\"\"");
    if (!seen.insert(piece).second)
      bad_option(piece_name, "a piece not defined before", str_cat('"', piece, "\" again"));
    ++num_reserved;
  };
  if (c.vocab_size < 1) bad_option("vocab_size", "a positive integer", str_cat(c.vocab_size));
  reserve("unk_id", c.unk_id, "unk_piece", c.unk_piece, 0);
  reserve("bos_id", c.bos_id, "bos_piece", c.bos_piece, -1);
  reserve("eos_id", c.eos_id, "eos_piece", c.eos_piece, -1);
  reserve("pad_id", c.pad_id, "pad_piece", c.pad_piece, -1);
  check_symbols("user_defined_symbols", c.user_defined_symbols, seen);
  check_symbols("control_symbols", c.control_symbols, seen);
  num_reserved += static_cast<int>(c.user_defined_symbols.size() + c.control_symbols.size());
  if (c.byte_fallback) num_reserved += 256;
  if (c.vocab_size <= num_reserved)
    bad_option("vocab_size",
               str_cat("more than the ", num_reserved, " reserved pieces (special, user-defined",
                       " and control symbols", c.byte_fallback ? ", 256 bytes" : "", ")"),
               str_cat(c.vocab_size));
}

// Returns the number of non-empty sentences; throws for a bad one.
std::size_t check_sentences(std::span<const std::string> sentences, int max_sentence_length) {
  std::size_t num_non_empty = 0;
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const std::string& s = sentences[i];
    std::size_t bad = 0;
    if (!valid_utf8(s, &bad))
      throw Error(str_cat(kWhere, ": sentences[", i, "]: expected valid UTF-8, ",
                          internal::describe_invalid_utf8(s, bad)));
    if (s.size() > static_cast<std::size_t>(max_sentence_length))
      throw Error(str_cat(kWhere, ": sentences[", i, "]: expected at most max_sentence_length = ",
                          max_sentence_length, " bytes, found ", s.size()));
    if (!s.empty()) ++num_non_empty;
  }
  if (num_non_empty == 0)
    throw Error(str_cat(kWhere, ": sentences: expected at least one non-empty sentence, found ",
                        sentences.size() == 0 ? "none" : "only empty ones"));
  return num_non_empty;
}

// Feeds the non-empty sentences to the trainer without copying them into a file.
class SpanSentenceIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit SpanSentenceIterator(std::span<const std::string> sentences) : sentences_(sentences) {
    skip_empty();
  }
  bool done() const override { return index_ >= sentences_.size(); }
  void Next() override {
    ++index_;
    skip_empty();
  }
  const std::string& value() const override { return sentences_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void skip_empty() {
    while (index_ < sentences_.size() && sentences_[index_].empty()) ++index_;
  }
  std::span<const std::string> sentences_;
  std::size_t index_ = 0;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::unordered_map<std::string, std::string> trainer_flags(const SentencePieceTrainConfig& c) {
  const auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  char coverage[32];
  std::snprintf(coverage, sizeof(coverage), "%.17g", c.character_coverage);
  std::unordered_map<std::string, std::string> flags = {
      {"model_type", c.model_type},
      {"vocab_size", std::to_string(c.vocab_size)},
      {"byte_fallback", flag(c.byte_fallback)},
      {"character_coverage", coverage},
      {"unk_id", std::to_string(c.unk_id)},
      {"bos_id", std::to_string(c.bos_id)},
      {"eos_id", std::to_string(c.eos_id)},
      {"pad_id", std::to_string(c.pad_id)},
      {"unk_piece", c.unk_piece},
      {"bos_piece", c.bos_piece},
      {"eos_piece", c.eos_piece},
      {"pad_piece", c.pad_piece},
      {"normalization_rule_name", c.normalization_rule_name},
      {"add_dummy_prefix", flag(c.add_dummy_prefix)},
      {"remove_extra_whitespaces", flag(c.remove_extra_whitespaces)},
      {"split_digits", flag(c.split_digits)},
      {"max_sentencepiece_length", std::to_string(c.max_sentencepiece_length)},
      {"max_sentence_length", std::to_string(c.max_sentence_length)},
      {"num_threads", std::to_string(c.num_threads)},
      // Use every sentence in input order: no reservoir sampling, hence no random seed.
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      // 2 = errors only; the INFO lines are a page per training run.
      {"minloglevel", "2"},
  };
  if (!c.user_defined_symbols.empty()) flags["user_defined_symbols"] = join(c.user_defined_symbols);
  if (!c.control_symbols.empty()) flags["control_symbols"] = join(c.control_symbols);
  return flags;
}

}  // namespace

std::string train_sentencepiece(std::span<const std::string> sentences,
                                const SentencePieceTrainConfig& config) {
  check_config(config);
  check_sentences(sentences, config.max_sentence_length);
  SpanSentenceIterator iterator(sentences);
  std::string model;
  const sentencepiece::util::Status status =
      sentencepiece::SentencePieceTrainer::Train(trainer_flags(config), &iterator, &model);
  if (!status.ok())
    throw Error(str_cat(kWhere, " (model_type = ", config.model_type,
                        ", vocab_size = ", config.vocab_size, ") failed: ", status.ToString()));
  return model;
}

void train_sentencepiece_file(std::span<const std::string> sentences,
                              const SentencePieceTrainConfig& config,
                              const std::filesystem::path& model_file) {
  core::write_file_atomic(model_file, train_sentencepiece(sentences, config));
}

}  // namespace r1::tokenizer
