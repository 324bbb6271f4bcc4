// GgufWriter: what it writes, GgufFile reads back unchanged (every metadata type, tensor bytes,
// alignment), and misuse fails without leaving a file behind.
#include "formats/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "gemma/error.h"
#include "test_util.h"

namespace gemma {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

template <typename T>
T ScalarOf(const GgufValue& v) {
  T x;
  std::memcpy(&x, v.scalar.data(), sizeof(T));
  return x;
}

void WriteAndCheck(uint64_t alignment) {
  const std::string dir = test::MakeTempDir("gguf_writer_" + std::to_string(alignment));
  const std::string path = dir + "/all.gguf";
  GgufWriter w(alignment);
  w.Set("u8", GgufOutValue::U8(200));
  w.Set("i8", GgufOutValue::I8(-100));
  w.Set("u16", GgufOutValue::U16(60000));
  w.Set("i16", GgufOutValue::I16(-30000));
  w.Set("u32", GgufOutValue::U32(4000000000u));
  w.Set("i32", GgufOutValue::I32(-2000000000));
  w.Set("f32", GgufOutValue::F32(0.1f));
  w.Set("bool", GgufOutValue::Bool(true));
  w.Set("str", GgufOutValue::String("h\xC3\xA9llo"));
  w.Set("u64", GgufOutValue::U64(uint64_t{1} << 60));
  w.Set("i64", GgufOutValue::I64(-(int64_t{1} << 60)));
  w.Set("f64", GgufOutValue::F64(1e-300));
  w.Set("arr.i32", GgufOutValue::I32Array({1, -2, 3}));
  w.Set("arr.f32", GgufOutValue::F32Array({0.5f, -1.25f}));
  w.Set("arr.str", GgufOutValue::StringArray({"a", "", "\xE2\x96\x81x"}));
  w.Set("arr.empty", GgufOutValue::StringArray({}));
  w.Set("arr.nested",
        GgufOutValue::Array({GgufOutValue::I32Array({7}), GgufOutValue::I32Array({8, 9})}));
  w.Set("arr.bool", GgufOutValue::Array({GgufOutValue::Bool(false), GgufOutValue::Bool(true)}));
  EXPECT_THROW(w.SetU32("u8", 1), Error);

  struct T {
    const char* name;
    DType dtype;
    std::vector<int64_t> shape;
  };
  const std::vector<T> specs = {{"a.weight", DType::kF32, {3, 5}},
                                {"b.weight", DType::kF16, {7}},
                                {"c.weight", DType::kQ8_0, {4, 64}},
                                {"d.weight", DType::kQ4_0, {2, 3, 32}},
                                {"e.weight", DType::kBF16, {1}}};
  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < specs.size(); ++i) {
    const uint64_t n = w.AddTensor(specs[i].name, specs[i].dtype, specs[i].shape);
    data.push_back(RandomBytes(n, static_cast<uint32_t>(i)));
  }
  EXPECT_THROW(w.AddTensor("a.weight", DType::kF32, {1}), Error);
  EXPECT_THROW(w.AddTensor("bad", DType::kQ8_0, {2, 33}), Error);
  w.Begin(path);
  for (const auto& d : data) {  // in uneven pieces
    size_t pos = 0, step = 1;
    while (pos < d.size()) {
      const size_t n = std::min(step, d.size() - pos);
      w.WriteData(d.data() + pos, n);
      pos += n;
      step = step * 3 + 1;
    }
  }
  w.Finish();
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));

  const GgufFile f = GgufFile::Open(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  auto get = [&](const char* key) {
    const GgufValue* v = f.Find(key);
    EXPECT_NE(v, nullptr) << key;
    return v ? *v : GgufValue{};
  };
  EXPECT_EQ(ScalarOf<uint8_t>(get("u8")), 200);
  EXPECT_EQ(ScalarOf<int8_t>(get("i8")), -100);
  EXPECT_EQ(ScalarOf<uint16_t>(get("u16")), 60000);
  EXPECT_EQ(ScalarOf<int16_t>(get("i16")), -30000);
  EXPECT_EQ(ScalarOf<uint32_t>(get("u32")), 4000000000u);
  EXPECT_EQ(ScalarOf<int32_t>(get("i32")), -2000000000);
  EXPECT_EQ(ScalarOf<float>(get("f32")), 0.1f);
  EXPECT_EQ(get("bool").ToBool(), true);
  EXPECT_EQ(get("str").ToString(), "h\xC3\xA9llo");
  EXPECT_EQ(ScalarOf<uint64_t>(get("u64")), uint64_t{1} << 60);
  EXPECT_EQ(ScalarOf<int64_t>(get("i64")), -(int64_t{1} << 60));
  EXPECT_EQ(ScalarOf<double>(get("f64")), 1e-300);
  const GgufType types[] = {GgufType::kUint8,   GgufType::kInt8,   GgufType::kUint16,
                            GgufType::kInt16,   GgufType::kUint32, GgufType::kInt32,
                            GgufType::kFloat32, GgufType::kBool,   GgufType::kString,
                            GgufType::kUint64,  GgufType::kInt64,  GgufType::kFloat64};
  const char* keys[] = {"u8",  "i8",   "u16", "i16", "u32", "i32",
                        "f32", "bool", "str", "u64", "i64", "f64"};
  for (size_t i = 0; i < std::size(keys); ++i) EXPECT_EQ(get(keys[i]).type, types[i]) << keys[i];
  std::vector<int64_t> ints;
  ASSERT_TRUE(get("arr.i32").ToIntArray(&ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(get("arr.i32").elem_type, GgufType::kInt32);
  std::vector<float> floats;
  ASSERT_TRUE(get("arr.f32").ToFloatArray(&floats));
  EXPECT_EQ(floats, (std::vector<float>{0.5f, -1.25f}));
  std::vector<std::string> strs;
  ASSERT_TRUE(get("arr.str").ToStringArray(&strs));
  EXPECT_EQ(strs, (std::vector<std::string>{"a", "", "\xE2\x96\x81x"}));
  EXPECT_EQ(get("arr.empty").count, 0u);
  const GgufValue nested = get("arr.nested");
  ASSERT_EQ(nested.elem_type, GgufType::kArray);
  ASSERT_EQ(nested.arrays.size(), 2u);
  ASSERT_TRUE(nested.arrays[1].ToIntArray(&ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{8, 9}));
  std::vector<bool> bools;
  ASSERT_TRUE(get("arr.bool").ToBoolArray(&bools));
  EXPECT_EQ(bools, (std::vector<bool>{false, true}));
  EXPECT_EQ(f.kvs().size(), 18u + (alignment != 32 ? 1u : 0u));

  ASSERT_EQ(f.tensors().size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    EXPECT_EQ(t.name, specs[i].name);
    EXPECT_EQ(t.dtype, specs[i].dtype);
    EXPECT_EQ(t.offset % alignment, 0u);
    ASSERT_EQ(t.view.n_dims, static_cast<int>(specs[i].shape.size()));
    for (int d = 0; d < t.view.n_dims; ++d) EXPECT_EQ(t.view.dim(d), specs[i].shape[size_t(d)]);
    ASSERT_EQ(t.n_bytes, data[i].size());
    EXPECT_EQ(std::memcmp(t.view.data, data[i].data(), data[i].size()), 0) << t.name;
  }
}

TEST(GgufWriter, RoundTripsEveryMetadataTypeAndTensorBytes) {
  WriteAndCheck(32);
}

TEST(GgufWriter, HonoursACustomAlignment) {
  WriteAndCheck(128);
}

TEST(GgufWriter, RejectsMisuseAndLeavesNoPartialFile) {
  const std::string dir = test::MakeTempDir("gguf_writer_misuse");
  EXPECT_THROW(GgufWriter(24), Error);
  {
    GgufWriter w;
    w.AddTensor("t", DType::kF32, {4});
    w.Begin(dir + "/x.gguf");
    const float v[3] = {1, 2, 3};
    w.WriteData(v, sizeof(v));
    EXPECT_TRUE(std::filesystem::exists(dir + "/x.gguf.part"));
    EXPECT_THROW(w.Finish(), Error);  // one float missing
    const float more[2] = {4, 5};
    EXPECT_THROW(w.WriteData(more, sizeof(more)), Error);  // beyond the last tensor
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.gguf.part"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.gguf"));
  GgufWriter w;
  EXPECT_THROW(w.Begin(dir + "/no/such/dir/y.gguf"), Error);
  EXPECT_THROW(w.AddTensor(std::string(64, 'n'), DType::kF32, {1}), Error);
}

}  // namespace
}  // namespace gemma
