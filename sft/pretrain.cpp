// `r1kit pretrain`: corpus -> tokenizer + initial model -> run_sft on the corpus. See pretrain.h;
// the defaults below are the ones measured in docs/training.md ("Pretraining the tiny model").
#include "sft/pretrain.h"

#include <torch/nn/module.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/config.h"
#include "core/log.h"
#include "core/recipe/load.h"
#include "model/causal_lm.h"
#include "model/distributed.h"
#include "sft/pretrain_init.h"

namespace r1::sft {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

struct CorpusFiles {
  stdfs::path train;
  stdfs::path eval;  // empty: no held-out loss
};

stdfs::path resolve(const stdfs::path& base_dir, const std::string& path) {
  const stdfs::path p(path);
  return p.is_absolute() ? p : base_dir / p;
}

// Everything the corpus and init/ are built from; a rerun must match it.
json setup_record(const PretrainConfig& c) {
  return json{{"corpus", c.corpus},
              {"tasks", c.corpus.empty() ? recipe::to_yaml(recipe::unbind(c.tasks)) : ""},
              {"eval_size", c.corpus.empty() ? c.eval_size : 0},
              {"chat_share", c.corpus.empty() ? c.chat_share : 0.0},
              {"model_config", c.model_config},
              {"tokenizer", recipe::to_yaml(recipe::unbind(c.tokenizer))},
              {"seed", c.seed}};
}

// Writes out_dir/pretrain_setup.json on the first run; on a rerun refuses a different setup, since
// the corpus and init/ on disk were built from the recorded one.
void check_or_record_setup(const PretrainConfig& c, const stdfs::path& out_dir) {
  const stdfs::path file = out_dir / "pretrain_setup.json";
  const json now = setup_record(c);
  if (!stdfs::exists(file)) {
    core::write_file_atomic(file, now.dump(2) + "\n");
    return;
  }
  const json before = json::parse(core::read_file(file));
  std::string changed;
  for (const auto& [key, value] : now.items())
    if (!before.contains(key) || before[key] != value) changed += (changed.empty() ? "" : ", ") + key;
  if (!changed.empty())
    throw Error(str_cat(file.string(), ": this output directory was set up with different settings (changed: ",
                        changed, "); use a fresh --out directory or restore the recorded settings"));
}

// `tasks` (kind pretrain) with a `chat_share` of the lines replaced by chat-layout texts of sft
// lines (a second generation, seeded apart), interleaved evenly so any prefix of the file (the
// tokenizer's max_texts) has both kinds.
std::vector<json> corpus_lines(const data::TasksConfig& tasks, double chat_share) {
  const int64_t num_chat = std::llround(static_cast<double>(tasks.num) * chat_share);
  std::vector<json> plain, chat;
  if (tasks.num - num_chat > 0) {
    data::TasksConfig t = tasks;
    t.num = tasks.num - num_chat;
    plain = data::generate_tasks(t);
  }
  if (num_chat > 0) {
    data::TasksConfig t = tasks;
    t.kind = "sft";
    t.num = num_chat;
    t.seed = tasks.seed + 1000003;  // other problems than the plain texts' draw
    for (json& line : data::generate_tasks(t)) {
      json out = {{"text", chat_layout_text(line["messages"])}};
      for (const char* key : {"id", "task", "language", "split"}) out[key] = line[key];
      chat.push_back(std::move(out));
    }
  }
  std::vector<json> lines;
  lines.reserve(plain.size() + chat.size());
  std::size_t p = 0, q = 0;
  for (int64_t i = 0; i < tasks.num; ++i) {
    // Line i is a chat when the running chat quota steps up at i.
    const bool is_chat = std::llround((i + 1) * chat_share) > std::llround(i * chat_share);
    if ((is_chat && q < chat.size()) || p == plain.size()) lines.push_back(std::move(chat[q++]));
    else lines.push_back(std::move(plain[p++]));
  }
  return lines;
}

void generate_corpus_file(const data::TasksConfig& tasks, double chat_share, const stdfs::path& path) {
  if (stdfs::exists(path)) return;  // written atomically: present means complete
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<json> lines = corpus_lines(tasks, chat_share);
  data::write_jsonl(path, lines);
  log::info("pretrain: generated ", lines.size(), " ", tasks.split, " texts in ",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), " s -> ",
            path.string());
}

CorpusFiles prepare_corpus(const PretrainConfig& c, const PretrainRun& run) {
  if (!c.corpus.empty()) {
    const stdfs::path file = resolve(run.base_dir, c.corpus);
    if (!stdfs::is_regular_file(file))
      throw Error(str_cat("pretrain.corpus: expected a JSONL file of {\"text\"} lines, found no file at ",
                          file.string()));
    return {file, {}};
  }
  CorpusFiles files{run.out_dir / "corpus/train.jsonl", {}};
  data::TasksConfig tasks = c.tasks;
  generate_corpus_file(tasks, c.chat_share, files.train);
  if (c.eval_size > 0) {
    files.eval = run.out_dir / "corpus/eval.jsonl";
    tasks.split = "heldout";
    tasks.num = c.eval_size;
    generate_corpus_file(tasks, c.chat_share, files.eval);
  }
  return files;
}

