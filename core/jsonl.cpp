// JSON-lines reading (core/jsonl.h).
#include "core/jsonl.h"

#include <fstream>

#include "core/error.h"

namespace r1::core {

void read_jsonl(const std::filesystem::path& path,
                const std::function<void(const std::string& where, nlohmann::ordered_json& value)>& on_line) {
  std::ifstream in(path);
  if (!in) throw Error(str_cat(path.string(), ": cannot open for reading"));
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = str_cat(path.string(), ":", line_no);
    nlohmann::ordered_json value;
    try {
      value = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(str_cat(where, ": expected a JSON object, found invalid JSON (", e.what(), ")"));
    }
    on_line(where, value);
  }
}

}  // namespace r1::core
