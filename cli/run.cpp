#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace r1::cli {

void add_run_command(CLI::App& app) { app.add_subcommand("run", "(being written)"); }

}  // namespace r1::cli
