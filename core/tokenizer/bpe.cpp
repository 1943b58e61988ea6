// The BPE model of tokenizers.json files, as tokenizers' models/bpe/model.rs and word.rs compute
// it: a word starts as one symbol per character (or per byte after ByteLevel), then the adjacent
// pair with the lowest merge rank is merged, leftmost first, until no pair has a merge.
//
// Fast path: when every ByteLevel byte character is a token, a byte-level word is merged on byte
// ids directly, never building the mapped string.
// Results are cached per word (bounded, sharded; words over kMaxCachedBytes are not cached).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <mutex>
#include <queue>
#include <shared_mutex>

#include "core/error.h"
#include "core/tokenizer/internal/hf_parts.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::hf_internal {
namespace {

constexpr size_t kMaxCachedBytes = 256;
constexpr size_t kCacheShards = 64;
constexpr size_t kCacheEntriesPerShard = 4096;
// Words with more symbols than this merge with a heap (O(n log n)); shorter ones by scanning.
constexpr size_t kScanLimit = 48;

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

size_t StringHash::operator()(std::string_view s) const noexcept {
  // FNV-1a over 8-byte words: words are short, and this is cheaper than a general hash.
  uint64_t h = 0xcbf29ce484222325ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0x100000001b3ULL;
  return mix(h);
}

struct Bpe::Cache {
  struct Shard {
    mutable std::shared_mutex mutex;
    StringMap<std::vector<TokenId>> map;
  };
  std::array<Shard, kCacheShards> shards;
};

Bpe::Bpe(StringMap<TokenId> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
         Options options, const std::string& origin)
    : vocab_(std::move(vocab)), options_(std::move(options)), cache_(std::make_unique<Cache>()) {
  TokenId max_id = -1;
  for (const auto& [token, id] : vocab_) max_id = std::max(max_id, id);
  id_to_token_.assign(static_cast<size_t>(max_id + 1), nullptr);
  for (const auto& [token, id] : vocab_) id_to_token_[static_cast<size_t>(id)] = &token;

  size_t capacity = 16;
  while (capacity < merges.size() * 2) capacity *= 2;
  merge_keys_.assign(capacity, ~0ULL);
  merge_values_.assign(capacity, 0);
  merge_mask_ = capacity - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab_.find(a);
    const auto ib = vocab_.find(b);
    const std::string what = str_cat(origin, ": model.merges[", rank, "] (\"", a, " ", b, "\")");
    if (ia == vocab_.end()) throw Error(str_cat(what, ": token \"", a, "\" is not in the vocab"));
    if (ib == vocab_.end()) throw Error(str_cat(what, ": token \"", b, "\" is not in the vocab"));
    const std::string merged = a + b;
    const auto im = vocab_.find(merged);
    if (im == vocab_.end())
      throw Error(str_cat(what, ": merged token \"", merged, "\" is not in the vocab"));
    const uint64_t key = static_cast<uint64_t>(static_cast<uint32_t>(ia->second)) << 32 |
                         static_cast<uint32_t>(ib->second);
    size_t slot = mix(key) & merge_mask_;
    while (merge_keys_[slot] != ~0ULL && merge_keys_[slot] != key) slot = (slot + 1) & merge_mask_;
    if (merge_keys_[slot] == key) continue;  // a repeated pair keeps its first (lowest) rank
    merge_keys_[slot] = key;
    merge_values_[slot] = static_cast<uint64_t>(rank) << 32 | static_cast<uint32_t>(im->second);
  }

  // The byte path needs a token for every byte character.
  byte_path_ = true;
  for (int b = 0; b < 256 && byte_path_; ++b) {
    std::string ch;
    unicode::append_utf8(ch, byte_to_char()[static_cast<size_t>(b)]);
    const auto it = vocab_.find(ch);
    if (it == vocab_.end()) byte_path_ = false; else byte_ids_[static_cast<size_t>(b)] = it->second;
  }
  if (byte_path_ && options_.ignore_merges) {
    for (const auto& [token, id] : vocab_) {
      std::string raw;
      bool ok = true;
      for (size_t i = 0; i < token.size() && ok;) {
        size_t len = 0;
        const int byte = char_to_byte(unicode::decode_utf8(token, i, &len));
        ok = byte >= 0;
        raw.push_back(static_cast<char>(byte));
        i += len;
      }
      if (ok) raw_vocab_.emplace(std::move(raw), id);
    }
  }
}

Bpe::~Bpe() = default;

std::optional<TokenId> Bpe::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* Bpe::id_to_token(TokenId id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
  return id_to_token_[static_cast<size_t>(id)];
}

bool Bpe::find_merge(TokenId a, TokenId b, uint32_t* rank, TokenId* merged) const {
  const uint64_t key = static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32 | static_cast<uint32_t>(b);
  for (size_t slot = mix(key) & merge_mask_;; slot = (slot + 1) & merge_mask_) {
    if (merge_keys_[slot] == key) {
      *rank = static_cast<uint32_t>(merge_values_[slot] >> 32);
      *merged = static_cast<TokenId>(merge_values_[slot] & 0xffffffffULL);
      return true;
    }
    if (merge_keys_[slot] == ~0ULL) return false;
  }
}

