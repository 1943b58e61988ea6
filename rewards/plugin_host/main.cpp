// r1kit-reward-host LIBRARY OPTIONS_JSON: runs one C-ABI reward library (rewards/sdk/r1kit_reward.h)
// in a process of its own, behind the JSON-lines protocol of process plugins (docs/rewards.md), so
// that a library that crashes or hangs costs its batch, not the run: r1kit kills and restarts this
// process as it does any process plugin. Started by r1kit for `kind: library` with `isolate: true`.
//   stdout, first line: {"ready": true}, or {"error": "why"} when the library cannot be loaded
//   then per request line {"samples": [...]}: {"results": [...]} or {"error": "why"}
// The results are the library's own outcomes, encoded as plugin_result() reads them, so isolated
// and in-process runs report the same per-sample values and reasons.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "rewards/internal/library_handle.h"

namespace {

using nlohmann::json;

void reply(const json& message) {
  std::cout << message.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
}

// One request line -> one response line. A request that is not what r1kit sends is answered with
// an error for the batch (r1kit never sends one; a person typing at the program may).
json answer(r1::rewards::internal::LibraryHandle& library, const std::string& line) {
  const json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object() || !request.contains("samples") || !request["samples"].is_array())
    return {{"error", "r1kit-reward-host: expected a request line {\"samples\": [...]}"}};
  std::vector<r1::rewards::Sample> samples;
  samples.reserve(request["samples"].size());
  try {
    for (size_t i = 0; i < request["samples"].size(); ++i)
      samples.push_back(r1::rewards::sample_from_json(request["samples"][i], r1::str_cat("samples[", i, "]")));
  } catch (const r1::Error& e) {
    return {{"error", r1::str_cat("r1kit-reward-host: ", e.what())}};
  }
  auto scored = library.score(samples);
  if (auto* detail = std::get_if<std::string>(&scored)) return {{"error", *detail}};
  return {{"results", std::move(std::get<std::vector<json>>(scored))}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: r1kit-reward-host LIBRARY OPTIONS_JSON (started by r1kit, see docs/rewards.md)\n");
    return 2;
  }
  const json options = json::parse(argv[2], nullptr, /*allow_exceptions=*/false);
  if (options.is_discarded()) {
    reply({{"error", "r1kit-reward-host: OPTIONS_JSON is not JSON"}});
    return 2;
  }
  // The entry point of its own program, so it catches like cli/main.cpp: a library that cannot be
  // loaded is reported on the protocol's first line, which r1kit turns into its own error.
  try {
    r1::rewards::internal::LibraryHandle library(argv[1], options, "r1kit-reward-host");
    reply({{"ready", true}});
    for (std::string line; std::getline(std::cin, line);) reply(answer(library, line));
  } catch (const r1::Error& e) {
    reply({{"error", e.what()}});
    return 2;
  }
  return 0;
}
