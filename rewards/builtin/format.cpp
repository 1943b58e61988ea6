// The format reward and the chain-of-thought / summary split the other rewards share.
#include <cstddef>

#include "core/error.h"
#include "rewards/builtin/builtin.h"

namespace r1::rewards {

namespace {

size_t count_of(std::string_view text, std::string_view tag) {
  size_t n = 0;
  for (size_t at = text.find(tag); at != std::string_view::npos; at = text.find(tag, at + tag.size())) ++n;
  return n;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

bool blank(std::string_view text) {
  for (char c : text)
    if (!is_space(c)) return false;
  return true;
}

RewardResult failed(std::string rule, std::string detail) {
  return RewardResult::scored_value(0.0, {{"failed", std::move(rule)}, {"detail", std::move(detail)}});
}

}  // namespace

std::string_view chain_of_thought(std::string_view completion, const ThinkTags& tags) {
  size_t begin = 0;
  if (!tags.open_in_prompt) {
    const size_t open = completion.find(tags.open);
    if (open == std::string_view::npos) {
      // No open tag: a close tag still ends a thought that began at the start.
      const size_t close = completion.find(tags.close);
      return close == std::string_view::npos ? std::string_view() : completion.substr(0, close);
    }
    begin = open + tags.open.size();
  }
  const size_t close = completion.find(tags.close, begin);
  return completion.substr(begin, close == std::string_view::npos ? std::string_view::npos : close - begin);
}

std::string_view summary_of(std::string_view completion, const ThinkTags& tags) {
  const size_t close = completion.rfind(tags.close);
  return close == std::string_view::npos ? completion : completion.substr(close + tags.close.size());
}

RewardResult score_format(std::string_view completion, const FormatConfig& config) {
  const ThinkTags& tags = config.tags;
  size_t start = 0;
  while (start < completion.size() && is_space(completion[start])) ++start;
  const size_t num_open = count_of(completion, tags.open);
  const size_t expected_open = tags.open_in_prompt ? 0 : 1;
  if (!tags.open_in_prompt && completion.substr(start, tags.open.size()) != tags.open)
    return failed("open_tag_not_at_start", str_cat("the completion does not start with ", tags.open));
  if (num_open != expected_open)
    return failed("open_tag_count", str_cat(tags.open, " appears ", num_open, " times, expected ", expected_open));
  const size_t num_close = count_of(completion, tags.close);
  if (num_close != 1)
    return failed("close_tag_count", str_cat(tags.close, " appears ", num_close, " times, expected 1"));
  if (blank(summary_of(completion, tags)))
    return failed("empty_summary", str_cat("nothing but whitespace after ", tags.close));
  return RewardResult::scored_value(1.0, {{"ok", true}});
}

}  // namespace r1::rewards
