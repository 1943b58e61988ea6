// Small Python function-writing tasks (MBPP-sized), judged in the sandbox. Each template draws its
// parameters (a letter, a divisor pair, a shift, ...) so there are hundreds of distinct problems
// for the split to hash; the expected results of the tests are computed here in C++, and the
// reference solution (the SFT answer's ```python block) is judged against them by
// tests/rewards/tasks_verify_test.cpp, which ties the two together. Inputs are drawn so the
// Python reprs are simple: lowercase words, small non-negative integers.
#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/data/internal/task_kit.h"
#include "core/error.h"

namespace r1::data::internal {

namespace {

constexpr int kNumTests = 4;

// One drawn function task, before rendering.
struct Draft {
  std::string key;        // "function:<template>:<params>"
  std::string name;       // the entry point
  std::string sig;        // "count_char(s)"
  std::string what_en, what_zh;  // what it returns, a clause
  std::string plan_en, plan_zh;  // one line each
  std::string code;       // reference solution
  std::vector<std::string> args;      // Python text of each test's arguments
  std::vector<std::string> expected;  // Python repr of each test's result
  // zh prompts only: the parameters written with Latin letters ("letters 'abc'"), which the zh CoT
  // leaves out (the language reward counts Latin words there) but the prompt must state.
  std::string detail_zh;
};

std::string py(int64_t v) { return std::to_string(v); }
std::string py(bool v) { return v ? "True" : "False"; }
std::string py(const std::string& s) { return "'" + s + "'"; }  // inputs hold no quote or backslash
template <typename T>
std::string py(const std::vector<T>& xs) {
  std::string out = "[";
  for (size_t i = 0; i < xs.size(); ++i) out += (i == 0 ? "" : ", ") + py(xs[i]);
  return out + "]";
}
std::string py(const std::optional<int64_t>& v) { return v ? py(*v) : "None"; }

std::string ordinal(int64_t k) {  // 2nd, 3rd, 4th (k < 20)
  return str_cat(k, k == 1 ? "st" : k == 2 ? "nd" : k == 3 ? "rd" : "th");
}

std::vector<int64_t> int_list(Rng& rng, int64_t max_len, int64_t lo, int64_t hi) {
  std::vector<int64_t> xs(static_cast<size_t>(rng.uniform(0, max_len)));
  for (int64_t& x : xs) x = rng.uniform(lo, hi);
  return xs;
}

std::string word(Rng& rng, std::string_view alphabet, int64_t min_len, int64_t max_len) {
  std::string w(static_cast<size_t>(rng.uniform(min_len, max_len)), 'a');
  for (char& c : w) c = alphabet[static_cast<size_t>(rng.uniform(0, static_cast<int64_t>(alphabet.size()) - 1))];
  return w;
}

constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";
constexpr std::array<std::string_view, 12> kWords = {"apple", "river", "stone", "cloud", "green", "tiger",
                                                     "music", "house", "light", "bread", "smile", "ocean"};

std::string sentence(Rng& rng, int64_t max_words) {
  std::string s;
  const int64_t n = rng.uniform(1, max_words);
  for (int64_t i = 0; i < n; ++i) s += str_cat(i == 0 ? "" : " ", rng.pick(kWords));
  return s;
}

// Adds kNumTests cases: arg(rng) gives (argument text, expected repr).
void add_tests(Draft& d, Rng& rng, const std::function<std::pair<std::string, std::string>(Rng&)>& arg) {
  for (int t = 0; t < kNumTests; ++t) {
    auto [a, e] = arg(rng);
    d.args.push_back(std::move(a));
    d.expected.push_back(std::move(e));
  }
}

Draft add_k(Rng& rng) {
  const int64_t k = rng.uniform(1, 20);
  Draft d{str_cat("function:add_k:", k), "add_k", "add_k(xs)",
          fill("returns a new list with {} added to every element of the list xs", {py(k)}),
          fill("\u8FD4\u56DE\u4E00\u4E2A\u65B0\u5217\u8868\uFF0C\u628A\u5217\u8868\u4E2D\u7684\u6BCF\u4E2A\u5143\u7D20\u90FD\u52A0\u4E0A {}", {py(k)}),
          "build a new list with a comprehension over xs.", "\u7528\u5217\u8868\u63A8\u5BFC\u5F0F\u904D\u5386\u6BCF\u4E2A\u5143\u7D20\uFF0C\u9010\u4E2A\u52A0\u4E0A\u8FD9\u4E2A\u6570\u3002",
          fill("def add_k(xs):\n    return [x + {} for x in xs]", {py(k)})};
  add_tests(d, rng, [k](Rng& r) {
    std::vector<int64_t> xs = int_list(r, 5, 0, 50), ys = xs;
    for (int64_t& y : ys) y += k;
    return std::pair{py(xs), py(ys)};
  });
  return d;
}

Draft count_char(Rng& rng) {
  const char c = kLower[static_cast<size_t>(rng.uniform(0, 25))];
  const std::string letter(1, c);
  Draft d{str_cat("function:count_char:", letter), "count_char", "count_char(s)",
          fill("returns how many times the letter '{}' appears in the string s", {letter}),
          "\u8FD4\u56DE\u76EE\u6807\u5B57\u6BCD\u5728\u5B57\u7B26\u4E32\u4E2D\u51FA\u73B0\u7684\u6B21\u6570", "use str.count on s.", "\u9010\u4E2A\u5B57\u7B26\u6BD4\u8F83\uFF0C\u9047\u5230\u76EE\u6807\u5B57\u6BCD\u5C31\u52A0\u4E00\u3002",
          fill("def count_char(s):\n    return s.count('{}')", {letter})};
  d.detail_zh = fill("\u76EE\u6807\u5B57\u6BCD\u662F '{}'", {letter});
  add_tests(d, rng, [&](Rng& r) {
    const std::string s = word(r, str_cat(letter, letter, "abcde"), 0, 10);
    return std::pair{py(s), py(static_cast<int64_t>(std::count(s.begin(), s.end(), c)))};
  });
  return d;
}

Draft sum_digits(Rng& rng) {
  const int64_t p = rng.uniform(1, 3);
  const std::string power = p == 1 ? "" : str_cat(" ** ", p);
  Draft d{str_cat("function:sum_digits:", p), "sum_digits", "sum_digits(n)",
          p == 1 ? "returns the sum of the decimal digits of the non-negative integer n"
                 : fill("returns the sum of the {} powers of the decimal digits of the non-negative integer n", {ordinal(p)}),
          p == 1 ? "\u8FD4\u56DE\u975E\u8D1F\u6574\u6570\u5404\u4F4D\u6570\u5B57\u4E4B\u548C" : fill("\u8FD4\u56DE\u975E\u8D1F\u6574\u6570\u5404\u4F4D\u6570\u5B57\u7684 {} \u6B21\u65B9\u4E4B\u548C", {py(p)}),
          "turn n into a string and add up each digit.", "\u628A\u6570\u5B57\u8F6C\u6210\u5B57\u7B26\u4E32\uFF0C\u9010\u4F4D\u53D6\u51FA\u6570\u5B57\u518D\u76F8\u52A0\u3002",
          fill("def sum_digits(n):\n    return sum(int(d){} for d in str(n))", {power})};
  add_tests(d, rng, [p](Rng& r) {
    const int64_t n = r.uniform(0, 99999);
    int64_t sum = 0;
    for (const char ch : std::to_string(n)) {
      int64_t term = 1;
      for (int64_t i = 0; i < p; ++i) term *= ch - '0';
      sum += term;
    }
    return std::pair{py(n), py(sum)};
  });
  return d;
}

Draft count_letters(Rng& rng) {
  std::string set = "aeiou";
  if (rng.chance(0.5)) {
    std::set<char> letters;
    while (letters.size() < 3) letters.insert(kLower[static_cast<size_t>(rng.uniform(0, 25))]);
    set.assign(letters.begin(), letters.end());
  }
  const bool vowels = set == "aeiou";
  const std::string name = vowels ? "count_vowels" : "count_letters";
  Draft d{str_cat("function:count_letters:", set), name, name + "(s)",
          vowels ? "returns the number of vowels (a, e, i, o, u) in the lowercase string s"
                 : fill("returns the number of characters of s that are one of '{}'", {set}),
          vowels ? "\u8FD4\u56DE\u5C0F\u5199\u5B57\u7B26\u4E32\u4E2D\u5143\u97F3\u5B57\u6BCD\u7684\u4E2A\u6570" : "\u8FD4\u56DE\u5B57\u7B26\u4E32\u4E2D\u5C5E\u4E8E\u7ED9\u5B9A\u5B57\u6BCD\u96C6\u5408\u7684\u5B57\u7B26\u4E2A\u6570",
          "loop over the characters and count those in the set.", "\u904D\u5386\u6BCF\u4E2A\u5B57\u7B26\uFF0C\u5C5E\u4E8E\u96C6\u5408\u7684\u5C31\u8BA1\u6570\u52A0\u4E00\u3002",
          fill("def {}(s):\n    return sum(1 for ch in s if ch in '{}')", {name, set})};
  d.detail_zh = fill("\u5B57\u6BCD\u96C6\u5408\u662F '{}'", {set});
  add_tests(d, rng, [&](Rng& r) {
    const std::string s = word(r, str_cat(set, "bcdfghst"), 0, 12);
    return std::pair{py(s), py(static_cast<int64_t>(std::count_if(s.begin(), s.end(), [&](char ch) {
                       return set.find(ch) != std::string::npos;
                     })))};
  });
  return d;
}

Draft sum_multiples(Rng& rng) {
  const int64_t a = rng.uniform(2, 8), b = rng.uniform(a + 1, 9);
  Draft d{str_cat("function:sum_multiples:", a, ",", b), "sum_multiples", "sum_multiples(n)",
          fill("returns the sum of the positive integers below n that are divisible by {} or {}", {py(a), py(b)}),
          fill("\u8FD4\u56DE\u5C0F\u4E8E\u7ED9\u5B9A\u4E0A\u9650\u7684\u6B63\u6574\u6570\u4E2D\u80FD\u88AB {} \u6216 {} \u6574\u9664\u7684\u6570\u4E4B\u548C", {py(a), py(b)}),
          "loop over range(1, n) and add the numbers divisible by either.",
          "\u4ECE\u4E00\u5F00\u59CB\u9010\u4E2A\u68C0\u67E5\u5C0F\u4E8E\u4E0A\u9650\u7684\u6570\uFF0C\u80FD\u88AB\u5176\u4E2D\u4E00\u4E2A\u6570\u6574\u9664\u5C31\u52A0\u4E0A\u3002",
          fill("def sum_multiples(n):\n    return sum(x for x in range(1, n) if x % {} == 0 or x % {} == 0)", {py(a), py(b)})};
  add_tests(d, rng, [a, b](Rng& r) {
    const int64_t n = r.uniform(1, 60);
    int64_t sum = 0;
    for (int64_t x = 1; x < n; ++x)
      if (x % a == 0 || x % b == 0) sum += x;
    return std::pair{py(n), py(sum)};
  });
  return d;
}

Draft reverse_words(Rng& rng) {
  const bool each = rng.chance(0.5);
  const std::string sep = rng.pick(std::array<std::string, 3>{" ", "-", ","});
  Draft d{str_cat("function:reverse_words:", each ? "each" : "order", ":", sep), "reverse_words", "reverse_words(s)",
          each ? fill("reverses every word of s (words are separated by single spaces) and joins them with '{}'", {sep})
               : fill("returns the words of s (separated by single spaces) in reverse order, joined with '{}'", {sep}),
          each ? "\u628A\u6BCF\u4E2A\u5355\u8BCD\u5012\u8FC7\u6765\uFF0C\u518D\u7528\u7ED9\u5B9A\u7684\u5206\u9694\u7B26\u8FDE\u8D77\u6765" : "\u628A\u5355\u8BCD\u7684\u987A\u5E8F\u5012\u8FC7\u6765\uFF0C\u518D\u7528\u7ED9\u5B9A\u7684\u5206\u9694\u7B26\u8FDE\u8D77\u6765",
          "split on spaces, reverse, join with the separator.", "\u5148\u6309\u7A7A\u683C\u5207\u5F00\uFF0C\u518D\u5012\u5E8F\uFF0C\u6700\u540E\u7528\u5206\u9694\u7B26\u8FDE\u63A5\u3002",
          each ? fill("def reverse_words(s):\n    return '{}'.join(w[::-1] for w in s.split(' '))", {sep})
               : fill("def reverse_words(s):\n    return '{}'.join(s.split(' ')[::-1])", {sep})};
  d.detail_zh = fill("\u5206\u9694\u7B26\u662F '{}'\uFF0C\u5355\u8BCD\u4E4B\u95F4\u7528\u5355\u4E2A\u7A7A\u683C\u5206\u5F00", {sep});
  add_tests(d, rng, [&](Rng& r) {
    const std::string s = sentence(r, 4);
    std::vector<std::string> words;
    for (size_t start = 0;;) {
      const size_t space = s.find(' ', start);
      words.push_back(s.substr(start, space - start));
      if (space == std::string::npos) break;
      start = space + 1;
    }
    if (each)
      for (std::string& w : words) std::reverse(w.begin(), w.end());
    else
      std::reverse(words.begin(), words.end());
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) out += (i == 0 ? "" : sep) + words[i];
    return std::pair{py(s), py(out)};
  });
  return d;
}

Draft fizzbuzz(Rng& rng) {
  const int64_t a = rng.uniform(2, 6), b = rng.uniform(a + 1, 7);
  const auto words = rng.pick(std::array<std::pair<std::string, std::string>, 4>{
      {{"fizz", "buzz"}, {"foo", "bar"}, {"ping", "pong"}, {"tick", "tock"}}});
  const auto& [wa, wb] = words;
  Draft d{str_cat("function:fizzbuzz:", a, ",", b, ":", wa, wb), "fizzbuzz", "fizzbuzz(n)",
          fill("returns a list of strings for 1..n: '{}' for multiples of both {} and {}, '{}' for multiples of {}, "
               "'{}' for multiples of {}, else the number as a string",
               {wa + wb, py(a), py(b), wa, py(a), wb, py(b)}),
          fill("\u8FD4\u56DE\u4ECE\u4E00\u5230\u4E0A\u9650\u7684\u5B57\u7B26\u4E32\u5217\u8868\uFF1A\u540C\u65F6\u662F {} \u548C {} \u7684\u500D\u6570\u3001\u53EA\u662F {} \u7684\u500D\u6570\u3001\u53EA\u662F {} \u7684\u500D\u6570\u65F6\u6362\u6210\u5BF9\u5E94\u7684\u8BCD\uFF0C\u5426\u5219\u5199\u6570\u5B57\u672C\u8EAB",
               {py(a), py(b), py(a), py(b)}),
          "loop from 1 to n and test the combined case first.", "\u4ECE\u4E00\u5FAA\u73AF\u5230\u4E0A\u9650\uFF0C\u5148\u5224\u65AD\u540C\u65F6\u6574\u9664\u7684\u60C5\u51B5\uFF0C\u518D\u5206\u522B\u5224\u65AD\u3002",
          fill("def fizzbuzz(n):\n    out = []\n    for i in range(1, n + 1):\n        if i % {} == 0 and i % {} == 0:\n"
               "            out.append('{}')\n        elif i % {} == 0:\n            out.append('{}')\n"
               "        elif i % {} == 0:\n            out.append('{}')\n        else:\n            out.append(str(i))\n"
               "    return out",
               {py(a), py(b), wa + wb, py(a), wa, py(b), wb})};
  d.detail_zh = fill("\u5BF9\u5E94\u7684\u8BCD\u4F9D\u6B21\u662F '{}'\u3001'{}'\u3001'{}'", {wa + wb, wa, wb});
  add_tests(d, rng, [&](Rng& r) {
    const int64_t n = r.uniform(0, 16);
    std::vector<std::string> out;
    for (int64_t i = 1; i <= n; ++i)
      out.push_back(i % a == 0 && i % b == 0 ? wa + wb : i % a == 0 ? wa : i % b == 0 ? wb : std::to_string(i));
    return std::pair{py(n), py(out)};
  });
  return d;
}

Draft is_palindrome(Rng& rng) {
  const bool letters_only = rng.chance(0.5);
  Draft d{str_cat("function:is_palindrome:", letters_only ? "letters" : "spaces"), "is_palindrome", "is_palindrome(s)",
          letters_only ? "returns True if s reads the same forwards and backwards, ignoring case and every character "
                         "that is not a letter"
                       : "returns True if s reads the same forwards and backwards, ignoring spaces",
          letters_only ? "\u5224\u65AD\u5B57\u7B26\u4E32\u53EA\u770B\u5B57\u6BCD\u3001\u4E0D\u5206\u5927\u5C0F\u5199\u65F6\u662F\u5426\u662F\u56DE\u6587" : "\u5224\u65AD\u5B57\u7B26\u4E32\u53BB\u6389\u7A7A\u683C\u540E\u662F\u5426\u662F\u56DE\u6587",
          "keep the characters that count, then compare with the reverse.", "\u5148\u7559\u4E0B\u8981\u6BD4\u8F83\u7684\u5B57\u7B26\uFF0C\u518D\u548C\u5012\u8FC7\u6765\u7684\u7ED3\u679C\u6BD4\u8F83\u3002",
          letters_only ? "def is_palindrome(s):\n    t = [c.lower() for c in s if c.isalpha()]\n    return t == t[::-1]"
                       : "def is_palindrome(s):\n    t = s.replace(' ', '')\n    return t == t[::-1]"};
  d.detail_zh = "\u8FD4\u56DE True \u6216 False";
  add_tests(d, rng, [&](Rng& r) {
    std::string s = word(r, "abc", 1, 4);
    if (r.chance(0.6)) s += std::string(s.rbegin() + (r.chance(0.5) ? 1 : 0), s.rend());
    if (s.size() > 2 && r.chance(0.5)) s.insert(static_cast<size_t>(r.uniform(1, static_cast<int64_t>(s.size()) - 1)), " ");
    std::string t;
    for (const char c : s)
      if (c != ' ') t += c;
    return std::pair{py(s), py(t == std::string(t.rbegin(), t.rend()))};
  });
  return d;
}

Draft longest_run(Rng& rng) {
  const bool increasing = rng.chance(0.5);
  Draft d{str_cat("function:longest_run:", increasing ? "increasing" : "equal"), "longest_run", "longest_run(xs)",
          increasing ? "returns the length of the longest run of strictly increasing adjacent values in xs (0 for an "
                       "empty list)"
                     : "returns the length of the longest run of equal adjacent values in xs (0 for an empty list)",
          increasing ? "\u8FD4\u56DE\u5217\u8868\u4E2D\u6700\u957F\u7684\u4E25\u683C\u9012\u589E\u8FDE\u7EED\u6BB5\u7684\u957F\u5EA6\uFF0C\u7A7A\u5217\u8868\u8FD4\u56DE 0" : "\u8FD4\u56DE\u5217\u8868\u4E2D\u6700\u957F\u7684\u76F8\u7B49\u8FDE\u7EED\u6BB5\u7684\u957F\u5EA6\uFF0C\u7A7A\u5217\u8868\u8FD4\u56DE 0",
          "walk the list keeping the current run and the best run.", "\u904D\u5386\u5217\u8868\uFF0C\u8BB0\u5F55\u5F53\u524D\u8FDE\u7EED\u6BB5\u957F\u5EA6\u548C\u6700\u957F\u957F\u5EA6\u3002",
          fill("def longest_run(xs):\n    best = cur = 0\n    for i, x in enumerate(xs):\n"
               "        cur = cur + 1 if i > 0 and {} else 1\n        best = max(best, cur)\n    return best",
               {increasing ? "x > xs[i - 1]" : "x == xs[i - 1]"})};
  add_tests(d, rng, [increasing](Rng& r) {
    const std::vector<int64_t> xs = int_list(r, 8, 0, 3);
    int64_t best = 0, cur = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      cur = i > 0 && (increasing ? xs[i] > xs[i - 1] : xs[i] == xs[i - 1]) ? cur + 1 : 1;
      best = std::max(best, cur);
    }
    return std::pair{py(xs), py(best)};
  });
  return d;
}

