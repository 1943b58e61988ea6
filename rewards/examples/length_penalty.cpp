// Example shared-library reward plugin (C ABI of rewards/sdk/r1kit_reward.h), written in C++: a
// length penalty in the spirit of Kimi k1.5's and DAPO's overlong shaping. A completion up to
// `max_chars` bytes scores 0; beyond it, the penalty grows linearly to -1 at `max_chars` +
// `buffer_chars` and stays there. Options (JSON from the recipe): {"max_chars": 4000,
// "buffer_chars": 1000}. Built by rewards/examples/CMakeLists.txt as liblength_penalty.so.
//
// No C++ exception may cross the C boundary: every entry point catches and reports through its
// return value, as the SDK requires.
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rewards/sdk/r1kit_reward.h"

namespace {

struct State {
  double max_chars = 4000;
  double buffer_chars = 1000;
  std::vector<std::string> infos;  // the info texts of the last batch, freed by free_results
  std::string last_error;
};

double option(const nlohmann::json& options, const char* key, double fallback) {
  if (!options.contains(key)) return fallback;
  if (!options[key].is_number() || options[key].get<double>() <= 0)
    throw std::invalid_argument(std::string(key) + ": expected a positive number, found " + options[key].dump());
  return options[key].get<double>();
}

}  // namespace

extern "C" {

uint32_t r1kit_reward_abi_version(void) { return R1KIT_REWARD_ABI_VERSION; }

int r1kit_reward_init(const char* options_json, void** user, char* error, size_t error_size) {
  try {
    const nlohmann::json options = nlohmann::json::parse(options_json);
    auto state = std::make_unique<State>();
    state->max_chars = option(options, "max_chars", state->max_chars);
    state->buffer_chars = option(options, "buffer_chars", state->buffer_chars);
    *user = state.release();  // owned by the host until r1kit_reward_destroy
    return 0;
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "length_penalty: %s", e.what());
    return 1;
  }
}

int r1kit_reward_score(void* user, const r1kit_sample* samples, size_t n, r1kit_result* out) {
  auto* state = static_cast<State*>(user);
  try {
    state->infos.assign(n, std::string());
    for (size_t i = 0; i < n; ++i) {
      const double length = double(samples[i].completion_len);
      const double over = length - state->max_chars;
      const double value = over <= 0 ? 0.0 : -std::min(1.0, over / state->buffer_chars);
      state->infos[i] = nlohmann::json{{"chars", samples[i].completion_len}, {"over", over > 0 ? over : 0.0}}.dump();
      out[i].value = value;
      out[i].scored = 1;
      out[i].info = state->infos[i].c_str();
    }
    return 0;
  } catch (const std::exception& e) {
    state->last_error = e.what();
    return 1;
  }
}

const char* r1kit_reward_last_error(void* user) { return static_cast<State*>(user)->last_error.c_str(); }

void r1kit_reward_free_results(void* user, r1kit_result* results, size_t n) {
  (void)results;
  (void)n;
  static_cast<State*>(user)->infos.clear();
}

void r1kit_reward_destroy(void* user) { delete static_cast<State*>(user); }

}  // extern "C"
