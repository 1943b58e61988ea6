// The paged KV cache's bookkeeping (no tensors): a pool of fixed-size blocks, one block table per
// sequence, reference counts so the n samples of a prompt share its blocks, copy-on-write when a
// shared, partly filled block is appended to, and prefix reuse across requests: a full block is
// registered under the hash of all tokens up to its end, and a new sequence whose prompt starts
// with the same tokens takes the cached blocks instead of recomputing them (vLLM's automatic
// prefix caching). Freed blocks that hold a registered prefix stay reusable until the pool needs
// them (least recently freed first). Not thread-safe: the engine's scheduler owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace r1::rollout {

using BlockId = int32_t;

// A pending block copy the KV cache must perform before the next write: copy-on-write.
struct BlockCopy {
  BlockId src = 0, dst = 0;
};

class BlockManager {
 public:
  // Requires: num_blocks >= 1, block_size >= 1.
  BlockManager(int64_t num_blocks, int64_t block_size);

  int64_t block_size() const { return block_size_; }
  int64_t num_blocks() const { return num_blocks_; }
  // Blocks no sequence holds (including cached, evictable ones).
  int64_t num_free_blocks() const { return static_cast<int64_t>(free_.size()); }
  // Blocks `num_tokens` tokens occupy.
  int64_t blocks_for(int64_t num_tokens) const { return (num_tokens + block_size_ - 1) / block_size_; }

  // Whether a new sequence with this prompt fits now (counting reusable cached prefix blocks).
  bool can_allocate(std::span<const int32_t> prompt) const;
  // Gives sequence `seq_id` blocks for `prompt`, reusing cached full blocks of an equal prefix.
  // Returns how many leading prompt tokens are already in the cache (a multiple of block_size,
  // at most prompt.size() - 1 so that the last token is always computed and yields logits).
  // Requires: can_allocate(prompt), seq_id unknown.
  int64_t allocate(int64_t seq_id, std::span<const int32_t> prompt);
  // `child` shares every block of `parent` (reference counts + 1). Requires: child unknown.
  void fork(int64_t parent, int64_t child);
  // Whether `seq_id` can grow to `new_len` tokens now (a fresh block, or a copy-on-write).
  bool can_append(int64_t seq_id, int64_t new_len) const;
  // Grows `seq_id`'s table to hold `new_len` tokens. When the block the next token goes into is
  // shared, it is replaced by a private copy and the copy is returned for the cache to perform.
  // Requires: can_append(seq_id, new_len).
  std::optional<BlockCopy> append(int64_t seq_id, int64_t new_len);
  // Registers the full blocks of `seq_id` holding `tokens` (its tokens so far) for prefix reuse.
  void register_full_blocks(int64_t seq_id, std::span<const int32_t> tokens);
  // Forgets every cached prefix (after a weight update the cached keys/values are stale). Blocks
  // in use stay allocated but will not be offered for reuse.
  void clear_prefix_cache();
  // Releases the sequence's blocks (reference counts - 1; at 0 a block becomes free, and stays
  // reusable as a cached prefix until evicted).
  void free(int64_t seq_id);

  const std::vector<BlockId>& block_table(int64_t seq_id) const;
  bool has(int64_t seq_id) const { return tables_.contains(seq_id); }
  int32_t ref_count(BlockId block) const { return blocks_[block].ref_count; }

 private:
  struct Block {
    int32_t ref_count = 0;
    std::optional<uint64_t> hash;  // set while the block is registered as a full prefix block
    // What a registered block holds, checked on every hit so that a hash collision can never hand
    // a sequence another prefix's keys: its tokens and the registered block before it (-1: none).
    std::vector<int32_t> tokens;
    BlockId parent = -1;
    std::list<BlockId>::iterator free_pos;
  };
  struct Table {
    std::vector<BlockId> blocks;
    int64_t num_tokens = 0;
    int64_t num_registered = 0;  // leading blocks already registered
    uint64_t last_hash = 0;      // hash chain up to the last registered block
  };

  BlockId take_free_block();
  void take_specific(BlockId block);
  uint64_t chain_hash(uint64_t parent, std::span<const int32_t> tokens) const;
  // The cached blocks matching the prompt's leading full blocks (at most prompt.size() - 1 tokens).
  std::vector<BlockId> cached_prefix(std::span<const int32_t> prompt) const;

  int64_t num_blocks_;
  int64_t block_size_;
  std::vector<Block> blocks_;
  std::list<BlockId> free_;  // least recently freed first; uncached blocks are pushed to the front
  std::unordered_map<uint64_t, BlockId> cached_;  // prefix hash -> block
  std::unordered_map<int64_t, Table> tables_;
};

}  // namespace r1::rollout
