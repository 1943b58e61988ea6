// decide() against math-verify (the reference library, in the venv) on the pairs that
// tests/rewards/math_verify_pairs.py generates: the verdicts must agree except on the pairs listed
// in tests/rewards/data/math_verify_disagreements.tsv, each with the reason r1kit is right. A
// disagreement that is not listed fails, and so does a listed pair that no longer disagrees (or is
// no longer generated), so the list stays honest. math-verify runs once, in its own process, over
// all pairs (about 20 s on 2 cores).
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rewards/math/answer.h"
#include "tests/support/test_support.h"

namespace r1::rewards::math {
namespace {

struct Pair {
  std::string form, answer, reference;
  bool math_verify = false;
};

struct Listed {
  int line = 0;
  std::string form;
  bool math_verify = false;
  std::string reason;
  bool seen = false;
};

using Key = std::pair<std::string, std::string>;  // (answer, reference)

std::map<Key, Listed> load_disagreements() {
  const auto path = test::source_dir() / "tests/rewards/data/math_verify_disagreements.tsv";
  std::istringstream in(test::read_text(path));
  std::map<Key, Listed> listed;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = test::split(line, '\t');
    EXPECT_EQ(f.size(), 5u) << path << ":" << n << ": expected form, answer, reference, "
                            << "math_verify (0/1), reason";
    if (f.size() != 5) continue;
    EXPECT_TRUE(f[3] == "0" || f[3] == "1") << path << ":" << n << ": math_verify: expected 0 or 1";
    EXPECT_GE(f[4].size(), 20u) << path << ":" << n << ": the reason r1kit is right is missing";
    const bool fresh = listed.emplace(Key{f[1], f[2]}, Listed{n, f[0], f[3] == "1", f[4]}).second;
    EXPECT_TRUE(fresh) << path << ":" << n << ": listed twice";
  }
  return listed;
}

std::vector<Pair> run_math_verify() {
  const auto script = test::source_dir() / "tests/rewards/math_verify_pairs.py";
  const test::CommandResult r =
      test::run_command({test::python().string(), script.string()}, "", std::chrono::seconds(240));
  EXPECT_EQ(r.exit_code, 0) << "math-verify run failed (is math-verify installed in the venv? "
                            << "set R1KIT_NO_REFERENCE=1 to skip on purpose):\n" << r.err;
  std::vector<Pair> pairs;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = test::split(line, '\t');
    EXPECT_EQ(f.size(), 4u) << "unexpected line from " << script << ": " << line;
    if (f.size() == 4) pairs.push_back({f[0], f[1], f[2], f[3] == "1"});
  }
  return pairs;
}

TEST(MathVerifyParity, AgreesExceptListedDisagreements) {
  R1_REQUIRE_REFERENCE();
  std::map<Key, Listed> listed = load_disagreements();
  const std::vector<Pair> pairs = run_math_verify();
  ASSERT_GE(pairs.size(), 2000u);

  const EquivalenceConfig config;
  std::map<std::string, int> listed_by_form, pairs_by_form;
  int unlisted = 0, equivalent = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const Pair& p : pairs) {
    const Decision d = decide(p.answer, p.reference, config);
    ++pairs_by_form[p.form];
    ASSERT_NE(d.outcome, Outcome::deadline) << p.answer << " vs " << p.reference << ": " << d.detail;
    const bool ours = d.outcome == Outcome::equivalent;
    equivalent += ours;
    const auto it = listed.find({p.answer, p.reference});
    if (it != listed.end()) {
      it->second.seen = true;
      EXPECT_NE(ours, p.math_verify) << "math_verify_disagreements.tsv:" << it->second.line << ": \""
                                     << p.answer << "\" vs \"" << p.reference
                                     << "\" no longer disagrees; remove it from the list";
      EXPECT_EQ(it->second.math_verify, p.math_verify)
          << "math_verify_disagreements.tsv:" << it->second.line << ": math-verify's verdict changed";
      ++listed_by_form[p.form];
      continue;
    }
    if (ours != p.math_verify) {
      ++unlisted;
      ADD_FAILURE() << "unlisted disagreement [" << p.form << "] answer \"" << p.answer
                    << "\" reference \"" << p.reference << "\": math-verify " << p.math_verify
                    << ", r1kit " << outcome_name(d.outcome) << " (rule " << d.rule << ", "
                    << d.answer_normal << " | " << d.reference_normal << ", " << d.detail << ")";
    }
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
                    static_cast<double>(pairs.size());
  for (const auto& [key, entry] : listed)
    EXPECT_TRUE(entry.seen) << "math_verify_disagreements.tsv:" << entry.line << ": \"" << key.first
                            << "\" vs \"" << key.second << "\" is no longer generated";
  std::printf("math-verify parity: %zu pairs (%d equivalent for r1kit), %zu listed disagreements, "
              "%d unlisted; decide() %.2f us per pair\n",
              pairs.size(), equivalent, listed.size(), unlisted, us);
  for (const auto& [form, n] : pairs_by_form)
    std::printf("  %-18s %5d pairs, %3d listed disagreements\n", form.c_str(), n, listed_by_form[form]);
}

}  // namespace
}  // namespace r1::rewards::math
