// core/hf/safetensors{,_writer}.h: round trips for every dtype, the exact header layout the
// reference writer produces (hand-computed), and a table of bad files whose errors must name the
// file, the tensor and the offending values.
#include "core/hf/safetensors.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hf/safetensors_writer.h"
#include "tests/core/safetensors_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::hf {
namespace {

using test::OwnedTensor;

TEST(Safetensors, RoundTripsEveryDtype) {
  test::TempDir dir;
  const std::vector<OwnedTensor> tensors = test::every_dtype_tensors();
  const std::vector<TensorData> data = test::as_data(tensors);
  write_safetensors(dir / "all.safetensors", data);

  const SafetensorsFile file = SafetensorsFile::open(dir / "all.safetensors");
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(file.header_bytes() % 8, 0u);
  ASSERT_EQ(file.tensors().size(), tensors.size());
  for (const OwnedTensor& t : tensors) {
    SCOPED_TRACE(t.name);
    const TensorView& view = file.at(t.name);
    EXPECT_EQ(view.dtype, t.dtype);
    EXPECT_EQ(view.shape, t.shape);
    EXPECT_EQ(view.numel(), test::numel_of(t.shape));
    ASSERT_EQ(view.data.size(), t.bytes.size());
    EXPECT_TRUE(std::equal(view.data.begin(), view.data.end(), t.bytes.begin()));
    // Descending alignment order keeps every tensor aligned to its element size.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(view.data.data()) % dtype_size(t.dtype), 0u);
  }
  EXPECT_EQ(file.find("nope"), nullptr);
}

TEST(Safetensors, ViewsOutliveTheFileObject) {
  test::TempDir dir;
  const OwnedTensor t = test::make_tensor("w", Dtype::kF32, {4, 4}, 3);
  write_safetensors(dir / "a.safetensors", std::vector<TensorData>{t.data()});
  TensorView view;
  {
    const SafetensorsFile file = SafetensorsFile::open(dir / "a.safetensors");
    view = file.at("w");
  }
  EXPECT_TRUE(std::equal(view.data.begin(), view.data.end(), t.bytes.begin()));
}

// The expected header is written out by hand from the reference's rules: "__metadata__" first,
// then tensors by descending dtype alignment (I64 > F32 > U8), ties by name, offsets packed from
// 0, compact JSON padded with spaces to a multiple of 8.
TEST(Safetensors, HeaderMatchesTheReferenceLayout) {
  const std::vector<OwnedTensor> tensors = {
      test::make_tensor("b", Dtype::kF32, {2}, 1), test::make_tensor("a", Dtype::kU8, {3}, 2),
      test::make_tensor("c", Dtype::kI64, {}, 3), test::make_tensor("a2", Dtype::kF32, {1, 1}, 4)};
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"c":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("a2":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)"
      R"("a":{"dtype":"U8","shape":[3],"data_offsets":[20,23]}})";
  const std::string padded = json + std::string((8 - json.size() % 8) % 8, ' ');
  const std::string header = safetensors_header("x.safetensors", test::as_data(tensors), kPtMetadata);
  EXPECT_EQ(header, test::raw_safetensors(padded, 0));

  test::TempDir dir;
  write_safetensors(dir / "x.safetensors", test::as_data(tensors));
  const std::string bytes = test::read_text(dir / "x.safetensors");
  ASSERT_EQ(bytes.size(), header.size() + 23);
  EXPECT_EQ(bytes.substr(0, header.size()), header);
  const std::string data = bytes.substr(header.size());
  EXPECT_EQ(data.substr(0, 8), std::string(reinterpret_cast<const char*>(tensors[2].bytes.data()), 8));
  EXPECT_EQ(data.substr(20, 3), std::string(reinterpret_cast<const char*>(tensors[1].bytes.data()), 3));
}

TEST(Safetensors, EmptyMetadataIsOmittedAndNoTensorsIsValid) {
  test::TempDir dir;
  write_safetensors(dir / "e.safetensors", {}, {});
  EXPECT_EQ(test::read_text(dir / "e.safetensors"), test::raw_safetensors("{}      ", 0));
  const SafetensorsFile file = SafetensorsFile::open(dir / "e.safetensors");
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_TRUE(file.metadata().empty());
}

struct BadWrite {
  const char* label;
  std::vector<TensorData> tensors;
  std::vector<std::string> expected;  // substrings of the message besides the path
};

TEST(Safetensors, WriterRefusesBadInputAndLeavesNoFile) {
  const std::vector<std::byte> four(4), eight(8);
  const std::vector<BadWrite> cases = {
      {"duplicate", {{"w", Dtype::kF32, {1}, four, {}}, {"w", Dtype::kI32, {1}, four, {}}},
       {"\"w\"", "two tensors"}},
      {"reserved", {{"__metadata__", Dtype::kF32, {1}, four, {}}}, {"\"__metadata__\"", "reserved"}},
      {"negative dim", {{"neg", Dtype::kF32, {2, -1}, four, {}}}, {"\"neg\"", "[2, -1]", "negative"}},
      {"overflow", {{"big", Dtype::kF64, {1LL << 62, 4}, four, {}}}, {"\"big\"", "overflows"}},
      {"short data", {{"s", Dtype::kF32, {2}, four, {}}}, {"\"s\"", "got 4 bytes", "needs 8"}},
      {"long data", {{"l", Dtype::kI8, {2}, eight, {}}}, {"\"l\"", "got 8 bytes", "needs 2"}},
      {"name not UTF-8", {{"w\xC0\xAF", Dtype::kI8, {4}, four, {}}}, {"tensor name", "not valid UTF-8"}},
  };
  test::TempDir dir;
  for (const BadWrite& c : cases) {
    SCOPED_TRACE(c.label);
    const stdfs::path path = dir / (std::string(c.label) + ".safetensors");
    try {
      write_safetensors(path, c.tensors);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path.string()), std::string::npos) << what;
      for (const std::string& s : c.expected) EXPECT_NE(what.find(s), std::string::npos) << what;
    }
    EXPECT_TRUE(stdfs::is_empty(dir.path())) << "a refused write left a file behind";
  }
}

