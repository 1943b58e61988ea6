#include "core/tokenizer/sentencepiece.h"

#include <sentencepiece_processor.h>

#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "core/tokenizer/internal/utf8_check.h"
#include "core/tokenizer/unicode.h"
#include "core/tokenizer/sentencepiece_convert.h"

namespace r1::tokenizer {

namespace {

constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// The `tokenizers` ByteFallback decoder's test for a byte piece: exactly "<0xNN>", hex digits.
std::optional<uint8_t> byte_piece_value(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return std::nullopt;
  unsigned value = 0;
  for (const char c : piece.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') value |= static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
  }
  return static_cast<uint8_t>(value);
}

void append_replacing(std::string& out, std::string_view piece, std::string_view from,
                      std::string_view to) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = piece.find(from, pos);
    out.append(piece.substr(pos, hit - pos));
    if (hit == std::string_view::npos) return;
    out.append(to);
    pos = hit + from.size();
  }
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(std::string serialized, SentencePieceConfig config,
                                               std::string origin)
    : serialized_(std::move(serialized)), config_(config), origin_(std::move(origin)) {
  info_ = parse_sentencepiece_model(serialized_, origin_);
  processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const sentencepiece::util::Status status = processor_->LoadFromSerializedProto(serialized_);
  if (!status.ok())
    throw Error(str_cat(origin_, ": not a sentencepiece model: the sentencepiece library ",
                        "refused it: ", status.ToString()));
  R1_CHECK(processor_->GetPieceSize() == static_cast<int>(info_.pieces.size()),
           processor_->GetPieceSize(), " vs ", info_.pieces.size());
  if (config_.add_bos_token && processor_->bos_id() < 0)
    throw Error(str_cat(origin_, ": add_bos_token is true but the model has no bos piece"));
  if (config_.add_eos_token && processor_->eos_id() < 0)
    throw Error(str_cat(origin_, ": add_eos_token is true but the model has no eos piece"));
  for (std::size_t id = 0; id < info_.pieces.size(); ++id)
    if (is_special(static_cast<TokenId>(id)))
      special_pieces_.emplace_back(info_.pieces[id].piece, static_cast<TokenId>(id));
  for (const auto& [piece, id] : special_pieces_)
    special_first_bytes_[static_cast<uint8_t>(piece.front())] = true;
}

SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept = default;
SentencePieceTokenizer& SentencePieceTokenizer::operator=(SentencePieceTokenizer&&) noexcept =
    default;
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

SentencePieceTokenizer SentencePieceTokenizer::load(const std::filesystem::path& model_file,
                                                    const SentencePieceConfig& config) {
  return SentencePieceTokenizer(core::read_file(model_file), config, model_file.string());
}

SentencePieceTokenizer SentencePieceTokenizer::from_serialized(std::string model_bytes,
                                                               const SentencePieceConfig& config,
                                                               std::string_view origin) {
  return SentencePieceTokenizer(std::move(model_bytes), config, std::string(origin));
}

void SentencePieceTokenizer::append_chunk(std::string_view chunk, std::vector<TokenId>& ids) const {
  if (chunk.empty()) return;
  std::vector<int> chunk_ids;
  const sentencepiece::util::Status status = processor_->Encode(chunk, &chunk_ids);
  // The model loaded and the text is valid UTF-8: sentencepiece has no other failure.
  R1_CHECK(status.ok(), origin_, ": ", status.ToString());
  ids.insert(ids.end(), chunk_ids.begin(), chunk_ids.end());
}

std::vector<TokenId> SentencePieceTokenizer::encode(std::string_view text,
                                                    bool add_special_tokens) const {
  if (const std::size_t bad = unicode::find_invalid_utf8(text); bad != std::string_view::npos) {
    throw Error(str_cat(origin_, ": encode: expected valid UTF-8 text, ",
                        internal::describe_invalid_utf8(text, bad)));
  }
  std::vector<TokenId> ids;
  if (add_special_tokens && config_.add_bos_token) ids.push_back(processor_->bos_id());
  if (config_.split_special_tokens) {
    append_chunk(text, ids);
  } else {
    // Leftmost-longest matching of the special pieces on the raw text, as the `tokenizers`
    // library's added vocabulary does (its pieces are added with normalized = false).
    std::size_t chunk_start = 0;
    for (std::size_t i = 0; i < text.size();) {
      std::size_t best_len = 0;
      TokenId best_id = -1;
      if (!special_first_bytes_[static_cast<uint8_t>(text[i])]) {
        ++i;
        continue;
      }
      for (const auto& [piece, id] : special_pieces_) {
        if (piece.size() > best_len && text.compare(i, piece.size(), piece) == 0) {
          best_len = piece.size();
          best_id = id;
        }
      }
      if (best_len == 0) {
        ++i;
        continue;
      }
      append_chunk(text.substr(chunk_start, i - chunk_start), ids);
      ids.push_back(best_id);
      i += best_len;
      chunk_start = i;
    }
    append_chunk(text.substr(chunk_start), ids);
  }
  if (add_special_tokens && config_.add_eos_token) ids.push_back(processor_->eos_id());
  return ids;
}

std::string SentencePieceTokenizer::decode(std::span<const TokenId> ids,
                                           bool skip_special_tokens) const {
  std::string out;
  std::string bytes;  // a pending run of byte pieces
  const auto flush_bytes = [&] {
    if (bytes.empty()) return;
    if (unicode::find_invalid_utf8(bytes) == std::string_view::npos) {
      out += bytes;
    } else {
      for (std::size_t k = 0; k < bytes.size(); ++k) out += kReplacementChar;
    }
    bytes.clear();
  };
  for (const TokenId id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    if (skip_special_tokens && is_special(id)) continue;
    const std::string& piece = info_.pieces[static_cast<std::size_t>(id)].piece;
    if (info_.byte_fallback) {
      if (const std::optional<uint8_t> byte = byte_piece_value(piece)) {
        bytes += static_cast<char>(*byte);
        continue;
      }
    }
    flush_bytes();
    append_replacing(out, piece, kMetaspace, " ");
  }
  flush_bytes();
  if (info_.add_dummy_prefix && !out.empty() && out.front() == ' ') out.erase(0, 1);
  return out;
}

std::optional<TokenId> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  // PieceToId answers unk_id for an unknown piece; only an exact round trip is a hit.
  const int id = processor_->PieceToId(token);
  if (id < 0 || id >= vocab_size() || info_.pieces[static_cast<std::size_t>(id)].piece != token)
    return std::nullopt;
  return id;
}

