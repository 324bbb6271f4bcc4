// GGUF container reader: value types, layout, and every malformed-input check.
#include "formats/gguf_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "gemma/error.h"
#include "gguf_builder.h"
#include "test_util.h"

namespace gemma {
namespace {

using test::GgufBuilder;
using test::GgufStr;
using test::Le32;
using test::Le64;

// Writes `bytes` to a per-test file and parses it. The fuzz loops write thousands of files, so
// the file lives on tmpfs when there is one.
class GgufReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::filesystem::is_directory("/dev/shm")) {
      path_ = "/dev/shm/gemma_gguf_reader_test_" + std::to_string(::getpid()) + ".gguf";
    } else {
      path_ = test::MakeTempDir("gguf") + "/model.gguf";
    }
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }

  GgufFile Parse(const std::string& bytes) {
    test::WriteFileBytes(path_, bytes);
    return GgufFile::Open(path_);
  }

  // Expects Parse(bytes) to throw Error of `kind` whose one-line message contains `needle`.
  void ExpectError(const std::string& bytes, ErrorKind kind, const std::string& needle) {
    try {
      Parse(bytes);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      EXPECT_EQ(msg.rfind(path_, 0), 0u) << "message should start with the path: " << msg;
    }
  }

  std::string path_;
};

std::vector<float> Iota(size_t n, float start = 0.f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

// A small valid file with strings, arrays and two tensors.
GgufBuilder ValidBuilder() {
  GgufBuilder b;
  b.Str("general.architecture", "gemma")
      .U32("gemma.block_count", 2)
      .StrArray("tokenizer.ggml.tokens", {"<pad>", "<eos>", "<bos>", "abc"})
      .Array("tokenizer.ggml.scores", test::kTF32, std::vector<float>{0.f, -1.f, -2.f, 3.5f})
      .Tensor("a.weight", {4, 3}, test::kGgmlF32, Iota(12))
      .Tensor("b.weight", {8}, test::kGgmlF32, Iota(8, 100.f));
  return b;
}

TEST_F(GgufReaderTest, ParsesEveryValueType) {
  GgufBuilder b;
  b.Scalar("u8", test::kTU8, uint8_t{200})
      .Scalar("i8", test::kTI8, int8_t{-100})
      .Scalar("u16", test::kTU16, uint16_t{60000})
      .Scalar("i16", test::kTI16, int16_t{-30000})
      .U32("u32", 4000000000u)
      .I32("i32", -2000000000)
      .F32("f32", 1.5f)
      .Bool("bool", true)
      .Str("str", "hello")
      .Scalar("u64", test::kTU64, uint64_t{1} << 63)
      .Scalar("i64", test::kTI64, int64_t{-5})
      .Scalar("f64", test::kTF64, 0.25)
      .Array("arr_u16", test::kTU16, std::vector<uint16_t>{1, 2, 65535})
      .Array("arr_i64", test::kTI64, std::vector<int64_t>{-1, 7})
      .Array("arr_f64", test::kTF64, std::vector<double>{0.5, -2.0})
      .Array("arr_bool", test::kTBool, std::vector<uint8_t>{1, 0, 1})
      .Array("arr_empty", test::kTI32, std::vector<int32_t>{})
      .StrArray("arr_str", {"a", "", "ccc"})
      // [[1, 2], [3]] as i32
      .KvRaw("arr_nested", test::kTArr,
             Le32(test::kTArr) + Le64(2) + Le32(test::kTI32) + Le64(2) + Le32(1) + Le32(2) +
                 Le32(test::kTI32) + Le64(1) + Le32(3));
  const GgufFile f = Parse(b.Build());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.kvs().size(), 19u);
  EXPECT_EQ(f.kvs()[0].key, "u8");  // file order kept
  EXPECT_EQ(*f.Find("u8")->ToInt(), 200);
  EXPECT_EQ(*f.Find("i8")->ToInt(), -100);
  EXPECT_EQ(*f.Find("u16")->ToInt(), 60000);
  EXPECT_EQ(*f.Find("i16")->ToInt(), -30000);
  EXPECT_EQ(*f.Find("u32")->ToInt(), 4000000000LL);
  EXPECT_EQ(*f.Find("i32")->ToInt(), -2000000000LL);
  EXPECT_EQ(*f.Find("f32")->ToDouble(), 1.5);
  EXPECT_FALSE(f.Find("f32")->ToInt().has_value());
  EXPECT_EQ(*f.Find("bool")->ToBool(), true);
  EXPECT_FALSE(f.Find("bool")->ToInt().has_value());
  EXPECT_EQ(*f.Find("str")->ToString(), "hello");
  EXPECT_FALSE(f.Find("u64")->ToInt().has_value());  // 2^63 does not fit in int64
  EXPECT_EQ(*f.Find("u64")->ToDouble(), 9223372036854775808.0);
  EXPECT_EQ(*f.Find("i64")->ToInt(), -5);
  EXPECT_EQ(*f.Find("f64")->ToDouble(), 0.25);
  EXPECT_EQ(*f.Find("i32")->ToDouble(), -2000000000.0);

  std::vector<int64_t> ints;
  ASSERT_TRUE(f.Find("arr_u16")->ToIntArray(&ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{1, 2, 65535}));
  ASSERT_TRUE(f.Find("arr_i64")->ToIntArray(&ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{-1, 7}));
  std::vector<float> floats;
  ASSERT_TRUE(f.Find("arr_f64")->ToFloatArray(&floats));
  EXPECT_EQ(floats, (std::vector<float>{0.5f, -2.f}));
  EXPECT_FALSE(f.Find("arr_f64")->ToIntArray(&ints));
  std::vector<bool> bools;
  ASSERT_TRUE(f.Find("arr_bool")->ToBoolArray(&bools));
  EXPECT_EQ(bools, (std::vector<bool>{true, false, true}));
  ASSERT_TRUE(f.Find("arr_empty")->ToIntArray(&ints));
  EXPECT_TRUE(ints.empty());
  std::vector<std::string> strs;
  ASSERT_TRUE(f.Find("arr_str")->ToStringArray(&strs));
  EXPECT_EQ(strs, (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_FALSE(f.Find("str")->ToStringArray(&strs));

  const GgufValue* nested = f.Find("arr_nested");
  ASSERT_EQ(nested->elem_type, GgufType::kArray);
  ASSERT_EQ(nested->arrays.size(), 2u);
  ASSERT_TRUE(nested->arrays[0].ToIntArray(&ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{1, 2}));
  ASSERT_TRUE(nested->arrays[1].ToIntArray(&ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{3}));

  EXPECT_EQ(f.Find("u32")->TypeString(), "u32");
  EXPECT_EQ(f.Find("arr_str")->TypeString(), "arr[str,3]");
  EXPECT_EQ(nested->ToDisplayString(), "[[1, 2], [3]]");
  EXPECT_EQ(f.Find("arr_str")->ToDisplayString(2), "['a', '', ... (3 total)]");
  EXPECT_EQ(f.Find("nope"), nullptr);
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.data_offset(), std::filesystem::file_size(path_));
}

TEST_F(GgufReaderTest, AcceptsVersion2) {
  GgufBuilder b = ValidBuilder();
  b.version = 2;
  const GgufFile f = Parse(b.Build());
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.tensors().size(), 2u);
}

