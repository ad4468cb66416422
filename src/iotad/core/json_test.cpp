#include "iotad/core/json.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace iotad {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsAndArrays) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a").Int(1);
  w.Key("b").BeginArray().Int(1).String("x").BeginObject().EndObject().BeginArray().EndArray();
  w.EndArray();
  w.Key("c").BeginObject().Key("d").Bool(true).Key("e").Bool(false).EndObject();
  w.Key("f").Null();
  w.Key("g").BeginArray().BeginArray().Int(1).Int(2).EndArray().BeginArray().Int(3).EndArray();
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(w.str(),
            R"({"a":1,"b":[1,"x",{},[]],"c":{"d":true,"e":false},"f":null,"g":[[1,2],[3]]})");
}

TEST(JsonWriterTest, WritesEmptyContainers) {
  EXPECT_EQ(JsonWriter().BeginObject().EndObject().str(), "{}");
  EXPECT_EQ(JsonWriter().BeginArray().EndArray().str(), "[]");
}

TEST(JsonWriterTest, WritesNumbersTimestampsAndRawText) {
  JsonWriter w;
  w.BeginArray()
      .Int(-42)
      .Int(std::numeric_limits<int64_t>::max())
      .Double(1.5)
      .Double(0.1)
      .Double(-2.25)
      .Timestamp(0)
      .Raw(R"({"k":[1]})")
      .EndArray();
  EXPECT_EQ(w.str(), R"([-42,9223372036854775807,1.5,0.1,-2.25,"1970-01-01T00:00:00Z",{"k":[1]}])");
}

TEST(JsonWriterTest, NonFiniteDoublesBecomeNull) {
  JsonWriter w;
  w.BeginObject()
      .Key("nan")
      .Double(std::nan(""))
      .Key("inf")
      .Double(std::numeric_limits<double>::infinity())
      .Key("neg_inf")
      .Double(-std::numeric_limits<double>::infinity())
      .Key("ok")
      .Double(2.5)
      .EndObject();
  EXPECT_EQ(w.str(), R"({"nan":null,"inf":null,"neg_inf":null,"ok":2.5})");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  JsonWriter w;
  w.BeginObject().Key("k\"ey").String("a\"b\\c\nd\re\tf").EndObject();
  EXPECT_EQ(w.str(), R"({"k\"ey":"a\"b\\c\nd\re\tf"})");

  std::string out;
  AppendJsonString(out, std::string_view("\x01\x1f\0x", 4));
  EXPECT_EQ(out, R"("\u0001\u001f\u0000x")");
}

TEST(JsonWriterTest, PassesUtf8AndPrintableAsciiThrough) {
  std::string out;
  AppendJsonString(out, "caf\xC3\xA9 / ~\x7f");
  EXPECT_EQ(out, "\"caf\xC3\xA9 / ~\x7f\"");
}

TEST(JsonWriterTest, TakeMovesTheTextOut) {
  JsonWriter w;
  w.BeginArray().String("x").EndArray();
  EXPECT_EQ(w.Take(), R"(["x"])");
}

}  // namespace
}  // namespace iotad
