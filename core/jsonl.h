// Reading JSON-lines files (datasets, prompts, sequences to score): one JSON value per line, blank
// lines skipped. Each value reaches the caller with its "file:line" so that the caller's own checks
// name the place too.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace r1::core {

// Calls `on_line(where, value)` for every non-blank line of `path` in order, `where` being
// "path:line". Throws r1::Error naming the file when it cannot be opened, and naming the line
// ("expected a JSON object, found invalid JSON (...)") when a line does not parse. Whatever
// `on_line` throws propagates.
void read_jsonl(const std::filesystem::path& path,
                const std::function<void(const std::string& where, nlohmann::ordered_json& value)>& on_line);

}  // namespace r1::core
