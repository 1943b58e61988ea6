// A loaded C-ABI reward library (rewards/sdk/r1kit_reward.h) without the Reward wrapper. It serves
// both ways of running a library plugin: in r1kit's process (rewards/plugin/library.cpp) and in
// the isolating host program r1kit-reward-host (rewards/plugin_host/main.cpp), which answers the
// JSON-lines protocol with the same items, so both report the same per-sample outcomes.
#pragma once

#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "rewards/reward.h"
#include "rewards/sdk/r1kit_reward.h"

namespace r1::rewards::internal {

class LibraryHandle {
 public:
  // dlopen + symbol lookup + ABI check + init(options). Throws r1::Error naming `where` and the
  // path for a library that cannot be loaded, lacks a symbol, has another ABI, or fails init.
  LibraryHandle(const std::filesystem::path& path, const nlohmann::json& options, std::string_view where);
  ~LibraryHandle();
  LibraryHandle(const LibraryHandle&) = delete;
  LibraryHandle& operator=(const LibraryHandle&) = delete;

  // Scores one batch (one call at a time: serialized inside). On success, one plugin-result item
  // per sample, as plugin_result() reads them ({"value": x|"NaN"|..., "info": {...}} or with
  // "unscored": why; a malformed info is already an item plugin_result() refuses). When the score
  // call itself returned non-zero: the sentence saying why (the whole batch failed).
  std::variant<std::vector<nlohmann::json>, std::string> score(std::span<const Sample> batch);

 private:
  nlohmann::json item(const r1kit_result& r) const;

  std::string path_;
  void* handle_ = nullptr;
  void* user_ = nullptr;
  r1kit_reward_score_fn score_ = nullptr;
  r1kit_reward_last_error_fn last_error_ = nullptr;
  r1kit_reward_free_results_fn free_results_ = nullptr;
  r1kit_reward_destroy_fn destroy_ = nullptr;
  std::mutex mutex_;
};

}  // namespace r1::rewards::internal
