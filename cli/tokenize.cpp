// r1kit tokenize DIR [--special] [--decode]: JSON lines on stdin -> JSON lines on stdout, with the
// model directory's tokenizer (tokenizer.json or tokenizer.model, and tokenizer_config.json).
//   encode:   {"text": "..."}  -> {"ids": [...]}    --special adds the BOS/EOS template
//   --decode: {"ids": [...]}   -> {"text": "..."}   --special keeps special tokens in the text
// Lines are processed in batches encoded on all cores; output order is input order. A bad line
// is an error naming stdin:<line>.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/tokenizer/tokenizer.h"

namespace r1::cli {
namespace {

using nlohmann::json;

struct TokenizeArgs {
  std::string dir;
  bool special = false;
  bool decode = false;
};

constexpr size_t kBatchLines = 4096;

json parse_line(const std::string& line, size_t line_no) {
  try {
    return json::parse(line);
  } catch (const json::parse_error& e) {
    throw Error(str_cat("stdin:", line_no, ": not valid JSON: ", e.what()));
  }
}

void encode_batch(const tokenizer::Tokenizer& tok, const std::vector<std::string>& texts, bool special) {
  for (const auto& ids : tok.encode_batch(texts, special)) {
    const std::string out = json{{"ids", ids}}.dump() + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
}

void run_tokenize(const TokenizeArgs& args) {
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(args.dir);
  std::string line;
  size_t line_no = 0;
  std::vector<std::string> texts;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty()) continue;
    const json in = parse_line(line, line_no);
    if (args.decode) {
      if (!in.is_object() || !in.contains("ids") || !in["ids"].is_array())
        throw Error(str_cat("stdin:", line_no, ": expected {\"ids\": [...]}, found ", line.substr(0, 80)));
      std::vector<tokenizer::TokenId> ids;
      for (const json& id : in["ids"]) {
        if (!id.is_number_integer())
          throw Error(str_cat("stdin:", line_no, ": ids: expected integers, found ", id.dump()));
        ids.push_back(id.get<tokenizer::TokenId>());
      }
      const std::string text = tok.decode(ids, /*skip_special_tokens=*/!args.special);
      const std::string out = json{{"text", text}}.dump() + "\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
      continue;
    }
    if (!in.is_object() || !in.contains("text") || !in["text"].is_string())
      throw Error(str_cat("stdin:", line_no, ": expected {\"text\": \"...\"}, found ", line.substr(0, 80)));
    texts.push_back(in["text"].get<std::string>());
    if (texts.size() == kBatchLines) {
      encode_batch(tok, texts, args.special);
      texts.clear();
    }
  }
  if (!texts.empty()) encode_batch(tok, texts, args.special);
  std::fflush(stdout);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Encode {\"text\"} JSON lines to {\"ids\"} (or decode with --decode) using a model "
                  "directory's tokenizer");
  cmd->add_option("DIR", args->dir, "model directory with tokenizer.json or tokenizer.model")->required();
  cmd->add_flag("--special", args->special,
                "encode: add the BOS/EOS template; decode: keep special tokens in the text");
  cmd->add_flag("--decode", args->decode, "read {\"ids\": [...]} lines and print {\"text\": ...}");
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace r1::cli
