// Shared-library reward plugins through the C ABI of rewards/sdk/r1kit_reward.h, run in this
// process (LibraryPlugin: `isolate: false`, trusted code only, since a crash there is r1kit's
// crash) or in r1kit-reward-host behind the JSON-lines protocol (the default, see config.cpp).
// Either way the library's errors, NaNs and malformed info are contained (samples unscored).
#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"
#include "rewards/internal/library_handle.h"
#include "rewards/plugin/plugin.h"

namespace r1::rewards {

namespace internal {

namespace {

template <typename Fn>
Fn symbol(void* handle, const char* name, std::string_view where, const std::string& path) {
  void* address = ::dlsym(handle, name);
  if (address == nullptr)
    throw Error(str_cat(where, ": ", path, ": not a reward plugin: it does not export ", name,
                        " (see rewards/sdk/r1kit_reward.h)"));
  return reinterpret_cast<Fn>(address);
}

}  // namespace

LibraryHandle::LibraryHandle(const std::filesystem::path& path, const nlohmann::json& options,
                             std::string_view where)
    : path_(path.string()) {
  handle_ = ::dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) throw Error(str_cat(where, ": cannot load reward plugin: ", ::dlerror()));
  try {
    const auto abi_version = symbol<r1kit_reward_abi_version_fn>(handle_, "r1kit_reward_abi_version", where, path_);
    const auto init = symbol<r1kit_reward_init_fn>(handle_, "r1kit_reward_init", where, path_);
    score_ = symbol<r1kit_reward_score_fn>(handle_, "r1kit_reward_score", where, path_);
    last_error_ = symbol<r1kit_reward_last_error_fn>(handle_, "r1kit_reward_last_error", where, path_);
    free_results_ = symbol<r1kit_reward_free_results_fn>(handle_, "r1kit_reward_free_results", where, path_);
    destroy_ = symbol<r1kit_reward_destroy_fn>(handle_, "r1kit_reward_destroy", where, path_);
    if (const uint32_t version = abi_version(); version != R1KIT_REWARD_ABI_VERSION)
      throw Error(str_cat(where, ": ", path_, ": plugin ABI version ", version, ", this r1kit speaks ",
                          R1KIT_REWARD_ABI_VERSION, "; rebuild the plugin against rewards/sdk/r1kit_reward.h"));
    char error[1024] = "";
    if (init(options.dump().c_str(), &user_, error, sizeof error) != 0) {
      error[sizeof error - 1] = '\0';
      throw Error(str_cat(where, ": ", path_, ": plugin init failed: ", error[0] ? error : "(no reason given)"));
    }
  } catch (const Error&) {
    ::dlclose(handle_);
    throw;
  }
}

LibraryHandle::~LibraryHandle() {
  destroy_(user_);
  ::dlclose(handle_);
}

std::variant<std::vector<nlohmann::json>, std::string> LibraryHandle::score(std::span<const Sample> batch) {
  // The strings the C structs point into live until the call returns.
  std::vector<std::string> json_text(batch.size());
  std::vector<r1kit_sample> samples(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const Sample& s = batch[i];
    json_text[i] = sample_to_json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    samples[i] = r1kit_sample{s.prompt.data(), s.prompt.size(), s.completion.data(), s.completion.size(),
                              s.answer ? s.answer->data() : nullptr, s.answer ? s.answer->size() : 0,
                              s.language.data(), s.language.size(), json_text[i].data(), json_text[i].size()};
  }
  std::vector<r1kit_result> raw(batch.size(), r1kit_result{std::nan(""), -1, nullptr});
  std::lock_guard lock(mutex_);  // the C ABI promises one call at a time per `user`
  if (const int status = score_(user_, samples.data(), samples.size(), raw.data()); status != 0) {
    const char* why = last_error_(user_);
    std::string detail = str_cat("r1kit_reward_score returned ", status, ": ", why ? why : "(no reason given)");
    free_results_(user_, raw.data(), raw.size());
    return detail;
  }
  std::vector<nlohmann::json> items;
  items.reserve(raw.size());
  for (const r1kit_result& r : raw) items.push_back(item(r));
  free_results_(user_, raw.data(), raw.size());
  return items;
}

nlohmann::json LibraryHandle::item(const r1kit_result& r) const {
  nlohmann::json out = nlohmann::json::object();
  if (r.info != nullptr) {
    nlohmann::json info = nlohmann::json::parse(r.info, nullptr, /*allow_exceptions=*/false);
    // A string info is not an object: plugin_result() refuses it as garbage, naming the cause.
    out["info"] = info.is_discarded() ? nlohmann::json("(info is not valid JSON)") : std::move(info);
  }
  if (r.scored == 0) {
    const nlohmann::json& info = out.contains("info") ? out["info"] : nlohmann::json();
    const bool has_reason = info.is_object() && info.contains("reason") && info["reason"].is_string();
    out["unscored"] = has_reason ? info["reason"].get<std::string>() : std::string("(no reason given)");
  } else if (r.scored != 1) {
    // Not a result object: plugin_result() refuses it as garbage, quoting this.
    return str_cat("(scored must be 0 or 1, found ", r.scored, ")");
  }
  out["value"] = std::isfinite(r.value) ? nlohmann::json(r.value)
                                        : nlohmann::json(std::isnan(r.value) ? "NaN" : r.value > 0 ? "Infinity" : "-Infinity");
  return out;
}

}  // namespace internal