Draft run_length(Rng& rng) {
  const bool count_first = rng.chance(0.5);
  Draft d{str_cat("function:run_length:", count_first ? "count_first" : "letter_first"), "run_length", "run_length(s)",
          count_first ? "returns the run-length encoding of s as count then letter for each run (\"aaab\" -> \"3a1b\")"
                      : "returns the run-length encoding of s as letter then count for each run (\"aaab\" -> \"a3b1\")",
          count_first ? "\u8FD4\u56DE\u5B57\u7B26\u4E32\u7684\u6E38\u7A0B\u7F16\u7801\uFF0C\u6BCF\u6BB5\u5148\u5199\u4E2A\u6570\u518D\u5199\u5B57\u7B26" : "\u8FD4\u56DE\u5B57\u7B26\u4E32\u7684\u6E38\u7A0B\u7F16\u7801\uFF0C\u6BCF\u6BB5\u5148\u5199\u5B57\u7B26\u518D\u5199\u4E2A\u6570",
          "scan the string, counting each run of equal characters.", "\u4ECE\u5DE6\u5230\u53F3\u626B\u63CF\uFF0C\u6570\u51FA\u6BCF\u4E00\u6BB5\u76F8\u540C\u5B57\u7B26\u7684\u4E2A\u6570\u3002",
          fill("def run_length(s):\n    out = ''\n    i = 0\n    while i < len(s):\n        j = i\n"
               "        while j < len(s) and s[j] == s[i]:\n            j += 1\n        out += {}\n        i = j\n    return out",
               {count_first ? "str(j - i) + s[i]" : "s[i] + str(j - i)"})};
  d.detail_zh = count_first ? "\u4F8B\u5982 \"aaab\" -> \"3a1b\"" : "\u4F8B\u5982 \"aaab\" -> \"a3b1\"";
  add_tests(d, rng, [count_first](Rng& r) {
    const std::string s = word(r, "aab", 0, 9);
    std::string out;
    for (size_t i = 0; i < s.size();) {
      size_t j = i;
      while (j < s.size() && s[j] == s[i]) ++j;
      out += count_first ? str_cat(j - i, s[i]) : str_cat(s[i], j - i);
      i = j;
    }
    return std::pair{py(s), py(out)};
  });
  return d;
}

