// Shared-library reward plugins through the C ABI of rewards/sdk/r1kit_reward.h. The library runs
// in this process: its errors, NaNs and malformed info are contained (samples unscored), a crash
// is not (docs/rewards.md says to load trusted code only this way).
#include <dlfcn.h>

#include <cmath>
#include <mutex>

#include "core/error.h"
#include "core/log.h"
#include "rewards/plugin/plugin.h"
#include "rewards/sdk/r1kit_reward.h"

namespace r1::rewards {

namespace {

struct Api {
  r1kit_reward_abi_version_fn abi_version = nullptr;
  r1kit_reward_init_fn init = nullptr;
  r1kit_reward_score_fn score = nullptr;
  r1kit_reward_last_error_fn last_error = nullptr;
  r1kit_reward_free_results_fn free_results = nullptr;
  r1kit_reward_destroy_fn destroy = nullptr;
};

template <typename Fn>
Fn symbol(void* handle, const char* name, std::string_view where, const std::string& path) {
  void* address = ::dlsym(handle, name);
  if (address == nullptr)
    throw Error(str_cat(where, ": ", path, ": not a reward plugin: it does not export ", name,
                        " (see rewards/sdk/r1kit_reward.h)"));
  return reinterpret_cast<Fn>(address);
}

class LibraryPlugin final : public Reward {
 public:
  LibraryPlugin(const LibraryPluginConfig& config, std::string_view where) : name_(config.name) {
    const std::string path = config.path.string();
    handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) throw Error(str_cat(where, ": cannot load reward plugin: ", ::dlerror()));
    try {
      api_.abi_version = symbol<r1kit_reward_abi_version_fn>(handle_, "r1kit_reward_abi_version", where, path);
      api_.init = symbol<r1kit_reward_init_fn>(handle_, "r1kit_reward_init", where, path);
      api_.score = symbol<r1kit_reward_score_fn>(handle_, "r1kit_reward_score", where, path);
      api_.last_error = symbol<r1kit_reward_last_error_fn>(handle_, "r1kit_reward_last_error", where, path);
      api_.free_results = symbol<r1kit_reward_free_results_fn>(handle_, "r1kit_reward_free_results", where, path);
      api_.destroy = symbol<r1kit_reward_destroy_fn>(handle_, "r1kit_reward_destroy", where, path);
      if (const uint32_t version = api_.abi_version(); version != R1KIT_REWARD_ABI_VERSION)
        throw Error(str_cat(where, ": ", path, ": plugin ABI version ", version, ", this r1kit speaks ",
                            R1KIT_REWARD_ABI_VERSION, "; rebuild the plugin against rewards/sdk/r1kit_reward.h"));
      char error[1024] = "";
      if (api_.init(config.options.dump().c_str(), &user_, error, sizeof error) != 0) {
        error[sizeof error - 1] = '\0';
        throw Error(str_cat(where, ": ", path, ": plugin init failed: ", error[0] ? error : "(no reason given)"));
      }
    } catch (const Error&) {
      ::dlclose(handle_);
      throw;
    }
  }

  ~LibraryPlugin() override {
    api_.destroy(user_);
    ::dlclose(handle_);
  }

  std::string_view name() const override { return name_; }

  std::vector<RewardResult> score(std::span<const Sample> batch) override {
    // The strings the C structs point into live until the call returns.
    std::vector<std::string> json_text(batch.size());
    std::vector<r1kit_sample> samples(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const Sample& s = batch[i];
      json_text[i] = sample_to_json(s).dump();
      samples[i] = r1kit_sample{s.prompt.data(), s.prompt.size(), s.completion.data(), s.completion.size(),
                                s.answer ? s.answer->data() : nullptr, s.answer ? s.answer->size() : 0,
                                s.language.data(), s.language.size(), json_text[i].data(), json_text[i].size()};
    }
    std::vector<r1kit_result> raw(batch.size(), r1kit_result{std::nan(""), -1, nullptr});
    std::vector<RewardResult> out;
    out.reserve(batch.size());
    std::lock_guard lock(mutex_);  // the C ABI promises one call at a time per `user`
    if (const int status = api_.score(user_, samples.data(), samples.size(), raw.data()); status != 0) {
      const char* why = api_.last_error(user_);
      const std::string detail = str_cat(name_, ": r1kit_reward_score returned ", status, ": ", why ? why : "(no reason given)");
      log::warn("reward plugin ", detail, "; ", batch.size(), " samples unscored");
      for (size_t i = 0; i < batch.size(); ++i) out.push_back(RewardResult::make_unscored("plugin_error", detail));
      api_.free_results(user_, raw.data(), raw.size());
      return out;
    }
    for (const r1kit_result& r : raw) out.push_back(convert(r));
    api_.free_results(user_, raw.data(), raw.size());
    log_unscored(out);
    return out;
  }

 private:
  RewardResult convert(const r1kit_result& r) const {
    nlohmann::json item = nlohmann::json::object();
    if (r.info != nullptr) {
      nlohmann::json info = nlohmann::json::parse(r.info, nullptr, /*allow_exceptions=*/false);
      if (info.is_discarded())
        return RewardResult::make_unscored("plugin_garbage", str_cat(name_, ": info is not valid JSON"));
      item["info"] = std::move(info);
    }
    if (r.scored == 0) {
      const nlohmann::json& info = item.contains("info") ? item["info"] : nlohmann::json();
      const bool has_reason = info.is_object() && info.contains("reason") && info["reason"].is_string();
      item["unscored"] = has_reason ? info["reason"].get<std::string>() : std::string("(no reason given)");
    } else if (r.scored != 1) {
      return RewardResult::make_unscored("plugin_garbage", str_cat(name_, ": scored must be 0 or 1, found ", r.scored));
    }
    item["value"] = std::isfinite(r.value) ? nlohmann::json(r.value)
                                           : nlohmann::json(std::isnan(r.value) ? "NaN" : r.value > 0 ? "Infinity" : "-Infinity");
    return plugin_result(item, name_);
  }

  std::string name_;
  void* handle_ = nullptr;
  Api api_;
  void* user_ = nullptr;
  std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Reward> load_library_plugin(const LibraryPluginConfig& config, std::string_view where) {
  return std::make_unique<LibraryPlugin>(config, where);
}

}  // namespace r1::rewards