// A bad file: the header text, the data buffer size, and an optional lying length prefix.
struct BadFile {
  const char* label;
  std::string header;
  std::size_t data_size = 0;
  std::optional<std::uint64_t> length;
  std::vector<std::string> expected;  // substrings of the message besides the path
};

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

std::vector<BadFile> bad_files() {
  const std::string w = entry("w", "F32", "[2]", "[0,8]");
  return {
      {"header not JSON", "{\"w\":", 8, {}, {"not valid JSON"}},
      {"trailing garbage", "{} x", 0, {}, {"not valid JSON"}},
      {"header not an object", "[1,2]", 0, {}, {"must be a JSON object", "array"}},
      {"header length zero", "", 0, 0, {"header length is 0"}},
      {"header length past the end", "{}", 0, 4096, {"header length 4096", "past the end"}},
      {"header length over the cap", "{}", 0, 100'000'001ULL, {"100000001", "exceeds", "100000000"}},
      {"header length huge", "{}", 0, ~0ULL, {"18446744073709551615", "exceeds"}},
      {"duplicate tensor", "{" + w + "," + w + "}", 8, {}, {"\"w\"", "appears twice"}},
      {"tensor not an object", "{\"w\":[1]}", 0, {}, {"\"w\"", "expected an object"}},
      {"unknown dtype", "{" + entry("w", "F99", "[2]", "[0,8]") + "}", 8, {}, {"\"w\"", "\"F99\"", "unknown dtype"}},
      {"dtype not a string", "{\"w\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[0,4]}}", 4, {},
       {"\"w\"", "\"dtype\"", "found 4"}},
      {"missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, {}, {"\"w\"", "\"shape\"", "nothing"}},
      {"negative dim", "{" + entry("w", "F32", "[2,-3]", "[0,8]") + "}", 8, {}, {"\"w\"", "[2,-3]", "found -3"}},
      {"fractional dim", "{" + entry("w", "F32", "[1.5]", "[0,8]") + "}", 8, {}, {"\"w\"", "found 1.5"}},
      {"dim past int64", "{" + entry("w", "U8", "[9223372036854775808,0]", "[0,0]") + "}", 0, {},
       {"\"w\"", "found 9223372036854775808"}},
      {"dim product overflows", "{" + entry("w", "F32", "[4611686018427387904,8]", "[0,8]") + "}", 8, {},
       {"\"w\"", "[4611686018427387904, 8]", "overflows"}},
      {"shape disagrees with bytes", "{" + entry("w", "F32", "[3]", "[0,8]") + "}", 8, {},
       {"\"w\"", "[0, 8]", "hold 8 bytes", "[3] of F32 needs 12"}},
      {"offsets not a pair", "{" + entry("w", "F32", "[2]", "[0]") + "}", 8, {}, {"\"w\"", "data_offsets", "[0]"}},
      {"negative offset", "{" + entry("w", "F32", "[2]", "[-8,0]") + "}", 8, {}, {"\"w\"", "[-8,0]"}},
      {"end before begin", "{" + entry("w", "U8", "[0]", "[8,0]") + "}", 8, {}, {"\"w\"", "[8, 0]", "before begin"}},
      {"offset past the data", "{" + entry("w", "F32", "[2]", "[0,8]") + "}", 4, {},
       {"\"w\"", "[0, 8]", "past the end of the data buffer (4 bytes)"}},
      {"gap", "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", 12, {},
       {"\"b\"", "[8, 12]", "leaves a gap", "begin at 4", "\"a\""}},
      {"overlap", "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[1]", "[4,8]") + "}", 8, {},
       {"\"a\"", "[4, 8]", "overlaps"}},
      {"uncovered tail", "{" + w + "}", 12, {}, {"cover 8 bytes of the 12-byte data buffer", "\"w\""}},
      {"data but no tensors", "{}", 3, {}, {"cover 0 bytes of the 3-byte data buffer"}},
      {"metadata not strings", "{\"__metadata__\":{\"format\":1}}", 0, {}, {"__metadata__", "\"format\"", "found 1"}},
      {"metadata not an object", "{\"__metadata__\":\"pt\"}", 0, {}, {"__metadata__", "\"pt\""}},
      {"invalid UTF-8 in a name", "{\"w\xff\":{}}", 0, {}, {"not valid JSON", "UTF-8"}},
      {"huge bad value", "{" + entry("w", std::string(100000, 'A'), "[2]", "[0,8]") + "}", 8, {},
       {"\"w\"", "unknown dtype \"AAAA", "...", "(known: F64, F32"}},
      {"huge broken token", "{\"" + std::string(100000, 'n') + "\":", 0, {}, {"not valid JSON"}},
  };
}