TEST_F(GgufReaderTest, RejectsUnsupportedVersions) {
  GgufBuilder b = ValidBuilder();
  b.version = 1;
  ExpectError(b.Build(), ErrorKind::kUnsupported, "version 1");
  b.version = 4;
  ExpectError(b.Build(), ErrorKind::kUnsupported, "version 4 is not supported");
  b.version = 0x03000000;  // a version-3 file written big-endian
  ExpectError(b.Build(), ErrorKind::kUnsupported, "big-endian");
  b.version = 0;
  ExpectError(b.Build(), ErrorKind::kFormat, "version 0");
}

TEST_F(GgufReaderTest, RejectsWrongMagic) {
  GgufBuilder b = ValidBuilder();
  b.magic = "GGML";
  ExpectError(b.Build(), ErrorKind::kFormat, "not a GGUF file (magic 'GGML'");
  ExpectError("", ErrorKind::kIo, "truncated");
}

TEST_F(GgufReaderTest, TruncationAtEveryByteIsAnIoError) {
  const std::string full = ValidBuilder().Build();
  {
    const GgufFile f = Parse(full);  // the untruncated file is fine
    EXPECT_EQ(f.tensors().size(), 2u);
  }
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
    ExpectError(full.substr(0, n), ErrorKind::kIo, "truncated GGUF file");
  }
}

