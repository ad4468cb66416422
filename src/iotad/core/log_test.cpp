#include "iotad/core/log.h"

#include <gtest/gtest.h>

namespace iotad::log {
namespace {

TEST(LogTest, JsonLineHasTsLevelMsgThenFieldsInOrder) {
  const TimestampUs ts = 1'700'000'000'123'456;
  const std::string line =
      FormatJsonLine(ts, Level::kInfo, "silver: 3 files",
                     {{"run_id", "20231114T221320Z-0001"}, {"stage", "silver"}, {"seq", int64_t{7}},
                      {"rows", 1200}, {"seconds", 0.25}, {"ok", true}, Field::Json("counts", "{\"a\":1}")});
  EXPECT_EQ(line,
            "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"level\":\"info\",\"msg\":\"silver: 3 files\","
            "\"run_id\":\"20231114T221320Z-0001\",\"stage\":\"silver\",\"seq\":7,\"rows\":1200,\"seconds\":0.25,"
            "\"ok\":true,\"counts\":{\"a\":1}}");
}

TEST(LogTest, JsonLineEscapesTextAndWritesNonFiniteAsNull) {
  const std::string line = FormatJsonLine(0, Level::kWarn, "skipped 'a\"b.csv':\nbad", {{"path", "c:\\x"},
                                                                                        {"z", 1.0 / 0.0}});
  EXPECT_EQ(line, "{\"ts\":\"1970-01-01T00:00:00Z\",\"level\":\"warn\",\"msg\":\"skipped 'a\\\"b.csv':\\nbad\","
                  "\"path\":\"c:\\\\x\",\"z\":null}");
}

TEST(LogTest, FieldsCannotShadowTheFixedKeys) {
  const std::string line = FormatJsonLine(0, Level::kError, "m", {{"msg", "other"}, {"level", "x"}, {"k", 1}});
  EXPECT_EQ(line.find("other"), std::string::npos);
  EXPECT_NE(line.find("\"k\":1"), std::string::npos);
}

TEST(LogTest, TextLineIsTheMessageAsPrintedBefore) {
  EXPECT_EQ(FormatTextLine("ingest: skipped 'x.csv': empty file (left in place)"),
            "iotad: ingest: skipped 'x.csv': empty file (left in place)");
}

TEST(LogTest, ParsesLevelsAndFormatsAndRefusesOthers) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("off"), Level::kOff);
  EXPECT_EQ(ParseLevel("verbose").status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("xml").status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(LevelName(Level::kWarn), "warn");
}

TEST(LogTest, ThresholdFiltersLevels) {
  Configure(Format::kText, Level::kWarn);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
  Configure(Format::kJson, Level::kDebug);
  EXPECT_TRUE(Enabled(Level::kDebug));
  EXPECT_EQ(CurrentFormat(), Format::kJson);
  Configure(Format::kText, Level::kOff);
  EXPECT_FALSE(Enabled(Level::kError));
  Configure(Format::kText, Level::kWarn);
}

}  // namespace
}  // namespace iotad::log
