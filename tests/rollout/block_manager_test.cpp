// Block bookkeeping: the n samples of a prompt hold its full blocks once and copy a shared partial
// block on first write; prefixes are reused across requests only when every token up to the block's
// end matches; cached blocks are evicted under pressure; admission checks are exact.
#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <vector>

#include "rollout/block_manager.h"

namespace r1::rollout {
namespace block_manager_test {

std::vector<int32_t> tokens(int32_t n, int32_t start = 0) {
  std::vector<int32_t> out(static_cast<std::size_t>(n));
  std::iota(out.begin(), out.end(), start);
  return out;
}

int64_t used(const BlockManager& m) { return m.num_blocks() - m.num_free_blocks(); }

TEST(BlockManager, SixteenSamplesHoldThePromptsFullBlocksOnce) {
  BlockManager m(64, 16);
  const std::vector<int32_t> prompt = tokens(100);  // 6 full blocks + 4 tokens
  EXPECT_EQ(m.allocate(0, prompt), 0);
  for (int64_t s = 1; s < 16; ++s) m.fork(0, s);
  EXPECT_EQ(used(m), 7);
  for (BlockId b : m.block_table(0)) EXPECT_EQ(m.ref_count(b), 16);

  // Each sample's first new token goes into the shared partial block: the first 15 writers copy it,
  // the last one finds it private and writes in place.
  int copies = 0;
  const BlockId shared_partial = m.block_table(0).back();
  std::set<BlockId> last_blocks;
  for (int64_t s = 0; s < 16; ++s) {
    const auto copy = m.append(s, 101);
    if (copy) {
      ++copies;
      EXPECT_EQ(copy->src, shared_partial);
      EXPECT_NE(copy->dst, shared_partial);
    }
    last_blocks.insert(m.block_table(s).back());
    for (int i = 0; i < 6; ++i) EXPECT_EQ(m.block_table(s)[i], m.block_table(0)[i]);
  }
  EXPECT_EQ(copies, 15);
  EXPECT_EQ(last_blocks.size(), 16u);
  EXPECT_EQ(used(m), 6 + 16);
  // Growing past the block boundary takes one fresh block per sample, no copies.
  for (int64_t s = 0; s < 16; ++s) EXPECT_FALSE(m.append(s, 113).has_value());
  EXPECT_EQ(used(m), 6 + 32);
  for (int64_t s = 0; s < 16; ++s) m.free(s);
  EXPECT_EQ(used(m), 0);
}

TEST(BlockManager, PrefixesAreReusedAcrossRequestsOnlyWhenAllTokensMatch) {
  BlockManager m(32, 8);
  const std::vector<int32_t> a = tokens(30);  // 3 full blocks + 6
  EXPECT_EQ(m.allocate(1, a), 0);
  m.register_full_blocks(1, a);
  const std::vector<BlockId> a_blocks = m.block_table(1);
  m.free(1);

  // The same prompt: its 3 full blocks come back (29 usable tokens -> 3 blocks).
  EXPECT_EQ(m.allocate(2, a), 24);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(m.block_table(2)[i], a_blocks[i]);
  // A prompt sharing 20 tokens reuses 2 blocks while request 2 still runs.
  std::vector<int32_t> b = tokens(20);
  const std::vector<int32_t> tail = tokens(15, 1000);
  b.insert(b.end(), tail.begin(), tail.end());
  EXPECT_EQ(m.allocate(3, b), 16);
  EXPECT_EQ(m.ref_count(a_blocks[0]), 2);
  // Same tokens in block 2 but a different block 1: no reuse past block 0.
  std::vector<int32_t> c = a;
  c[9] = 777;
  EXPECT_EQ(m.allocate(4, c), 8);
  // A prompt of exactly 3 full blocks reuses only 2: its last token must be computed for logits.
  EXPECT_EQ(m.allocate(5, tokens(24)), 16);
}

TEST(BlockManager, CachedBlocksAreEvictedUnderPressureAndAdmissionIsExact) {
  BlockManager m(6, 4);
  const std::vector<int32_t> a = tokens(13);  // 4 blocks
  m.allocate(1, a);
  m.register_full_blocks(1, a);
  EXPECT_FALSE(m.can_allocate(tokens(12, 500)));  // needs 3, 2 free
  EXPECT_TRUE(m.can_allocate(tokens(8, 500)));
  m.free(1);  // 3 registered blocks stay cached but free
  EXPECT_EQ(m.num_free_blocks(), 6);
  // Fill the pool with other prompts: the uncached block goes first, then cached ones.
  m.allocate(2, tokens(8, 500));
  EXPECT_EQ(m.allocate(3, a), 12);  // its 3 cached blocks are still there
  m.free(3);
  m.allocate(4, tokens(16, 900));  // 4 blocks: evicts cached ones
  m.free(4);
  m.free(2);
  EXPECT_LT(m.allocate(5, a), 12);
  // can_append counts a copy-on-write as one more block.
  BlockManager small(3, 4);
  small.allocate(1, tokens(6));  // 2 blocks, the second partial
  small.fork(1, 2);
  EXPECT_TRUE(small.can_append(1, 7));
  small.append(1, 7);  // copy-on-write takes the last block
  EXPECT_FALSE(small.can_append(1, 9));
  EXPECT_TRUE(small.can_append(2, 8));  // sample 2 now owns its partial block alone
}

}  // namespace block_manager_test
}  // namespace r1::rollout
