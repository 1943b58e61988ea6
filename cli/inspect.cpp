#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace r1::cli {

void add_inspect_command(CLI::App& app) { app.add_subcommand("inspect", "(being written)"); }

}  // namespace r1::cli
