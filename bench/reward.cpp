// bench/reward: `r1kit reward --rewards format,language,accuracy` end to end (read, parse, score,
// serialize, atomic write) over N generated math samples (default 100,000), beside the Python
// reference in the same run: bench/reward_reference.py computes format + language + math-verify
// accuracy on the first M samples (default 2,000; its rate is M over its wall time, which
// extrapolates to N because the samples are drawn i.i.d.), and the accuracy verdicts of both are
// compared on those M samples.
//   Samples: a <think> chain of thought in English or Chinese (some mixing in the other script),
// 300-1,500 bytes with inline LaTeX, then a summary with a \boxed{} answer in one of ~20 forms
// (integers, thousands separators, decimals, \frac/\dfrac/a/b, negative fractions, percentages,
// \sqrt, \pi, scientific notation, units in \text{}, degrees, x = 3, intervals, sets, tuples,
// polynomials, matrices), equivalent to the reference in ~60% of samples and a near miss
// otherwise; a few have no box (last-number fallback), a broken format or no language.
//   Timing: wall clock of the whole command (process start included), median of 3 runs after a
// warm-up run, with all threads (2 here) and with --threads 1. The run fails if the output does
// not have one line per sample or r1kit's verdicts agree with the generator's labels on < 90%.
//   usage: bench/reward [--samples N] [--reference-samples M] [--no-reference] [--keep DIR]
// Prints a table, then one JSON line (bench/README.md). Never asserts on time.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/common.h"
#include "core/error.h"

