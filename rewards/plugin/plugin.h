// Reward plugins (docs/rewards.md "Writing a reward plugin"): a shared library with the C ABI of
// rewards/sdk/r1kit_reward.h, run by r1kit-reward-host behind the JSON-lines protocol (default) or
// loaded into this process with dlopen (trusted code only: its crash is the host's crash), or any
// executable speaking JSON lines on stdin/stdout, started once and kept, with a timeout per batch.
// A plugin's failure never throws: the samples it concerns are unscored with the reason
// ("plugin_error", "plugin_crash", "plugin_timeout", "plugin_garbage", "plugin_nonfinite"), logged
// once per batch, and the run goes on.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rewards/reward.h"

namespace r1::rewards {

struct LibraryPluginConfig {
  std::string name;                 // the reward's name (output field, metrics key)
  std::filesystem::path path;       // the .so file
  nlohmann::json options = nlohmann::json::object();  // handed to r1kit_reward_init as JSON text
};

// Loads the library into this process and calls its init (`isolate: false`: trusted code only, as
// a crash or hang there is r1kit's). Throws r1::Error naming `where` and the path when it cannot
// be opened, lacks a symbol, has another ABI version, or its init fails (with its message).
std::unique_ptr<Reward> load_library_plugin(const LibraryPluginConfig& config, std::string_view where);

// r1kit-reward-host, the program that runs an isolated library plugin (`isolate: true`, the
// default) behind the JSON-lines protocol: $R1KIT_REWARD_HOST, else beside the running program,
// else the build tree's. Throws r1::Error naming `where` and the places tried when none exists.
std::filesystem::path reward_host_path(std::string_view where);

struct ProcessPluginConfig {
  std::string name;                 // the reward's name
  std::filesystem::path path;       // the executable (an absolute or relative path, or a name in PATH)
  std::vector<std::string> args;    // its arguments
  std::filesystem::path cwd;        // its working directory; empty = ours
  double timeout = 30.0;            // seconds for one batch, from the request's first byte to the
                                    // response's newline; past it the process is killed
  nlohmann::json options = nlohmann::json::object();  // sent in every request as "options"
  // The process first prints one line, {"ready": true} or {"error": "why"}, within `timeout`
  // (r1kit-reward-host does, after loading its library): a start that fails says why.
  bool ready_line = false;
};

// Starts the process (throws r1::Error naming `where` when it cannot be started). A process that
// crashes, hangs or prints garbage is killed if still alive and restarted at the next batch.
std::unique_ptr<Reward> start_process_plugin(const ProcessPluginConfig& config, std::string_view where);

// Validates one plugin result object ({"value": x, "info": {...}} or {"value": null, "unscored":
// "why"}) into a RewardResult; shared by both plugin kinds. NaN, infinities and wrong types give
// unscored results ("plugin_nonfinite", "plugin_garbage") naming the plugin.
RewardResult plugin_result(const nlohmann::json& item, std::string_view plugin);

// Logs one warning for the samples of a batch that the plugin's output left unscored (not those
// it declined itself): how many, and the first one's reason, so a bad plugin cannot flood the log.
void log_unscored(std::span<const RewardResult> results);

}  // namespace r1::rewards