Draft primes(Rng& rng) {
  const int64_t variant = rng.uniform(0, 2);
  const std::array<std::string_view, 3> names = {"primes_below", "count_primes", "sum_primes"};
  const std::string name(names[static_cast<size_t>(variant)]);
  const std::array<std::string_view, 3> what = {"returns the list of prime numbers below n, in increasing order",
                                                "returns how many prime numbers are below n",
                                                "returns the sum of the prime numbers below n"};
  const std::array<std::string_view, 3> what_zh = {"\u6309\u4ECE\u5C0F\u5230\u5927\u7684\u987A\u5E8F\u8FD4\u56DE\u5C0F\u4E8E\u4E0A\u9650\u7684\u6240\u6709\u8D28\u6570", "\u8FD4\u56DE\u5C0F\u4E8E\u4E0A\u9650\u7684\u8D28\u6570\u4E2A\u6570",
                                                   "\u8FD4\u56DE\u5C0F\u4E8E\u4E0A\u9650\u7684\u6240\u6709\u8D28\u6570\u4E4B\u548C"};
  const std::array<std::string_view, 3> ret = {"ps", "len(ps)", "sum(ps)"};
  Draft d{str_cat("function:primes:", name), name, name + "(n)", std::string(what[static_cast<size_t>(variant)]),
          std::string(what_zh[static_cast<size_t>(variant)]), "test each number below n by trial division.",
          "\u5BF9\u6BCF\u4E2A\u6570\u7528\u8BD5\u9664\u6CD5\u5224\u65AD\u662F\u4E0D\u662F\u8D28\u6570\u3002",
          fill("def {}(n):\n    ps = [x for x in range(2, n) if all(x % d for d in range(2, int(x ** 0.5) + 1))]\n"
               "    return {}",
               {name, ret[static_cast<size_t>(variant)]})};
  add_tests(d, rng, [variant](Rng& r) {
    const int64_t n = r.uniform(0, 40);
    std::vector<int64_t> ps;
    for (int64_t x = 2; x < n; ++x) {
      bool prime = true;
      for (int64_t k = 2; k * k <= x; ++k) prime = prime && x % k != 0;
      if (prime) ps.push_back(x);
    }
    int64_t sum = 0;
    for (const int64_t x : ps) sum += x;
    return std::pair{py(n), variant == 0 ? py(ps) : variant == 1 ? py(static_cast<int64_t>(ps.size())) : py(sum)};
  });
  return d;
}