namespace {

class LibraryPlugin final : public Reward {
 public:
  LibraryPlugin(const LibraryPluginConfig& config, std::string_view where)
      : name_(config.name), library_(config.path, config.options, where) {}

  std::string_view name() const override { return name_; }

  std::vector<RewardResult> score(std::span<const Sample> batch) override {
    std::vector<RewardResult> out;
    out.reserve(batch.size());
    auto scored = library_.score(batch);
    if (auto* detail = std::get_if<std::string>(&scored)) {
      log::warn("reward plugin ", name_, ": ", *detail, "; ", batch.size(), " samples unscored");
      for (size_t i = 0; i < batch.size(); ++i)
        out.push_back(RewardResult::make_unscored("plugin_error", str_cat(name_, ": ", *detail)));
      return out;
    }
    for (const nlohmann::json& item : std::get<std::vector<nlohmann::json>>(scored))
      out.push_back(plugin_result(item, name_));
    log_unscored(out);
    return out;
  }

 private:
  std::string name_;
  internal::LibraryHandle library_;
};

}  // namespace

std::unique_ptr<Reward> load_library_plugin(const LibraryPluginConfig& config, std::string_view where) {
  return std::make_unique<LibraryPlugin>(config, where);
}

std::filesystem::path reward_host_path(std::string_view where) {
  std::vector<std::filesystem::path> tried;
  if (const char* env = std::getenv("R1KIT_REWARD_HOST"); env != nullptr && *env != '\0') {
    // An explicit choice is used or refused, never passed over.
    if (::access(env, X_OK) == 0) return env;
    throw Error(str_cat(where, ": R1KIT_REWARD_HOST=", env, ": expected the r1kit-reward-host program"));
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) tried.push_back(self.parent_path() / "r1kit-reward-host");
#ifdef R1KIT_REWARD_HOST_BUILD_PATH
  tried.emplace_back(R1KIT_REWARD_HOST_BUILD_PATH);  // the build tree's, for tests and benchmarks
#endif
  for (const std::filesystem::path& path : tried)
    if (::access(path.c_str(), X_OK) == 0) return path;
  std::string list;
  for (const std::filesystem::path& path : tried) list += str_cat(list.empty() ? "" : ", ", path.string());
  throw Error(str_cat(where, ": an isolated library plugin runs in r1kit-reward-host, not found (tried ", list,
                      "); set R1KIT_REWARD_HOST, or isolate: false to load the library into this process"));
}

}  // namespace r1::rewards
