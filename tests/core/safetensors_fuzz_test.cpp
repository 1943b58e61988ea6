// Mutation fuzzing of SafetensorsFile::open (runs in the ASan + UBSan twin too): valid files are
// damaged in 1,500 seeded ways (bit flips, inserted and deleted header bytes, a lying length
// prefix, edited dtypes/shapes/offsets in the JSON, truncation, appended bytes), and every case must
// either open into a self-consistent file or throw r1::Error naming the file, nothing else.
#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hf/safetensors.h"
#include "core/hf/safetensors_writer.h"
#include "tests/core/safetensors_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::hf {
namespace {

using Rng = std::mt19937_64;

std::uint64_t pick(Rng& rng, std::uint64_t n) { return n == 0 ? 0 : rng() % n; }

std::uint64_t header_length(const std::string& file) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<std::uint8_t>(file[i]);
  return n;
}

void set_header_length(std::string& file, std::uint64_t n) {
  for (int b = 0; b < 8; ++b) file[b] = static_cast<char>((n >> (8 * b)) & 0xff);
}

// A JSON value likely to break a field: wrong types, negatives, huge and boundary numbers.
nlohmann::json odd_value(Rng& rng, std::uint64_t scale) {
  switch (pick(rng, 9)) {
    case 0: return -static_cast<std::int64_t>(pick(rng, 10)) - 1;
    case 1: return pick(rng, scale + 2);
    case 2: return ~0ULL - pick(rng, 3);
    case 3: return 1ULL << (62 + pick(rng, 2));
    case 4: return 0.5 + static_cast<double>(pick(rng, 4));
    case 5: return "4";
    case 6: return nullptr;
    case 7: return nlohmann::json::array({1, 2});
    default: return pick(rng, 64);
  }
}

// Edits one field of one tensor entry and rewrites the header with a matching length prefix.
std::string edit_json(const std::string& file, Rng& rng) {
  const std::uint64_t n = header_length(file);
  nlohmann::json header = nlohmann::json::parse(file.substr(8, n));
  std::vector<std::string> names;
  for (const auto& [key, value] : header.items()) {
    if (key != "__metadata__") names.push_back(key);
  }
  const std::uint64_t data_size = file.size() - 8 - n;
  nlohmann::json& t = header[names[pick(rng, names.size())]];
  switch (pick(rng, 7)) {
    case 0: t["data_offsets"][pick(rng, 2)] = odd_value(rng, data_size); break;
    case 1: {  // nudge an offset by -1, 0 or +1
      nlohmann::json& offset = t["data_offsets"][pick(rng, 2)];
      offset = offset.get<std::uint64_t>() + pick(rng, 3) - 1;
      break;
    }
    case 2:
      if (t["shape"].empty()) {
        t["shape"].push_back(odd_value(rng, 8));
      } else {
        t["shape"][pick(rng, t["shape"].size())] = odd_value(rng, 8);
      }
      break;
    case 3: t["shape"].push_back(pick(rng, 3)); break;
    case 4: {
      const char* dtypes[] = {"F32", "BF16", "U8", "I64", "F8_E4M3", "BOOL", "F4", "f32", "", "C64"};
      t["dtype"] = dtypes[pick(rng, std::size(dtypes))];
      break;
    }
    case 5: t.erase(pick(rng, 2) ? "shape" : "dtype"); break;
    default: header[names[pick(rng, names.size())]] = odd_value(rng, 4); break;
  }
  const std::string text = header.dump();
  std::string out = file.substr(0, 8) + text + file.substr(8 + n);
  set_header_length(out, text.size());
  return out;
}