Draft digit_root(Rng& rng) {
  const bool product = rng.chance(0.5);
  Draft d{str_cat("function:digit_root:", product ? "product" : "sum"), "digit_root", "digit_root(n)",
          product ? "repeatedly replaces the non-negative integer n by the product of its digits until it has one digit, "
                    "and returns that digit"
                  : "repeatedly replaces the non-negative integer n by the sum of its digits until it has one digit, and "
                    "returns that digit",
          product ? "\u628A\u975E\u8D1F\u6574\u6570\u53CD\u590D\u6362\u6210\u5404\u4F4D\u6570\u5B57\u4E4B\u79EF\uFF0C\u76F4\u5230\u53EA\u5269\u4E00\u4F4D\uFF0C\u8FD4\u56DE\u8FD9\u4E00\u4F4D" : "\u628A\u975E\u8D1F\u6574\u6570\u53CD\u590D\u6362\u6210\u5404\u4F4D\u6570\u5B57\u4E4B\u548C\uFF0C\u76F4\u5230\u53EA\u5269\u4E00\u4F4D\uFF0C\u8FD4\u56DE\u8FD9\u4E00\u4F4D",
          "loop while n has two or more digits.", "\u5F53\u6570\u5B57\u4E0D\u6B62\u4E00\u4F4D\u65F6\u7EE7\u7EED\u5FAA\u73AF\u3002",
          fill("def digit_root(n):\n    while n >= 10:\n        t = {}\n        for d in str(n):\n            t {} int(d)\n"
               "        n = t\n    return n",
               {product ? "1" : "0", product ? "*=" : "+="})};
  add_tests(d, rng, [product](Rng& r) {
    int64_t n = r.uniform(0, 999999);
    const int64_t input = n;
    while (n >= 10) {
      int64_t t = product ? 1 : 0;
      for (const char ch : std::to_string(n)) t = product ? t * (ch - '0') : t + (ch - '0');
      n = t;
    }
    return std::pair{py(input), py(n)};
  });
  return d;
}

