// Block pool bookkeeping for the paged KV cache (rollout/block_manager.h).
#include "rollout/block_manager.h"

#include <algorithm>

#include "core/error.h"

namespace r1::rollout {

BlockManager::BlockManager(int64_t num_blocks, int64_t block_size)
    : num_blocks_(num_blocks), block_size_(block_size), blocks_(static_cast<std::size_t>(num_blocks)) {
  R1_CHECK(num_blocks >= 1 && block_size >= 1, num_blocks, " blocks of ", block_size);
  for (BlockId b = 0; b < num_blocks; ++b) blocks_[b].free_pos = free_.insert(free_.end(), b);
}

uint64_t BlockManager::chain_hash(uint64_t parent, std::span<const int32_t> tokens) const {
  // FNV-1a over the parent hash and the tokens; hits are verified token by token, so this only
  // needs to spread well.
  uint64_t h = 1469598103934665603ull ^ parent;
  for (int32_t t : tokens) {
    h ^= static_cast<uint32_t>(t);
    h *= 1099511628211ull;
    h ^= h >> 29;
  }
  return h;
}

std::vector<BlockId> BlockManager::cached_prefix(std::span<const int32_t> prompt) const {
  std::vector<BlockId> out;
  if (prompt.empty()) return out;
  const int64_t usable = static_cast<int64_t>(prompt.size()) - 1;  // the last token is always computed
  uint64_t hash = 0;
  BlockId parent = -1;
  for (int64_t start = 0; start + block_size_ <= usable; start += block_size_) {
    const auto tokens = prompt.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(block_size_));
    hash = chain_hash(hash, tokens);
    const auto it = cached_.find(hash);
    if (it == cached_.end()) break;
    const Block& block = blocks_[it->second];
    if (block.parent != parent || !std::equal(tokens.begin(), tokens.end(), block.tokens.begin(), block.tokens.end()))
      break;
    out.push_back(it->second);
    parent = it->second;
  }
  return out;
}

bool BlockManager::can_allocate(std::span<const int32_t> prompt) const {
  const std::vector<BlockId> hit = cached_prefix(prompt);
  // Hit blocks that are free today are taken from the free list too.
  int64_t hit_free = 0;
  for (BlockId b : hit) hit_free += blocks_[b].ref_count == 0;
  const int64_t fresh = blocks_for(static_cast<int64_t>(prompt.size())) - static_cast<int64_t>(hit.size());
  return fresh + hit_free <= num_free_blocks();
}

BlockId BlockManager::take_free_block() {
  R1_CHECK(!free_.empty(), "no free block");
  const BlockId b = free_.front();
  free_.pop_front();
  Block& block = blocks_[b];
  if (block.hash) {  // evict the cached prefix it held
    cached_.erase(*block.hash);
    block.hash.reset();
    block.tokens.clear();
    block.parent = -1;
  }
  block.ref_count = 1;
  return b;
}

void BlockManager::take_specific(BlockId b) {
  Block& block = blocks_[b];
  if (block.ref_count == 0) free_.erase(block.free_pos);
  ++block.ref_count;
}

int64_t BlockManager::allocate(int64_t seq_id, std::span<const int32_t> prompt) {
  R1_CHECK(!tables_.contains(seq_id), "sequence ", seq_id, " already allocated");
  R1_CHECK(can_allocate(prompt), "allocate without room for ", prompt.size(), " tokens");
  Table table;
  for (BlockId b : cached_prefix(prompt)) {
    take_specific(b);
    table.blocks.push_back(b);
    table.last_hash = *blocks_[b].hash;
  }
  table.num_registered = static_cast<int64_t>(table.blocks.size());
  const int64_t cached_tokens = table.num_registered * block_size_;
  while (static_cast<int64_t>(table.blocks.size()) < blocks_for(static_cast<int64_t>(prompt.size())))
    table.blocks.push_back(take_free_block());
  table.num_tokens = static_cast<int64_t>(prompt.size());
  tables_.emplace(seq_id, std::move(table));
  return cached_tokens;
}

