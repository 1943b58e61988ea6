// Malformed tokenizer.json files: each case asserts the whole message, which names the file, the
// JSON path, what was expected and what was found.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/tokenizer/hf_tokenizer.h"

namespace r1::tokenizer {
namespace {

// A valid BPE model: "a" "b" merge into "ab".
const std::string kModel = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";

std::string load_error(const std::string& json) {
  try {
    HfTokenizer::from_json(json, "t.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded)";
}

struct Case {
  const char* name;
  std::string json;
  std::string message;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class HfErrors : public testing::TestWithParam<Case> {};

TEST_P(HfErrors, MessageNamesTheFileAndPath) { EXPECT_EQ(load_error(GetParam().json), GetParam().message); }

const Case kCases[] = {
    {"NotJson", "{\"model\": ", "t.json is not valid JSON: parse error at line 1, column 11: syntax error while parsing value - "
     "unexpected end of input; expected '[', '{', or a literal (byte 11)"},
    {"NotObject", "[1]", "t.json: (top level): expected a JSON object, found [1]"},
    {"MissingModel", "{}", "t.json: model: missing: a tokenizer.json needs a model"},
    {"ModelWithoutType", R"({"model": {"vocab": {}}})", "t.json: model.type: missing the model type"},
    {"UnigramModel", R"({"model": {"type": "Unigram", "vocab": []}})",
     "t.json: model.type: unsupported model \"Unigram\" (r1kit has BPE)"},
    {"BadVersion", "{\"version\": \"2.0\", " + kModel + "}",
     "t.json: version: expected \"1.0\", found \"2.0\""},
    {"Truncation", "{\"truncation\": {\"max_length\": 8}, " + kModel + "}",
     "t.json: truncation: truncation and padding inside tokenizer.json are not supported (set it to null)"},
    {"Padding", "{\"padding\": {\"strategy\": \"BatchLongest\"}, " + kModel + "}",
     "t.json: padding: truncation and padding inside tokenizer.json are not supported (set it to null)"},
    {"SubwordPrefix", R"({"model": {"type": "BPE", "vocab": {}, "merges": [], "continuing_subword_prefix": "##"}})",
     "t.json: model.continuing_subword_prefix: BPE subword prefixes and suffixes are not supported by r1kit"},
    {"VocabNotObject", R"({"model": {"type": "BPE", "vocab": [1], "merges": []}})",
     "t.json: model.vocab: expected an object of token -> id, found [1]"},
    {"NegativeId", R"({"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}})",
     "t.json: model.vocab.a: expected a token id (an integer >= 0), found -1"},
    {"MergesNotArray", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": "a b"}})",
     "t.json: model.merges: expected an array, found \"a b\""},
    {"MergeWithoutSpace", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["ab"]}})",
     "t.json: model.merges[0]: expected \"<left> <right>\" with exactly one space, found \"ab\""},
    {"MergeWithTwoSpaces", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}})",
     "t.json: model.merges[0]: expected \"<left> <right>\" with exactly one space, found \"a b c\""},
    {"MergeBadPair", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}})",
     "t.json: model.merges[0]: expected \"<left> <right>\" or [\"<left>\", \"<right>\"], found [\"a\"]"},
    {"MergeUnknownToken", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}})",
     "t.json: model.merges[0] (\"a c\"): token \"c\" is not in the vocab"},
    {"MergeResultMissing", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}})",
     "t.json: model.merges[0] (\"a b\"): merged token \"ab\" is not in the vocab"},
    {"Dropout", R"({"model": {"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}})",
     "t.json: model.dropout: BPE dropout is a training-time randomization that r1kit does not support"},
    {"UnknownNormalizer", "{\"normalizer\": {\"type\": \"Lowercase\"}, " + kModel + "}",
     "t.json: normalizer.type: unsupported normalizer \"Lowercase\" (r1kit has Sequence, NFC, NFD, "
     "NFKC, NFKD, Replace, Prepend, Strip)"},
    {"NormalizerWithoutType", "{\"normalizer\": {\"normalizers\": []}, " + kModel + "}",
     "t.json: normalizer.type: missing the normalizer type"},
    {"UnknownPreTokenizerInSequence",
     "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}, "
     "{\"type\": \"Whitespace\"}]}, " + kModel + "}",
     "t.json: pre_tokenizer.pretokenizers[1].type: unsupported pre-tokenizer \"Whitespace\" (r1kit "
     "has Sequence, Split, ByteLevel, Digits, Metaspace)"},
    {"BadSplitBehaviour",
     "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": "
     "\"Dropped\"}, " + kModel + "}",
     "t.json: pre_tokenizer.behavior: expected one of Removed, Isolated, MergedWithPrevious, "
     "MergedWithNext, Contiguous, found \"Dropped\""},
    {"SplitPatternShape",
     "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": \" \", \"behavior\": \"Isolated\"}, " + kModel + "}",
     "t.json: pre_tokenizer.pattern: expected an object, found \" \""},
    {"ByteLevelNotLast",
     "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"}, "
     "{\"type\": \"Digits\"}]}, " + kModel + "}",
     "t.json: pre_tokenizer.pretokenizers[0].type: a ByteLevel pre-tokenizer followed by another "
     "one is not supported"},
    {"MetaspaceReplacement",
     "{\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"ab\"}, " + kModel + "}",
     "t.json: pre_tokenizer.replacement: expected a single character, found \"ab\""},
    {"UnknownDecoder", "{\"decoder\": {\"type\": \"WordPiece\"}, " + kModel + "}",
     "t.json: decoder.type: unsupported decoder \"WordPiece\" (r1kit has Sequence, ByteLevel, "
     "ByteFallback, Fuse, Replace, Strip, Metaspace)"},
    {"StripNegative", "{\"decoder\": {\"type\": \"Strip\", \"content\": \" \", \"start\": -1, \"stop\": 0}, " + kModel + "}",
     "t.json: decoder.start: expected an integer >= 0, found -1"},
    {"UnknownPostProcessor", "{\"post_processor\": {\"type\": \"BertProcessing\"}, " + kModel + "}",
     "t.json: post_processor.type: unsupported post-processor \"BertProcessing\" (r1kit has "
     "Sequence, ByteLevel, TemplateProcessing)"},
    {"TemplateUnknownSpecial",
     "{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": "
     "{\"id\": \"<s>\", \"type_id\": 0}}], \"special_tokens\": {}}, " + kModel + "}",
     "t.json: post_processor.single[0].SpecialToken.id: special token \"<s>\" is not in special_tokens"},
    {"AddedTokenContent", "{\"added_tokens\": [{\"id\": 3, \"content\": 5}], " + kModel + "}",
     "t.json: added_tokens[0].content: expected a string, found 5"},
    {"AddedTokenFlag", "{\"added_tokens\": [{\"id\": 3, \"content\": \"x\", \"lstrip\": \"yes\"}], " + kModel + "}",
     "t.json: added_tokens[0].lstrip: expected true or false, found \"yes\""},
};

INSTANTIATE_TEST_SUITE_P(Cases, HfErrors, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(HfErrorsExtra, UnsupportedRegexSyntaxNamesTheJsonPath) {
  const std::string msg = load_error(
      "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(?<=a)b\"}, "
      "\"behavior\": \"Isolated\"}, " + kModel + "}");
  EXPECT_EQ(msg.rfind("t.json: pre_tokenizer.pattern.Regex: regex (?<=a)b: at offset", 0), 0u) << msg;
}

TEST(HfErrorsExtra, MissingFileNamesThePath) {
  try {
    HfTokenizer::from_file("/nonexistent/tokenizer.json");
    FAIL() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tokenizer.json"), std::string::npos) << e.what();
  }
}

TEST(HfErrorsExtra, InvalidUtf8InputIsRefusedWithItsOffset) {
  const auto tok = HfTokenizer::from_json("{" + kModel + "}", "t.json");
  try {
    tok->encode("ab\xff", false);
    FAIL() << "encoded invalid UTF-8";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tokenizer input is not valid UTF-8 (byte 2)");
  }
}

}  // namespace
}  // namespace r1::tokenizer
