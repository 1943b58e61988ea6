// r1kit's entry point and the only place that catches exceptions (STYLE.md rule 19):
// bad input (r1::Error, CLI parse errors) exits 2, anything else exits 1; one line on stderr.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/process.h"
#include "core/version.h"

namespace {

std::string version_text() {
  return r1::str_cat("r1kit ", r1::core::kVersion, " (", r1::core::kBuildType, ", ",
                     r1::core::kCompiler, ", LibTorch ", r1::core::kTorchVersion, ", CUDA ",
                     r1::core::kCudaEnabled
                         ? r1::str_cat("sm_", r1::core::kCudaArchitectures)
                         : std::string("off"),
                     ")");
}

int run(int argc, char** argv) {
  CLI::App app("r1kit: the DeepSeek-R1 post-training pipeline, from recipe to Hugging Face export",
               "r1kit");
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  std::string log_level;
  app.add_option("--log-level", log_level, "debug, info, warn or error (default: $R1KIT_LOG or info)");
  app.parse_complete_callback([&] {
    if (!log_level.empty()) r1::log::set_level(r1::log::parse_level(log_level, "--log-level"));
  });
  r1::cli::add_run_command(app);
  r1::cli::add_config_command(app);
  r1::cli::add_inspect_command(app);
  r1::cli::add_chat_template_command(app);
  r1::cli::add_tokenize_command(app);
  r1::cli::add_model_info_command(app);
  r1::cli::add_score_command(app);
  r1::cli::add_generate_command(app);
  r1::cli::add_reward_command(app);
  r1::cli::add_report_command(app);
  r1::cli::add_launch_command(app);
  r1::cli::add_sft_command(app);
  r1::cli::add_grpo_command(app);
  r1::cli::add_pretrain_command(app);
  r1::cli::add_sandbox_command(app);
  r1::cli::add_tasks_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "r1kit: %s\n", e.what());
    std::fprintf(stderr, "Run with --help for usage.\n");
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  r1::core::use_passive_openmp(argv);
  r1::core::retain_freed_memory();
  try {
    return run(argc, argv);
  } catch (const r1::Error& e) {
    std::fprintf(stderr, "r1kit: error: %s\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "r1kit: internal error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "r1kit: internal error: %s\n", e.what());
    return 1;
  }
}
