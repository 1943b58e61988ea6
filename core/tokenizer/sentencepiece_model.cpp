#include "core/tokenizer/sentencepiece_model.h"

#include <cstring>
#include <optional>

#include "core/error.h"

namespace r1::tokenizer {

namespace {

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t varint = 0;        // kVarint
  std::string_view bytes;     // kLengthDelimited, kFixed32, kFixed64
  std::size_t offset = 0;     // of the field's tag in the whole file, for messages
};

// Reads the fields of one message. `base` is the message's offset in the file, so errors name
// an absolute byte position.
class WireReader {
 public:
  WireReader(std::string_view data, std::size_t base, std::string_view origin)
      : data_(data), base_(base), origin_(origin) {}

  std::optional<Field> next() {
    if (pos_ == data_.size()) return std::nullopt;
    Field f;
    f.offset = base_ + pos_;
    const uint64_t tag = varint();
    f.number = static_cast<uint32_t>(tag >> 3);
    f.wire_type = static_cast<uint32_t>(tag & 7);
    if (f.number == 0 || (tag >> 3) > 0x1fffffff) fail("a field number in 1..2^29-1", f.offset);
    switch (f.wire_type) {
      case kVarint: f.varint = varint(); break;
      case kFixed64: f.bytes = take(8, f.offset); break;
      case kFixed32: f.bytes = take(4, f.offset); break;
      case kLengthDelimited: {
        const uint64_t length = varint();
        if (length > data_.size() - pos_) fail("a length within the message", f.offset);
        f.bytes = take(static_cast<std::size_t>(length), f.offset);
        break;
      }
      default:  // groups (3, 4) do not occur in sentencepiece_model.proto
        fail(str_cat("a wire type in {0, 1, 2, 5}, found ", f.wire_type, " in a field"), f.offset);
    }
    return f;
  }

  // Offset in the file of the payload of a length-delimited field.
  std::size_t payload_offset(const Field& f) const {
    return base_ + static_cast<std::size_t>(f.bytes.data() - data_.data());
  }

  [[noreturn]] void fail(std::string_view expected, std::size_t offset) const {
    throw Error(str_cat(origin_, ": not a sentencepiece model: expected ", expected, " at byte ",
                        offset));
  }

 private:
  uint64_t varint() {
    const std::size_t start = pos_;
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == data_.size()) fail("a complete varint, found the end of the data", base_ + start);
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail("a varint of at most 10 bytes", base_ + start);
  }

