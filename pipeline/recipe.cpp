#include "pipeline/recipe.h"

#include <cctype>

#include "core/error.h"
#include "core/recipe/load.h"
#include "core/strings.h"
#include "pipeline/stage.h"

namespace r1::pipeline {
namespace {

// Stage names become directory names and key paths: keep them to [a-z0-9_], starting with a letter.
bool valid_stage_name(std::string_view name) {
  if (name.empty() || !std::islower(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

std::string kind_list(const StageRegistry& registry) {
  std::string out;
  for (const std::string& n : registry.names()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

StageSpec resolve_stage(const recipe::Node::Entry& entry, const StageRegistry& registry) {
  const std::string path = "stages." + entry.key;
  if (!valid_stage_name(entry.key)) {
    throw Error(str_cat(entry.key_mark.str(), ": ", path,
                        ": expected a stage name of lowercase letters, digits and '_' starting "
                        "with a letter, found '", entry.key, "'"));
  }
  const recipe::Node& body = entry.value;
  if (body.kind() != recipe::Node::Kind::kMap) {
    throw Error(str_cat(body.mark().str(), ": ", path, ": expected a map with a 'kind' key, found ",
                        recipe::describe(body)));
  }
  const recipe::Node* kind = body.find("kind");
  if (kind == nullptr) {
    throw Error(str_cat(body.mark().str(), ": ", path, ".kind: missing required key (one of ",
                        kind_list(registry), ")"));
  }
  if (kind->kind() != recipe::Node::Kind::kScalar) {
    throw Error(str_cat(kind->mark().str(), ": ", path, ".kind: expected one of ",
                        kind_list(registry), ", found ", recipe::describe(*kind)));
  }
  const StageKind* stage_kind = registry.find(kind->scalar());
  if (stage_kind == nullptr) {
    const std::vector<std::string> names = registry.names();
    const std::optional<std::string> near = core::nearest(kind->scalar(), names);
    throw Error(str_cat(kind->mark().str(), ": ", path, ".kind: unknown stage kind '",
                        kind->scalar(), "'", near ? str_cat("; did you mean '", *near, "'?") : "",
                        " (valid: ", kind_list(registry), ")"));
  }
  StageSpec spec{entry.key, stage_kind->name, body};
  if (stage_kind->built()) spec.settings = stage_kind->resolve(body, path);
  return spec;
}

}  // namespace

ResolvedRecipe resolve_recipe(const recipe::Node& root, const StageRegistry& registry) {
  RecipeRoot top = recipe::bind<RecipeRoot>(root, "");
  if (top.stages.kind() != recipe::Node::Kind::kMap || top.stages.entries().empty()) {
    throw Error(str_cat(top.stages.mark().str(),
                        ": stages: expected a non-empty map of stage name -> {kind: ...}, found ",
                        recipe::describe(top.stages)));
  }
  ResolvedRecipe out;
  out.run = top.run;
  out.description = top.description;
  recipe::Node resolved_stages = recipe::Node::map(top.stages.mark());
  for (const recipe::Node::Entry& entry : top.stages.entries()) {
    StageSpec spec = resolve_stage(entry, registry);
    resolved_stages.set(spec.name, spec.settings, entry.key_mark);
    out.stages.push_back(std::move(spec));
  }
  top.stages = resolved_stages;
  out.yaml = recipe::to_yaml(recipe::unbind(top));
  return out;
}

ResolvedRecipe resolve_recipe(const std::filesystem::path& path,
                              std::span<const std::string> overrides, const StageRegistry& registry) {
  return resolve_recipe(recipe::load_recipe(path, overrides), registry);
}

}  // namespace r1::pipeline