Draft balanced(Rng& rng) {
  const std::string pairs = rng.pick(std::array<std::string, 3>{"()", "()[]", "()[]{}"});
  Draft d{str_cat("function:balanced:", pairs), "balanced", "balanced(s)",
          fill("returns True if the brackets '{}' in s are balanced and properly nested", {pairs}),
          "\u5224\u65AD\u62EC\u53F7\u662F\u5426\u6210\u5BF9\u5E76\u4E14\u6B63\u786E\u5D4C\u5957", "push opening brackets on a stack and pop on closing ones.",
          "\u9047\u5230\u5DE6\u62EC\u53F7\u5165\u6808\uFF0C\u9047\u5230\u53F3\u62EC\u53F7\u65F6\u68C0\u67E5\u6808\u9876\u662F\u5426\u5339\u914D\u3002",
          fill("def balanced(s):\n    pairs = {{{}}}\n    stack = []\n    for c in s:\n        if c in pairs.values():\n"
               "            stack.append(c)\n        elif c in pairs:\n            if not stack or stack.pop() != pairs[c]:\n"
               "                return False\n    return not stack",
               {[&] {
                 std::string m;
                 for (size_t i = 0; i < pairs.size(); i += 2)
                   m += str_cat(i == 0 ? "" : ", ", "'", pairs[i + 1], "': '", pairs[i], "'");
                 return m;
               }()})};
  d.detail_zh = fill("\u62EC\u53F7\u5B57\u7B26\u662F '{}'", {pairs});
  add_tests(d, rng, [&](Rng& r) {
    // A random nested string (balanced), then with probability 1/2 one character replaced.
    std::string s;
    std::vector<char> open;
    const int64_t len = 2 * r.uniform(0, 4);
    for (int64_t i = 0; i < len; ++i) {
      const bool close = !open.empty() && (static_cast<int64_t>(open.size()) >= len - i || r.chance(0.5));
      if (close) {
        s += pairs[pairs.find(open.back()) + 1];
        open.pop_back();
      } else {
        open.push_back(pairs[static_cast<size_t>(r.uniform(0, static_cast<int64_t>(pairs.size()) / 2 - 1)) * 2]);
        s += open.back();
      }
    }
    if (!s.empty() && r.chance(0.5))
      s[static_cast<size_t>(r.uniform(0, static_cast<int64_t>(s.size()) - 1))] =
          pairs[static_cast<size_t>(r.uniform(0, static_cast<int64_t>(pairs.size()) - 1))];
    std::vector<char> stack;
    bool ok = true;
    for (const char c : s) {
      const size_t at = pairs.find(c);
      if (at % 2 == 0) {
        stack.push_back(c);
      } else if (stack.empty() || stack.back() != pairs[at - 1]) {
        ok = false;
      } else {
        stack.pop_back();
      }
    }
    return std::pair{py(s), py(ok && stack.empty())};
  });
  return d;
}