TEST(Safetensors, BadFilesNameTheFileTensorAndValues) {
  test::TempDir dir;
  for (const BadFile& c : bad_files()) {
    SCOPED_TRACE(c.label);
    const stdfs::path path = dir / (std::string(c.label) + ".safetensors");
    test::write_text(path, test::raw_safetensors(c.header, c.data_size, c.length));
    try {
      SafetensorsFile::open(path);
      ADD_FAILURE() << "opened without error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path.string() + ": ", 0), 0u) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_LT(what.size(), path.string().size() + 600) << "messages stay one readable line";
      for (const std::string& s : c.expected) EXPECT_NE(what.find(s), std::string::npos) << what;
    }
  }
}

TEST(Safetensors, TruncatedFilesAndNonFilesAreRefused) {
  test::TempDir dir;
  const OwnedTensor t = test::make_tensor("layer.weight", Dtype::kBF16, {8, 8}, 5);
  write_safetensors(dir / "full.safetensors", std::vector<TensorData>{t.data()});
  const std::string full = test::read_text(dir / "full.safetensors");
  const std::vector<std::pair<std::size_t, std::string>> cuts = {
      {0, "0 bytes, shorter than"}, {5, "5 bytes"}, {8, "past the end of the file"},
      {40, "past the end of the file"}, {full.size() - 1, "\"layer.weight\""}};
  for (const auto& [size, expected] : cuts) {
    SCOPED_TRACE(size);
    const stdfs::path path = dir / ("cut" + std::to_string(size) + ".safetensors");
    test::write_text(path, full.substr(0, size));
    try {
      SafetensorsFile::open(path);
      ADD_FAILURE() << "opened without error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(SafetensorsFile::open(dir / "missing.safetensors"), Error);
  try {
    SafetensorsFile::open(dir.path());
    ADD_FAILURE() << "opened a directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, MissingTensorNamesFileAndTensor) {
  test::TempDir dir;
  write_safetensors(dir / "a.safetensors", {});
  const SafetensorsFile file = SafetensorsFile::open(dir / "a.safetensors");
  try {
    file.at("lm_head.weight");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "a.safetensors").string()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("\"lm_head.weight\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1::hf
