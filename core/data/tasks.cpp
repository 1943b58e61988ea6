// The task generator's driver: validation, the per-line draw (family, difficulty, language), the
// split rule, the JSONL line layout and the atomic writer. The families live in arithmetic.cpp,
// countdown.cpp, function_tasks.cpp and chat.cpp.
#include "core/data/tasks.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_set>

#include "core/data/internal/task_kit.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/strings.h"

namespace r1::data {

namespace internal {

uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t Rng::next() {
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int64_t Rng::uniform(int64_t lo, int64_t hi) {
  R1_CHECK(lo <= hi, "empty range [", lo, ", ", hi, "]");
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<int64_t>(next());  // the whole 64-bit range
  // Lemire's multiply-shift; the bias (span / 2^64) is far below anything a dataset shows.
  const unsigned __int128 product = static_cast<unsigned __int128>(next()) * span;
  return lo + static_cast<int64_t>(product >> 64);
}

double Rng::real01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

std::string fill(std::string_view pattern, std::initializer_list<std::string_view> args) {
  std::string out;
  auto arg = args.begin();
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    if (pattern[i] == '{' && next == '}') {
      R1_CHECK(arg != args.end(), "too few arguments for pattern ", pattern);
      out += *arg++;
      ++i;
    } else if ((pattern[i] == '{' || pattern[i] == '}') && next == pattern[i]) {
      out += pattern[i++];  // "{{" and "}}" are literal braces, as in Python's str.format
    } else {
      out += pattern[i];
    }
  }
  R1_CHECK(arg == args.end(), "too many arguments for pattern ", pattern);
  return out;
}

std::string join_numbers(std::span<const int64_t> numbers, bool zh) {
  std::string out;
  for (size_t i = 0; i < numbers.size(); ++i) out += str_cat(i == 0 ? "" : zh ? "\u3001" : ", ", numbers[i]);
  return out;
}

}  // namespace internal

namespace {

using internal::Problem;
using internal::Render;
using internal::Rng;

const std::array<std::string, 4> kFamilies = {"arithmetic", "countdown", "function", "chat"};

// "000017": the line index, zero-padded to six digits (more when needed).
std::string index_text(int64_t index) {
  std::string digits = std::to_string(index);
  return digits.size() >= 6 ? digits : std::string(6 - digits.size(), '0') + digits;
}

std::string_view id_prefix(std::string_view family) {
  if (family == "arithmetic") return "arith";
  if (family == "function") return "func";
  return family;
}

std::string quoted_list(std::span<const std::string> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += str_cat(i == 0 ? "" : ", ", "'", names[i], "'");
  return out;
}

void check_one_of(std::string_view where, std::string_view key, const std::string& value,
                  std::span<const std::string> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  const std::optional<std::string> near = core::nearest(value, allowed);
  throw Error(str_cat(where, ".", key, ": expected one of ", quoted_list(allowed), ", found '", value, "'",
                      near ? str_cat(" (did you mean '", *near, "'?)") : ""));
}

void check_share(std::string_view where, std::string_view key, double value, bool open) {
  const bool ok = std::isfinite(value) && (open ? value > 0 && value < 1 : value >= 0 && value <= 1);
  if (!ok)
    throw Error(str_cat(where, ".", key, ": expected a number in ", open ? "(0, 1)" : "[0, 1]", ", found ", value));
}

void check_names(std::string_view where, std::string_view key, const std::vector<std::string>& names,
                 std::span<const std::string> allowed) {
  if (names.empty()) throw Error(str_cat(where, ".", key, ": expected a non-empty list, found an empty one"));
  for (size_t i = 0; i < names.size(); ++i) {
    check_one_of(where, str_cat(key, "[", i, "]"), names[i], allowed);
    for (size_t j = 0; j < i; ++j)
      if (names[j] == names[i])
        throw Error(str_cat(where, ".", key, ": expected distinct names, found '", names[i], "' twice"));
  }
}

}  // namespace

void validate(const TasksConfig& c, std::string_view where) {
  check_one_of(where, "kind", c.kind, std::array<std::string, 3>{"rl", "sft", "pretrain"});
  check_names(where, "tasks", c.tasks, kFamilies);
  if (!c.weights.empty()) {
    if (c.weights.size() != c.tasks.size())
      throw Error(str_cat(where, ".weights: expected one weight per entry of tasks (", c.tasks.size(),
                          "), found ", c.weights.size()));
    double sum = 0;
    for (size_t i = 0; i < c.weights.size(); ++i) {
      if (!std::isfinite(c.weights[i]) || c.weights[i] < 0)
        throw Error(str_cat(where, ".weights[", i, "]: expected a finite number >= 0, found ", c.weights[i]));
      sum += c.weights[i];
    }
    if (sum <= 0) throw Error(str_cat(where, ".weights: expected at least one weight > 0, found all 0"));
  }
  if (c.num < 1) throw Error(str_cat(where, ".num: expected an integer >= 1, found ", c.num));
  check_one_of(where, "split", c.split, std::array<std::string, 2>{"train", "heldout"});
  if (c.seed < 0) throw Error(str_cat(where, ".seed: expected an integer >= 0, found ", c.seed));
  for (const auto& [key, d] : {std::pair{"difficulty_min", c.difficulty_min}, {"difficulty_max", c.difficulty_max}})
    if (d < 1 || d > 5) throw Error(str_cat(where, ".", key, ": expected an integer in 1..5, found ", d));
  if (c.difficulty_min > c.difficulty_max)
    throw Error(str_cat(where, ".difficulty_min: expected <= difficulty_max (", c.difficulty_max, "), found ",
                        c.difficulty_min));
  check_share(where, "heldout_share", c.heldout_share, /*open=*/true);
  check_share(where, "zh_share", c.zh_share, false);
  check_share(where, "zh_cot_english_share", c.zh_cot_english_share, false);
  check_share(where, "generic_share", c.generic_share, false);
  check_names(where, "operations", c.operations, std::array<std::string, 3>{"add", "sub", "mul"});
}

bool is_heldout(std::string_view problem_key, double heldout_share) {
  // The top 53 bits of the hash as a number in [0, 1): independent of seed, language and order.
  const uint64_t h = internal::mix64(internal::fnv1a64(problem_key));
  return static_cast<double>(h >> 11) * 0x1.0p-53 < heldout_share;
}

namespace {

// What is decided for a line before its problem is drawn. Drawn in a fixed order whatever the
// kind, so rl, sft and pretrain generations with one seed hold the same problems.
struct LineChoice {
  std::string family;
  int difficulty = 1;
  Render render;
  bool generic = false;  // pretrain: a generic sentence instead of a task
};

LineChoice choose_line(Rng& rng, const TasksConfig& c) {
  LineChoice out;
  double total = 0;
  for (size_t i = 0; i < c.tasks.size(); ++i) total += c.weights.empty() ? 1.0 : c.weights[i];
  double u = rng.real01() * total;
  out.family = c.tasks.back();
  for (size_t i = 0; i < c.tasks.size(); ++i) {
    const double w = c.weights.empty() ? 1.0 : c.weights[i];
    if (u < w && w > 0) {
      out.family = c.tasks[i];
      break;
    }
    u -= w;
  }
  const int64_t d = rng.uniform(c.difficulty_min, c.difficulty_max);
  out.difficulty = out.family == "chat" ? 1 : static_cast<int>(d);
  out.render.prompt = rng.chance(c.zh_share) ? "zh" : "en";
  const bool english_cot = rng.chance(c.zh_cot_english_share);
  out.render.cot = out.render.prompt;
  if (c.kind == "sft" && english_cot && out.family != "chat") out.render.cot = "en";
  out.generic = rng.chance(c.generic_share) && c.kind == "pretrain";
  return out;
}

Problem draw_problem(Rng& rng, const LineChoice& line, const TasksConfig& c) {
  if (line.family == "arithmetic") return internal::arithmetic_problem(rng, line.difficulty, line.render, c.operations);
  if (line.family == "countdown") return internal::countdown_problem(rng, line.difficulty, line.render);
  if (line.family == "function") return internal::function_problem(rng, line.difficulty, line.render);
  return internal::chat_problem(rng, line.render);
}

std::string assistant_message(const Problem& p) {
  if (p.cot.empty()) return p.summary;
  return str_cat("<think>\n", p.cot, "\n</think>\n\n", p.summary);
}

nlohmann::json make_line(const Problem& p, const LineChoice& line, const TasksConfig& c, int64_t index) {
  nlohmann::json out = {{"id", str_cat(id_prefix(line.family), "-d", line.difficulty, "-", index_text(index))},
                        {"task", line.family},
                        {"difficulty", line.difficulty},
                        {"language", line.render.prompt},
                        {"split", c.split},
                        {"problem", p.key}};
  if (line.render.cot != line.render.prompt) out["cot_language"] = line.render.cot;
  nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", p.prompt}}});
  if (c.kind != "rl") messages.push_back({{"role", "assistant"}, {"content", assistant_message(p)}});
  out["messages"] = std::move(messages);
  for (const auto& [key, value] : p.fields.items()) out[key] = value;
  if (c.kind == "pretrain") {
    nlohmann::json text_line = {{"text", render_plain_text(out, c.pretrain_think_tags)}};
    for (const char* key : {"id", "task", "difficulty", "language", "split", "problem"}) text_line[key] = out[key];
    return text_line;
  }
  return out;
}

nlohmann::json generic_line(Rng& rng, const LineChoice& line, const TasksConfig& c, int64_t index) {
  const std::string text = internal::generic_sentence(rng, line.render.prompt);
  return {{"text", text},           {"id", str_cat("text-d1-", index_text(index))}, {"task", "text"}, {"difficulty", 1},
          {"language", line.render.prompt}, {"split", c.split}, {"problem", str_cat("text:", text)}};
}

constexpr int kMaxAttempts = 2000;

}  // namespace

std::vector<nlohmann::json> generate_tasks(const TasksConfig& c) {
  validate(c);
  const bool want_heldout = c.split == "heldout";
  std::unordered_set<std::string> seen;  // unique: "<language>|<problem key>"
  std::vector<nlohmann::json> lines;
  lines.reserve(static_cast<size_t>(c.num));
  for (int64_t i = 0; i < c.num; ++i) {
    // One stream per line: line i does not depend on num, and a prefix of a longer run equals a
    // shorter run (unique aside, which looks at earlier lines).
    Rng rng(internal::mix64(static_cast<uint64_t>(c.seed) * 0x100000001B3ull ^ internal::mix64(static_cast<uint64_t>(i))));
    const LineChoice line = choose_line(rng, c);
    if (line.generic) {
      lines.push_back(generic_line(rng, line, c, i));
      continue;
    }
    bool done = false;
    for (int attempt = 0; attempt < kMaxAttempts && !done; ++attempt) {
      const Problem p = draw_problem(rng, line, c);
      if (is_heldout(p.key, c.heldout_share) != want_heldout) continue;
      if (c.unique && !seen.insert(str_cat(line.render.prompt, "|", p.key)).second) continue;
      lines.push_back(make_line(p, line, c, i));
      done = true;
    }
    if (!done)
      throw Error(str_cat("tasks: line ", i, ": found no new ", c.split, " ", line.family, " problem at difficulty ",
                          line.difficulty, " in ", kMaxAttempts, " draws",
                          c.unique ? "; with unique: true the problem space is exhausted: lower num, widen "
                                     "difficulty_min..difficulty_max or add tasks"
                                   : ""));
  }
  return lines;
}

void write_jsonl(const std::filesystem::path& path, std::span<const nlohmann::json> lines) {
  core::AtomicFile file(path);
  for (const nlohmann::json& line : lines) {
    file.write(line.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::strict));
    file.write(std::string_view("\n"));
  }
  file.commit();
}

std::string render_plain_text(const nlohmann::json& line, bool think_tags) {
  const auto& messages = line.contains("messages") ? line["messages"] : nlohmann::json();
  if (!messages.is_array() || messages.size() != 2 || !messages[0].value("content", nlohmann::json()).is_string() ||
      !messages[1].value("content", nlohmann::json()).is_string())
    throw Error(str_cat("render_plain_text: line ", line.value("id", std::string("?")),
                        ": expected messages [user, assistant] with string contents, found ", messages.dump()));
  const std::string prompt = messages[0]["content"].get<std::string>();
  std::string answer = messages[1]["content"].get<std::string>();
  if (!think_tags) {
    for (const std::string_view tag : {std::string_view("<think>\n"), std::string_view("\n</think>")}) {
      const size_t at = answer.find(tag);
      if (at != std::string::npos) answer.erase(at, tag.size());
    }
  }
  return str_cat(prompt, "\n", answer);
}

}  // namespace r1::data
