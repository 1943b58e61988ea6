// The FP8 GEMMs of fp8_cuda.h: DeepSeek-V3's block-scaled scheme (1x128 activation scales, 128x128
// weight scales, fp32 promotion every 128 of K), dense and grouped over experts.
//
// kWgmma (sm_90a). A persistent kernel, one 384-thread CTA per SM, three warpgroups:
//   - warpgroup 0, the producer: one thread walks the CTA's output tiles and, per 128-wide K tile,
//     waits for a free pipeline stage, then issues two TMA copies (A: 128 rows x 128 bytes, W: 128
//     rows x 128 bytes, both 128-byte swizzled) that complete on the stage's "full" mbarrier;
//   - warpgroups 1 and 2, the consumers: each owns 64 of the tile's 128 rows; per K tile it waits
//     on "full", runs four wgmma m64n128k32 e4m3 (k = 32 each) into a scratch accumulator, waits
//     for them, releases the stage on its "empty" mbarrier, and promotes: total += scratch *
//     (a_scale[row, j] * w_scale[n-block, j]) in fp32 registers (the reference's order of operations).
// Tiles are 128 x 128 of the output with BLOCK_K = 128 = the scale tile, so one w scale per tile
// and K tile, and the promotion interval is exactly one stage. kStages = 6 stages of 32 KB.
// Scheduling: tile t = (m-tile, n-tile) with the n-tile fastest (the CTAs working at one time share
// A rows in L2); m-tiles run over the experts in order, ceil(rows_e / 128) each, counted per CTA from
// offsets into shared memory (a warp scan) and found by binary search; CTA c takes t = c, c + grid,
// ... An expert's last m-tile reads rows of the next expert (or zeros past the end, TMA's
// out-of-bounds fill) through the tensor cores but stores only its own rows; W's box is bounded
// per expert by a 3-D tensor map [E, N, K], so columns past N read zeros, and K past the end too.
// The epilogue stores straight from registers (pairs of adjacent columns per thread).
//
// kSimple: one thread per output element, the reference's loops with explicitly rounded fp32 steps.
#include <cuda.h>  // CUtensorMap and its enums only; the driver entry point comes through the runtime
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <mutex>

#include "rollout/kernels/fp8_cuda.h"

namespace r1::rollout::kernels {
namespace {

constexpr int kTile = 128;  // fp8.h's kFp8Tile (fp8.h needs C++20; nvcc here compiles C++17)
constexpr int kBlockM = 128, kBlockN = 128, kBlockK = 128;
constexpr int kStages = 6;
constexpr int kConsumers = 2;                 // consumer warpgroups, 64 rows each
constexpr int kThreads = 128 * (1 + kConsumers);
constexpr int kMaxExperts = 1024;
constexpr int kTileBytesA = kBlockM * kBlockK, kTileBytesB = kBlockN * kBlockK;
constexpr int kStageBytes = kTileBytesA + kTileBytesB;
// Stages first (1024-aligned for the 128-byte swizzle), then the mbarriers, then the m-tile starts.
constexpr int kSmemBytes = 1024 + kStages * kStageBytes + 2 * kStages * 8 + (kMaxExperts + 1) * 4;
static_assert(kBlockK == kTile && kBlockN == kTile, "one scale per tile and K tile");

__host__ __device__ constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct GemmArgs {
  const float* a_scales;
  const float* w_scales;
  const int64_t* offsets;  // nullptr: one group of all rows (dense)
  int num_experts;
  int64_t rows, n, k;
  void* out;
  bool out_bf16;
  bool pair_stores;  // N even and out 8-byte aligned: two adjacent columns per store
};

// ---- kSimple ----------------------------------------------------------------------------------

__device__ __forceinline__ float decode(uint8_t code) {
  return __half2float(__half(__nv_cvt_fp8_to_halfraw(code, __NV_E4M3)));  // exact for every code
}

__device__ __forceinline__ void store(const GemmArgs& p, int64_t r, int64_t c, float v) {
  if (p.out_bf16) static_cast<__nv_bfloat16*>(p.out)[r * p.n + c] = __float2bfloat16_rn(v);
  else static_cast<float*>(p.out)[r * p.n + c] = v;
}

// The largest e with offsets[e] <= r: row r's expert (empty experts have equal bounds and are passed).
__device__ __forceinline__ int expert_of_row(const int64_t* offsets, int num_experts, int64_t r) {
  int lo = 0, hi = num_experts;  // offsets[lo] <= r < offsets[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (offsets[mid] <= r) lo = mid;
    else hi = mid;
  }
  return lo;
}

constexpr int kSimpleThreads = 256;

__global__ void __launch_bounds__(kSimpleThreads)
    simple_gemm_kernel(const uint8_t* __restrict__ a, const uint8_t* __restrict__ w, const GemmArgs p) {
  const int64_t at = static_cast<int64_t>(blockIdx.x) * kSimpleThreads + threadIdx.x;
  if (at >= p.rows * p.n) return;
  const int64_t r = at / p.n, c = at % p.n, kt = ceil_div(p.k, kTile), nt = ceil_div(p.n, kTile);
  const int e = p.offsets == nullptr ? 0 : expert_of_row(p.offsets, p.num_experts, r);
  const uint8_t* a_row = a + r * p.k;
  const uint8_t* w_row = w + (e * p.n + c) * p.k;
  const float* w_scale_row = p.w_scales + (e * nt + c / kTile) * kt;
  float total = 0.0f;
  for (int64_t j = 0; j < kt; ++j) {
    float partial = 0.0f;
    const int64_t end = min(p.k, (j + 1) * kTile);
    // A product of two e4m3 values is exact in fp32, so the fma rounds once, as the reference's add.
    for (int64_t i = j * kTile; i < end; ++i) partial = __fmaf_rn(decode(a_row[i]), decode(w_row[i]), partial);
    total = __fadd_rn(total, __fmul_rn(partial, __fmul_rn(p.a_scales[r * kt + j], w_scale_row[j])));
  }
  store(p, r, c, total);
}

// ---- kWgmma: PTX wrappers ---------------------------------------------------------------------
// Compiled for sm_90a only; other targets get a kernel that traps (the launcher refuses devices
// other than 9.0, so that is reached only by a build lacking 90a).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define R1_FP8_WGMMA 1
#endif

#ifdef R1_FP8_WGMMA
__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}

