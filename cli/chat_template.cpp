// r1kit chat-template DIR [--json]: renders conversations with a model directory's chat template
// exactly as transformers' apply_chat_template(tokenize=False) does. Reads JSON lines from stdin,
// {"messages": [...], "add_generation_prompt": bool, <other template variables>}, and prints each
// rendering as is (no newline added), or with --json one {"text", "generation_spans"} line per
// input line (spans are byte ranges of the text produced inside {% generation %}). The template is
// the directory's "tool_use" one when the line has tools and there is one, else its default, as in
// transformers; the special tokens come from its tokenizer_config.json. A bad line stops with an
// error naming "stdin:<line>".
#include "core/tokenizer/chat_template.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/tokenizer/tokenizer_config.h"

namespace r1::cli {
namespace {

using nlohmann::ordered_json;

struct ChatTemplateArgs {
  std::string dir;
  bool as_json = false;
};

// transformers' get_chat_template: "tool_use" when tools are given and it exists, else "default".
const std::string* pick_template(const tokenizer::TokenizerConfig& config, bool has_tools,
                                 std::string* name) {
  const auto tool_use = config.chat_templates.find("tool_use");
  if (has_tools && tool_use != config.chat_templates.end()) {
    *name = "tool_use";
    return &tool_use->second;
  }
  *name = config.chat_templates.count("default") > 0 ? "default"
          : config.chat_templates.empty()            ? ""
                                                     : config.chat_templates.begin()->first;
  return config.default_chat_template();
}

// Where a template came from, for error messages.
std::string template_origin(const std::string& dir, const tokenizer::TokenizerConfig& config,
                            const std::string& name) {
  const std::filesystem::path d(dir);
  if (std::filesystem::exists(d / "chat_template.jinja") && name == "default")
    return (d / "chat_template.jinja").string();
  if (std::filesystem::exists(d / "additional_chat_templates" / (name + ".jinja"))) {
    return (d / "additional_chat_templates" / (name + ".jinja")).string();
  }
  return config.origin + " (chat_template " + name + ")";
}

void render_line(const std::string& line, int line_no, const ChatTemplateArgs& args,
                 const tokenizer::TokenizerConfig& config,
                 std::map<std::string, tokenizer::ChatTemplate>& parsed) {
  const std::string where = str_cat("stdin:", line_no);
  ordered_json input;
  try {
    input = ordered_json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(str_cat(where, ": not valid JSON: ", e.what()));
  }
  if (!input.is_object())
    throw Error(str_cat(where, ": expected a JSON object {\"messages\": [...], ...}, found ",
                        input.type_name()));
  if (!input.contains("messages"))
    throw Error(str_cat(where, ": messages: missing (a list of {\"role\", \"content\"} objects)"));
  const ordered_json messages = input["messages"];
  bool add_generation_prompt = false;
  if (input.contains("add_generation_prompt")) {
    if (!input["add_generation_prompt"].is_boolean()) {
      throw Error(str_cat(where, ": add_generation_prompt: expected true or false, found ",
                          input["add_generation_prompt"].dump()));
    }
    add_generation_prompt = input["add_generation_prompt"].get<bool>();
  }
  input.erase("messages");
  input.erase("add_generation_prompt");
  const bool has_tools = input.contains("tools") && !input["tools"].is_null();
  std::string name;
  const std::string* source = pick_template(config, has_tools, &name);
  if (source == nullptr)
    throw Error(str_cat(args.dir,
                        ": no chat template (no chat_template.jinja, and no chat_template in ",
                        config.origin, ")"));
  auto it = parsed.find(name);
  if (it == parsed.end())
    it = parsed
             .emplace(name, tokenizer::ChatTemplate::parse(*source,
                                                           template_origin(args.dir, config, name)))
             .first;
  tokenizer::ChatTemplate::Rendered r;
  try {
    r = it->second.render(
        tokenizer::make_chat_context(messages, add_generation_prompt, config, input));
  } catch (const Error& e) {
    throw Error(str_cat(where, ": ", e.what()));
  }
  if (!args.as_json) {
    std::fwrite(r.text.data(), 1, r.text.size(), stdout);
  } else {
    nlohmann::json spans = nlohmann::json::array();
    for (const auto& [b, e] : r.generation_spans) spans.push_back({b, e});
    const nlohmann::json out = {{"text", r.text}, {"generation_spans", spans}};
    const std::string text = out.dump() + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::fflush(stdout);
}

void chat_template_command(const ChatTemplateArgs& args) {
  if (!std::filesystem::is_directory(args.dir)) throw Error(args.dir + ": not a directory");
  const tokenizer::TokenizerConfig config = tokenizer::load_tokenizer_config(args.dir);
  std::map<std::string, tokenizer::ChatTemplate> parsed;  // by template name, parsed once
  std::ios::sync_with_stdio(false);  // stdin is read with getline only
  std::string line;
  for (int line_no = 1; std::getline(std::cin, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;  // blank lines separate nothing
    render_line(line, line_no, args, config, parsed);
  }
}

}  // namespace

void add_chat_template_command(CLI::App& app) {
  auto args = std::make_shared<ChatTemplateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "chat-template",
      "Render conversations (JSON lines on stdin) with a model directory's chat template, as "
      "transformers' apply_chat_template(tokenize=False) does");
  cmd->add_option("dir", args->dir,
                  "a model directory with tokenizer_config.json and/or chat_template.jinja")
      ->required();
  cmd->add_flag("--json", args->as_json,
                "print one {\"text\", \"generation_spans\"} JSON line per input line instead of "
                "the raw text");
  cmd->callback([args] { chat_template_command(*args); });
}

}  // namespace r1::cli