TEST_F(GgufReaderTest, RejectsAbsurdCountsWithoutAllocating) {
  GgufBuilder b = ValidBuilder();
  b.n_tensors_override = uint64_t{1} << 40;
  ExpectError(b.Build(), ErrorKind::kFormat, "tensor count 1099511627776 exceeds the limit");
  b = ValidBuilder();
  b.n_kv_override = uint64_t{1} << 40;
  ExpectError(b.Build(), ErrorKind::kFormat, "key/value count 1099511627776 exceeds the limit");
  // Below the limits but more than the file can hold.
  b = ValidBuilder();
  b.n_tensors_override = 100000;
  ExpectError(b.Build(), ErrorKind::kIo, "truncated");
}

TEST_F(GgufReaderTest, RejectsAbsurdStringLengths) {
  const std::string header = "GGUF" + Le32(3) + Le64(0) + Le64(1);
  // A key claiming 2^60 bytes.
  ExpectError(header + Le64(uint64_t{1} << 60) + "abcdefgh", ErrorKind::kFormat,
              "key of key/value pair #0 is 1152921504606846976 bytes long, more than the limit");
  // A string value claiming 2^60 bytes.
  ExpectError(header + GgufStr("k") + Le32(test::kTStr) + Le64(uint64_t{1} << 60) + "abc",
              ErrorKind::kFormat, "string value of key 'k' is 1152921504606846976 bytes long");
  // Plausible length, but longer than the file.
  ExpectError(header + GgufStr("k") + Le32(test::kTStr) + Le64(1000) + "abc", ErrorKind::kIo,
              "truncated GGUF file: string value of key 'k'");
  // A key over the GGUF spec's 65535-byte limit.
  ExpectError(header + GgufStr(std::string(65536, 'k')) + Le32(test::kTU8) + "x",
              ErrorKind::kFormat, "limit of 65535");
}

TEST_F(GgufReaderTest, RejectsAbsurdArrayLengths) {
  const std::string header = "GGUF" + Le32(3) + Le64(0) + Le64(1);
  ExpectError(header + GgufStr("k") + Le32(test::kTArr) + Le32(test::kTU32) +
                  Le64(uint64_t{1} << 62) + Le32(1),
              ErrorKind::kFormat, "array of 4611686018427387904 elements");
  ExpectError(
      header + GgufStr("k") + Le32(test::kTArr) + Le32(test::kTStr) + Le64(1u << 29) + GgufStr("a"),
      ErrorKind::kIo, "truncated GGUF file: array of strings of key 'k'");
  ExpectError(header + GgufStr("k") + Le32(test::kTArr) + Le32(test::kTF32) + Le64(1000) + Le32(1),
              ErrorKind::kIo, "truncated GGUF file: array data of key 'k'");
  ExpectError(header + GgufStr("k") + Le32(test::kTArr) + Le32(test::kTArr) + Le64(1u << 20),
              ErrorKind::kFormat, "arrays, more than the limit");
}

TEST_F(GgufReaderTest, RejectsInvalidValueTypes) {
  const std::string header = "GGUF" + Le32(3) + Le64(0) + Le64(1);
  ExpectError(header + GgufStr("k") + Le32(13) + Le64(0), ErrorKind::kFormat,
              "key 'k' has invalid value type 13");
  ExpectError(header + GgufStr("k") + Le32(test::kTArr) + Le32(99) + Le64(0), ErrorKind::kFormat,
              "array of invalid element type 99");
}

TEST_F(GgufReaderTest, LimitsArrayNesting) {
  auto nested = [](int levels) {
    std::string p;
    for (int i = 0; i < levels - 1; ++i) p += Le32(test::kTArr) + Le64(1);
    return p + Le32(test::kTU8) + Le64(0);
  };
  const std::string header = "GGUF" + Le32(3) + Le64(0) + Le64(1);
  {
    const GgufFile f = Parse(header + GgufStr("k") + Le32(test::kTArr) + nested(8));
    EXPECT_EQ(f.Find("k")->ToDisplayString(), "[[[[[[[[]]]]]]]]");
  }
  ExpectError(header + GgufStr("k") + Le32(test::kTArr) + nested(9), ErrorKind::kFormat,
              "nested more than 8 levels");
}

