// RowRecorder and RecordedRows::Replay: a parse recorded in chunks and replayed after the parser
// is gone makes exactly the calls the parse made on a sink directly, in the same order.
#include "iotad/parse/recorded_rows.h"

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "iotad/parse/event_sink_test_util.h"

namespace iotad::parse {
namespace {

using SequenceSink = test_util::EventSink;  // its `calls`: every call in order

// A recording is moved from thread to thread (and through vectors that grow): a move must keep
// its views valid and never fall back to a copy.
static_assert(std::is_nothrow_move_constructible_v<RecordedRows>);
static_assert(!std::is_copy_constructible_v<RecordedRows>);

using ParseFn = ParseCounts (*)(std::string_view, const ColumnRoles&, RowSink&);

/// The calls of a direct parse, and those of the same parse recorded in chunks of `max_rows`
/// rows and replayed once the parse is over (the parser and its scratch gone).
std::pair<std::vector<std::string>, std::vector<std::string>> DirectAndReplayed(ParseFn parse, const std::string& data,
                                                                                size_t max_rows, size_t* chunks) {
  const ColumnRoles roles;
  SequenceSink direct;
  const ParseCounts want = parse(data, roles, direct);
  std::vector<RecordedRows> recorded;
  RowRecorder recorder(data, max_rows, [&](RecordedRows&& r) { recorded.push_back(std::move(r)); });
  const ParseCounts got = parse(data, roles, recorder);
  recorder.Finish();
  EXPECT_EQ(got, want);
  SequenceSink replayed;
  for (const RecordedRows& r : recorded) {
    EXPECT_LE(r.rows(), max_rows);
    r.Replay(replayed);
  }
  *chunks = recorded.size();
  return {direct.calls, replayed.calls};
}

// Quoted cells (unescaped into the parser's scratch), a doubled quote, invalid UTF-8 in a
// location (a replaced character: text the parser made), a bad number (a cell reject), rows the
// parser rejects, and a blank line.
const std::string kCsv =
    "event_time,device_id,location,temperature,humidity\n"
    "2026-01-01T00:00:00Z,dev-1,\"hall \"\"A\"\"\",21.5,40\n"
    "2026-01-01T00:01:00Z,\"dev-2\",roof,21.6,\n"
    "not a time,dev-3,roof,1,2\n"
    "2026-01-01T00:02:00Z,dev-1,hall \xff,21.7,4x1\n"
    "\n"
    "2026-01-01T00:03:00Z,dev-2,roof,21.8\n"
    "2026-01-01T00:04:00Z,dev-3,\"cellar,\nnorth\",19.0,55\n"
    "2026-01-01T00:05:00Z,,roof,1,2\n"
    "2026-01-01T00:06:00Z,dev-1,hall,22.0,41\n";

TEST(RecordedRowsTest, ReplayingACsvParseInChunksMakesTheSameCallsInTheSameOrder) {
  for (const size_t max_rows : {size_t{1}, size_t{2}, size_t{3}, size_t{1000}}) {
    size_t chunks = 0;
    const auto [direct, replayed] = DirectAndReplayed(&ParseCsv, kCsv, max_rows, &chunks);
    ASSERT_GE(direct.size(), 10u);  // schema, 5 rows, 4 rejects, a cell reject
    EXPECT_EQ(replayed, direct) << "chunks of " << max_rows << " rows";
    if (max_rows == 1) {
      EXPECT_GE(chunks, 5u);
    }
  }
}

TEST(RecordedRowsTest, ReplayingAJsonLinesParseMakesTheSameCalls) {
  const std::string jsonl =
      "{\"ts\":\"2026-01-01T00:00:00Z\",\"device\":\"dev-\\u0031\",\"site\":{\"room\":\"a\\\"b\"},\"t\":1.5}\n"
      "{\"ts\":\"2026-01-01T00:01:00Z\",\"device\":\"dev-2\",\"t\":\"x\"}\n"
      "not json\n"
      "{\"ts\":\"2026-01-01T00:02:00Z\",\"device\":\"dev-2\",\"site\":{\"room\":\"c\"},\"t\":2.5,\"u\":[1]}\n";
  for (const size_t max_rows : {size_t{1}, size_t{1000}}) {
    size_t chunks = 0;
    const auto [direct, replayed] = DirectAndReplayed(&ParseJsonLines, jsonl, max_rows, &chunks);
    ASSERT_GE(direct.size(), 5u);
    EXPECT_EQ(replayed, direct) << "chunks of " << max_rows << " rows";
  }
}

TEST(RecordedRowsTest, TextTheParserMadeIsCopiedAndTextOfTheInputIsNot) {
  // Replayed from copies of the input that are then overwritten: rows still read the input's
  // bytes (views), so they see the overwrite; the unescaped quoted cell is the recording's own.
  std::string data = kCsv;
  std::vector<RecordedRows> recorded;
  RowRecorder recorder(data, 1000, [&](RecordedRows&& r) { recorded.push_back(std::move(r)); });
  ParseCsv(data, ColumnRoles{}, recorder);
  recorder.Finish();
  ASSERT_EQ(recorded.size(), 1u);
  for (char& ch : data) {
    if (ch == 'r') ch = 'R';  // "roof" -> "Roof" in the input
  }
  SequenceSink replayed;
  recorded[0].Replay(replayed);
  std::string all = fmt::format("{}", fmt::join(replayed.calls, "\n"));
  EXPECT_NE(all.find("dims=[Roof]"), std::string::npos) << all;      // a view into the input
  EXPECT_NE(all.find("dims=[hall \"A\"]"), std::string::npos) << all;  // the parser's unescaped copy
}

TEST(RecordedRowsTest, AnEmptyParseHandsOverTheSchemaAlone) {
  std::vector<RecordedRows> recorded;
  const std::string data = "event_time,device_id,t\n";
  RowRecorder recorder(data, 10, [&](RecordedRows&& r) { recorded.push_back(std::move(r)); });
  ParseCsv(data, ColumnRoles{}, recorder);
  recorder.Finish();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].rows(), 0u);
  SequenceSink replayed;
  recorded[0].Replay(replayed);
  ASSERT_EQ(replayed.calls.size(), 1u);
  EXPECT_EQ(replayed.calls[0].rfind("schema", 0), 0u);
  EXPECT_EQ(recorder.metric_names(), std::vector<std::string>{"t"});
}

}  // namespace
}  // namespace iotad::parse