// Merges `symbols` in place: lowest rank first, leftmost among equal ranks (word.rs merge_all).
void Bpe::merge(std::vector<TokenId>& symbols) const {
  if (symbols.size() < 2) return;
  if (symbols.size() <= kScanLimit) {
    // Short words: rescan for the best pair after each merge; cheaper than a heap here.
    std::vector<uint32_t> ranks(symbols.size() - 1);
    std::vector<TokenId> merged(symbols.size() - 1);
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
      if (!find_merge(symbols[i], symbols[i + 1], &ranks[i], &merged[i])) ranks[i] = UINT32_MAX;
    while (symbols.size() > 1) {
      const auto best = std::min_element(ranks.begin(), ranks.end());
      if (*best == UINT32_MAX) break;
      const size_t i = static_cast<size_t>(best - ranks.begin());
      symbols[i] = merged[i];
      symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      ranks.erase(ranks.begin() + static_cast<std::ptrdiff_t>(i));
      merged.erase(merged.begin() + static_cast<std::ptrdiff_t>(i));
      if (i > 0 && !find_merge(symbols[i - 1], symbols[i], &ranks[i - 1], &merged[i - 1]))
        ranks[i - 1] = UINT32_MAX;
      if (i + 1 < symbols.size() && !find_merge(symbols[i], symbols[i + 1], &ranks[i], &merged[i]))
        ranks[i] = UINT32_MAX;
    }
    return;
  }
  // Long words: a heap of (rank, position) over a linked list, skipping stale entries.
  const size_t n = symbols.size();
  std::vector<int64_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int64_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int64_t>(i + 1) : -1;
  }
  using Entry = std::tuple<uint32_t, size_t, TokenId>;  // rank, left position, merged id
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  auto push = [&](size_t i) {
    if (next[i] < 0) return;
    uint32_t rank;
    TokenId merged;
    if (find_merge(symbols[i], symbols[static_cast<size_t>(next[i])], &rank, &merged))
      heap.emplace(rank, i, merged);
  };
  for (size_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const auto [rank, i, merged] = heap.top();
    heap.pop();
    if (!alive[i] || next[i] < 0) continue;
    uint32_t current_rank;
    TokenId current;
    const size_t j = static_cast<size_t>(next[i]);
    if (!find_merge(symbols[i], symbols[j], &current_rank, &current) || current != merged) continue;
    symbols[i] = merged;
    alive[j] = false;
    next[i] = next[j];
    if (next[j] >= 0) prev[static_cast<size_t>(next[j])] = static_cast<int64_t>(i);
    if (prev[i] >= 0) push(static_cast<size_t>(prev[i]));
    push(i);
  }
  size_t out = 0;
  for (size_t i = 0; i < n; ++i)
    if (alive[i]) symbols[out++] = symbols[i];
  symbols.resize(out);
}

void Bpe::tokenize_bytes(std::string_view word, std::vector<TokenId>& out) const {
  if (options_.ignore_merges) {
    const auto it = raw_vocab_.find(word);
    if (it != raw_vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<TokenId> symbols(word.size());
  for (size_t i = 0; i < word.size(); ++i) symbols[i] = byte_ids_[static_cast<unsigned char>(word[i])];
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

// The general path (model.rs merge_word): per character, with byte fallback to
// <0xXX> tokens, and the unk token (fused when fuse_unk).
void Bpe::tokenize_chars(std::string_view word, std::vector<TokenId>& out) const {
  if (options_.ignore_merges) {
    if (const auto id = token_to_id(word)) {
      out.push_back(*id);
      return;
    }
  }
  std::vector<TokenId> symbols;
  std::optional<TokenId> pending_unk;
  const auto unk_id = [&]() -> TokenId {
    const auto id = token_to_id(*options_.unk_token);
    if (!id) throw Error(str_cat("BPE unk_token \"", *options_.unk_token, "\" is not in the vocab"));
    return *id;
  };
  std::string s;
  for (size_t i = 0; i < word.size();) {
    size_t len = 0;
    unicode::decode_utf8(word, i, &len);
    s.assign(word.substr(i, len));
    i += len;
    if (const auto id = token_to_id(s)) {
      if (pending_unk) symbols.push_back(*pending_unk);
      pending_unk.reset();
      symbols.push_back(*id);
      continue;
    }
    if (options_.byte_fallback) {
      std::vector<TokenId> bytes;
      for (const char c : s) {
        char code[8];
        std::snprintf(code, sizeof code, "<0x%02X>", static_cast<unsigned char>(c));
        const auto id = token_to_id(code);
        if (!id) break;
        bytes.push_back(*id);
      }
      if (bytes.size() == s.size()) {
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (options_.unk_token) {
      if (pending_unk && !options_.fuse_unk) symbols.push_back(*pending_unk);
      if (!pending_unk || !options_.fuse_unk) pending_unk = unk_id();
    }
  }
  if (pending_unk) symbols.push_back(*pending_unk);
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

void Bpe::tokenize(std::string_view word, bool raw_bytes, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= kMaxCachedBytes;
  Cache::Shard* shard = nullptr;
  if (cacheable) {
    shard = &cache_->shards[StringHash{}(word) % kCacheShards];
    std::shared_lock lock(shard->mutex);
    const auto it = shard->map.find(word);
    if (it != shard->map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  if (raw_bytes && byte_path_) {
    tokenize_bytes(word, out);
  } else if (raw_bytes) {
    std::string mapped;
    for (const char c : word) unicode::append_utf8(mapped, byte_to_char()[static_cast<unsigned char>(c)]);
    tokenize_chars(mapped, out);
  } else {
    tokenize_chars(word, out);
  }
  if (cacheable) {
    std::unique_lock lock(shard->mutex);
    if (shard->map.size() < kCacheEntriesPerShard)
      shard->map.emplace(std::string(word), std::vector<TokenId>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
  }
}

}  // namespace r1::tokenizer::hf_internal