TEST_F(GgufReaderTest, RejectsEmptyAndDuplicateKeys) {
  GgufBuilder b = ValidBuilder();
  b.U32("", 1);
  ExpectError(b.Build(), ErrorKind::kFormat, "empty key");
  b = ValidBuilder();
  b.U32("gemma.block_count", 3);
  ExpectError(b.Build(), ErrorKind::kFormat, "duplicate key 'gemma.block_count'");
}

TEST_F(GgufReaderTest, RejectsBadTensorNames) {
  GgufBuilder b = ValidBuilder();
  b.Tensor("a.weight", {4}, test::kGgmlF32, Iota(4));
  ExpectError(b.Build(), ErrorKind::kFormat, "duplicate tensor name 'a.weight'");
  b = ValidBuilder();
  b.Tensor("", {4}, test::kGgmlF32, Iota(4));
  ExpectError(b.Build(), ErrorKind::kFormat, "empty name");
  b = ValidBuilder();
  b.Tensor(std::string(64, 'x'), {4}, test::kGgmlF32, Iota(4));
  ExpectError(b.Build(), ErrorKind::kFormat, "64 bytes long, more than the limit of 63");
  b = ValidBuilder();
  b.Tensor(std::string(63, 'x'), {4}, test::kGgmlF32, Iota(4));
  EXPECT_EQ(Parse(b.Build()).tensors().size(), 3u);
}

TEST_F(GgufReaderTest, RejectsBadShapes) {
  GgufBuilder b = ValidBuilder();
  b.Tensor("c", {1, 1, 1, 1, 1}, test::kGgmlF32, Iota(1));
  ExpectError(b.Build(), ErrorKind::kFormat, "tensor 'c' has 5 dimensions");
  b = ValidBuilder();
  b.Tensor("c", {4, 0}, test::kGgmlF32, "");
  ExpectError(b.Build(), ErrorKind::kFormat, "tensor 'c' has dimension 1 of 0 elements");
  b = ValidBuilder();
  b.Tensor("c", {uint64_t{1} << 40, uint64_t{1} << 20}, test::kGgmlF32, "");
  ExpectError(b.Build(), ErrorKind::kFormat, "more than 2^48 elements");
  b = ValidBuilder();
  b.Tensor("c", {48, 2}, test::kGgmlQ8_0, std::string(102, '\0'));
  ExpectError(
      b.Build(), ErrorKind::kFormat,
      "tensor 'c' of type Q8_0 has rows of 48 elements, not a multiple of the block size 32");
}

TEST_F(GgufReaderTest, RejectsTensorDataPastTheEnd) {
  GgufBuilder b = ValidBuilder();
  b.Tensor("c", {16}, test::kGgmlF32, Iota(15));  // 60 of 64 bytes present
  ExpectError(b.Build(), ErrorKind::kIo, "tensor 'c' data [");
  b = ValidBuilder();
  b.Tensor("c", {4}, test::kGgmlF32, Iota(4), uint64_t{1} << 62);
  ExpectError(b.Build(), ErrorKind::kIo, "runs past the end");
}

TEST_F(GgufReaderTest, RejectsMisalignedOffsets) {
  GgufBuilder b = ValidBuilder();
  b.Tensor("c", {4}, test::kGgmlF32, Iota(4), 16 * 1024 + 16);
  ExpectError(b.Build(), ErrorKind::kFormat,
              "tensor 'c' data offset 16400 is not a multiple of the alignment 32");
}

TEST_F(GgufReaderTest, RejectsOverlappingTensors) {
  GgufBuilder b;
  b.Tensor("x", {32}, test::kGgmlF32, Iota(32), 0).Tensor("y", {32}, test::kGgmlF32, Iota(32), 64);
  ExpectError(b.Build(), ErrorKind::kFormat, "the data of tensors 'x' and 'y' overlap");
  // Touching is fine.
  GgufBuilder ok;
  ok.Tensor("x", {32}, test::kGgmlF32, Iota(32), 0)
      .Tensor("y", {32}, test::kGgmlF32, Iota(32), 128);
  EXPECT_EQ(Parse(ok.Build()).tensors().size(), 2u);
}

