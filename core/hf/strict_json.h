// JSON parsing for the files r1kit reads from checkpoints (safetensors headers, shard indexes):
// nlohmann_json's grammar, plus refusing a key that appears twice in one object (json::parse keeps
// the last silently), with errors that say where the text broke.
#pragma once

#include <nlohmann/json.hpp>
#include <cstddef>
#include <string>
#include <string_view>

namespace r1::hf {

// Parses `text` as one JSON value (surrounding whitespace allowed). Throws r1::Error
// "<what> is not valid JSON: <reason> (byte N)" on a syntax error, invalid UTF-8 in a string or a
// duplicate key; `what` names the place, e.g. "/ckpt/model.safetensors: header".
nlohmann::json parse_json_strict(std::string_view text, std::string_view what);

// The same grammar and messages without the duplicate-key check: a repeated key keeps its last
// value, as serde_json (the `tokenizers` library) does. Twice as fast on large files (an 11 MB
// tokenizer.json), where that speed matters and the library's semantics are the reference.
nlohmann::json parse_json(std::string_view text, std::string_view what);

// `value` as compact JSON for a message, cut to about `max_chars` with "..." (a bad header can hold
// megabytes in one value); invalid UTF-8 is replaced, never thrown on.
std::string json_excerpt(const nlohmann::json& value, std::size_t max_chars = 80);

}  // namespace r1::hf
