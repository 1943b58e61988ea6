#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace r1::cli {

void add_config_command(CLI::App& app) { app.add_subcommand("config", "(being written)"); }

}  // namespace r1::cli