TEST_F(GgufReaderTest, ChecksAlignment) {
  GgufBuilder b = ValidBuilder();
  b.U32("general.alignment", 24);
  ExpectError(b.Build(), ErrorKind::kFormat, "general.alignment 24 is not a power of two");
  b = ValidBuilder();
  b.U32("general.alignment", 0);
  ExpectError(b.Build(), ErrorKind::kFormat, "general.alignment 0 is not a power of two");
  b = ValidBuilder();
  b.Str("general.alignment", "64");
  ExpectError(b.Build(), ErrorKind::kFormat, "general.alignment must be an integer, not str");

  b = GgufBuilder();
  b.U32("general.alignment", 64)
      .Tensor("x", {2}, test::kGgmlF32, Iota(2))
      .Tensor("y", {2}, test::kGgmlF32, Iota(2, 100.f));
  b.alignment = 64;
  {
    const GgufFile f = Parse(b.Build());
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    EXPECT_EQ(f.FindTensor("y")->offset, 64u);
    EXPECT_EQ(reinterpret_cast<const float*>(f.FindTensor("y")->view.data)[1], 101.f);
  }
  // Laid out for alignment 32, the second tensor's offset 32 is misaligned for 64.
  b.alignment = 32;
  ExpectError(b.Build(), ErrorKind::kFormat,
              "tensor 'y' data offset 32 is not a multiple of the alignment 64");
}

TEST_F(GgufReaderTest, UnknownTensorTypeIsUnsupported) {
  GgufBuilder b = ValidBuilder();
  b.Tensor("weird.weight", {32}, 99, std::string(64, '\0'));
  b.Tensor("weird2.weight", {32}, 31, std::string(64, '\0'));  // a removed repacked Q4_0 variant
  ExpectError(b.Build(), ErrorKind::kUnsupported,
              "2 tensor(s) of unknown ggml type: weird.weight (type 99), weird2.weight (type 31)");
}