__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}

__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}

// Returns once the phase of the given parity has completed (a fresh barrier counts its phase -1,
// parity 1, as completed: the producer's first pass over the empty barriers does not wait).
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (done == 0);
}

__device__ __forceinline__ void tma_load_2d(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1,
                                            uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
      ::"r"(dst), "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(bar)
      : "memory");
}

__device__ __forceinline__ void tma_load_3d(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1,
                                            int32_t c2, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], "
      "[%5];" ::"r"(dst), "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(bar)
      : "memory");
}

// wgmma shared-memory descriptor of a K-major tile with the 128-byte swizzle that TMA wrote: start
// address / 16 (bits 0-13), leading byte offset unused for this layout (0), stride byte offset 1024
// / 16 (bits 32-45: 8 rows of 128 bytes between core-matrix groups), swizzle mode 1 = 128 B (bits
// 62-63). Stepping k by 32 elements inside the 128-byte row adds 32 bytes to the start address: the
// hardware applies the swizzle to the full address, which is why tiles are 1024-byte aligned.
__device__ __forceinline__ uint64_t smem_desc(uint32_t addr) {
  return static_cast<uint64_t>((addr & 0x3ffff) >> 4) | (static_cast<uint64_t>(1024 >> 4) << 32) |
         (static_cast<uint64_t>(1) << 62);
}

// d[64] (+)= A[64 x 32] . B[128 x 32]^T, e4m3 in, fp32 accumulate; accumulate = 0 overwrites d.
// Fragment layout (PTX ISA, wgmma .m64nN f32 accumulator): thread l of warp w of the warpgroup holds
// d[4j + i] at row 16w + l/4 + 8 (i / 2), column 8j + 2 (l % 4) + i % 2, j < 16.
__device__ __forceinline__ void wgmma_m64n128k32(float (&d)[64], uint64_t desc_a, uint64_t desc_b,
                                                 uint32_t accumulate) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, p, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}

