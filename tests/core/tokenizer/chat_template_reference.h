// Shared by the chat-template tests: running tests/python/chat_template_reference.py (jinja2 inside
// transformers' environment) over JSON lines in one process, and comparing its output with
// ChatTemplate::render.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/tokenizer/chat_template.h"
#include "tests/support/test_support.h"

namespace r1::test {


// Runs `chat_template_reference.py <mode>` with `requests` (one JSON line each) on stdin and
// returns one parsed output line per request; fails the test when the script fails.
inline std::vector<nlohmann::ordered_json> run_reference(const std::string& mode,
                                                  const std::vector<nlohmann::ordered_json>& requests) {
  std::string input;
  for (const auto& r : requests) input += r.dump() + "\n";
  const CommandResult res = run_command(
      {python().string(), (source_dir() / "tests/python/chat_template_reference.py").string(), mode}, input,
      std::chrono::seconds(300));
  EXPECT_EQ(res.exit_code, 0) << res.err;
  std::vector<nlohmann::ordered_json> out;
  std::istringstream lines(res.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(nlohmann::ordered_json::parse(line));
  }
  EXPECT_EQ(out.size(), requests.size()) << res.err;
  return out;
}

// The line number an r1::Error message names ("<name>:<line>:..."), or -1.
inline int error_line(const std::string& message, const std::string& template_name) {
  const std::string prefix = template_name + ":";
  if (message.rfind(prefix, 0) != 0) return -1;
  return std::atoi(message.c_str() + prefix.size());
}

// Compares r1kit's rendering (or error) with the reference output line. Returns "" when they
// agree, otherwise a description of the difference.
inline std::string compare_with_reference(const nlohmann::ordered_json& reference,
                                   const tokenizer::ChatTemplate::Rendered* rendered,
                                   const std::string& error, const std::string& template_name) {
  std::ostringstream diff;
  if (reference.contains("error")) {
    if (rendered != nullptr) {
      diff << "jinja2 raised " << reference["error"] << " but r1kit rendered " << nlohmann::json(rendered->text);
    } else if (!reference["line"].is_null() && error_line(error, template_name) != reference["line"].get<int>()) {
      diff << "jinja2 raised " << reference["error"] << " at line " << reference["line"] << ", r1kit: " << error;
    }
    return diff.str();
  }
  if (rendered == nullptr) {
    diff << "jinja2 rendered " << reference["text"].dump() << " but r1kit failed: " << error;
    return diff.str();
  }
  const std::string expected = reference["text"].get<std::string>();
  if (rendered->text != expected) {
    diff << "text differs\n  jinja2: " << reference["text"].dump() << "\n  r1kit:  " << nlohmann::json(rendered->text).dump();
    return diff.str();
  }
  nlohmann::json spans = nlohmann::json::array();
  for (const auto& [b, e] : rendered->generation_spans) spans.push_back({b, e});
  if (nlohmann::json::parse(reference["spans"].dump()) != spans) {
    diff << "generation spans differ\n  jinja2: " << reference["spans"].dump() << "\n  r1kit:  " << spans.dump();
  }
  return diff.str();
}

}  // namespace r1::test