TEST_F(GgufReaderTest, KnownTypeWithoutKernelsHasNoView) {
  GgufBuilder b = ValidBuilder();
  b.Tensor("iq.weight", {256, 2}, test::kGgmlIQ2_XXS, std::string(132, '\x11'));
  const GgufFile f = Parse(b.Build());
  const GgufTensorInfo* t = f.FindTensor("iq.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->has_dtype);
  EXPECT_EQ(t->type_name, "IQ2_XXS");
  EXPECT_EQ(t->n_bytes, 132u);
  EXPECT_EQ(t->view.data, nullptr);
}

TEST_F(GgufReaderTest, TensorViewsAreOutermostFirst) {
  std::vector<uint8_t> q8(68);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i);
  GgufBuilder b = ValidBuilder();
  b.Tensor("q.weight", {64, 1}, test::kGgmlQ8_0, q8);
  const GgufFile f = Parse(b.Build());
  const GgufTensorInfo* a = f.FindTensor("a.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->n_dims, 2);
  EXPECT_EQ(a->ne[0], 4);
  EXPECT_EQ(a->ne[1], 3);
  EXPECT_EQ(a->view.n_dims, 2);
  EXPECT_EQ(a->view.dim(0), 3);  // ne [in=4, out=3] -> shape {3, 4}
  EXPECT_EQ(a->view.dim(1), 4);
  EXPECT_EQ(a->view.n_bytes, 48u);
  EXPECT_EQ(a->view.dtype, DType::kF32);
  EXPECT_EQ(reinterpret_cast<const float*>(a->view.row(1))[0], 4.f);
  EXPECT_EQ(reinterpret_cast<const float*>(a->view.row(2))[3], 11.f);
  const GgufTensorInfo* q = f.FindTensor("q.weight");
  EXPECT_EQ(q->view.dtype, DType::kQ8_0);
  EXPECT_EQ(q->view.dim(0), 1);
  EXPECT_EQ(q->view.dim(1), 64);
  EXPECT_EQ(q->view.row_bytes(), 68u);
  EXPECT_EQ(q->view.data[67], 67);
  EXPECT_EQ(q->view.data, f.file()->data() + f.data_offset() + q->offset);
  EXPECT_EQ(f.data_offset() % 32, 0u);
}

TEST_F(GgufReaderTest, GgmlTypeTableAgreesWithDTypeInfo) {
  for (int i = 0; i < static_cast<int>(DType::kCount); ++i) {
    const DType d = static_cast<DType>(i);
    const GgmlTypeInfo* t = FindGgmlType(GgmlTypeOf(d));
    ASSERT_NE(t, nullptr) << DTypeName(d);
    EXPECT_EQ(t->name, DTypeName(d));
    EXPECT_EQ(t->block_elems, GetDTypeInfo(d).block_elems) << DTypeName(d);
    EXPECT_EQ(t->block_bytes, GetDTypeInfo(d).block_bytes) << DTypeName(d);
  }
  // Ids from ggml.h.
  EXPECT_EQ(GgmlTypeOf(DType::kF32), 0u);
  EXPECT_EQ(GgmlTypeOf(DType::kF16), 1u);
  EXPECT_EQ(GgmlTypeOf(DType::kQ4_0), 2u);
  EXPECT_EQ(GgmlTypeOf(DType::kQ4_1), 3u);
  EXPECT_EQ(GgmlTypeOf(DType::kQ5_0), 6u);
  EXPECT_EQ(GgmlTypeOf(DType::kQ5_1), 7u);
  EXPECT_EQ(GgmlTypeOf(DType::kQ8_0), 8u);
  EXPECT_EQ(GgmlTypeOf(DType::kQ2_K), 10u);
  EXPECT_EQ(GgmlTypeOf(DType::kQ6_K), 14u);
  EXPECT_EQ(GgmlTypeOf(DType::kBF16), 30u);
  EXPECT_EQ(FindGgmlType(4), nullptr);
}

// Random byte mutations and truncations of a valid file: the reader may accept or reject, but
// must only ever throw gemma::Error (run under GEMMA_SANITIZE=ON to catch out-of-bounds reads).
TEST_F(GgufReaderTest, MutatedFilesNeverCrash) {
  GgufBuilder b = ValidBuilder();
  b.KvRaw("nested", test::kTArr,
          Le32(test::kTArr) + Le64(2) + Le32(test::kTI32) + Le64(1) + Le32(1) + Le32(test::kTStr) +
              Le64(1) + GgufStr("x"));
  b.Tensor("q.weight", {64, 2}, test::kGgmlQ8_0, std::string(136, '\x01'));
  const std::string full = b.Build();
  std::mt19937_64 rng(1234);
  int accepted = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string bytes = full;
    const int n_mut = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n_mut; ++k) {
      const size_t pos = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[pos] = static_cast<char>(rng());
          break;
        case 1:
          bytes[pos] = '\xff';
          break;
        case 2:
          bytes[pos] = '\0';
          break;
        default:
          bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (rng() % 8)));
          break;
      }
    }
    if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());
    try {
      const GgufFile f = Parse(bytes);
      for (const GgufTensorInfo& t : f.tensors()) {
        if (t.view.data) {  // touch the first and last byte of every view
          volatile uint8_t x = t.view.data[0];
          x = t.view.data[t.view.n_bytes - 1];
          (void)x;
        }
      }
      ++accepted;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(accepted, 0);
}

TEST(GgufReaderGolden, EveryGoldenFileParses) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string golden = test::TestDataDir() + "/golden";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(golden)) {
    if (!entry.is_directory()) continue;
    for (const char* q : {"f32", "q8_0", "q4_0"}) {
      const std::string path = entry.path().string() + "/model-" + q + ".gguf";
      if (!std::filesystem::exists(path)) continue;
      SCOPED_TRACE(path);
      const GgufFile f = GgufFile::Open(path);
      ++files;
      EXPECT_EQ(f.version(), 3u);
      ASSERT_NE(f.Find("general.architecture"), nullptr);
      EXPECT_FALSE(f.tensors().empty());
      ASSERT_NE(f.FindTensor("token_embd.weight"), nullptr);
      uint64_t total = 0;
      for (const GgufTensorInfo& t : f.tensors()) {
        EXPECT_TRUE(t.has_dtype) << t.name << " " << t.type_name;
        total += t.n_bytes;
      }
      EXPECT_LE(f.data_offset() + total, f.file()->size());
    }
  }
  EXPECT_GE(files, 33);
}

}  // namespace
}  // namespace gemma
