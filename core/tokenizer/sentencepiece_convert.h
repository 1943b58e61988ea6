// Converts a sentencepiece model into a tokenizer.json (the `tokenizers` library's format) that
// encodes and decodes like the model itself, following transformers'
// SpmConverter.build_tokenizer_from_spm_proto (convert_slow_tokenizer.py, transformers 5.x), the
// path transformers takes for a .model file without a model-specific converter:
//   normalizer     [Precompiled charsmap], [extra-whitespace removal], Replace(" " -> U+2581),
//                  [Replace(^U+2581 -> U+2581 U+2581) when add_dummy_prefix]
//   pre_tokenizer  Metaspace(prepend "always", no split) when add_dummy_prefix, then
//                  Split(user-defined pieces, isolated) so they stay whole and unmerged
//   model          BPE (vocab = pieces, merges ranked by piece score, byte_fallback, ignore_merges
//                  when there are user-defined pieces) or Unigram (pieces with scores)
//   decoder        Replace(U+2581 -> " "), [ByteFallback], [Fuse], [Strip one leading space]
//   added_tokens   the unknown and control pieces, special, matched on the raw text
//   post_processor TemplateProcessing with <bos> / <eos> per add_bos_token / add_eos_token, as
//                  transformers' TokenizersBackend.update_post_processor builds it.
// Why not LlamaConverter: its legacy normalizer gives every chunk between added tokens its own
// U+2581 prefix, which sentencepiece does not do around user-defined pieces.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/tokenizer/sentencepiece_model.h"

namespace r1::tokenizer {

struct SentencePieceJsonOptions {
  bool add_bos_token = true;   // tokenizer_config.json add_bos_token
  bool add_eos_token = false;  // tokenizer_config.json add_eos_token
};

// The tokenizer.json document. Requires: `model` loaded by sentencepiece; bos_id / eos_id are its
// ids (-1 when it has none). Throws r1::Error naming `origin` for what the `tokenizers` library
// cannot express (model types word and char, treat_whitespace_as_suffix, a denormalizer charsmap)
// and for add_bos_token / add_eos_token when the model has no such piece.
// Known gaps, shared with transformers, for models with a charsmap (nmt_nfkc, ...; identity-
// normalized models have none): the `tokenizers` Precompiled normalizer maps whole grapheme
// clusters, so text with CR LF or combining marks can encode differently; and a chunk that
// normalizes to nothing (only deleted control characters) gets sentencepiece's lone dummy-prefix
// piece but no token from `tokenizers`.
nlohmann::ordered_json sentencepiece_to_tokenizer_json(const SentencePieceModelInfo& model,
                                                       int bos_id, int eos_id,
                                                       const SentencePieceJsonOptions& options,
                                                       std::string_view origin);

}  // namespace r1::tokenizer
