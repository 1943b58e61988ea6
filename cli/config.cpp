// r1kit config RECIPE [a.b=c ...] [--schema]: the resolved recipe, exactly as `run` would save it.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "core/recipe/bind.h"
#include "pipeline/recipe.h"
#include "pipeline/stage.h"

namespace r1::cli {
namespace {

struct ConfigArgs {
  std::string recipe;
  std::vector<std::string> overrides;
  bool schema = false;
};

void print_schema(const pipeline::StageRegistry& registry) {
  std::printf("%s", recipe::schema_text<pipeline::RecipeRoot>("").c_str());
  for (const std::string& name : registry.names()) {
    const pipeline::StageKind& kind = *registry.find(name);
    std::printf("\nstage kind '%s': %s\n", name.c_str(), kind.summary.c_str());
    if (kind.built()) {
      std::printf("%s", kind.schema(str_cat("stages.<name>")).c_str());
    } else {
      std::printf("  not built yet (planned in %s); its settings are kept as written, unchecked\n",
                  kind.planned.c_str());
    }
  }
}

void config_command(const ConfigArgs& args) {
  const pipeline::StageRegistry registry = pipeline::default_stages();
  if (args.schema) {
    print_schema(registry);
    return;
  }
  if (args.recipe.empty()) throw Error("config: expected a recipe file (or --schema)");
  const pipeline::ResolvedRecipe recipe =
      pipeline::resolve_recipe(args.recipe, args.overrides, registry);
  std::printf("%s", recipe.yaml.c_str());
}

}  // namespace

void add_config_command(CLI::App& app) {
  auto args = std::make_shared<ConfigArgs>();
  CLI::App* cmd = app.add_subcommand(
      "config", "Print the resolved recipe (includes followed, overrides applied, defaults filled)");
  cmd->add_option("recipe", args->recipe, "recipe YAML file");
  cmd->add_option("overrides", args->overrides, "key overrides a.b.c=value (YAML values)");
  cmd->add_flag("--schema", args->schema, "list every recipe key: type, default, range, meaning");
  cmd->callback([args] { config_command(*args); });
}

}  // namespace r1::cli
