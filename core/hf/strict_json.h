// JSON parsing for the files r1kit reads from checkpoints (safetensors headers, shard indexes):
// nlohmann_json's grammar, plus refusing a key that appears twice in one object (json::parse keeps
// the last silently), with errors that say where the text broke.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace r1::hf {

// Parses `text` as one JSON value (surrounding whitespace allowed). Throws r1::Error
// "<what> is not valid JSON: <reason> (byte N)" on a syntax error, invalid UTF-8 in a string or a
// duplicate key; `what` names the place, e.g. "/ckpt/model.safetensors: header".
nlohmann::json parse_json_strict(std::string_view text, std::string_view what);

}  // namespace r1::hf