// The tokenizer trained on the corpus and the initial model, in out_dir/init (kept when present).
void prepare_init(const PretrainConfig& c, const PretrainRun& run, const CorpusFiles& corpus) {
  const stdfs::path init = run.out_dir / "init";
  if (stdfs::exists(init)) return;  // renamed into place complete
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> texts = read_corpus_texts(corpus.train);
  const tokenizer::Tokenizer tok = train_tiny_tokenizer(texts, c.tokenizer);
  const double tokenizer_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const hf::ModelConfig base = c.model_config.empty()
                                   ? tiny_deepseek_v3_config()
                                   : hf::load_model_config(resolve(run.base_dir, c.model_config));
  write_initial_model(config_for_tokenizer(base, tok), tok, static_cast<uint64_t>(c.seed), init);
  log::info("pretrain: tokenizer (", tok.vocab_size(), " pieces) trained in ", tokenizer_s,
            " s; initial model -> ", init.string());
}

int64_t count_parameters(const stdfs::path& model_dir) {
  model::ModelOptions meta;
  meta.device = at::kMeta;  // shapes only
  auto lm = model::make_causal_lm(hf::load_model_config(model_dir / "config.json"), meta);
  int64_t n = 0;
  for (const auto& p : lm->module().parameters()) n += p.numel();
  return n;
}

}  // namespace

std::string chat_layout_text(const nlohmann::json& messages) {
  std::string out;
  for (const json& m : messages) {
    const std::string role = m.at("role").get<std::string>();
    const std::string content = m.at("content").get<std::string>();
    if (role == "user") out += std::string(kTinyUserToken) + content;
    else if (role == "assistant") out += std::string(kTinyAssistantToken) + content;
    else if (role == "system") out += content;
    else throw Error(str_cat("chat_layout_text: unknown role \"", role, "\""));
  }
  return out;
}

data::TasksConfig default_corpus_tasks() {
  data::TasksConfig t;
  t.kind = "pretrain";
  t.split = "train";
  t.num = 20000;
  return t;
}

SftConfig default_pretrain_training() {
  // Measured on the 2-core CPU machine (docs/training.md "Pretraining the tiny model"): 200 steps
  // of 4096 tokens (0.8M tokens, about a quarter of the default corpus) take the held-out loss from
  // 7.7 to 1.1. A large rate suits a 4.5M-parameter model; clipping at 1 keeps the first
  // steps (grad norm ~10 at init) in check.
  SftConfig t;
  t.optimizer.lr = 3e-3;
  t.optimizer.weight_decay = 0.1;
  t.optimizer.schedule.schedule = "cosine";
  t.optimizer.schedule.warmup_steps = 10;
  t.optimizer.schedule.min_lr_ratio = 0.1;
  t.micro_batch_tokens = 4096;
  t.grad_accum = 1;
  t.max_steps = 200;
  t.max_seq_len = 1024;  // the longest generated texts (~0.5% of them) are split into windows
  t.eval_every = 50;
  t.save_every = 25;
  // fp32: bf16 autocast brought no speed on this CPU at these matrix sizes (measured), only
  // rounding.
  t.bf16 = false;
  t.loss_on = "all";
  return t;
}

void validate(const PretrainConfig& c, std::string_view where) {
  if (c.tasks.kind != "pretrain")
    throw Error(str_cat(where, ".tasks.kind: expected \"pretrain\" (a {\"text\"} corpus), found \"", c.tasks.kind,
                        "\""));
  if (c.tasks.split != "train")
    throw Error(str_cat(where, ".tasks.split: expected \"train\" (held-out texts come from eval_size), found \"",
                        c.tasks.split, "\""));
  data::validate(c.tasks, str_cat(where, ".tasks"));
  if (!c.train.train_data.empty() || !c.train.eval_data.empty())
    throw Error(str_cat(where, ".train.", c.train.train_data.empty() ? "eval_data" : "train_data",
                        ": expected empty (pretraining fills it from the corpus; set ", where,
                        ".corpus to use your own texts), found \"",
                        c.train.train_data.empty() ? c.train.eval_data : c.train.train_data, "\""));
}

json run_pretrain(const PretrainConfig& config, const PretrainRun& run) {
  validate(config);
  const auto t0 = std::chrono::steady_clock::now();
  const bool is_main = run.dist == nullptr || run.dist->is_main();
  CorpusFiles corpus;
  if (is_main) {
    stdfs::create_directories(run.out_dir);
    check_or_record_setup(config, run.out_dir);
    corpus = prepare_corpus(config, run);
    prepare_init(config, run, corpus);
  }
  if (run.dist) run.dist->barrier("pretrain setup (corpus, tokenizer, initial model)");
  if (!is_main) corpus = prepare_corpus(config, run);  // the paths; rank 0 wrote the files
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  SftConfig train = config.train;
  train.train_data = corpus.train.string();
  train.eval_data = corpus.eval.string();
  SftRun sft_run;
  sft_run.out_dir = run.out_dir;
  sft_run.init_model = run.out_dir / "init";
  sft_run.dist = run.dist;
  sft_run.metrics = run.metrics;
  sft_run.stage = run.stage;
  sft_run.seed = run.seed;
  sft_run.device = run.device;
  sft_run.base_dir = run.base_dir;
  json summary = run_sft(train, sft_run);
  summary["vocab_size"] = hf::decoder_config(hf::load_model_config(sft_run.init_model / "config.json")).vocab_size;
  summary["num_params"] = count_parameters(sft_run.init_model);
  summary["corpus"] = corpus.train.string();
  summary["setup_s"] = setup_s;
  return summary;
}

}  // namespace r1::sft