std::string mutate(const std::string& valid, Rng& rng) {
  std::string file = valid;
  const std::uint64_t n = header_length(file);
  const auto header_pos = [&] { return 8 + pick(rng, n); };
  switch (pick(rng, 8)) {
    case 0:  // flip bits in the length prefix or the header
      for (int i = 0, flips = 1 + static_cast<int>(pick(rng, 3)); i < flips; ++i) {
        file[pick(rng, 8 + n)] ^= static_cast<char>(1 << pick(rng, 8));
      }
      break;
    case 1: file.insert(file.begin() + static_cast<std::ptrdiff_t>(header_pos()), static_cast<char>(pick(rng, 256))); break;
    case 2: file.erase(header_pos(), 1 + pick(rng, 4)); break;
    case 3: {
      const std::uint64_t lengths[] = {0, n - 1, n + 1, n + 8, file.size(), file.size() - 8,
                                       kMaxHeaderBytes + 1, ~0ULL, rng()};
      set_header_length(file, lengths[pick(rng, std::size(lengths))]);
      break;
    }
    case 4: case 5: file = edit_json(valid, rng); break;
    case 6: file.resize(pick(rng, file.size())); break;
    default: file += std::string(1 + pick(rng, 16), '\x01'); break;
  }
  return file;
}

// An opened file must describe exactly its bytes: views tile the data buffer in order.
void expect_consistent(const SafetensorsFile& f) {
  std::uint64_t offset = 0;
  const std::byte* data_begin = nullptr;
  for (const TensorView& v : f.tensors()) {
    ASSERT_GE(v.numel(), 0);
    ASSERT_EQ(v.data.size(), static_cast<std::uint64_t>(v.numel()) * dtype_size(v.dtype)) << v.name;
    if (data_begin == nullptr) data_begin = v.data.data() - offset;
    ASSERT_EQ(v.data.data(), data_begin + offset) << v.name;
    offset += v.data.size();
    std::uint8_t sum = 0;  // touch every byte: an out-of-bounds view would fault here
    for (std::byte b : v.data) sum ^= static_cast<std::uint8_t>(b);
    (void)sum;
    ASSERT_EQ(f.find(v.name), &v);
  }
  ASSERT_EQ(8 + f.header_bytes() + offset, f.file_bytes());
}

TEST(SafetensorsFuzz, MutatedFilesLoadConsistentlyOrThrowError) {
  test::TempDir dir;
  std::vector<std::string> seeds;
  const std::vector<test::OwnedTensor> all = test::every_dtype_tensors(11);
  write_safetensors(dir / "seed0.safetensors", test::as_data(all));
  const std::vector<test::OwnedTensor> small = {test::make_tensor("a", Dtype::kF32, {2, 2}, 1),
                                                test::make_tensor("b.bias", Dtype::kU8, {3}, 2)};
  write_safetensors(dir / "seed1.safetensors", test::as_data(small), {});
  seeds.push_back(test::read_text(dir / "seed0.safetensors"));
  seeds.push_back(test::read_text(dir / "seed1.safetensors"));

  Rng rng(20240611);
  constexpr int kCases = 1500;
  int num_loaded = 0, num_refused = 0;
  const stdfs::path path = dir / "case.safetensors";
  for (int i = 0; i < kCases; ++i) {
    const std::string bytes = mutate(seeds[pick(rng, seeds.size())], rng);
    test::write_text(path, bytes);
    try {
      const SafetensorsFile f = SafetensorsFile::open(path);
      ++num_loaded;
      expect_consistent(f);
    } catch (const Error& e) {
      ++num_refused;
      ASSERT_EQ(std::string(e.what()).rfind(path.string() + ": ", 0), 0u) << "case " << i << ": " << e.what();
    }
    if (HasFatalFailure()) FAIL() << "case " << i;
  }
  // Both outcomes must be exercised, or the mutations are too weak (or too strong) to mean much.
  EXPECT_GT(num_loaded, 50);
  EXPECT_GT(num_refused, kCases / 2);
  std::printf("fuzz: %d cases, %d loaded, %d refused\n", kCases, num_loaded, num_refused);
}

}  // namespace
}  // namespace r1::hf
