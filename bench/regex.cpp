// bench/regex: Regex::find_all throughput on one thread for the Split patterns of real
// tokenizer.json files (Qwen2/3, Llama 3, DeepSeek-V3's three, GPT-2's ByteLevel regex) over
// generated English and mixed-script documents (~2-6 KB each, 4 MB per corpus), beside the
// `tokenizers` library's Split(Regex(p), "isolated") on the first 1 MB of the same documents in
// the same run (bench/regex_baseline.py through the venv's python: pre_tokenize_str, and
// pre_tokenize on a PreTokenizedString, which skips building Python objects).
//   Rates are MB (1e6 bytes of UTF-8) per second of CPU time of the measuring thread or process:
//   this machine is shared, and wall time would count other processes. Warm-up, then the median
//   of 3..10 runs. The result is checked: our Split pieces (non-empty matches and the non-empty
//   gaps between them) must cover every document, and their count must equal the library's.
// Prints a table, then one JSON line (bench/README.md). Never asserts on time.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/regex.h"

namespace r1::bench {
namespace {

using json = nlohmann::ordered_json;
using Documents = std::vector<std::string>;

constexpr std::size_t kCorpusBytes = std::size_t(4) << 20;
// The library runs ~20x slower: it gets the first documents of each corpus, this many bytes.
constexpr std::size_t kBaselineBytes = std::size_t(1) << 20;
constexpr double kRepBudgetSeconds = 0.6;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// One warm-up, then enough runs for ~kRepBudgetSeconds (3..10); the median CPU seconds.
double median_seconds(const std::function<void()>& fn) {
  const double warm_start = thread_cpu_seconds();
  fn();
  const double warm = thread_cpu_seconds() - warm_start;
  const int reps = std::clamp(int(kRepBudgetSeconds / std::max(warm, 1e-9)), 3, 10);
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const double start = thread_cpu_seconds();
    fn();
    times.push_back(thread_cpu_seconds() - start);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

// Paragraphs of prose: common words, capitals, contractions, numbers, punctuation, line breaks.
Documents english_documents(uint64_t seed) {
  static const std::vector<std::string> words = {
      "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
      "by", "on", "not", "he", "I", "this", "are", "or", "his", "from", "at", "which", "but",
      "have", "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has",
      "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "model",
      "Transformer", "training", "reinforcement", "learning", "tokenizer", "pipeline", "It's",
      "don't", "we're", "they'll", "2024", "3.14", "(see", "above)", "e.g.,", "data:", "\"quoted\"",
      "GRPO", "policy", "reward", "gradient", "sequence", "attention", "1,000"};
  std::mt19937_64 rng(seed);
  Documents docs;
  std::size_t total = 0;
  while (total < kCorpusBytes) {
    std::string doc;
    const std::size_t size = 2000 + rng() % 4000;
    while (doc.size() < size) {
      doc += pick(rng, words);
      const int r = int(rng() % 24);
      doc += r == 0 ? ".\n\n" : r == 1 ? ", " : r == 2 ? ". " : r == 3 ? "\n" : " ";
    }
    total += doc.size();
    docs.push_back(std::move(doc));
  }
  return docs;
}

// Chat-like mixed scripts: CJK, kana, Hangul, Cyrillic, Greek, Arabic, Devanagari, accents,
// emoji (with modifiers), digits, code, whitespace runs.
Documents mixed_documents(uint64_t seed) {
  static const std::vector<std::string> pieces = {
      "Hello", " world", "\u4e2d\u6587\u5b57\u7b26", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
      "\u30ab\u30bf\u30ab\u30ca", "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8", " \u043f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
      " \u03b1\u03b2\u03b3", "\U0001F600", "\U0001F44D\U0001F3FD", " 12345", "  ", "\n", "\t", "'s",
      " caf\u00e9", " na\u00efve", "!!", ", ", "\uff1a", "\u3002", "def f(x):\n    return x\n",
      " $100", " \u0627\u0644\u0639\u0631\u0628\u064a\u0629", " \u0939\u093f\u0928\u094d\u0926\u0940", " It's"};
  std::mt19937_64 rng(seed);
  Documents docs;
  std::size_t total = 0;
  while (total < kCorpusBytes) {
    std::string doc;
    const std::size_t size = 2000 + rng() % 4000;
    while (doc.size() < size) doc += pick(rng, pieces);
    total += doc.size();
    docs.push_back(std::move(doc));
  }
  return docs;
}

struct Pattern {
  const char* name;
  const char* regex;
};

const Pattern kPatterns[] = {
    {"qwen2", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
    {"llama3", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
    {"gpt2", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"},
    {"deepseek_v3.digits", R"(\p{N}{1,3})"},
    {"deepseek_v3.cjk", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"},
    {"deepseek_v3.main",
     "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
     "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"},
};

// Split pieces of `doc` (non-empty matches and gaps); throws if they do not tile the document.
std::size_t count_pieces(const tokenizer::Regex& regex, const std::string& doc,
                         std::vector<std::pair<std::size_t, std::size_t>>& matches) {
  matches.clear();
  regex.find_all(doc, matches);
  std::size_t pieces = 0, covered = 0;
  for (const auto& [begin, end] : matches) {
    R1_CHECK(begin >= covered && end <= doc.size(), "match [", begin, ", ", end, ") out of order");
    pieces += (begin > covered) + (end > begin);
    covered = end;
  }
  return pieces + (doc.size() > covered);
}

std::filesystem::path venv_python() {
  if (const char* p = std::getenv("R1KIT_PYTHON")) return p;
  if (const char* v = std::getenv("R1KIT_VENV")) return std::filesystem::path(v) / "bin/python";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/root") / ".cache/r1kit/venv/bin/python";
}

// Runs bench/regex_baseline.py on the corpora; an empty object (and the reason in `skipped`) when
// it cannot run.
json library_baseline(const std::vector<std::pair<std::string, Documents>>& corpora, json& skipped) {
  const std::filesystem::path python = venv_python();
  const std::filesystem::path script = std::filesystem::path(__FILE__).parent_path() / "regex_baseline.py";
  if (!std::filesystem::exists(python) || !std::filesystem::exists(script)) {
    skipped["baselines"] = str_cat("no venv python at ", python.string(), " or no ", script.string());
    return json::object();
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::filesystem::path docs_path = dir / str_cat("r1kit_bench_regex_docs_", ::getpid(), ".json");
  const std::filesystem::path patterns_path = dir / str_cat("r1kit_bench_regex_pat_", ::getpid(), ".json");
  json docs = json::object(), patterns = json::object();
  for (const auto& [name, d] : corpora) docs[name] = d;
  for (const Pattern& p : kPatterns) patterns[p.name] = p.regex;
  std::ofstream(docs_path) << docs.dump();
  std::ofstream(patterns_path) << patterns.dump();
  const std::string command = str_cat("'", python.string(), "' '", script.string(), "' '",
                                      docs_path.string(), "' '", patterns_path.string(), "'");
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[65536];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
    const int status = ::pclose(pipe);
    if (status != 0) out.clear();
  }
  std::filesystem::remove(docs_path);
  std::filesystem::remove(patterns_path);
  if (out.empty()) {
    skipped["baselines"] = "bench/regex_baseline.py failed (see its stderr above)";
    return json::object();
  }
  return json::parse(out);
}

int run() {
  const double start = thread_cpu_seconds();
  const std::vector<std::pair<std::string, Documents>> corpora = {
      {"english", english_documents(1)}, {"mixed", mixed_documents(2)}};
  json figures = json::object(), baselines = json::object(), ratios = json::object();
  json skipped = json::object();
  std::vector<std::pair<std::string, Documents>> subsets;
  for (const auto& [name, docs] : corpora) {
    Documents head;
    for (std::size_t bytes = 0; bytes < kBaselineBytes; bytes += head.back().size())
      head.push_back(docs[head.size()]);
    subsets.emplace_back(name, std::move(head));
  }
  const json library = library_baseline(subsets, skipped);

  std::printf("%-20s %-8s %9s %10s %12s %12s %8s\n", "pattern", "corpus", "MB", "ours MB/s",
              "lib str MB/s", "lib rust MB/s", "ratio");
  std::vector<std::pair<std::size_t, std::size_t>> matches;
  for (const Pattern& p : kPatterns) {
    const tokenizer::Regex regex = tokenizer::Regex::compile(p.regex);
    for (std::size_t c = 0; c < corpora.size(); ++c) {
      const auto& [corpus, docs] = corpora[c];
      std::size_t bytes = 0, pieces = 0;
      for (const std::string& d : docs) bytes += d.size();
      for (const std::string& d : subsets[c].second) pieces += count_pieces(regex, d, matches);
      const double seconds = median_seconds([&] {
        for (const std::string& d : docs) {
          matches.clear();
          regex.find_all(d, matches);
        }
      });
      const std::string key = str_cat("find_all.", p.name, ".", corpus);
      const double ours = double(bytes) / seconds / 1e6;
      figures[key] = ours;
      const std::string lib_key = str_cat(p.name, ".", corpus);
      double lib_str = 0.0, lib_rust = 0.0;
      if (library.contains(lib_key)) {
        const json& got = library[lib_key];
        R1_CHECK(got["pieces"].get<std::size_t>() == pieces, lib_key, ": ", pieces,
                 " pieces, the library ", got["pieces"]);
        lib_str = got["str_mb_s"].get<double>();
        lib_rust = got["rust_mb_s"].get<double>();
        baselines[str_cat("pre_tokenize_str.", lib_key)] = lib_str;
        baselines[str_cat("pre_tokenize.", lib_key)] = lib_rust;
        ratios[key + "/pre_tokenize"] = ours / lib_rust;
      } else {
        baselines[str_cat("pre_tokenize_str.", lib_key)] = nullptr;
        baselines[str_cat("pre_tokenize.", lib_key)] = nullptr;
      }
      std::printf("%-20s %-8s %9.2f %10.1f %12.2f %12.2f %7.1fx\n", p.name, corpus.c_str(),
                  double(bytes) / 1e6, ours, lib_str, lib_rust, lib_rust > 0 ? ours / lib_rust : 0.0);
      std::fflush(stdout);
    }
  }
  std::printf("\nours: Regex::find_all alone; lib: the library's whole Split pre-tokenizer "
              "(regex plus its NormalizedString bookkeeping); ratio = ours / lib rust\n");
  json line;
  line["bench"] = "regex";
  line["machine"] = {{"timing", "CPU time of the measuring thread (ours) or process (library)"}};
  line["figures"] = figures;
  line["baselines"] = baselines;
  line["ratios"] = ratios;
  line["skipped"] = skipped;
  line["seconds"] = thread_cpu_seconds() - start;
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace r1::bench

int main() { return r1::bench::run(); }
