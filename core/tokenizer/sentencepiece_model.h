// The parts of a sentencepiece model file (a serialized ModelProto, sentencepiece_model.proto) that
// r1kit needs beyond SentencePieceProcessor's API: piece types (user-defined pieces have no query
// there), the trainer's model type and byte fallback, and the normalizer spec. Parsed from the
// protobuf wire format directly, as Debian ships no generated header for the proto.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r1::tokenizer {

// ModelProto.SentencePiece.Type, numbered as in the proto.
enum class PieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,      // <unk>; exactly one per model
  kControl = 3,      // <s>, </s>, <pad>: never produced from text by sentencepiece itself
  kUserDefined = 4,  // always one piece, matched in text before the model runs
  kUnused = 5,
  kByte = 6,         // <0x00>..<0xFF>, present when the model was trained with byte_fallback
};

// TrainerSpec.ModelType, numbered as in the proto.
enum class SentencePieceModelType : int32_t { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

struct SentencePieceEntry {
  std::string piece;  // UTF-8; spaces appear as U+2581 when escape_whitespaces
  float score = 0.0f;  // BPE: merge priority (higher merges first); unigram: log probability
  PieceType type = PieceType::kNormal;
};

// The fields read, with the proto's defaults for absent ones.
struct SentencePieceModelInfo {
  std::vector<SentencePieceEntry> pieces;  // index = id
  // trainer_spec
  SentencePieceModelType model_type = SentencePieceModelType::kUnigram;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  std::string unk_piece = "<unk>";
  // normalizer_spec
  std::string normalizer_name;        // "identity", "nmt_nfkc", ...; informational
  std::string precompiled_charsmap;   // empty for identity normalization
  bool add_dummy_prefix = true;       // a U+2581 is prepended to the text before encoding
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;     // spaces become U+2581
  // denormalizer_spec: decoding applies its charsmap when present (rare; conversion refuses it)
  bool has_denormalizer_charsmap = false;
};

// Parses a serialized ModelProto. Unknown fields are skipped. Throws r1::Error
// "<origin>: not a sentencepiece model: <what> at byte N" for a malformed or truncated message,
// no pieces, a missing trainer_spec or normalizer_spec (sentencepiece always writes both; their
// absence means the file was cut short), or a piece type outside 1..6.
SentencePieceModelInfo parse_sentencepiece_model(std::string_view bytes, std::string_view origin);

std::string_view to_string(SentencePieceModelType type);  // "unigram", "bpe", "word", "char"

}  // namespace r1::tokenizer