Draft caesar(Rng& rng) {
  const int64_t k = rng.uniform(1, 25);
  const bool back = rng.chance(0.5);
  Draft d{str_cat("function:caesar:", back ? "-" : "", k), "caesar", "caesar(s)",
          fill("shifts every lowercase letter of s {} by {} places in the alphabet (wrapping around) and leaves other "
               "characters unchanged",
               {back ? "backward" : "forward", py(k)}),
          fill("\u628A\u6BCF\u4E2A\u5C0F\u5199\u5B57\u6BCD\u5728\u5B57\u6BCD\u8868\u4E2D{} {} \u4F4D\uFF08\u8D85\u8FC7\u4E24\u7AEF\u5C31\u7ED5\u56DE\uFF09\uFF0C\u5176\u4ED6\u5B57\u7B26\u4E0D\u53D8", {back ? "\u5411\u524D\u79FB" : "\u5411\u540E\u79FB", py(k)}),
          "map each letter through its alphabet index plus the shift, modulo 26.", "\u7528\u5B57\u6BCD\u5E8F\u53F7\u52A0\u4E0A\u4F4D\u79FB\u518D\u5BF9\u4E8C\u5341\u516D\u53D6\u4F59\u3002",
          fill("def caesar(s):\n    return ''.join(chr((ord(c) - 97 {} {}) % 26 + 97) if 'a' <= c <= 'z' else c for c in s)",
               {back ? "-" : "+", py(k)})};
  add_tests(d, rng, [k, back](Rng& r) {
    const std::string s = word(r, "abcxyz z", 0, 8);
    std::string out = s;
    for (char& c : out)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(((c - 'a' + (back ? -k : k)) % 26 + 26) % 26 + 'a');
    return std::pair{py(s), py(out)};
  });
  return d;
}

