// Chit-chat and simple questions (the non-reasoning share: answers carry no <think> block, as R1's
// non-reasoning SFT data), from a small built-in table, plus generic sentences for the pretraining
// corpus. A chat problem's key is its table entry, not its phrasing, so the split holds the entry
// (and every phrasing of it) out.
#include <array>
#include <string>

#include "core/data/internal/task_kit.h"

namespace r1::data::internal {

namespace {

struct ChatEntry {
  std::string_view id;
  std::array<std::string_view, 2> en;  // two phrasings of the question
  std::string_view en_answer;
  std::array<std::string_view, 2> zh;
  std::string_view zh_answer;
};

constexpr std::array<ChatEntry, 22> kChat = {{
    {"hello", {"Hello!", "Hi there!"}, "Hello! How can I help you today?", {"\u4F60\u597D\uFF01", "\u55E8\uFF0C\u4F60\u597D\u3002"}, "\u4F60\u597D\uFF01\u6709\u4EC0\u4E48\u53EF\u4EE5\u5E2E\u4F60\u7684\u5417\uFF1F"},
    {"how_are_you", {"How are you?", "How are you doing today?"}, "I am doing well, thank you. How can I help you?",
     {"\u4F60\u597D\u5417\uFF1F", "\u4F60\u4ECA\u5929\u600E\u4E48\u6837\uFF1F"}, "\u6211\u5F88\u597D\uFF0C\u8C22\u8C22\u3002\u6709\u4EC0\u4E48\u53EF\u4EE5\u5E2E\u4F60\u7684\u5417\uFF1F"},
    {"thanks", {"Thank you!", "Thanks for your help."}, "You are welcome!", {"\u8C22\u8C22\u4F60\uFF01", "\u8C22\u8C22\u4F60\u7684\u5E2E\u52A9\u3002"}, "\u4E0D\u5BA2\u6C14\uFF01"},
    {"name", {"What is your name?", "Who are you?"}, "I am a small assistant trained with r1kit.",
     {"\u4F60\u53EB\u4EC0\u4E48\u540D\u5B57\uFF1F", "\u4F60\u662F\u8C01\uFF1F"}, "\u6211\u662F\u4E00\u4E2A\u7528 r1kit \u8BAD\u7EC3\u7684\u5C0F\u52A9\u624B\u3002"},
    {"bye", {"Goodbye!", "See you later."}, "Goodbye! Have a nice day.", {"\u518D\u89C1\uFF01", "\u56DE\u5934\u89C1\u3002"}, "\u518D\u89C1\uFF01\u795D\u4F60\u4ECA\u5929\u6109\u5FEB\u3002"},
    {"morning", {"Good morning!", "Good morning to you."}, "Good morning! I hope you have a great day.",
     {"\u65E9\u4E0A\u597D\uFF01", "\u65E9\u5B89\u3002"}, "\u65E9\u4E0A\u597D\uFF01\u795D\u4F60\u6709\u7F8E\u597D\u7684\u4E00\u5929\u3002"},
    {"help", {"Can you help me?", "I need some help."}, "Of course. What do you need help with?",
     {"\u4F60\u80FD\u5E2E\u6211\u5417\uFF1F", "\u6211\u9700\u8981\u4E00\u4E9B\u5E2E\u52A9\u3002"}, "\u5F53\u7136\u53EF\u4EE5\u3002\u4F60\u9700\u8981\u4EC0\u4E48\u5E2E\u52A9\uFF1F"},
    {"week", {"How many days are in a week?", "How many days does a week have?"}, "A week has 7 days.",
     {"\u4E00\u4E2A\u661F\u671F\u6709\u51E0\u5929\uFF1F", "\u4E00\u5468\u6709\u591A\u5C11\u5929\uFF1F"}, "\u4E00\u4E2A\u661F\u671F\u6709 7 \u5929\u3002"},
    {"year", {"How many months are in a year?", "How many months does a year have?"}, "A year has 12 months.",
     {"\u4E00\u5E74\u6709\u51E0\u4E2A\u6708\uFF1F", "\u4E00\u5E74\u6709\u591A\u5C11\u4E2A\u6708\uFF1F"}, "\u4E00\u5E74\u6709 12 \u4E2A\u6708\u3002"},
    {"sky", {"What color is the sky on a clear day?", "What color is a clear sky?"}, "On a clear day the sky is blue.",
     {"\u6674\u5929\u7684\u5929\u7A7A\u662F\u4EC0\u4E48\u989C\u8272\uFF1F", "\u6674\u6717\u7684\u5929\u7A7A\u662F\u4EC0\u4E48\u989C\u8272\u7684\uFF1F"}, "\u6674\u5929\u7684\u5929\u7A7A\u662F\u84DD\u8272\u7684\u3002"},
    {"boil", {"At what temperature does water boil at sea level?", "When does water boil at sea level?"},
     "Water boils at 100 degrees Celsius at sea level.", {"\u5728\u6D77\u5E73\u9762\u4E0A\u6C34\u5728\u591A\u5C11\u5EA6\u6CB8\u817E\uFF1F", "\u6D77\u5E73\u9762\u4E0A\u6C34\u7684\u6CB8\u70B9\u662F\u591A\u5C11\uFF1F"},
     "\u5728\u6D77\u5E73\u9762\u4E0A\uFF0C\u6C34\u5728 100 \u6444\u6C0F\u5EA6\u6CB8\u817E\u3002"},
    {"freeze", {"At what temperature does water freeze?", "When does water freeze?"}, "Water freezes at 0 degrees Celsius.",
     {"\u6C34\u5728\u591A\u5C11\u5EA6\u7ED3\u51B0\uFF1F", "\u6C34\u7684\u51B0\u70B9\u662F\u591A\u5C11\u5EA6\uFF1F"}, "\u6C34\u5728 0 \u6444\u6C0F\u5EA6\u7ED3\u51B0\u3002"},
    {"spider", {"How many legs does a spider have?", "How many legs has a spider got?"}, "A spider has 8 legs.",
     {"\u8718\u86DB\u6709\u51E0\u6761\u817F\uFF1F", "\u8718\u86DB\u6709\u591A\u5C11\u6761\u817F\uFF1F"}, "\u8718\u86DB\u6709 8 \u6761\u817F\u3002"},
    {"dog", {"How many legs does a dog have?", "How many legs has a dog got?"}, "A dog has 4 legs.",
     {"\u72D7\u6709\u51E0\u6761\u817F\uFF1F", "\u72D7\u6709\u591A\u5C11\u6761\u817F\uFF1F"}, "\u72D7\u6709 4 \u6761\u817F\u3002"},
    {"planet", {"What is the largest planet in the solar system?", "Which planet is the biggest?"},
     "Jupiter is the largest planet in the solar system.", {"\u592A\u9633\u7CFB\u6700\u5927\u7684\u884C\u661F\u662F\u54EA\u4E00\u9897\uFF1F", "\u54EA\u9897\u884C\u661F\u6700\u5927\uFF1F"},
     "\u592A\u9633\u7CFB\u6700\u5927\u7684\u884C\u661F\u662F\u6728\u661F\u3002"},
    {"sunrise", {"In which direction does the sun rise?", "Where does the sun rise?"}, "The sun rises in the east.",
     {"\u592A\u9633\u4ECE\u54EA\u4E2A\u65B9\u5411\u5347\u8D77\uFF1F", "\u592A\u9633\u4ECE\u54EA\u8FB9\u5347\u8D77\uFF1F"}, "\u592A\u9633\u4ECE\u4E1C\u65B9\u5347\u8D77\u3002"},
    {"hours", {"How many hours are in a day?", "How many hours does a day have?"}, "A day has 24 hours.",
     {"\u4E00\u5929\u6709\u591A\u5C11\u4E2A\u5C0F\u65F6\uFF1F", "\u4E00\u5929\u6709\u51E0\u4E2A\u5C0F\u65F6\uFF1F"}, "\u4E00\u5929\u6709 24 \u4E2A\u5C0F\u65F6\u3002"},
    {"minutes", {"How many minutes are in an hour?", "How many minutes does an hour have?"}, "An hour has 60 minutes.",
     {"\u4E00\u4E2A\u5C0F\u65F6\u6709\u591A\u5C11\u5206\u949F\uFF1F", "\u4E00\u5C0F\u65F6\u6709\u51E0\u5206\u949F\uFF1F"}, "\u4E00\u4E2A\u5C0F\u65F6\u6709 60 \u5206\u949F\u3002"},
    {"continents", {"How many continents are there?", "How many continents does the world have?"},
     "There are 7 continents.", {"\u4E16\u754C\u4E0A\u6709\u51E0\u4E2A\u5927\u6D32\uFF1F", "\u5730\u7403\u4E0A\u6709\u591A\u5C11\u4E2A\u5927\u6D32\uFF1F"}, "\u4E16\u754C\u4E0A\u6709 7 \u4E2A\u5927\u6D32\u3002"},
    {"bees", {"What do bees make?", "What food do bees make?"}, "Bees make honey.", {"\u871C\u8702\u4F1A\u917F\u9020\u4EC0\u4E48\uFF1F", "\u871C\u8702\u80FD\u505A\u51FA\u4EC0\u4E48\u98DF\u7269\uFF1F"},
     "\u871C\u8702\u4F1A\u917F\u9020\u8702\u871C\u3002"},
    {"banana", {"What color is a ripe banana?", "What color are ripe bananas?"}, "A ripe banana is yellow.",
     {"\u6210\u719F\u7684\u9999\u8549\u662F\u4EC0\u4E48\u989C\u8272\uFF1F", "\u719F\u900F\u7684\u9999\u8549\u662F\u4EC0\u4E48\u989C\u8272\u7684\uFF1F"}, "\u6210\u719F\u7684\u9999\u8549\u662F\u9EC4\u8272\u7684\u3002"},
    {"hot", {"What is the opposite of hot?", "What word means the opposite of hot?"}, "The opposite of hot is cold.",
     {"\u70ED\u7684\u53CD\u4E49\u8BCD\u662F\u4EC0\u4E48\uFF1F", "\u548C\u70ED\u610F\u601D\u76F8\u53CD\u7684\u8BCD\u662F\u4EC0\u4E48\uFF1F"}, "\u70ED\u7684\u53CD\u4E49\u8BCD\u662F\u51B7\u3002"},
}};

struct Capital {
  std::string_view country_en, capital_en, country_zh, capital_zh;
};
constexpr std::array<Capital, 16> kCapitals = {{
    {"France", "Paris", "\u6CD5\u56FD", "\u5DF4\u9ECE"},         {"Japan", "Tokyo", "\u65E5\u672C", "\u4E1C\u4EAC"},
    {"China", "Beijing", "\u4E2D\u56FD", "\u5317\u4EAC"},        {"Italy", "Rome", "\u610F\u5927\u5229", "\u7F57\u9A6C"},
    {"Germany", "Berlin", "\u5FB7\u56FD", "\u67CF\u6797"},       {"Spain", "Madrid", "\u897F\u73ED\u7259", "\u9A6C\u5FB7\u91CC"},
    {"Egypt", "Cairo", "\u57C3\u53CA", "\u5F00\u7F57"},          {"Russia", "Moscow", "\u4FC4\u7F57\u65AF", "\u83AB\u65AF\u79D1"},
    {"Canada", "Ottawa", "\u52A0\u62FF\u5927", "\u6E25\u592A\u534E"},    {"Australia", "Canberra", "\u6FB3\u5927\u5229\u4E9A", "\u582A\u57F9\u62C9"},
    {"India", "New Delhi", "\u5370\u5EA6", "\u65B0\u5FB7\u91CC"},    {"Brazil", "Brasilia", "\u5DF4\u897F", "\u5DF4\u897F\u5229\u4E9A"},
    {"the United Kingdom", "London", "\u82F1\u56FD", "\u4F26\u6566"}, {"South Korea", "Seoul", "\u97E9\u56FD", "\u9996\u5C14"},
    {"Greece", "Athens", "\u5E0C\u814A", "\u96C5\u5178"},        {"Kenya", "Nairobi", "\u80AF\u5C3C\u4E9A", "\u5185\u7F57\u6BD5"},
}};
constexpr std::array<std::string_view, 2> kCapitalEn = {"What is the capital of {}?", "Which city is the capital of {}?"};
constexpr std::array<std::string_view, 2> kCapitalZh = {"{}\u7684\u9996\u90FD\u662F\u54EA\u91CC\uFF1F", "{}\u7684\u9996\u90FD\u662F\u4EC0\u4E48\u57CE\u5E02\uFF1F"};

}  // namespace

Problem chat_problem(Rng& rng, const Render& render) {
  const bool zh = render.zh_prompt();
  const int64_t entry = rng.uniform(0, static_cast<int64_t>(kChat.size() + kCapitals.size()) - 1);
  const size_t phrasing = static_cast<size_t>(rng.uniform(0, 1));
  Problem p;
  if (entry < static_cast<int64_t>(kChat.size())) {
    const ChatEntry& e = kChat[static_cast<size_t>(entry)];
    p.key = str_cat("chat:", e.id);
    p.prompt = std::string(zh ? e.zh[phrasing] : e.en[phrasing]);
    p.summary = std::string(zh ? e.zh_answer : e.en_answer);
  } else {
    const Capital& c = kCapitals[static_cast<size_t>(entry) - kChat.size()];
    p.key = str_cat("chat:capital:", c.country_en);
    p.prompt = zh ? fill(kCapitalZh[phrasing], {c.country_zh}) : fill(kCapitalEn[phrasing], {c.country_en});
    p.summary = zh ? fill("{}\u7684\u9996\u90FD\u662F{}\u3002", {c.country_zh, c.capital_zh})
                   : fill("The capital of {} is {}.", {c.country_en, c.capital_en});
  }
  p.fields["reference"] = p.summary;
  return p;
}

namespace {

constexpr std::array<std::string_view, 10> kSubjectsEn = {"The cat",     "A small dog", "My friend", "The teacher",
                                                          "A young girl", "The old man", "Our neighbor", "The bird",
                                                          "My brother",  "The farmer"};
constexpr std::array<std::string_view, 10> kVerbsEn = {"reads a book",   "walks to school",    "sings a song",
                                                       "plays in the park", "drinks some water", "writes a letter",
                                                       "looks at the stars", "cooks dinner",    "waters the garden",
                                                       "counts the apples"};
constexpr std::array<std::string_view, 6> kTimesEn = {"in the morning", "every day", "after lunch",
                                                      "on Sunday",      "at night",  "today"};
constexpr std::array<std::string_view, 10> kSubjectsZh = {"\u5C0F\u732B", "\u5C0F\u72D7", "\u6211\u7684\u670B\u53CB", "\u8001\u5E08", "\u5C0F\u5973\u5B69",
                                                          "\u8001\u7237\u7237", "\u6211\u4EEC\u7684\u90BB\u5C45", "\u5C0F\u9E1F", "\u6211\u7684\u54E5\u54E5", "\u519C\u6C11"};
constexpr std::array<std::string_view, 10> kVerbsZh = {"\u770B\u4E66", "\u8D70\u8DEF\u53BB\u5B66\u6821", "\u5531\u6B4C", "\u5728\u516C\u56ED\u91CC\u73A9", "\u559D\u6C34",
                                                       "\u5199\u4FE1", "\u770B\u661F\u661F", "\u505A\u665A\u996D", "\u7ED9\u82B1\u56ED\u6D47\u6C34", "\u6570\u82F9\u679C"};
constexpr std::array<std::string_view, 6> kTimesZh = {"\u65E9\u4E0A", "\u6BCF\u5929", "\u5348\u996D\u540E", "\u661F\u671F\u5929", "\u665A\u4E0A", "\u4ECA\u5929"};

}  // namespace

std::string generic_sentence(Rng& rng, std::string_view language) {
  const bool zh = language == "zh";
  const int64_t count = rng.uniform(1, 3);
  std::string out;
  for (int64_t i = 0; i < count; ++i) {
    const std::string_view s = zh ? rng.pick(kSubjectsZh) : rng.pick(kSubjectsEn);
    const std::string_view v = zh ? rng.pick(kVerbsZh) : rng.pick(kVerbsEn);
    const std::string_view t = zh ? rng.pick(kTimesZh) : rng.pick(kTimesEn);
    out += zh ? str_cat(s, t, v, "\u3002") : str_cat(i == 0 ? "" : " ", s, " ", v, " ", t, ".");
  }
  return out;
}

}  // namespace r1::data::internal