namespace r1::bench {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::ordered_json;

struct Generated {
  std::string line;  // the input line
  bool equivalent;   // the generator's label: the boxed answer equals the reference
};

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

int uniform(std::mt19937_64& rng, int lo, int hi) { return lo + int(rng() % uint64_t(hi - lo + 1)); }

// One (answer as written, reference, equivalent) triple of a random form.
struct AnswerForm {
  std::string answer, reference;
  bool equivalent;
};

AnswerForm answer_form(std::mt19937_64& rng) {
  const bool same = rng() % 100 < 60;
  const int a = uniform(rng, 1, 99), b = uniform(rng, 2, 19), n = uniform(rng, 100, 99999);
  auto str = [](auto v) { return std::to_string(v); };
  switch (rng() % 20) {
    case 0: return {str(n), str(same ? n : n + 1), same};
    case 1: {  // a thousands separator
      const int m = 1000 + n;
      const std::string low = str(1000 + m % 1000).substr(1);
      return {str(m / 1000) + "," + low, str(same ? m : m + 10), same};
    }
    case 2: return {"-" + str(a), same ? "-" + str(a) : str(a), same};
    case 3: return {str(a) + ".5", same ? "\\frac{" + str(2 * a + 1) + "}{2}" : "\\frac{" + str(2 * a + 3) + "}{2}", same};
    case 4: return {"\\dfrac{" + str(a) + "}{" + str(b) + "}", "\\frac{" + str(same ? a : a + 1) + "}{" + str(b) + "}", same};
    case 5: return {str(a) + "/" + str(b), "\\frac{" + str(same ? 2 * a : 2 * a + 1) + "}{" + str(2 * b) + "}", same};
    case 6: return {"-\\frac{3}{4}", same ? "-0.75" : "0.75", same};
    case 7: return {str(a) + "\\%", str(same ? a : a + 1) + "\\%", same};
    case 8: return {"2\\sqrt{3}", same ? "\\sqrt{12}" : "\\sqrt{13}", same};
    case 9: return {"\\frac{\\pi}{" + str(b) + "}", same ? "\\frac{1}{" + str(b) + "}\\pi" : "\\frac{\\pi}{" + str(b + 1) + "}", same};
    case 10: return {"1.5\\times 10^{3}", same ? "1500" : "150", same};
    case 11: return {str(a) + "\\text{ cm}", str(same ? a : a + 2), same};
    case 12: return {str(a) + "^\\circ", str(same ? a : a + 5) + "^\\circ", same};
    case 13: return {"x = " + str(a), str(same ? a : -a), same};
    case 14: return {"(1, " + str(b) + "]", same ? "(1," + str(b) + "]" : "[1," + str(b) + "]", same};
    case 15: return {"\\{1, 2, " + str(b) + "\\}", same ? "\\{" + str(b) + ", 2, 1\\}" : "\\{1, 2, " + str(b + 1) + "\\}", same};
    case 16: return {"(" + str(a) + ", " + str(b) + ")", same ? "(" + str(a) + "," + str(b) + ")" : "(" + str(b) + ", " + str(a) + ")",
                     same || a == b};
    case 17: return {"x^2 + 2x + 1", same ? "(x+1)^2" : "(x-1)^2", same};
    case 18: return {"\\begin{pmatrix} 1 & " + str(a) + " \\\\ 0 & 1 \\end{pmatrix}",
                     "\\begin{pmatrix} 1 & " + str(same ? a : a + 1) + " \\\\ 0 & 1 \\end{pmatrix}", same};
    default: return {str(a) + ".25", same ? str(a) + ".250" : str(a) + ".205", same};
  }
}

const std::vector<std::string> kEnglish = {
    "First, let me restate the problem in my own words.", "We need to find the value that satisfies the condition.",
    "Let $x$ be the unknown quantity, so $2x + 3 = 11$ gives $x = 4$.", "Wait, I should double-check this step.",
    "Substituting back, the left side equals the right side.", "Consider the cases where $n$ is even and odd separately.",
    "By the Pythagorean theorem, $a^2 + b^2 = c^2$.", "So the sum of the first $n$ terms is $\\frac{n(n+1)}{2}$.",
    "Hmm, that does not look right; let me recompute.", "The probability is the number of favorable outcomes over the total.",
    "Therefore the expression simplifies nicely.", "Taking the derivative and setting it to zero gives the extremum."};
const std::vector<std::string> kChinese = {
    "\xe9\xa6\x96\xe5\x85\x88\xef\xbc\x8c\xe6\x88\x91\xe4\xbb\xac\xe9\x87\x8d\xe6\x96\xb0\xe7\x90\x86\xe8\xa7\xa3\xe9\xa2\x98\xe7\x9b\xae\xe3\x80\x82",
    "\xe8\xae\xbe $x$ \xe4\xb8\xba\xe6\x9c\xaa\xe7\x9f\xa5\xe6\x95\xb0\xef\xbc\x8c\xe5\x88\x99 $2x + 3 = 11$\xe3\x80\x82",
    "\xe7\xad\x89\xe4\xb8\x80\xe4\xb8\x8b\xef\xbc\x8c\xe6\x88\x91\xe9\x9c\x80\xe8\xa6\x81\xe5\x86\x8d\xe6\xa3\x80\xe6\x9f\xa5\xe4\xb8\x80\xe4\xb8\x8b\xe8\xbf\x99\xe4\xb8\x80\xe6\xad\xa5\xe3\x80\x82",
    "\xe4\xbb\xa3\xe5\x85\xa5\xe5\x90\x8e\xe5\xb7\xa6\xe8\xbe\xb9\xe7\xad\x89\xe4\xba\x8e\xe5\x8f\xb3\xe8\xbe\xb9\xe3\x80\x82",
    "\xe5\x88\x86\xe6\x83\x85\xe5\x86\xb5\xe8\xae\xa8\xe8\xae\xba $n$ \xe4\xb8\xba\xe5\xa5\x87\xe6\x95\xb0\xe5\x92\x8c\xe5\x81\xb6\xe6\x95\xb0\xe3\x80\x82",
    "\xe6\x89\x80\xe4\xbb\xa5\xe7\xad\x94\xe6\xa1\x88\xe5\xba\x94\xe8\xaf\xa5\xe6\x98\xaf\xe8\xbf\x99\xe4\xb8\xaa\xe5\x80\xbc\xe3\x80\x82"};

std::string chain_of_thought(std::mt19937_64& rng, bool chinese) {
  std::string cot;
  const size_t size = size_t(uniform(rng, 300, 1500));
  while (cot.size() < size) {
    // One sentence in ten comes from the other language: the mixing the reward measures.
    const bool other = rng() % 10 == 0;
    cot += pick(rng, chinese != other ? kChinese : kEnglish);
    cot += rng() % 4 == 0 ? "\n\n" : " ";
  }
  return cot;
}

bool plain_number(const std::string& text) {
  return !text.empty() && text.find_first_not_of("-0123456789") == std::string::npos;
}

Generated generate_sample(std::mt19937_64& rng, int id) {
  const bool chinese = rng() % 100 < 40;
  const int shape = int(rng() % 100);
  AnswerForm form = answer_form(rng);
  // Without a box the summary's last number is the answer: only plain numbers keep their label.
  while (shape < 3 && !(plain_number(form.answer) && plain_number(form.reference))) form = answer_form(rng);
  std::string summary = chinese ? "\xe6\x89\x80\xe4\xbb\xa5\xe7\xad\x94\xe6\xa1\x88\xe6\x98\xaf " : "So the final answer is ";
  summary += shape < 3 ? form.answer + "." : "$\\boxed{" + form.answer + "}$.";
  std::string completion = "<think>\n" + chain_of_thought(rng, chinese) + "\n</think>\n\n" + summary;
  if (shape >= 97) completion = chain_of_thought(rng, chinese) + "\n" + summary;  // no think block
  json line = {{"id", id}, {"prompt", "Solve the problem and put the final answer in \\boxed{}."},
               {"completion", completion}, {"answer", form.reference}};
  if (shape % 50 != 7) line["language"] = chinese ? "zh" : "en";  // 2% have none: language unscored
  return {line.dump(), form.equivalent};
}

std::string r1kit_bin() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  R1_CHECK(n > 0, "readlink /proc/self/exe failed");
  return (stdfs::path(std::string(buf, size_t(n))).parent_path().parent_path() / "r1kit").string();
}

