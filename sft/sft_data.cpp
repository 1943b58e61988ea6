#include "sft/sft_data.h"

#include <algorithm>
#include <exception>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/jsonl.h"

namespace r1::sft {

namespace {

struct Sample {
  std::string where;  // "path:line"
  bool is_chat = false;
  std::string text;
  nlohmann::ordered_json messages;
};

std::vector<Sample> read_samples(const std::filesystem::path& path) {
  std::vector<Sample> samples;
  core::read_jsonl(path, [&](const std::string& where, nlohmann::ordered_json& value) {
    if (!value.is_object()) throw Error(str_cat(where, ": expected a JSON object, found ", value.type_name()));
    const bool has_messages = value.contains("messages"), has_text = value.contains("text");
    if (has_messages == has_text) {
      throw Error(str_cat(where, ": expected exactly one of \"messages\" (a chat) or \"text\" (pretraining text), found ",
                          has_messages ? "both" : "neither"));
    }
    Sample s;
    s.where = where;
    if (has_messages) {
      if (!value["messages"].is_array() || value["messages"].empty()) {
        throw Error(str_cat(where, ": messages: expected a non-empty array of {\"role\", \"content\"}, found ",
                            value["messages"].dump().substr(0, 80)));
      }
      s.is_chat = true;
      s.messages = std::move(value["messages"]);
    } else {
      if (!value["text"].is_string()) {
        throw Error(str_cat(where, ": text: expected a string, found ", value["text"].type_name()));
      }
      s.text = value["text"].get<std::string>();
    }
    samples.push_back(std::move(s));
  });
  return samples;
}

// Runs fn(i) for i in [0, n) on up to num_threads threads; the first exception is rethrown.
template <typename Fn>
void parallel_for(int64_t n, int num_threads, const Fn& fn) {
  const int64_t workers = std::clamp<int64_t>(
      num_threads > 0 ? num_threads : static_cast<int64_t>(std::thread::hardware_concurrency()), 1, std::max<int64_t>(n, 1));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  std::vector<std::thread> threads;
  for (int64_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        for (int64_t i = w; i < n; i += workers) fn(i);
      } catch (...) {
        errors[static_cast<size_t>(w)] = std::current_exception();  // rethrown below
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

Document encode_sample(const Sample& s, const tokenizer::Tokenizer& tok, const DataOptions& options) {
  Document doc;
  if (s.is_chat) {
    const tokenizer::Tokenizer::ChatEncoding enc = tok.encode_chat(s.messages, /*add_generation_prompt=*/false);
    doc.ids.assign(enc.ids.begin(), enc.ids.end());
    if (options.assistant_only) {
      doc.loss_mask = enc.assistant_mask;
      if (std::find(enc.assistant_mask.begin(), enc.assistant_mask.end(), 1) == enc.assistant_mask.end() &&
          std::any_of(s.messages.begin(), s.messages.end(),
                      [](const auto& m) { return m.is_object() && m.value("role", "") == "assistant"; })) {
        throw Error(str_cat(s.where, ": the chat template marks no assistant token (it has no {% generation %} "
                                     "block); set loss_on: all to train on every token"));
      }
    } else {
      doc.loss_mask.assign(doc.ids.size(), 1);
    }
  } else {
    const std::optional<tokenizer::TokenId> bos = tok.bos_id();
    if (bos) doc.ids.push_back(*bos);
    for (tokenizer::TokenId id : tok.encode(s.text, /*add_special_tokens=*/false)) doc.ids.push_back(id);
    doc.ids.push_back(*tok.eos_id());
    doc.loss_mask.assign(doc.ids.size(), 1);
  }
  if (!doc.loss_mask.empty()) doc.loss_mask[0] = 0;  // nothing predicts a document's first token
  return doc;
}

uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

int64_t Document::num_targets() const {
  return std::count(loss_mask.begin(), loss_mask.end(), uint8_t{1});
}

Dataset load_dataset(const std::filesystem::path& path, const tokenizer::Tokenizer& tokenizer,
                     const DataOptions& options) {
  R1_CHECK(options.max_seq_len >= 2, "max_seq_len ", options.max_seq_len);
  const std::vector<Sample> samples = read_samples(path);
  const bool any_text = std::any_of(samples.begin(), samples.end(), [](const Sample& s) { return !s.is_chat; });
  if (any_text && !tokenizer.eos_id()) {
    throw Error(str_cat(path.string(), ": \"text\" samples need an EOS token, and the tokenizer names none ",
                        "(tokenizer_config.json eos_token)"));
  }
  std::vector<Document> encoded(samples.size());
  parallel_for(static_cast<int64_t>(samples.size()), options.num_threads, [&](int64_t i) {
    try {
      encoded[i] = encode_sample(samples[i], tokenizer, options);
    } catch (const Error& e) {
      // The tokenizer's and template's messages do not know the line; prefix it once.
      const std::string what = e.what();
      if (what.rfind(samples[i].where, 0) == 0) throw;
      throw Error(str_cat(samples[i].where, ": ", what));
    }
  });

  Dataset data;
  data.fingerprint = 14695981039346656037ull;
  auto add = [&](Document doc) {
    const int64_t targets = doc.num_targets();
    if (targets == 0) {
      data.num_dropped += 1;
      return;
    }
    data.num_tokens += static_cast<int64_t>(doc.ids.size());
    data.num_targets += targets;
    data.fingerprint = fnv1a(data.fingerprint, doc.ids.data(), doc.ids.size() * sizeof(int64_t));
    data.fingerprint = fnv1a(data.fingerprint, doc.loss_mask.data(), doc.loss_mask.size());
    data.docs.push_back(std::move(doc));
  };
  const int64_t max_len = options.max_seq_len;
  for (size_t i = 0; i < encoded.size(); ++i) {
    Document& doc = encoded[i];
    const int64_t len = static_cast<int64_t>(doc.ids.size());
    if (len <= max_len) {
      add(std::move(doc));
    } else if (samples[i].is_chat) {
      // A chat cut anywhere but its end would teach a reply without its ending: keep the head.
      doc.ids.resize(max_len);
      doc.loss_mask.resize(max_len);
      data.num_truncated += 1;
      add(std::move(doc));
    } else {
      // Pretraining text is split into windows of max_len overlapping by one token: each window's
      // first token is context only (it is the previous window's last target), so every token of
      // the text after BOS is a target exactly once.
      data.num_split += 1;
      for (int64_t start = 0; start + 1 < len; start += max_len - 1) {
        const int64_t end = std::min(start + max_len, len);
        Document part;
        part.ids.assign(doc.ids.begin() + start, doc.ids.begin() + end);
        part.loss_mask.assign(doc.loss_mask.begin() + start, doc.loss_mask.begin() + end);
        part.loss_mask[0] = 0;
        add(std::move(part));
      }
    }
  }
  if (data.docs.empty()) {
    throw Error(str_cat(path.string(), ": no sample with a token to train on (", samples.size(), " lines, ",
                        data.num_dropped, " without targets)"));
  }
  return data;
}

std::vector<int64_t> epoch_order(int64_t num_docs, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(num_docs));
  for (int64_t i = 0; i < num_docs; ++i) order[i] = i;
  if (!shuffle) return order;
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1;
  for (int64_t i = num_docs - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::vector<MicroBatch> pack(const Dataset& data, const std::vector<int64_t>& order, int64_t max_tokens) {
  std::vector<MicroBatch> out;
  MicroBatch current;
  for (int64_t idx : order) {
    const int64_t len = static_cast<int64_t>(data.docs[idx].ids.size());
    R1_CHECK(len <= max_tokens, "document of ", len, " tokens, micro-batch of ", max_tokens);
    if (current.num_tokens + len > max_tokens) {
      out.push_back(std::move(current));
      current = MicroBatch{};
    }
    current.doc_indices.push_back(idx);
    current.num_tokens += len;
  }
  if (!current.doc_indices.empty()) out.push_back(std::move(current));
  return out;
}

std::vector<const MicroBatch*> EpochPlan::rank_batches(int64_t step_in_epoch, int rank, int world_size) const {
  std::vector<const MicroBatch*> out;
  const int64_t begin = step_in_epoch * per_step;
  const int64_t end = std::min<int64_t>(begin + per_step, static_cast<int64_t>(micro_batches.size()));
  for (int64_t j = begin; j < end; ++j) {
    if ((j - begin) % world_size == rank) out.push_back(&micro_batches[j]);
  }
  return out;
}

EpochPlan plan_epoch(const Dataset& data, uint64_t seed, int64_t epoch, bool shuffle, int64_t micro_batch_tokens,
                     int64_t grad_accum, int world_size) {
  EpochPlan plan;
  plan.micro_batches = pack(data, epoch_order(static_cast<int64_t>(data.docs.size()), seed, epoch, shuffle),
                            micro_batch_tokens);
  plan.per_step = grad_accum * world_size;
  return plan;
}

}  // namespace r1::sft
