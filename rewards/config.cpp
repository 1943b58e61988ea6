// Building the combined reward from a recipe's `rewards:` list (rewards/config.h).
#include "rewards/config.h"

#include <charconv>

#include "core/error.h"
#include "rewards/plugin/plugin.h"

namespace r1::rewards {

namespace {

std::string place(const recipe::Node& node, const std::string& path) {
  const std::string mark = node.mark().str();
  return mark.empty() ? path : str_cat(mark, ": ", path);
}

std::unique_ptr<Reward> build_one(const recipe::Node& item, const RewardSpec& spec, const std::string& path,
                                  const Registry& registry, const std::filesystem::path& base_dir) {
  const recipe::Node* path_node = item.find("path");
  const recipe::Node& path_at = path_node ? *path_node : item;
  if (spec.kind == "builtin") {
    if (!spec.path.empty())
      throw Error(str_cat(place(path_at, path + ".path"), ": a built-in reward takes no path (did you mean kind: library or process?)"));
    const recipe::Node* name_node = item.find("name");
    return registry.create(spec.name, spec.options, path + ".options", place(name_node ? *name_node : item, path + ".name"));
  }
  if (spec.path.empty())
    throw Error(str_cat(place(item, path + ".path"), ": missing required key for kind: ", spec.kind));
  if (registry.contains(spec.name))
    throw Error(str_cat(place(item, path + ".name"), ": '", spec.name, "' is a built-in reward; give the plugin another name"));
  std::filesystem::path file = spec.path;
  // A bare command name of a process plugin is looked up in PATH; anything with a '/' is a file.
  if (file.is_relative() && (spec.kind == "library" || spec.path.find('/') != std::string::npos)) file = base_dir / file;
  const std::string where = place(path_at, path + ".path");
  ProcessPluginConfig config;
  config.name = spec.name;
  config.path = file;
  config.args = spec.args;
  config.cwd = base_dir;
  config.timeout = spec.timeout;
  config.options = node_to_json(spec.options);
  if (spec.kind == "library") {
    if (!std::filesystem::is_regular_file(file))
      throw Error(str_cat(where, ": no such file: ", file.string()));
    if (!spec.isolate) return load_library_plugin(LibraryPluginConfig{spec.name, file, config.options}, where);
    // The library in a process of its own: r1kit-reward-host LIBRARY OPTIONS_JSON.
    config.path = reward_host_path(where);
    config.args = {std::filesystem::absolute(file).string(), config.options.dump()};
    config.ready_line = true;
  }
  return start_process_plugin(config, where);
}

}  // namespace

CombinedReward build_rewards(const recipe::Node& rewards, const std::string& key_path, const Registry& registry,
                             const std::filesystem::path& base_dir) {
  if (!rewards.is_sequence())
    throw Error(str_cat(place(rewards, key_path), ": expected a list of rewards, found ", recipe::describe(rewards)));
  if (rewards.items().empty()) throw Error(str_cat(place(rewards, key_path), ": expected at least one reward, found none"));
  std::vector<Component> components;
  for (size_t i = 0; i < rewards.items().size(); ++i) {
    const recipe::Node& item = rewards.items()[i];
    const std::string path = str_cat(key_path, "[", i, "]");
    const RewardSpec spec = recipe::bind<RewardSpec>(item, path);
    if (reserved_name(spec.name))
      throw Error(str_cat(place(item.find("name") ? *item.find("name") : item, path + ".name"), ": '", spec.name,
                          "' is reserved (reward, info, id, unscored are output fields); choose another name"));
    for (const Component& c : components) {
      if (c.name == spec.name)
        throw Error(str_cat(place(item, path + ".name"), ": '", spec.name, "' is listed twice; names must be unique"));
    }
    components.push_back(Component{spec.name, spec.weight, build_one(item, spec, path, registry, base_dir)});
  }
  return CombinedReward(std::move(components));
}

const recipe::Node& stage_rewards(const recipe::Node& root, std::string_view stage) {
  const recipe::Node* stages = root.find("stages");
  const recipe::Node* found = stages ? stages->find(stage) : nullptr;
  if (found == nullptr) {
    std::string names;
    if (stages && stages->is_map())
      for (const auto& e : stages->entries()) names += str_cat(names.empty() ? "" : ", ", e.key);
    throw Error(str_cat(place(stages ? *stages : root, "stages"), ": no stage '", stage, "'; the recipe has: ",
                        names.empty() ? "(none)" : names));
  }
  const recipe::Node* rewards = found->find("rewards");
  if (rewards == nullptr)
    throw Error(str_cat(place(*found, str_cat("stages.", stage, ".rewards")), ": missing: the stage lists no rewards"));
  return *rewards;
}

nlohmann::json node_to_json(const recipe::Node& node) {
  switch (node.kind()) {
    case recipe::Node::Kind::kNull: return nullptr;
    case recipe::Node::Kind::kSequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const recipe::Node& item : node.items()) out.push_back(node_to_json(item));
      return out;
    }
    case recipe::Node::Kind::kMap: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& e : node.entries()) out[e.key] = node_to_json(e.value);
      return out;
    }
    case recipe::Node::Kind::kScalar: break;
  }
  const std::string& text = node.scalar();
  if (node.quoted()) return text;
  if (text == "null" || text == "~") return nullptr;
  if (text == "true") return true;
  if (text == "false") return false;
  int64_t integer = 0;
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
      ec == std::errc() && end == text.data() + text.size())
    return integer;
  double number = 0.0;
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      ec == std::errc() && end == text.data() + text.size() && !text.empty())
    return number;
  return text;
}

}  // namespace r1::rewards
