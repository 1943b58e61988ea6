// The r1kit subcommands: each file in cli/ registers one on the CLI11 app. A callback does its work
// and returns normally or throws; main.cpp turns exceptions into one stderr line and an exit status.
#pragma once

namespace CLI {
class App;
}

namespace r1::cli {

void add_run_command(CLI::App& app);
void add_config_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_chat_template_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_model_info_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_generate_command(CLI::App& app);
// `r1kit sandbox run|judge` (cli/sandbox.cpp; judge in cli/sandbox_judge.cpp).
void add_sandbox_command(CLI::App& app);
void add_sandbox_judge_command(CLI::App& sandbox);
void add_reward_command(CLI::App& app);
void add_tasks_command(CLI::App& app);  // cli/tasks.cpp: `r1kit tasks gen`
void add_report_command(CLI::App& app);
void add_launch_command(CLI::App& app);
void add_sft_command(CLI::App& app);  // cli/sft.cpp: `r1kit sft`
void add_grpo_command(CLI::App& app);  // cli/grpo.cpp: `r1kit grpo`
void add_pretrain_command(CLI::App& app);  // cli/pretrain.cpp: `r1kit pretrain`

}  // namespace r1::cli