// Runs `r1kit reward` once; wall seconds.
double run_r1kit(const std::string& in, const std::string& out, int threads) {
  const std::string command = str_cat("'", r1kit_bin(), "' reward --rewards format,language,accuracy --in '", in,
                                      "' --out '", out, "'", threads > 0 ? str_cat(" --threads ", threads) : "",
                                      " 2>>'", out, ".log'");
  const auto start = Clock::now();
  if (std::system(command.c_str()) != 0) throw Error(str_cat("bench/reward: command failed: ", command));
  return seconds_since(start);
}

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

int run(int argc, char** argv) {
  size_t num_samples = 100000, num_reference = 2000;
  bool reference = true;
  std::string keep;  // --keep DIR: write the samples and scores there and leave them
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--samples") && i + 1 < argc) num_samples = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--reference-samples") && i + 1 < argc) num_reference = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-reference")) reference = false;
    else if (!std::strcmp(argv[i], "--keep") && i + 1 < argc) keep = argv[++i];
    else throw Error(str_cat("bench/reward: unknown argument ", argv[i]));
  }
  num_reference = std::min(num_reference, num_samples);
  const stdfs::path dir = !keep.empty() ? stdfs::path(keep) : stdfs::temp_directory_path() / str_cat("r1kit_bench_reward_", ::getpid());
  stdfs::create_directories(dir);
  const std::string in = (dir / "samples.jsonl").string(), out = (dir / "scores.jsonl").string();
  std::vector<bool> labels;
  {
    std::mt19937_64 rng(20261206);
    std::ofstream file(in), head((dir / "reference.jsonl").string());
    for (size_t i = 0; i < num_samples; ++i) {
      const Generated g = generate_sample(rng, int(i));
      file << g.line << '\n';
      if (i < num_reference) head << g.line << '\n';
      labels.push_back(g.equivalent);
    }
  }
  const double bytes = double(stdfs::file_size(in));

  json figures = json::object(), baselines = json::object(), ratios = json::object(), skipped = json::object();
  std::printf("%-34s %10s %12s %10s\n", "case", "samples", "samples/s", "MB/s");
  run_r1kit(in, out, 0);  // warm-up: page cache, dynamic loading
  for (const int threads : {0, 1}) {
    std::vector<double> times;
    for (int rep = 0; rep < 3; ++rep) times.push_back(run_r1kit(in, out, threads));
    const double rate = double(num_samples) / median(times);
    const std::string key = threads == 0 ? "r1kit_reward.samples_per_s" : "r1kit_reward.threads1.samples_per_s";
    figures[key] = rate;
    std::printf("%-34s %10zu %12.0f %10.1f\n", threads == 0 ? "r1kit reward (all threads)" : "r1kit reward --threads 1",
                num_samples, rate, rate * bytes / double(num_samples) / 1e6);
  }
  // Check the work: one line per sample, verdicts mostly as generated.
  const std::vector<json> scores = read_jsonl(out);
  R1_CHECK(scores.size() == num_samples, "r1kit wrote ", scores.size(), " lines for ", num_samples, " samples");
  size_t label_agree = 0, unscored = 0;
  for (size_t i = 0; i < num_samples; ++i) {
    if (scores[i]["accuracy"].is_null()) ++unscored;
    else label_agree += (scores[i]["accuracy"].get<double>() == 1.0) == labels[i];
  }
  const double label_agreement = double(label_agree) / double(num_samples);
  figures["r1kit_reward.agreement_with_labels"] = label_agreement;
  figures["r1kit_reward.accuracy_unscored"] = double(unscored);
  if (label_agreement < 0.9) throw Error(str_cat("bench/reward: r1kit's accuracy agrees with the labels on only ", label_agreement));

  if (reference) {
    const std::string script = (stdfs::path(__FILE__).parent_path() / "reward_reference.py").string();
    const json ref = run_json_command(str_cat("'", venv_python(), "' '", script, "' '", (dir / "reference.jsonl").string(), "'"));
    if (ref.is_null()) {
      skipped["math_verify"] = "bench/reward_reference.py failed (see its stderr above)";
    } else {
      const double rate = ref["samples"].get<double>() / ref["seconds"].get<double>();
      baselines["math_verify.samples_per_s"] = rate;
      ratios["r1kit_reward/math_verify"] = figures["r1kit_reward.samples_per_s"].get<double>() / rate;
      size_t agree = 0, ref_label_agree = 0;
      json examples = json::array();
      for (size_t i = 0; i < num_reference; ++i) {
        const bool theirs = ref["accuracy"][i].get<int>() == 1;
        const bool ours = !scores[i]["accuracy"].is_null() && scores[i]["accuracy"].get<double>() == 1.0;
        agree += theirs == ours;
        ref_label_agree += theirs == labels[i];
        if (theirs != ours && examples.size() < 8)
          examples.push_back({{"id", i}, {"r1kit", ours}, {"math_verify", theirs},
                              {"extracted", scores[i]["info"]["accuracy"].value("extracted", "")},
                              {"reference", scores[i]["info"]["accuracy"].value("reference_normal", "")}});
      }
      figures["accuracy_agreement_with_math_verify"] = double(agree) / double(num_reference);
      baselines["math_verify.agreement_with_labels"] = double(ref_label_agree) / double(num_reference);
      std::printf("%-34s %10zu %12.0f %10s\n", "math-verify (+ format, language)", num_reference, rate, "");
      std::printf("\nspeed-up %.1fx; accuracy verdicts agree on %.2f%% of %zu shared samples "
                  "(labels: r1kit %.2f%%, math-verify %.2f%%)\n",
                  ratios["r1kit_reward/math_verify"].get<double>(), 100.0 * double(agree) / double(num_reference),
                  num_reference, 100.0 * label_agreement, 100.0 * double(ref_label_agree) / double(num_reference));
      for (const json& e : examples) std::printf("  differs: %s\n", e.dump().c_str());
    }
  } else {
    skipped["math_verify"] = "--no-reference";
  }
  json line;
  line["bench"] = "reward";
  line["machine"] = {{"threads", std::thread::hardware_concurrency()}, {"timing", "wall clock, whole command, median of 3"}};
  line["samples"] = num_samples;
  line["reference_samples"] = num_reference;
  line["figures"] = figures;
  line["baselines"] = baselines;
  line["ratios"] = ratios;
  line["skipped"] = skipped;
  std::printf("%s\n", line.dump().c_str());
  if (keep.empty()) stdfs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace r1::bench

int main(int argc, char** argv) {
  return r1::bench::guarded_main("bench/reward", [&] { return r1::bench::run(argc, argv); });
}