Draft kth_largest(Rng& rng) {
  const int64_t k = rng.uniform(2, 4);
  const bool smallest = rng.chance(0.5);
  const std::string name = smallest ? "kth_smallest" : "kth_largest";
  Draft d{str_cat("function:", name, ":", k), name, name + "(xs)",
          fill("returns the {} {} distinct value in the list xs, or None when xs has fewer than {} distinct values",
               {ordinal(k), smallest ? "smallest" : "largest", py(k)}),
          fill("\u8FD4\u56DE\u5217\u8868\u4E2D\u7B2C {} {}\u7684\u4E0D\u540C\u503C\uFF0C\u4E0D\u540C\u503C\u4E0D\u591F {} \u4E2A\u65F6\u8FD4\u56DE\u7A7A\u503C", {py(k), smallest ? "\u5C0F" : "\u5927", py(k)}),
          "deduplicate, sort and index.", "\u5148\u53BB\u91CD\uFF0C\u518D\u6392\u5E8F\uFF0C\u7136\u540E\u53D6\u5BF9\u5E94\u4F4D\u7F6E\u3002",
          fill("def {}(xs):\n    v = sorted(set(xs){})\n    return v[{}] if len(v) >= {} else None",
               {name, smallest ? "" : ", reverse=True", py(k - 1), py(k)})};
  d.detail_zh = "\u4E0D\u591F\u65F6\u8FD4\u56DE None";
  add_tests(d, rng, [k, smallest](Rng& r) {
    const std::vector<int64_t> xs = int_list(r, 7, 0, 9);
    std::vector<int64_t> v(xs.begin(), xs.end());
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (!smallest) std::reverse(v.begin(), v.end());
    std::optional<int64_t> out;
    if (static_cast<int64_t>(v.size()) >= k) out = v[static_cast<size_t>(k - 1)];
    return std::pair{py(xs), py(out)};
  });
  return d;
}

Draft in_range(Rng& rng) {
  const int64_t lo = rng.uniform(0, 50), hi = lo + rng.uniform(1, 50);
  Draft d{str_cat("function:in_range:", lo, ",", hi), "in_range", "in_range(x)",
          fill("returns True when the integer x is between {} and {} inclusive, else False", {py(lo), py(hi)}),
          fill("\u5224\u65AD\u6574\u6570\u662F\u5426\u5728 {} \u5230 {} \u4E4B\u95F4\uFF08\u5305\u542B\u4E24\u7AEF\uFF09", {py(lo), py(hi)}),
          "compare x with both bounds in one chained comparison.", "\u7528\u4E00\u4E2A\u8FDE\u5199\u7684\u6BD4\u8F83\u540C\u65F6\u68C0\u67E5\u4E0A\u4E0B\u754C\u3002",
          fill("def in_range(x):\n    return {} <= x <= {}", {py(lo), py(hi)})};
  d.detail_zh = "\u8FD4\u56DE True \u6216 False";
  add_tests(d, rng, [lo, hi](Rng& r) {
    const int64_t x = r.uniform(std::max<int64_t>(0, lo - 5), hi + 5);
    return std::pair{py(x), py(lo <= x && x <= hi)};
  });
  return d;
}

Draft poly(Rng& rng) {
  const std::vector<int64_t> c = {rng.uniform(1, 9), rng.uniform(1, 9), rng.uniform(1, 9)};
  Draft d{str_cat("function:poly:", c[0], ",", c[1], ",", c[2]), "poly", "poly(x)",
          fill("returns the value of the polynomial with coefficients {} (constant term first) at the integer x",
               {py(c)}),
          fill("\u8FD4\u56DE\u7CFB\u6570\u4E3A {}\uFF08\u5E38\u6570\u9879\u5728\u524D\uFF09\u7684\u591A\u9879\u5F0F\u5728\u7ED9\u5B9A\u6574\u6570\u5904\u7684\u503C", {py(c)}),
          "Horner's rule from the highest coefficient down.", "\u7528\u79E6\u4E5D\u97F6\u7B97\u6CD5\uFF0C\u4ECE\u6700\u9AD8\u6B21\u7CFB\u6570\u5F00\u59CB\u4E58\u52A0\u3002",
          fill("def poly(x):\n    total = 0\n    for c in reversed({}):\n        total = total * x + c\n    return total",
               {py(c)})};
  add_tests(d, rng, [c](Rng& r) {
    const int64_t x = r.uniform(0, 12);
    return std::pair{py(x), py(c[0] + c[1] * x + c[2] * x * x)};
  });
  return d;
}

Draft seq_term(Rng& rng) {
  const int64_t a = rng.uniform(1, 9), m = rng.uniform(2, 3), c = rng.uniform(0, 9);
  Draft d{str_cat("function:seq_term:", a, ",", m, ",", c), "seq_term", "seq_term(n)",
          fill("returns the n-th term (n >= 1) of the sequence whose first term is {} and whose every next term is {} "
               "times the previous one plus {}",
               {py(a), py(m), py(c)}),
          fill("\u8FD4\u56DE\u6570\u5217\u7684\u7B2C\u82E5\u5E72\u9879\uFF1A\u9996\u9879\u662F {}\uFF0C\u4E4B\u540E\u6BCF\u4E00\u9879\u7B49\u4E8E\u524D\u4E00\u9879\u4E58\u4EE5 {} \u518D\u52A0 {}", {py(a), py(m), py(c)}),
          "start from the first term and apply the rule n - 1 times.", "\u4ECE\u9996\u9879\u5F00\u59CB\uFF0C\u628A\u89C4\u5219\u91CD\u590D\u5E94\u7528\u5230\u6240\u6C42\u7684\u9879\u3002",
          fill("def seq_term(n):\n    t = {}\n    for _ in range(n - 1):\n        t = {} * t + {}\n    return t",
               {py(a), py(m), py(c)})};
  add_tests(d, rng, [a, m, c](Rng& r) {
    const int64_t n = r.uniform(1, 8);
    int64_t t = a;
    for (int64_t i = 1; i < n; ++i) t = m * t + c;
    return std::pair{py(n), py(t)};
  });
  return d;
}