void BlockManager::fork(int64_t parent, int64_t child) {
  R1_CHECK(!tables_.contains(child), "sequence ", child, " already allocated");
  Table table = tables_.at(parent);
  for (BlockId b : table.blocks) ++blocks_[b].ref_count;
  tables_.emplace(child, std::move(table));
}

bool BlockManager::can_append(int64_t seq_id, int64_t new_len) const {
  const Table& table = tables_.at(seq_id);
  int64_t needed = blocks_for(new_len) - static_cast<int64_t>(table.blocks.size());
  // Writing into a shared, partly filled last block needs a private copy.
  if (table.num_tokens % block_size_ != 0 && !table.blocks.empty() && blocks_[table.blocks.back()].ref_count > 1)
    needed += 1;
  return std::max<int64_t>(needed, 0) <= num_free_blocks();
}

std::optional<BlockCopy> BlockManager::append(int64_t seq_id, int64_t new_len) {
  R1_CHECK(can_append(seq_id, new_len), "append without room: sequence ", seq_id, " to ", new_len);
  Table& table = tables_.at(seq_id);
  R1_CHECK(new_len >= table.num_tokens, "shrinking sequence ", seq_id);
  std::optional<BlockCopy> copy;
  if (table.num_tokens % block_size_ != 0 && blocks_[table.blocks.back()].ref_count > 1) {
    const BlockId shared = table.blocks.back();
    --blocks_[shared].ref_count;
    const BlockId mine = take_free_block();
    table.blocks.back() = mine;
    copy = BlockCopy{shared, mine};
  }
  while (static_cast<int64_t>(table.blocks.size()) < blocks_for(new_len)) table.blocks.push_back(take_free_block());
  table.num_tokens = new_len;
  return copy;
}

void BlockManager::register_full_blocks(int64_t seq_id, std::span<const int32_t> tokens) {
  Table& table = tables_.at(seq_id);
  const int64_t full = std::min<int64_t>(static_cast<int64_t>(tokens.size()) / block_size_,
                                         static_cast<int64_t>(table.blocks.size()));
  for (int64_t i = table.num_registered; i < full; ++i) {
    const auto span = tokens.subspan(static_cast<std::size_t>(i * block_size_), static_cast<std::size_t>(block_size_));
    const uint64_t hash = chain_hash(table.last_hash, span);
    const BlockId b = table.blocks[i];
    Block& block = blocks_[b];
    const BlockId parent = i == 0 ? -1 : table.blocks[i - 1];
    // An equal prefix already registered elsewhere (two requests computed it at once) keeps the
    // first registration; this block just stays private.
    if (!block.hash && !cached_.contains(hash)) {
      block.hash = hash;
      block.tokens.assign(span.begin(), span.end());
      block.parent = parent;
      cached_.emplace(hash, b);
    }
    table.last_hash = hash;
    table.num_registered = i + 1;
  }
}

void BlockManager::free(int64_t seq_id) {
  const auto it = tables_.find(seq_id);
  R1_CHECK(it != tables_.end(), "free of unknown sequence ", seq_id);
  // Last block first, so a chain's tail is evicted before its head.
  for (auto b = it->second.blocks.rbegin(); b != it->second.blocks.rend(); ++b) {
    Block& block = blocks_[*b];
    R1_CHECK(block.ref_count > 0, "block ", *b, " freed twice");
    if (--block.ref_count == 0) {
      // Cached prefixes go to the back (evicted last); plain blocks to the front (reused first).
      block.free_pos = block.hash ? free_.insert(free_.end(), *b) : free_.insert(free_.begin(), *b);
    }
  }
  tables_.erase(it);
}

void BlockManager::clear_prefix_cache() {
  for (auto& [hash, b] : cached_) {
    blocks_[b].hash.reset();
    blocks_[b].tokens.clear();
    blocks_[b].parent = -1;
  }
  cached_.clear();
  // Registration of running sequences restarts from their first block.
  for (auto& [id, table] : tables_) {
    table.num_registered = 0;
    table.last_hash = 0;
  }
}

const std::vector<BlockId>& BlockManager::block_table(int64_t seq_id) const {
  const auto it = tables_.find(seq_id);
  R1_CHECK(it != tables_.end(), "unknown sequence ", seq_id);
  return it->second.blocks;
}

}  // namespace r1::rollout