// Keeps the compiler from moving register reads or writes of the accumulator across the async wgmma.
__device__ __forceinline__ void fence_registers(float (&d)[64]) {
#pragma unroll
  for (int i = 0; i < 64; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// ---- kWgmma: the kernel -----------------------------------------------------------------------

// Output tile t -> its expert, first row, the expert's row end and first column.
struct Tile {
  int expert;
  int64_t row0, row_end;
  int64_t n0;
  int64_t n_idx;
};

__device__ __forceinline__ Tile tile_of(int64_t t, int64_t n_tiles, const int* m_start, const GemmArgs& p) {
  const int64_t m = t / n_tiles;
  Tile tile;
  tile.n_idx = t % n_tiles;
  tile.n0 = tile.n_idx * kBlockN;
  int lo = 0, hi = p.num_experts;  // m_start[lo] <= m < m_start[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (m_start[mid] <= m) lo = mid;
    else hi = mid;
  }
  tile.expert = lo;
  const int64_t first = p.offsets == nullptr ? 0 : p.offsets[lo];
  tile.row0 = first + (m - m_start[lo]) * kBlockM;
  tile.row_end = p.offsets == nullptr ? p.rows : p.offsets[lo + 1];
  return tile;
}

// m_start[e] = the m-tiles of experts before e (m_start[E] = all of them), by warp 0: each lane sums
// a contiguous run of experts, a shuffle scan turns the sums into each run's start.
__device__ void count_m_tiles(const GemmArgs& p, int* m_start) {
  const int lane = threadIdx.x % 32;
  if (p.offsets == nullptr) {
    if (lane == 0) {
      m_start[0] = 0;
      m_start[1] = static_cast<int>(ceil_div(p.rows, kBlockM));
    }
    return;
  }
  const int per_lane = (p.num_experts + 31) / 32, e0 = min(lane * per_lane, p.num_experts),
            e1 = min(e0 + per_lane, p.num_experts);
  int sum = 0;
  for (int e = e0; e < e1; ++e) sum += static_cast<int>(ceil_div(p.offsets[e + 1] - p.offsets[e], kBlockM));
  int inclusive = sum;
  for (int d = 1; d < 32; d *= 2) {
    const int v = __shfl_up_sync(0xffffffffu, inclusive, d);
    if (lane >= d) inclusive += v;
  }
  int running = inclusive - sum;
  for (int e = e0; e < e1; ++e) {
    m_start[e] = running;
    running += static_cast<int>(ceil_div(p.offsets[e + 1] - p.offsets[e], kBlockM));
  }
  if (lane == 31) m_start[p.num_experts] = inclusive;
}
#endif  // R1_FP8_WGMMA

__global__ void __launch_bounds__(kThreads, 1)
    wgmma_gemm_kernel(const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_w,
                      const GemmArgs p) {
#ifdef R1_FP8_WGMMA
  extern __shared__ uint8_t smem_raw[];
  // Dynamic shared memory is not promised 1024-byte alignment: align by hand (kSmemBytes has room).
  const uint32_t raw = smem_addr(smem_raw), base = (raw + 1023) & ~1023u;
  uint8_t* smem = smem_raw + (base - raw);
  const uint32_t tiles_a = base, tiles_w = base + kStages * kTileBytesA;
  const uint32_t full_bar = base + kStages * kStageBytes, empty_bar = full_bar + kStages * 8;
  int* m_start = reinterpret_cast<int*>(smem + kStages * kStageBytes + 2 * kStages * 8);

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      mbar_init(full_bar + 8 * s, 1);                       // the producer's expect_tx arrival
      mbar_init(empty_bar + 8 * s, kConsumers * 128);       // every consumer thread arrives
    }
    // Make the initialized barriers visible to the copy engine (the async proxy) before any TMA.
    asm volatile("fence.mbarrier_init.release.cluster;\nfence.proxy.async.shared::cta;" ::: "memory");
  }
  if (threadIdx.x < 32) count_m_tiles(p, m_start);
  __syncthreads();

  const int64_t n_tiles = ceil_div(p.n, kBlockN), k_tiles = ceil_div(p.k, kBlockK);
  const int64_t num_tiles = static_cast<int64_t>(m_start[p.num_experts]) * n_tiles;
  const int warpgroup = threadIdx.x / 128;

  if (warpgroup == 0) {
    // The producer needs few registers; hand them to the consumers.
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
    if (threadIdx.x == 0) {
      asm volatile("prefetch.tensormap [%0];\nprefetch.tensormap [%1];" ::"l"(reinterpret_cast<uint64_t>(&map_a)),
                   "l"(reinterpret_cast<uint64_t>(&map_w))
                   : "memory");
      uint32_t it = 0;
      for (int64_t t = blockIdx.x; t < num_tiles; t += gridDim.x) {
        const Tile tile = tile_of(t, n_tiles, m_start, p);
        for (int64_t j = 0; j < k_tiles; ++j, ++it) {
          const uint32_t s = it % kStages, phase = (it / kStages) & 1;
          mbar_wait(empty_bar + 8 * s, phase ^ 1);
          // The full box counts even where it is out of bounds (zero-filled), so always a whole stage.
          mbar_expect_tx(full_bar + 8 * s, kStageBytes);
          const auto k0 = static_cast<int32_t>(j * kBlockK);
          tma_load_2d(tiles_a + s * kTileBytesA, &map_a, k0, static_cast<int32_t>(tile.row0), full_bar + 8 * s);
          tma_load_3d(tiles_w + s * kTileBytesB, &map_w, k0, static_cast<int32_t>(tile.n0), tile.expert,
                      full_bar + 8 * s);
        }
      }
    }
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
    const int consumer = warpgroup - 1, lane = threadIdx.x % 32, warp = (threadIdx.x % 128) / 32;
    const int row_in_tile = consumer * 64 + warp * 16 + lane / 4;  // and row_in_tile + 8
    const int col_in_tile = 2 * (lane % 4);                          // and + 1, + 8j
    const int64_t w_scale_tiles = n_tiles * k_tiles;                 // per expert: [NT, KT]
    float acc[64] = {}, total[64];
    uint32_t it = 0;
    for (int64_t t = blockIdx.x; t < num_tiles; t += gridDim.x) {
      const Tile tile = tile_of(t, n_tiles, m_start, p);
      const int64_t r0 = tile.row0 + row_in_tile, r1 = r0 + 8;
      // Rows past the expert's end are computed (their scales read when they exist) but not stored.
      const float* a_scale0 = r0 < p.rows ? p.a_scales + r0 * k_tiles : nullptr;
      const float* a_scale1 = r1 < p.rows ? p.a_scales + r1 * k_tiles : nullptr;
      const float* w_scale = p.w_scales + tile.expert * w_scale_tiles + tile.n_idx * k_tiles;
#pragma unroll
      for (int i = 0; i < 64; ++i) total[i] = 0.0f;
      for (int64_t j = 0; j < k_tiles; ++j, ++it) {
        const uint32_t s = it % kStages, phase = (it / kStages) & 1;
        // The scale loads go out before the wait, so their latency hides behind it.
        const float sa0 = a_scale0 != nullptr ? __ldg(a_scale0 + j) : 0.0f;
        const float sa1 = a_scale1 != nullptr ? __ldg(a_scale1 + j) : 0.0f;
        const float sw = __ldg(w_scale + j);
        mbar_wait(full_bar + 8 * s, phase);
        const uint32_t a_tile = tiles_a + s * kTileBytesA + consumer * 64 * kBlockK, w_tile = tiles_w + s * kTileBytesB;
        fence_registers(acc);
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
        for (int kk = 0; kk < kBlockK / 32; ++kk)
          wgmma_m64n128k32(acc, smem_desc(a_tile + kk * 32), smem_desc(w_tile + kk * 32), kk > 0 ? 1u : 0u);
        asm volatile("wgmma.commit_group.sync.aligned;\nwgmma.wait_group.sync.aligned 0;" ::: "memory");
        fence_registers(acc);
        mbar_arrive(empty_bar + 8 * s);
        // The promotion: total += partial * (a_scale * w_scale), as the reference groups it.
        const float s0 = sa0 * sw, s1 = sa1 * sw;
#pragma unroll
        for (int i = 0; i < 64; ++i) total[i] = fmaf(acc[i], (i & 2) ? s1 : s0, total[i]);
      }
      // Epilogue: rows of this expert only, columns below N.
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int64_t r = h == 0 ? r0 : r1;
        if (r >= tile.row_end) continue;
#pragma unroll
        for (int jn = 0; jn < 16; ++jn) {
          const int64_t c = tile.n0 + 8 * jn + col_in_tile;
          const float v0 = total[4 * jn + 2 * h], v1 = total[4 * jn + 2 * h + 1];
          if (p.pair_stores && c + 1 < p.n) {
            if (p.out_bf16)
              *reinterpret_cast<__nv_bfloat162*>(static_cast<__nv_bfloat16*>(p.out) + r * p.n + c) =
                  __floats2bfloat162_rn(v0, v1);
            else
              *reinterpret_cast<float2*>(static_cast<float*>(p.out) + r * p.n + c) = make_float2(v0, v1);
          } else {
            if (c < p.n) store(p, r, c, v0);
            if (c + 1 < p.n) store(p, r, c + 1, v1);
          }
        }
      }
    }
  }