std::optional<std::string> SentencePieceTokenizer::id_to_token(TokenId id) const {
  if (id < 0 || id >= vocab_size()) return std::nullopt;
  return info_.pieces[static_cast<std::size_t>(id)].piece;
}

int64_t SentencePieceTokenizer::vocab_size() const {
  return static_cast<int64_t>(info_.pieces.size());
}

bool SentencePieceTokenizer::is_special(TokenId id) const {
  if (id < 0 || id >= vocab_size()) return false;
  const PieceType type = info_.pieces[static_cast<std::size_t>(id)].type;
  return type == PieceType::kControl || type == PieceType::kUnknown;
}

std::string SentencePieceTokenizer::tokenizer_json() const {
  const SentencePieceJsonOptions options{config_.add_bos_token, config_.add_eos_token};
  return sentencepiece_to_tokenizer_json(info_, bos_id(), eos_id(), options, origin_).dump(2) +
         "\n";
}

void SentencePieceTokenizer::save(const std::filesystem::path& dir) const {
  const std::string json = tokenizer_json();
  core::write_file_atomic(dir / "tokenizer.model", serialized_);
  core::write_file_atomic(dir / "tokenizer.json", json);
}

int SentencePieceTokenizer::bos_id() const { return processor_->bos_id(); }
int SentencePieceTokenizer::eos_id() const { return processor_->eos_id(); }
int SentencePieceTokenizer::unk_id() const { return processor_->unk_id(); }
int SentencePieceTokenizer::pad_id() const { return processor_->pad_id(); }

}  // namespace r1::tokenizer