Draft running_mod(Rng& rng) {
  const int64_t m = rng.uniform(2, 50);
  Draft d{str_cat("function:running_mod:", m), "running_mod", "running_mod(xs)",
          fill("returns the list of running sums of xs, each taken modulo {}", {py(m)}),
          fill("\u8FD4\u56DE\u5217\u8868\u7684\u524D\u7F00\u548C\uFF0C\u6BCF\u4E00\u9879\u90FD\u5BF9 {} \u53D6\u4F59", {py(m)}),
          "keep a running total, reduce it modulo m after each element.", "\u7EF4\u62A4\u4E00\u4E2A\u7D2F\u52A0\u548C\uFF0C\u6BCF\u52A0\u4E00\u4E2A\u5143\u7D20\u5C31\u53D6\u4E00\u6B21\u4F59\u6570\u3002",
          fill("def running_mod(xs):\n    out, t = [], 0\n    for x in xs:\n        t = (t + x) % {}\n        out.append(t)\n"
               "    return out",
               {py(m)})};
  add_tests(d, rng, [m](Rng& r) {
    const std::vector<int64_t> xs = int_list(r, 6, 0, 99);
    std::vector<int64_t> out;
    int64_t t = 0;
    for (const int64_t x : xs) out.push_back(t = (t + x) % m);
    return std::pair{py(xs), py(out)};
  });
  return d;
}

using Maker = Draft (*)(Rng&);
struct Template {
  int difficulty;
  Maker make;
};
// Easiest first. Each difficulty has templates with wide parameter ranges (in_range, count_letters,
// poly, seq_term, running_mod), so its problem space holds enough problems for the 10% split to hold
// some out (tests/core/tasks_test.cpp draws held-out problems at every difficulty).
constexpr std::array<Template, 19> kTemplates = {{
    {1, add_k}, {1, count_char}, {1, sum_digits}, {1, in_range},
    {2, count_letters}, {2, sum_multiples}, {2, reverse_words},
    {3, fizzbuzz}, {3, is_palindrome}, {3, longest_run}, {3, poly},
    {4, run_length}, {4, primes}, {4, digit_root}, {4, seq_term},
    {5, balanced}, {5, caesar}, {5, kth_largest}, {5, running_mod},
}};

bool has_latin_letter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; });
}

}  // namespace

Problem function_problem(Rng& rng, int difficulty, const Render& render) {
  std::vector<Maker> row;
  for (const Template& t : kTemplates)
    if (t.difficulty == difficulty) row.push_back(t.make);
  const Draft d = rng.pick(row)(rng);
  Problem p;
  p.key = d.key;
  p.prompt = render.zh_prompt()
                 ? fill("\u5199\u4E00\u4E2A Python \u51FD\u6570 `{}`\uFF0C{}\u3002\u628A\u4EE3\u7801\u653E\u5728 ```python \u4EE3\u7801\u5757\u91CC\u3002", {d.sig, d.detail_zh.empty() ? d.what_zh : str_cat(d.what_zh, "\uFF0C", d.detail_zh)})
                 : fill("Write a Python function `{}` that {}. Put the code in a ```python block.", {d.sig, d.what_en});
  // The zh CoT holds no Latin letters (the language reward counts them): no identifiers, and the
  // worked example only when its values are digits and brackets.
  const std::string example_call = str_cat(d.name, "(", d.args[0], ")");
  if (render.zh_cot()) {
    p.cot = fill("\u9898\u76EE\u8981\u6C42\uFF1A{}\u3002\n\u601D\u8DEF\uFF1A{}", {d.what_zh, d.plan_zh});
    if (!has_latin_letter(d.args[0]) && !has_latin_letter(d.expected[0]))
      p.cot += fill("\n\u4F8B\u5B50\uFF1A\u8F93\u5165 {}\uFF0C\u7ED3\u679C\u5E94\u4E3A {}\u3002", {d.args[0], d.expected[0]});
  } else {
    p.cot = fill("The function {} {}.\nPlan: {}\nExample: {} should return {}.",
                 {d.sig, d.what_en, d.plan_en, example_call, d.expected[0]});
  }
  p.summary = fill(render.zh_prompt() ? "\u51FD\u6570\u5982\u4E0B\uFF1A\n\n```python\n{}\n```" : "Here is the function:\n\n```python\n{}\n```",
                   {d.code});
  nlohmann::json tests = nlohmann::json::array();
  for (size_t t = 0; t < d.args.size(); ++t)
    tests.push_back({{"assert", str_cat("assert ", d.name, "(", d.args[t], ") == ", d.expected[t])}});
  p.fields["tests"] = std::move(tests);
  p.fields["entry_point"] = d.name;
  return p;
}

}  // namespace r1::data::internal