#else
  __trap();  // built without sm_90a: see fp8_cuda.h
#endif
}

// ---- launchers --------------------------------------------------------------------------------

// cuTensorMapEncodeTiled from the driver through the runtime, so nothing links libcuda.
PFN_cuTensorMapEncodeTiled_v12000 encode_tiled() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    void* ptr = nullptr;
    cudaDriverEntryPointQueryResult status{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000, cudaEnableDefault, &status) ==
            cudaSuccess &&
        status == cudaDriverEntryPointSuccess)
      fn = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(ptr);
  });
  return fn;
}

// A K-major e4m3 tensor of dims (innermost first) K x rows [x groups], boxes of 128 x 128 [x 1],
// 128-byte swizzle, out-of-bounds elements read as zeros.
bool encode_map(CUtensorMap* map, const uint8_t* data, int rank, int64_t k, int64_t rows, int64_t groups) {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = encode_tiled();
  if (encode == nullptr) return false;
  const cuuint64_t dims[3] = {static_cast<cuuint64_t>(k), static_cast<cuuint64_t>(rows),
                              static_cast<cuuint64_t>(groups)};
  const cuuint64_t strides[2] = {static_cast<cuuint64_t>(k), static_cast<cuuint64_t>(k * rows)};  // bytes
  const cuuint32_t box[3] = {kBlockK, 128, 1}, element_strides[3] = {1, 1, 1};
  return encode(map, CU_TENSOR_MAP_DATA_TYPE_UINT8, static_cast<cuuint32_t>(rank), const_cast<uint8_t*>(data),
                dims, strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

int launch_wgmma(const Fp8GemmCudaArgs& args, const GemmArgs& p, int64_t num_groups, cudaStream_t stream) {
  int device = 0, major = 0, minor = 0, sms = 0;
  if (cudaError_t err = cudaGetDevice(&device); err != cudaSuccess) return err;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  if (major != 9 || minor != 0) return cudaErrorNoKernelImageForDevice;
  if (args.k % 16 != 0 || reinterpret_cast<uintptr_t>(args.a) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(args.w) % 16 != 0 || p.num_experts > kMaxExperts || args.rows >= (int64_t{1} << 31) ||
      args.n >= (int64_t{1} << 31))
    return cudaErrorInvalidValue;
  CUtensorMap map_a, map_w;
  if (!encode_map(&map_a, args.a, 2, args.k, args.rows, 1) ||
      !encode_map(&map_w, args.w, 3, args.k, args.n, num_groups))
    return cudaErrorInvalidValue;
  if (cudaError_t err = cudaFuncSetAttribute(wgmma_gemm_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             kSmemBytes);
      err != cudaSuccess)
    return err;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  // Upper bound of the tiles: each non-empty expert adds at most one partial m-tile.
  const int64_t m_tiles = ceil_div(args.rows, kBlockM) + (p.offsets == nullptr ? 0 : std::min<int64_t>(num_groups, args.rows));
  const int64_t grid = std::min<int64_t>(sms, m_tiles * ceil_div(args.n, kBlockN));
  wgmma_gemm_kernel<<<static_cast<unsigned>(grid), kThreads, kSmemBytes, stream>>>(map_a, map_w, p);
  return cudaGetLastError();
}

int launch(const Fp8GemmCudaArgs& args, Fp8GemmKernel kernel, bool grouped, void* stream_ptr) {
  const auto stream = static_cast<cudaStream_t>(stream_ptr);
  if (args.rows < 0 || args.n < 0 || args.k < 0 || (grouped && (args.num_experts < 1 || args.offsets == nullptr)))
    return cudaErrorInvalidValue;
  if (args.rows == 0 || args.n == 0) return cudaSuccess;
  const size_t element = args.out_bf16 ? 2 : 4;
  if (args.k == 0) return cudaMemsetAsync(args.out, 0, static_cast<size_t>(args.rows * args.n) * element, stream);
  GemmArgs p{};
  p.a_scales = args.a_scales;
  p.w_scales = args.w_scales;
  p.offsets = grouped ? args.offsets : nullptr;
  p.num_experts = grouped ? static_cast<int>(std::min<int64_t>(args.num_experts, 1 << 30)) : 1;
  p.rows = args.rows;
  p.n = args.n;
  p.k = args.k;
  p.out = args.out;
  p.out_bf16 = args.out_bf16;
  p.pair_stores = args.n % 2 == 0 && reinterpret_cast<uintptr_t>(args.out) % 8 == 0;
  if (kernel == Fp8GemmKernel::kWgmma) return launch_wgmma(args, p, grouped ? args.num_experts : 1, stream);
  const int64_t blocks = ceil_div(args.rows * args.n, kSimpleThreads);
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
  simple_gemm_kernel<<<static_cast<unsigned>(blocks), kSimpleThreads, 0, stream>>>(args.a, args.w, p);
  return cudaGetLastError();
}

}  // namespace

int fp8_gemm_cuda(const Fp8GemmCudaArgs& args, Fp8GemmKernel kernel, void* stream) {
  return launch(args, kernel, /*grouped=*/false, stream);
}

int grouped_gemm_cuda(const Fp8GemmCudaArgs& args, Fp8GemmKernel kernel, void* stream) {
  return launch(args, kernel, /*grouped=*/true, stream);
}

}  // namespace r1::rollout::kernels
