// Errors of the chat-template interpreter without a reference library: every parse error names
// "<template>:<line>:<col>", every runtime error "<template>:<line>", and what r1kit does not
// support (or cannot reproduce, like Python's memory addresses) is refused by name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer_config.h"

namespace r1::tokenizer {
namespace {

std::string parse_error(const std::string& source) {
  try {
    ChatTemplate::parse(source, "t");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string render_error(const std::string& source, const char* context = R"({"xs": [1, 2, 3]})") {
  try {
    ChatTemplate::parse(source, "t").render(nlohmann::ordered_json::parse(context));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(ChatTemplateErrors, ParseErrorsNameLineAndColumn) {
  const struct {
    std::string source;
    std::string place;  // the message's "t:<line>:<col>:" prefix
    std::string what;
  } kCases[] = {
      {"{{ x | nosuchfilter }}", "t:1:8:", "No filter named 'nosuchfilter'."},
      {"a\n  {{ x|urlize }}", "t:2:8:", "the jinja2 filter 'urlize' is not supported"},
      {"{% for v in xs %}{{ v is nosuchtest }}{% endfor %}", "t:1:26:", "No test named 'nosuchtest'."},
      {"a\n{% for v in xs %}", "t:2:18:", "Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'."},
      {"{% foo %}", "t:1:4:", "Encountered unknown tag 'foo'."},
      {"{% if x %}{% endfor %}", "t:1:14:", "Encountered unknown tag 'endfor'. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'."},
      {"{{ x + }}", "t:1:8:", "unexpected 'end of print statement'"},
      {"{{ x }", "t:1:6:", "unexpected '}'"},
      {"{{ (1, 2 }}", "t:1:10:", "unexpected '}', expected ')'"},
      {"{{ 'abc }}", "t:1:4:", "unexpected char \"'\""},
      {"a\n\n{# unclosed", "t:3:3:", "Missing end of comment tag"},
      {"{% raw %}x", "t:1:10:", "Missing end of raw directive"},
      {"{% set 1 = 2 %}", "t:1:8:", "can't assign to 'const'"},
      {"{% macro f(a=1, b) %}{% endmacro %}", "t:1:18:", "non-default argument follows default argument"},
      {"{{ x is defined is defined }}", "t:1:17:", "You cannot chain multiple tests with is"},
      {"{% for loop in xs %}{% endfor %}", "t:1:8:", "Can't assign to special loop variable"},
      {"{% if x %}{% break %}{% endif %}", "t:1:14:", "'break' outside loop"},
      {"{% for v in xs %}{% generation %}{% continue %}{% endgeneration %}{% endfor %}", "t:1:37:", "'continue' outside loop"},
      {"{% include 'other.jinja' %}", "t:1:4:", "the 'include' tag is not supported"},
      {"{% extends 'base' %}", "t:1:4:", "the 'extends' tag is not supported"},
      {"{{ é }}", "t:1:4:", "non-ASCII characters outside strings are not supported"},
      {"{{ 99999999999999999999 }}", "t:1:4:", "integer literal out of the 64-bit range"},
      {"{{ '\\xZZ' }}", "t:1:4:", "truncated \\xXX escape"},
      {"{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}", "t:1:", "nesting deeper than 200 levels"},
      {[] {
         std::string s;
         for (int k = 0; k < 250; ++k) s += "{% if x %}";
         return s;
       }(),
       "t:1:", "nesting deeper than 200 levels"},
  };
  for (const auto& c : kCases) {
    const std::string message = parse_error(c.source);
    EXPECT_TRUE(starts_with(message, c.place)) << c.source.substr(0, 60) << " -> " << message;
    EXPECT_TRUE(has(message, c.what)) << c.source.substr(0, 60) << " -> " << message;
  }
  EXPECT_TRUE(has(parse_error("ok\xff"), "t: not valid UTF-8 at byte 2")) << parse_error("ok\xff");
}

TEST(ChatTemplateErrors, RuntimeErrorsNameTheLine) {
  const struct {
    std::string source;
    std::string expected;
  } kCases[] = {
      {"line1\n{{ raise_exception('Only user and assistant roles are supported!') }}", "t:2: raise_exception: Only user and assistant roles are supported!"},
      {"{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(0) }}", "t:1: maximum recursion depth exceeded"},
      {"{% for v in xs recursive %}{{ loop(xs) }}{% endfor %}", "t:1: maximum recursion depth exceeded"},
      {"{{ xs|select('odd') }}", "t:1: cannot print a generator"},
      {"{{ range }}", "t:1: cannot print the callable 'range'"},
      {"{{ 9223372036854775807 + 1 }}", "t:1: integer overflow"},
      {"{{ xs.missing.attr }}", "t:1: 'list object' has no attribute 'missing'"},
      {"a\nb\n{{ nothing_here() }}", "t:3: 'nothing_here' is undefined"},
      {"{{ xs.append(4) }}", "t:1: access to attribute 'append' of 'list' object is unsafe."},
      {"{{ 'a'.encode() }}", "t:1: str.encode() is not supported"},
      {"{{ cycler(1, 2) }}", "t:1: cycler() is not supported"},
      {"{{ x is sameas 'a' }}", "t:1: 'sameas' on str values"},
      {"{% if false %}{{ x|wordwrap }}{% endif %}ok{% if true %}{{ 'x'|wordwrap }}{% endif %}", "t:1: the jinja2 filter 'wordwrap' is not supported"},
  };
  for (const auto& c : kCases) {
    const std::string message = render_error(c.source, R"({"xs": [1, 2, 3], "x": "a"})");
    EXPECT_TRUE(starts_with(message, c.expected)) << c.source << " -> " << message;
  }
  EXPECT_TRUE(has(render_error("{{ x }}", "[1]"), "t: the render context must be a JSON object"));
}

TEST(ChatTemplateErrors, ContextBuildingRefusesBadInput) {
  TokenizerConfig config;
  const auto error = [&](const char* messages, const char* extra) {
    try {
      make_chat_context(nlohmann::ordered_json::parse(messages), true, config, nlohmann::ordered_json::parse(extra));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_TRUE(has(error("[]", "null"), "empty conversation"));
  EXPECT_TRUE(has(error("{}", "null"), "chat messages: expected a JSON array"));
  EXPECT_TRUE(has(error("[1]", "null"), "chat messages[0]: expected a JSON object"));
  EXPECT_TRUE(has(error(R"([{"role": "user"}])", "[]"), "chat template variables: expected a JSON object"));
  EXPECT_TRUE(has(error(R"([{"role": "user"}])", R"({"messages": []})"), "'messages' is passed separately"));
  EXPECT_TRUE(has(error(R"([{"role": "user"}])", R"({"documents": [1]})"), "Documents should be a list of dicts"));
}

TEST(ChatTemplateErrors, ContextFollowsTransformers) {
  TokenizerConfig config;
  config.bos_token.emplace("<s>");
  config.eos_token.emplace("</s>");
  const nlohmann::ordered_json ctx = make_chat_context(
      nlohmann::ordered_json::parse(R"([{"role": "assistant", "content": "a", "tool_calls": null, "reasoning": "r"}])"),
      false, config, nlohmann::ordered_json::parse(R"({"eos_token": "<override>", "enable_thinking": false})"));
  // None-valued keys dropped, reasoning aliased: {"thinking": r, **message, "reasoning_content": r}.
  EXPECT_EQ(ctx["messages"].dump(), R"([{"thinking":"r","role":"assistant","content":"a","reasoning":"r","reasoning_content":"r"}])");
  EXPECT_TRUE(ctx["tools"].is_null());
  EXPECT_TRUE(ctx["documents"].is_null());
  EXPECT_EQ(ctx["add_generation_prompt"], false);
  EXPECT_EQ(ctx["bos_token"], "<s>");
  EXPECT_EQ(ctx["eos_token"], "<override>");  // template kwargs win over special tokens
  EXPECT_EQ(ctx["enable_thinking"], false);
}

}  // namespace
}  // namespace r1::tokenizer
