// model/tensor_io.h: at::Tensor round trips through safetensors for every dtype (bytes compared
// exactly, so NaN payloads and odd fp8 codes count), zero-copy loading that really aliases the
// mapping and outlives the file object, the copying path for misaligned data, and writes from
// non-contiguous, offset and (where present) CUDA tensors.
#include "model/tensor_io.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "core/hf/checkpoint.h"
#include "core/hf/safetensors.h"
#include "tests/support/test_support.h"

namespace r1::model {
namespace tensor_io_test {

// A deterministic tensor of `type` whose bytes cover all 256 values: bit patterns, not numbers.
at::Tensor patterned(at::ScalarType type, at::IntArrayRef shape, int64_t seed) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (type == at::kBool) return at::arange(numel, at::kLong).add(seed).remainder(2).to(at::kBool).reshape(shape);
  const int64_t nbytes = numel * static_cast<int64_t>(c10::elementSize(type));
  const at::Tensor bytes = at::arange(nbytes, at::kLong).mul(37).add(seed).remainder(256).to(at::kByte);
  return bytes.view(type).reshape(shape);
}

std::string bytes_of(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU).contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

NamedTensors every_dtype(int64_t seed) {
  const std::vector<std::vector<int64_t>> shapes = {{3, 5}, {}, {7}, {2, 3, 4}, {4, 0}};
  NamedTensors out;
  int64_t i = 0;
  for (hf::Dtype dtype : hf::kAllDtypes) {
    const std::vector<int64_t>& shape = shapes[static_cast<std::size_t>(i) % shapes.size()];
    out.emplace_back("w." + std::string(hf::dtype_name(dtype)), patterned(to_scalar_type(dtype), shape, seed + i));
    ++i;
  }
  return out;
}

TEST(TensorIo, RoundTripsEveryDtypeZeroCopy) {
  test::TempDir dir;
  const NamedTensors tensors = every_dtype(3);
  save_safetensors(dir / "all.safetensors", tensors);
  const hf::SafetensorsFile file = hf::SafetensorsFile::open(dir / "all.safetensors");
  for (const auto& [name, expected] : tensors) {
    SCOPED_TRACE(name);
    const hf::TensorView& view = file.at(name);
    EXPECT_EQ(view.dtype, *to_hf_dtype(expected.scalar_type()));
    const at::Tensor got = to_tensor(view);
    EXPECT_EQ(got.scalar_type(), expected.scalar_type());
    EXPECT_EQ(got.sizes(), expected.sizes());
    EXPECT_EQ(bytes_of(got), bytes_of(expected));
    // The reference-order layout aligns every tensor, so none is copied.
    ASSERT_TRUE(is_zero_copy(view));
    if (got.numel() > 0) {
      EXPECT_EQ(got.data_ptr(), static_cast<const void*>(view.data.data()));
    }
  }
}

TEST(TensorIo, ZeroCopyTensorOutlivesTheFileAndNeverWritesIt) {
  test::TempDir dir;
  const at::Tensor w = patterned(at::kFloat, {16, 16}, 1);
  save_safetensors(dir / "a.safetensors", {{"w", w}});
  const std::string before = test::read_text(dir / "a.safetensors");
  at::Tensor loaded;
  {
    const hf::SafetensorsFile file = hf::SafetensorsFile::open(dir / "a.safetensors");
    loaded = to_tensor(file.at("w"));
  }  // the file object and its views are gone; the tensor's deleter keeps the mapping
  EXPECT_EQ(bytes_of(loaded), bytes_of(w));
  loaded.fill_(0.0);  // copy-on-write pages: the process sees zeros, the file does not change
  EXPECT_EQ(loaded.sum().item<float>(), 0.0f);
  EXPECT_EQ(test::read_text(dir / "a.safetensors"), before);
  EXPECT_EQ(bytes_of(to_tensor(hf::SafetensorsFile::open(dir / "a.safetensors").at("w"))), bytes_of(w));
}

// A hand-made file whose 9-byte header puts the F32 data at file offset 17: not 4-aligned.
TEST(TensorIo, MisalignedDataIsCopied) {
  test::TempDir dir;
  const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const at::Tensor w = at::tensor({1.5f, -2.25f});
  std::string file(8, '\0');
  file[0] = static_cast<char>(header.size());
  file += header + bytes_of(w);
  ASSERT_NE((8 + header.size()) % 4, 0u);
  test::write_text(dir / "odd.safetensors", file);
  const hf::SafetensorsFile f = hf::SafetensorsFile::open(dir / "odd.safetensors");
  const hf::TensorView& view = f.at("w");
  ASSERT_FALSE(is_zero_copy(view));
  const at::Tensor got = to_tensor(view);
  EXPECT_NE(got.data_ptr(), static_cast<const void*>(view.data.data()));
  EXPECT_TRUE(at::equal(got, w));
}

TEST(TensorIo, WritesNonContiguousAndOffsetTensorsAsTheirValues) {
  test::TempDir dir;
  const at::Tensor base = patterned(at::kBFloat16, {6, 8}, 2);
  const NamedTensors tensors = {{"transposed", base.t()},
                                {"sliced", base.slice(/*dim=*/0, 2, 5)},
                                {"strided", base.slice(/*dim=*/1, 0, 8, /*step=*/3)},
                                {"expanded", at::tensor({7}, at::kInt).expand({3, 4})}};
  const auto written = save_checkpoint(dir.path(), tensors, /*max_shard_bytes=*/64);
  ASSERT_GT(written.size(), 2u);  // sharded: the staging slot is reused across shards
  const hf::Checkpoint ckpt = hf::Checkpoint::open(dir.path());
  for (const auto& [name, expected] : tensors) {
    SCOPED_TRACE(name);
    const at::Tensor got = to_tensor(ckpt.at(name));
    EXPECT_EQ(got.sizes(), expected.sizes());
    EXPECT_EQ(bytes_of(got), bytes_of(expected));
  }
}

TEST(TensorIo, RefusesWhatSafetensorsCannotHold) {
  test::TempDir dir;
  const std::vector<std::pair<NamedTensors, std::string>> cases = {
      {{{"c", at::zeros({2}, at::kComplexFloat)}}, "ComplexFloat"},
      {{{"s", at::zeros({2, 2}).to_sparse()}}, "Sparse"},
  };
  for (const auto& [tensors, expected] : cases) {
    try {
      save_safetensors(dir / "x.safetensors", tensors);
      ADD_FAILURE() << "no error for " << expected;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("\"" + tensors[0].first + "\""), std::string::npos) << what;
      EXPECT_NE(what.find(expected), std::string::npos) << what;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "x.safetensors"));
}

TEST(TensorIo, WritesCudaTensors) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device on this machine";
  test::TempDir dir;
  NamedTensors tensors = every_dtype(5);
  NamedTensors on_gpu;
  for (const auto& [name, t] : tensors) on_gpu.emplace_back(name, t.to(at::kCUDA));
  save_safetensors(dir / "gpu.safetensors", on_gpu);
  const hf::SafetensorsFile file = hf::SafetensorsFile::open(dir / "gpu.safetensors");
  for (const auto& [name, expected] : tensors) {
    EXPECT_EQ(bytes_of(to_tensor(file.at(name))), bytes_of(expected)) << name;
  }
}

}  // namespace tensor_io_test
}  // namespace r1::model
