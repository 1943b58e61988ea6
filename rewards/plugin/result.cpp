// Validation of plugin results, shared by the shared-library and JSON-lines plugins: a plugin's
// output is untrusted input, so every field is checked and anything off makes that sample
// unscored with a reason that names the plugin.
#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "rewards/plugin/plugin.h"

namespace r1::rewards {

RewardResult plugin_result(const nlohmann::json& item, std::string_view plugin) {
  const auto garbage = [&](std::string what) {
    return RewardResult::make_unscored("plugin_garbage", str_cat(plugin, ": ", what));
  };
  if (!item.is_object()) return garbage(str_cat("expected a result object, found ", item.dump().substr(0, 80)));
  nlohmann::json info = nlohmann::json::object();
  if (const auto it = item.find("info"); it != item.end() && !it->is_null()) {
    if (!it->is_object()) return garbage(str_cat("info: expected an object, found ", it->dump().substr(0, 80)));
    info = *it;
  }
  if (const auto it = item.find("unscored"); it != item.end() && !it->is_null()) {
    if (!it->is_string()) return garbage("unscored: expected a string (the reason)");
    return RewardResult::make_unscored("plugin_unscored", str_cat(plugin, ": ", it->get<std::string>()), info);
  }
  const auto value = item.find("value");
  if (value == item.end()) return garbage("value: missing");
  // NaN and infinities arrive as numbers (1e999) or, from Python's json module, as the bare
  // tokens NaN / Infinity that the reader turns into these strings (process.cpp).
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (text == "NaN" || text == "Infinity" || text == "-Infinity")
      return RewardResult::make_unscored("plugin_nonfinite", str_cat(plugin, ": returned ", text), info);
  }
  if (!value->is_number()) return garbage(str_cat("value: expected a number, found ", value->dump().substr(0, 80)));
  const double v = value->get<double>();
  if (!std::isfinite(v)) return RewardResult::make_unscored("plugin_nonfinite", str_cat(plugin, ": returned ", v), info);
  return RewardResult::scored_value(v, std::move(info));
}

void log_unscored(std::span<const RewardResult> results) {
  size_t count = 0;
  const RewardResult* first = nullptr;
  for (const RewardResult& r : results) {
    if (r.scored() || r.unscored->reason == "plugin_unscored") continue;
    if (count++ == 0) first = &r;
  }
  if (first != nullptr)
    log::warn("reward plugin: ", count, " of ", results.size(), " samples unscored, the first: ",
              first->unscored->reason, ": ", first->unscored->detail);
}

}  // namespace r1::rewards
