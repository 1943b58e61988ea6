// ChatTemplate: parse once, render many times with the interpreter in jinja_*.cpp; and the render
// context transformers builds in apply_chat_template / render_jinja_template (transformers 5.24,
// utils/chat_template_utils.py).
#include "core/tokenizer/chat_template.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"
#include "core/tokenizer/tokenizer_config.h"

namespace r1::tokenizer {
namespace {

// transformers reports generation spans in characters of the rendered str; r1kit in bytes.
std::vector<std::pair<std::size_t, std::size_t>> spans_to_bytes(
    const std::string& text, const std::vector<std::pair<std::size_t, std::size_t>>& cp_spans) {
  std::vector<std::size_t> byte_of;  // byte offset of each code point index, plus the end
  byte_of.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) byte_of.push_back(i);
  }
  byte_of.push_back(text.size());
  const auto at = [&](std::size_t cp) { return cp < byte_of.size() ? byte_of[cp] : text.size(); };
  std::vector<std::pair<std::size_t, std::size_t>> out;
  out.reserve(cp_spans.size());
  for (const auto& [b, e] : cp_spans) out.emplace_back(at(b), at(e));
  return out;
}

ChatTemplate::Rendered render_value(const jinja::Template& t, jinja::Value context) {
  if (context.kind != jinja::Kind::Dict) {
    throw Error(t.name + ": the render context must be a JSON object of template variables");
  }
  jinja::Interp interp(t, std::move(context));
  ChatTemplate::Rendered r;
  r.text = interp.run();
  r.generation_spans = spans_to_bytes(r.text, interp.spans);
  return r;
}

}  // namespace

ChatTemplate ChatTemplate::parse(const std::string& source, std::string name) {
  const std::size_t bad = py::find_invalid_utf8(source);
  if (bad != std::string::npos) throw Error(str_cat(name, ": not valid UTF-8 at byte ", bad));
  ChatTemplate t;
  t.template_ = jinja::parse_template(source, name);
  return t;
}

ChatTemplate::Rendered ChatTemplate::render(const nlohmann::json& context) const {
  R1_CHECK(template_ != nullptr, "render() on a ChatTemplate that was not parsed");
  return render_value(*template_, jinja::from_json(context));
}

ChatTemplate::Rendered ChatTemplate::render(const nlohmann::ordered_json& context) const {
  R1_CHECK(template_ != nullptr, "render() on a ChatTemplate that was not parsed");
  return render_value(*template_, jinja::from_json(context));
}

const std::string& ChatTemplate::name() const {
  R1_CHECK(template_ != nullptr, "name() on a ChatTemplate that was not parsed");
  return template_->name;
}

nlohmann::ordered_json make_chat_context(const nlohmann::ordered_json& messages,
                                         bool add_generation_prompt, const TokenizerConfig& config,
                                         const nlohmann::ordered_json& extra) {
  using nlohmann::ordered_json;
  if (!messages.is_array())
    throw Error(str_cat("chat messages: expected a JSON array, found ", messages.type_name()));
  if (messages.empty())
    throw Error(
        "Cannot apply chat template to an empty conversation. Provide at least one message.");
  if (!extra.is_null() && !extra.is_object())
    throw Error(
        str_cat("chat template variables: expected a JSON object, found ", extra.type_name()));
  for (const char* reserved : {"messages", "add_generation_prompt"}) {
    if (extra.is_object() && extra.contains(reserved))
      throw Error(str_cat("chat template variables: '", reserved,
                          "' is passed separately, not as a template variable"));
  }
  ordered_json chat = ordered_json::array();
  for (std::size_t k = 0; k < messages.size(); ++k) {
    const ordered_json& m = messages[k];
    if (!m.is_object())
      throw Error(str_cat("chat messages[", k, "]: expected a JSON object, found ", m.type_name()));
    // _normalize_chat_messages: keys whose value is None are dropped.
    ordered_json msg = ordered_json::object();
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!it.value().is_null()) msg[it.key()] = it.value();
    }
    // _alias_reasoning_fields: {"thinking": r, **message, "reasoning_content": r}.
    const ordered_json* reasoning = nullptr;
    for (const char* key : {"reasoning_content", "thinking", "reasoning"}) {
      if (reasoning == nullptr && msg.contains(key)) reasoning = &msg[key];
    }
    if (reasoning != nullptr) {
      const ordered_json r = *reasoning;
      ordered_json aliased = ordered_json::object();
      aliased["thinking"] = r;
      for (auto it = msg.begin(); it != msg.end(); ++it) aliased[it.key()] = it.value();
      aliased["thinking"] = msg.contains("thinking") ? msg["thinking"] : r;
      aliased["reasoning_content"] = r;
      msg = std::move(aliased);
    }
    chat.push_back(std::move(msg));
  }
  const ordered_json none;
  const auto extra_at = [&](const char* key) -> const ordered_json& {
    return extra.is_object() && extra.contains(key) ? extra[key] : none;
  };
  const ordered_json& documents = extra_at("documents");
  if (documents.is_array()) {
    for (const ordered_json& d : documents) {
      if (!d.is_object())
        throw Error("Documents should be a list of dicts with 'title' and 'text' keys!");
    }
  }
  ordered_json context = ordered_json::object();
  context["messages"] = std::move(chat);
  context["tools"] = extra_at("tools");
  context["documents"] = documents;
  context["add_generation_prompt"] = add_generation_prompt;
  for (const auto& [name, token] : config.special_tokens_map()) context[name] = token;
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (it.key() != "tools" && it.key() != "documents") context[it.key()] = it.value();
    }
  }
  return context;
}

}  // namespace r1::tokenizer