  std::string_view take(std::size_t n, std::size_t field_offset) {
    if (n > data_.size() - pos_) fail("a field within the message", field_offset);
    const std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  std::string_view data_;
  std::size_t base_;
  std::string_view origin_;
  std::size_t pos_ = 0;
};

void expect_wire(const WireReader& r, const Field& f, uint32_t wire_type, std::string_view name) {
  if (f.wire_type != wire_type)
    r.fail(str_cat(name, " (field ", f.number, ") with wire type ", wire_type, ", found wire type ",
                   f.wire_type),
           f.offset);
}

SentencePieceEntry parse_piece(const WireReader& outer, const Field& field,
                               std::string_view origin) {
  SentencePieceEntry entry;
  WireReader r(field.bytes, outer.payload_offset(field), origin);
  while (const std::optional<Field> f = r.next()) {
    if (f->number == 1) {
      expect_wire(r, *f, kLengthDelimited, "SentencePiece.piece");
      entry.piece = std::string(f->bytes);
    } else if (f->number == 2) {
      expect_wire(r, *f, kFixed32, "SentencePiece.score");
      std::memcpy(&entry.score, f->bytes.data(), sizeof(float));  // little-endian, as x86/ARM
    } else if (f->number == 3) {
      expect_wire(r, *f, kVarint, "SentencePiece.type");
      if (f->varint < 1 || f->varint > 6)
        r.fail(str_cat("a piece type in 1..6, found ", f->varint), f->offset);
      entry.type = static_cast<PieceType>(f->varint);
    }
  }
  if (entry.piece.empty()) outer.fail("a non-empty SentencePiece.piece", field.offset);
  return entry;
}

void parse_trainer_spec(const WireReader& outer, const Field& field, std::string_view origin,
                        SentencePieceModelInfo& info) {
  WireReader r(field.bytes, outer.payload_offset(field), origin);
  while (const std::optional<Field> f = r.next()) {
    if (f->number == 3) {
      expect_wire(r, *f, kVarint, "TrainerSpec.model_type");
      if (f->varint < 1 || f->varint > 4)
        r.fail(str_cat("a model type in 1..4, found ", f->varint), f->offset);
      info.model_type = static_cast<SentencePieceModelType>(f->varint);
    } else if (f->number == 35) {
      expect_wire(r, *f, kVarint, "TrainerSpec.byte_fallback");
      info.byte_fallback = f->varint != 0;
    } else if (f->number == 24) {
      expect_wire(r, *f, kVarint, "TrainerSpec.treat_whitespace_as_suffix");
      info.treat_whitespace_as_suffix = f->varint != 0;
    } else if (f->number == 45) {
      expect_wire(r, *f, kLengthDelimited, "TrainerSpec.unk_piece");
      info.unk_piece = std::string(f->bytes);
    }
  }
}

void parse_normalizer_spec(const WireReader& outer, const Field& field, std::string_view origin,
                           SentencePieceModelInfo& info) {
  WireReader r(field.bytes, outer.payload_offset(field), origin);
  while (const std::optional<Field> f = r.next()) {
    if (f->number == 1) {
      expect_wire(r, *f, kLengthDelimited, "NormalizerSpec.name");
      info.normalizer_name = std::string(f->bytes);
    } else if (f->number == 2) {
      expect_wire(r, *f, kLengthDelimited, "NormalizerSpec.precompiled_charsmap");
      info.precompiled_charsmap = std::string(f->bytes);
    } else if (f->number == 3 || f->number == 4 || f->number == 5) {
      expect_wire(r, *f, kVarint, "a NormalizerSpec flag");
      bool& flag = f->number == 3   ? info.add_dummy_prefix
                   : f->number == 4 ? info.remove_extra_whitespaces
                                    : info.escape_whitespaces;
      flag = f->varint != 0;
    }
  }
}

bool has_charsmap(const WireReader& outer, const Field& field, std::string_view origin) {
  WireReader r(field.bytes, outer.payload_offset(field), origin);
  bool found = false;
  while (const std::optional<Field> f = r.next())
    if (f->number == 2 && f->wire_type == kLengthDelimited && !f->bytes.empty()) found = true;
  return found;
}

}  // namespace

SentencePieceModelInfo parse_sentencepiece_model(std::string_view bytes, std::string_view origin) {
  SentencePieceModelInfo info;
  WireReader r(bytes, 0, origin);
  bool has_trainer_spec = false;
  bool has_normalizer_spec = false;
  while (const std::optional<Field> f = r.next()) {
    switch (f->number) {
      case 1:
        expect_wire(r, *f, kLengthDelimited, "ModelProto.pieces");
        info.pieces.push_back(parse_piece(r, *f, origin));
        break;
      case 2:
        expect_wire(r, *f, kLengthDelimited, "ModelProto.trainer_spec");
        parse_trainer_spec(r, *f, origin, info);
        has_trainer_spec = true;
        break;
      case 3:
        expect_wire(r, *f, kLengthDelimited, "ModelProto.normalizer_spec");
        parse_normalizer_spec(r, *f, origin, info);
        has_normalizer_spec = true;
        break;
      case 5:
        expect_wire(r, *f, kLengthDelimited, "ModelProto.denormalizer_spec");
        info.has_denormalizer_charsmap = has_charsmap(r, *f, origin);
        break;
      default:
        break;
    }
  }
  if (info.pieces.empty()) r.fail("at least one piece (field 1), found none", bytes.size());
  if (!has_trainer_spec || !has_normalizer_spec)
    r.fail(str_cat(has_trainer_spec ? "" : "trainer_spec (field 2) ",
                   has_normalizer_spec ? "" : "normalizer_spec (field 3) ",
                   "after the pieces, found the end of the data (file cut short?)"),
           bytes.size());
  return info;
}

std::string_view to_string(SentencePieceModelType type) {
  switch (type) {
    case SentencePieceModelType::kUnigram: return "unigram";
    case SentencePieceModelType::kBpe: return "bpe";
    case SentencePieceModelType::kWord: return "word";
    case SentencePieceModelType::kChar: return "char";
  }
  return "unknown";
}

}  // namespace r1::tokenizer
