#include "lib/json.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "json_shape.hpp"

namespace {

struct StrSink final : lib::Sink {
  std::string s;
  void write(const char* p, usize n) override { s.append(p, n); }
};

TEST(Json, Document) {
  StrSink out;
  lib::Json j(out);
  j.begin_object().key("cpus").begin_array();
  j.begin_object()
      .member("index", u64{0})
      .member_addr("slot", 0xffffff8000000000)
      .member("state", "online")
      .end_object();
  j.begin_object().member("index", u64{1}).member("up", true).key("x").null().end_object();
  j.end_array().member_hex("cr0", 0x80010011).member_hex("esr", 0, 8).member_fixed("us", 4741761701, 3);
  j.member("neg", i64{-5}).end_object();
  ASSERT_TRUE(j.finish());
  EXPECT_EQ(out.s,
            "{\"cpus\":[{\"index\":0,\"slot\":\"0xffffff8000000000\",\"state\":\"online\"},"
            "{\"index\":1,\"up\":true,\"x\":null}],\"cr0\":\"0x80010011\",\"esr\":\"0x00000000\","
            "\"us\":4741761.701,\"neg\":-5}\n");
}

TEST(Json, EmptyContainersAndFixed) {
  StrSink out;
  lib::Json j(out);
  j.begin_object().key("a").begin_array().end_array().key("o").begin_object().end_object();
  j.member_fixed("small", 5, 3).member_fixed("whole", 7, 0).end_object();
  ASSERT_TRUE(j.finish());
  EXPECT_EQ(out.s, "{\"a\":[],\"o\":{},\"small\":0.005,\"whole\":7}\n");
}

TEST(Json, Escapes) {
  StrSink out;
  lib::Json j(out);
  const char raw[] = {'a', '"', '\\', '\n', '\r', '\t', 1, 0x7f, static_cast<char>(0xe9), 'z'};
  j.begin_array().str(raw, sizeof raw).str("q\"k").end_array();
  ASSERT_TRUE(j.finish());
  EXPECT_EQ(out.s, "[\"a\\\"\\\\\\n\\r\\t\\u0001\\u007f\\u00e9z\",\"q\\\"k\"]\n");
}

TEST(Json, MisuseIsRecorded) {
  {
    StrSink out;
    lib::Json j(out);
    j.begin_object().num(1);  // a value without its key
    EXPECT_FALSE(j.ok());
    EXPECT_FALSE(j.finish());
  }
  {
    StrSink out;
    lib::Json j(out);
    j.begin_array().key("k");  // a key in an array
    EXPECT_FALSE(j.ok());
  }
  {
    StrSink out;
    lib::Json j(out);
    j.begin_object().end_array();  // the wrong close
    EXPECT_FALSE(j.ok());
  }
  {
    StrSink out;
    lib::Json j(out);
    j.begin_object().key("k").end_object();  // a key without its value
    EXPECT_FALSE(j.ok());
  }
  {
    StrSink out;
    lib::Json j(out);
    j.num(1).num(2);  // two documents
    EXPECT_FALSE(j.ok());
  }
  {
    StrSink out;
    lib::Json j(out);
    j.begin_object();  // not complete
    EXPECT_TRUE(j.ok());
    EXPECT_FALSE(j.finish());
    EXPECT_EQ(out.s, "{");
  }
  {
    StrSink out;
    lib::Json j(out);
    for (unsigned i = 0; i < lib::Json::kMaxDepth + 1; ++i) j.begin_array();
    EXPECT_FALSE(j.ok());
    EXPECT_EQ(j.depth(), lib::Json::kMaxDepth);
  }
}

// Random sequences of calls: the writer never writes past what it was given, and a
// sequence it accepts (ok() and finish()) is a document whose brackets balance outside
// strings and which has no control character.
TEST(Json, RandomCallsStayWellFormed) {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    StrSink out;
    lib::Json j(out);
    const int n = static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) {
      switch (rng() % 9) {
        case 0: j.begin_object(); break;
        case 1: j.end_object(); break;
        case 2: j.begin_array(); break;
        case 3: j.end_array(); break;
        case 4: j.key("k"); break;
        case 5: j.num(rng()); break;
        case 6: {
          char s[4] = {static_cast<char>(rng()), static_cast<char>(rng()), static_cast<char>(rng()), 0};
          j.str(s, 3);
          break;
        }
        case 7: j.hex(rng(), static_cast<unsigned>(rng() % 20)); break;
        default: j.fixed(rng() % 100000, static_cast<unsigned>(rng() % 4)); break;
      }
    }
    if (!j.finish()) continue;
    EXPECT_EQ(test::json_shape_error(out.s), "") << out.s;
  }
}

}  // namespace
