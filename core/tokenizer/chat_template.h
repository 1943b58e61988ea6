// Chat templates: an interpreter for the Jinja subset that Hugging Face chat templates use, with
// the environment transformers renders them in (trim_blocks, lstrip_blocks, loop controls,
// raise_exception, tojson without ASCII escaping, {% generation %} spans for assistant masks).
// Output is byte-identical to jinja2 for the supported subset; anything else is an r1::Error
// naming the template and line, never a guess. A parsed template is immutable: render() may run
// on many threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace r1::tokenizer {

namespace jinja {
struct Template;  // parsed form, defined in the .cpp files
}

class ChatTemplate {
 public:
  // Parses `source`. `name` names the template in messages ("Qwen2.5 chat_template" or a path).
  // Throws r1::Error "<name>:<line>:<col>: <what is wrong>" on syntax the interpreter lacks.
  static ChatTemplate parse(const std::string& source, std::string name);

  struct Rendered {
    std::string text;
    // Byte ranges [begin, end) of text produced inside {% generation %} blocks, in order.
    std::vector<std::pair<std::size_t, std::size_t>> generation_spans;
  };
  // Renders with `context` as the template's variables (a JSON object: messages,
  // add_generation_prompt, bos_token, eos_token, tools, ...). Throws r1::Error naming the template
  // line on a runtime error (raise_exception, calling an undefined function, a type error).
  // JSON objects become Python dicts; the ordered_json form keeps their key order (what
  // `tools | tojson` or `message.items()` print), the json form iterates keys sorted.
  Rendered render(const nlohmann::json& context) const;
  Rendered render(const nlohmann::ordered_json& context) const;

  const std::string& name() const;

 private:
  std::shared_ptr<const jinja::Template> template_;
};

struct TokenizerConfig;

// The variables transformers' apply_chat_template (5.24) passes to the template:
//   messages               with null-valued keys dropped and reasoning aliased as transformers
//                          does (a message with reasoning_content, thinking or reasoning gets
//                          both "thinking" and "reasoning_content");
//   tools, documents       from `extra` (null when absent);
//   add_generation_prompt;
//   the special tokens     config.special_tokens_map() (bos_token, eos_token, ... as strings);
//   the rest of `extra`    template kwargs such as enable_thinking (they win over special tokens).
// `extra` is a JSON object or null. Throws r1::Error for an empty conversation, a message that is
// not an object, or a non-object `extra`.
nlohmann::ordered_json make_chat_context(const nlohmann::ordered_json& messages,
                                         bool add_generation_prompt, const TokenizerConfig& config,
                                         const nlohmann::ordered_json& extra);

}  // namespace r1::tokenizer
