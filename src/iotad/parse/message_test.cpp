// The single-message entry points (CsvMessageParser, JsonMessageParser) against the whole-file
// ones (ParseCsv, ParseJsonLines): the same lines give the same rows, rejects (reason, detail,
// line, raw) and cell rejects, whichever way they come in.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "iotad/parse/event_sink_test_util.h"
#include "iotad/parse/row_parser.h"

namespace iotad::parse {
namespace {

using test_util::EventSink;

/// Physical lines of `text` (without their LF).
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const size_t end = nl == std::string::npos ? text.size() : nl;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}


void ExpectSameCounts(const ParseCounts& a, const ParseCounts& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.blank_lines, b.blank_lines);
  EXPECT_EQ(a.physical_lines, b.physical_lines);
  EXPECT_EQ(a.zoneless_timestamps, b.zoneless_timestamps);
  EXPECT_EQ(a.rounded_timestamps, b.rounded_timestamps);
  EXPECT_EQ(a.null_cells, b.null_cells);
  EXPECT_EQ(a.replaced_characters, b.replaced_characters);
  EXPECT_EQ(a.cell_rejects, b.cell_rejects);
}

/// Parses `file` whole, and again as a header plus one message per data line (the header typed
/// from the same lines); both must report the same.
void ExpectCsvMessagesMatchFile(const std::string& file, const ColumnRoles& roles) {
  EventSink whole;
  const ParseCounts whole_counts = ParseCsv(file, roles, whole);

  const size_t nl = file.find('\n');
  ASSERT_NE(nl, std::string::npos);
  const std::string rest = file.substr(nl + 1);
  const CsvHeader header = CsvHeader::Make(std::string_view(file).substr(0, nl), roles, rest);
  EventSink messages;
  CsvMessageParser parser(header);
  ParseCounts counts;
  counts.physical_lines = 1;  // the header
  counts.replaced_characters = header.replaced_characters();
  const std::vector<std::string> lines = Lines(rest);
  for (size_t i = 0; i < lines.size(); ++i) {
    const ParseCounts c = parser.Parse(lines[i], static_cast<int64_t>(i) + 2, messages);
    EXPECT_EQ(c.physical_lines, 1) << lines[i];
    counts += c;
  }
  if (!lines.empty()) {  // no message, no schema sent
    EXPECT_EQ(messages.schemas, whole.schemas);
  }
  EXPECT_EQ(messages.events, whole.events);
  ExpectSameCounts(counts, whole_counts);
}

/// Parses `file` whole, and again one message per line with the file as the sample.
void ExpectJsonMessagesMatchFile(const std::string& file, const ColumnRoles& roles) {
  EventSink whole;
  const ParseCounts whole_counts = ParseJsonLines(file, roles, whole);
  JsonMessageParser parser(roles, file);
  EventSink messages;
  ParseCounts counts;
  const std::vector<std::string> lines = Lines(file);
  for (size_t i = 0; i < lines.size(); ++i) counts += parser.Parse(lines[i], static_cast<int64_t>(i) + 1, messages);
  if (!lines.empty()) {  // no message, no schema sent
    EXPECT_EQ(messages.schemas, whole.schemas);
  }
  EXPECT_EQ(messages.events, whole.events);
  ExpectSameCounts(counts, whole_counts);
}

const std::string kMixedCsv =
    "event_time,device_id,location,temp,humidity,firmware\n"
    "2024-03-01T10:00:00Z,d1,lab,20.5,40,v1\n"              // good
    "2024-03-01T10:00:01Z,d1,lab,21.5x,41,v1\n"             // one bad cell, row kept
    "2024-03-01T10:00:02Z,d1,lab,abc,xyz,v1\n"              // every metric bad: row rejected
    "2024-03-01T10:00:03Z,d1,lab,NA,,v1\n"                  // null tokens
    "not a time,d1,lab,1,2,v1\n"                            // bad_timestamp
    ",d1,lab,1,2,v1\n"                                      // missing_timestamp
    "2024-03-01T10:00:04Z,,lab,1,2,v1\n"                    // missing_device_id
    "2024-03-01T10:00:05Z,d1,lab,1\n"                       // partial row: wrong_column_count
    "\n"                                                    // blank
    "2024-03-01T10:00:06Z,d\xff" "1,lab,1,2,v1\n"           // invalid UTF-8 device: bad_encoding
    "2024-03-01T10:00:07Z,d2,Z\xfcrich,1,2,v\xc3\n"         // invalid UTF-8 text: replaced
    "2024-03-01T10:00:08,d2,\"a, quoted\",3,4,\"v\"\"2\"\n" // zone-less, quotes
    "2024-03-01T10:00:09.1234567Z,d2,lab,5,6,v2\n"          // rounded
    "2024-03-01T10:00:10Z,d2,\"open,7,8,v2\n"               // unterminated quote
    "20240301,d2,lab,1,2,v2\n"                              // ambiguous all-digit time
    "1709287211000,d3,lab,1e3,-2,v3\r\n";                   // epoch ms, CRLF

/// How many of `events` start with `prefix`.
int Count(const std::vector<std::string>& events, const std::string& prefix) {
  int n = 0;
  for (const auto& e : events) n += e.find(prefix) != std::string::npos ? 1 : 0;
  return n;
}

TEST(CsvMessageParserTest, EachLineGivesWhatTheWholeFileGives) {
  ExpectCsvMessagesMatchFile(kMixedCsv, ColumnRoles());
  // The file has every kind of line the comparison should cover.
  EventSink whole;
  ParseCsv(kMixedCsv, ColumnRoles(), whole);
  for (const char* what : {"row line=", "cell line=3 temp bad_number", "reject line=4 bad_number",
                           "reject line=6 bad_timestamp", "reject line=7 missing_timestamp",
                           "reject line=8 missing_device_id", "reject line=9 wrong_column_count",
                           "reject line=11 bad_encoding", "Z\xEF\xBF\xBDrich", "reject line=15 unterminated_quote",
                           "reject line=16 bad_timestamp"}) {
    EXPECT_GE(Count(whole.events, what), 1) << what;
  }
}

TEST(CsvMessageParserTest, MatchesTheFileWithLatin1KnownMetricsAndAShortLineLimit) {
  ColumnRoles roles;
  roles.encoding = TextEncoding::kLatin1;
  roles.known_metrics = {"firmware"};  // text in a metric the lake has: per-cell bad_number
  roles.max_line_bytes = 44;           // some lines are line_too_long
  roles.default_utc_offset_minutes = 90;
  ExpectCsvMessagesMatchFile(kMixedCsv, roles);
}

TEST(CsvMessageParserTest, MatchesTheFileOnADetectedSemicolonDelimiterWithDecimalCommas) {
  const std::string file =
      "Timestamp;Device;Temp;Hour\n"
      "2024-03-01T10:00:00Z;d1;20,5;3\n"
      "2024-03-01T10:00:01Z;d1;1.234,5;4\n"  // not a decimal comma: bad cell
      "2024-03-01T10:00:02Z;d1;21;x\n"
      "2024-03-01T10:00:03Z,d1,21,5\n";      // split on ';' this has one column
  ExpectCsvMessagesMatchFile(file, ColumnRoles());
  const CsvHeader header = CsvHeader::Make("Timestamp;Device;Temp;Hour", ColumnRoles(), file);
  EXPECT_EQ(header.delimiter(), ';');
  EXPECT_EQ(header.metric_names(), (std::vector<std::string>{"temp", "hour_value"}));
}

TEST(CsvMessageParserTest, ABadHeaderRejectsEveryMessageWithTheFilesReason) {
  const std::string file = "when,device_id,temp\n2024-03-01T10:00:00Z,d1,1\n\n2024-03-01T10:00:01Z,d1,2\n";
  ExpectCsvMessagesMatchFile(file, ColumnRoles());
  const CsvHeader header = CsvHeader::Make("when,device_id,temp", ColumnRoles());
  EXPECT_NE(header.problem().find("no time column"), std::string::npos) << header.problem();
  EventSink sink;
  CsvMessageParser parser(header);
  parser.Parse("2024-03-01T10:00:00Z,d1,1", 7, sink);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].rfind("reject line=7 bad_header: the header has no time column", 0), 0u) << sink.events[0];
}

TEST(CsvMessageParserTest, TheConfiguredTimeColumnAndDelimiterAreUsed) {
  ColumnRoles roles;
  roles.time_columns = {"reading_at"};
  roles.delimiter = '|';
  CsvMessageParser parser(CsvHeader::Make("reading_at|device_id|temp", roles));
  EventSink sink;
  const ParseCounts c = parser.Parse("2024-03-01T10:00:00Z|d1|20\n", 1, sink);
  EXPECT_EQ(c.rows, 1);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0], "row line=1 ts=1709287200000000 device=d1 dims=[] metrics=[20]");
}

TEST(CsvMessageParserTest, WithoutASampleAnUnknownColumnIsAMetricAndTheSampleTypesText) {
  EventSink sink;
  CsvMessageParser numbers(CsvHeader::Make("ts,device,status", ColumnRoles()));
  EXPECT_EQ(numbers.header().metric_names(), std::vector<std::string>{"status"});
  numbers.Parse("2024-03-01T10:00:00Z,d1,ok", 1, sink);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].rfind("reject line=1 bad_number: column 'status'", 0), 0u) << sink.events[0];

  const CsvHeader typed = CsvHeader::Make("ts,device,status", ColumnRoles(), "2024-03-01T10:00:00Z,d1,ok\n");
  EXPECT_TRUE(typed.metric_names().empty());
  EXPECT_EQ(typed.dimension_names(), (std::vector<std::string>{"location", "status"}));
}

TEST(CsvMessageParserTest, AMessageMayHoldSeveralLinesAndAQuotedLineBreak) {
  CsvMessageParser parser(CsvHeader::Make("ts,device,note,v", ColumnRoles(), "2024-03-01T10:00:00Z,d1,x,1\n"));
  EventSink sink;
  const ParseCounts c = parser.Parse("2024-03-01T10:00:00Z,d1,\"two\nlines\",1\n2024-03-01T10:00:01Z,d1,y,2\n", 10, sink);
  EXPECT_EQ(c.rows, 2);
  EXPECT_EQ(c.physical_lines, 3);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0], "row line=10 ts=1709287200000000 device=d1 dims=[|two\nlines] metrics=[1]");
  EXPECT_EQ(sink.events[1], "row line=12 ts=1709287201000000 device=d1 dims=[|y] metrics=[2]");
}

const std::string kMixedJson =
    R"({"event_time":"2024-03-01T10:00:00Z","device_id":"d1","temp":20.5,"ok":true,"site":"lab"})" "\n"
    R"({"event_time":"2024-03-01T10:00:01Z","ts":"x","device_id":"d1","temp":"21.5x","rh":"40"})" "\n"
    R"({"event_time":"2024-03-01T10:00:02Z","device_id":"d1","temp":"abc"})" "\n"        // bad_number
    R"({"event_time":"2024-03-01T10:00:03Z","device_id":"d1","env":{"temp":1,"deep":{"x":{"y":{"z":2}}}}})" "\n"
    R"({"event_time":"2024-03-01T10:00:04Z","device_id":"d1","list":[1,2],"temp":3})" "\n"
    R"({"event_time":"2024-03-01T10:00:05Z","device_id":"d1","temp":1,"TEMP":2})" "\n"  // duplicate key
    R"(["not","an","object"])" "\n"
    R"({"event_time":"2024-03-01T10:00:06Z","device_id":"d1","temp":)" "\n"  // truncated
    "\n"
    "{\"event_time\":\"2024-03-01T10:00:07Z\",\"device_id\":\"d\xff\",\"temp\":1}\n"      // bad_encoding
    "{\"event_time\":\"2024-03-01T10:00:08Z\",\"device_id\":\"d2\",\"site\":\"Z\xfcrich\",\"temp\":1}\n"
    R"({"event_time":1709287209,"device_id":42,"temp":null,"site":null})" "\n"
    R"({"event_time":"2024-03-01T10:00:10","device_id":"d2","hour":5,"temp":2})" "\n"   // zone-less, reserved
    R"({"device_id":"d2","temp":2})" "\n"                                               // missing_timestamp
    R"({"event_time":"2024-03-01T10:00:11Z","temp":2})" "\r\n";                         // missing_device_id

TEST(JsonMessageParserTest, EachLineGivesWhatTheWholeFileGives) {
  ExpectJsonMessagesMatchFile(kMixedJson, ColumnRoles());
  EventSink whole;
  ParseJsonLines(kMixedJson, ColumnRoles(), whole);
  for (const char* what : {"row line=1 ", "cell line=2 temp bad_number", "reject line=3 bad_number",
                           "metrics=[NULL|NULL|NULL|1|NULL]", "cell line=4 env_deep_x_y unsupported_value",
                           "cell line=5 list unsupported_value", "reject line=6 bad_json: the object has the key",
                           "reject line=7 bad_json", "reject line=8 bad_json", "reject line=10 bad_encoding",
                           "Z\xEF\xBF\xBDrich", "device=42", "reject line=14 missing_timestamp",
                           "reject line=15 missing_device_id"}) {
    EXPECT_GE(Count(whole.events, what), 1) << what;
  }
  EXPECT_EQ(whole.schemas, std::vector<std::string>{"dims=[location,site,ts] metrics=[temp,ok,rh,env_temp,hour_value]"});
}

TEST(JsonMessageParserTest, MatchesTheFileWithLatin1FlattenDepthOneAndAShortLineLimit) {
  ColumnRoles roles;
  roles.encoding = TextEncoding::kLatin1;
  roles.json_flatten_depth = 1;
  roles.max_line_bytes = 90;
  roles.known_metrics = {"site"};
  ExpectJsonMessagesMatchFile(kMixedJson, roles);
}

TEST(JsonMessageParserTest, ANewKeyGrowsTheSchemaAndKeepsEarlierIndexes) {
  ColumnRoles roles;
  roles.time_columns = {"reading_at"};
  JsonMessageParser parser(roles);
  EventSink sink;
  parser.Parse(R"({"reading_at":"2024-03-01T10:00:00Z","device":"d1","temp":20})", 1, sink);
  parser.Parse(R"({"reading_at":"2024-03-01T10:00:01Z","device":"d1","temp":21})", 2, sink);
  parser.Parse(R"({"reading_at":"2024-03-01T10:00:02Z","device":"d1","rh":40,"mode":"eco","temp":22})", 3, sink);
  EXPECT_EQ(sink.schemas, (std::vector<std::string>{"dims=[location] metrics=[temp]",
                                                    "dims=[location,mode] metrics=[temp,rh]"}));
  EXPECT_EQ(sink.events, (std::vector<std::string>{
                             "row line=1 ts=1709287200000000 device=d1 dims=[] metrics=[20]",
                             "row line=2 ts=1709287201000000 device=d1 dims=[] metrics=[21]",
                             "row line=3 ts=1709287202000000 device=d1 dims=[|eco] metrics=[22|40]",
                         }));
}

TEST(JsonMessageParserTest, OneObjectOverSeveralLinesIsOneMessage) {
  JsonMessageParser parser(ColumnRoles{});
  EventSink sink;
  const ParseCounts c =
      parser.Parse("{\n  \"ts\": \"2024-03-01T10:00:00Z\",\n  \"device\": \"d1\",\n  \"v\": {\"a\": 1}\n}\n", 4, sink);
  EXPECT_EQ(c.rows, 1);
  EXPECT_EQ(c.physical_lines, 5);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0], "row line=4 ts=1709287200000000 device=d1 dims=[] metrics=[1]");
  EXPECT_EQ(parser.metric_names(), std::vector<std::string>{"v_a"});
}

TEST(JsonMessageParserTest, BadMessagesAreRejectsWithTheirReason) {
  JsonMessageParser parser(ColumnRoles{});
  EventSink sink;
  EXPECT_EQ(parser.Parse("", 1, sink).blank_lines, 1);
  EXPECT_EQ(parser.Parse("{\"ts\":1}{\"ts\":2}", 2, sink).rows, 1);  // two objects: not one message
  EXPECT_EQ(parser.Parse("{\"ts\":\"2024-03-01T10:00:00Z\",\"device\":\"\xc3\",\"v\":1}", 3, sink).rows, 1);
  EXPECT_EQ(parser.Parse("{\"ts\":\"2024-03-01T10:00:00Z\",\"device\":\"d1\",\"v\":[1]}", 4, sink).rows, 1);
  ASSERT_EQ(sink.events.size(), 4u);
  EXPECT_EQ(sink.events[0].rfind("reject line=2 bad_json: the line is not a JSON object", 0), 0u) << sink.events[0];
  EXPECT_EQ(sink.events[1].rfind("reject line=3 bad_encoding: device id '\xEF\xBF\xBD' is not valid UTF-8", 0), 0u)
      << sink.events[1];
  EXPECT_EQ(sink.events[2].rfind("cell line=4 v unsupported_value: an array", 0), 0u) << sink.events[2];
  EXPECT_EQ(sink.events[3], "row line=4 ts=1709287200000000 device=d1 dims=[] metrics=[NULL]");  // v: a metric since line 3
}

TEST(JsonMessageParserTest, ASampleWithABomIsReadAsTheFileIs) {
  const std::string file = "\xEF\xBB\xBF{\"ts\":\"2024-03-01T10:00:00Z\",\"device\":\"d1\",\"mode\":\"eco\"}\n";
  JsonMessageParser parser(ColumnRoles{}, file);
  EXPECT_EQ(parser.dimension_names(), (std::vector<std::string>{"location", "mode"}));
}

// Random lines made of pieces that stress both paths (no quotes for CSV: a quoted cell may span
// lines, which a message of one line cannot): every line gives the same calls either way.
TEST(MessageParserPropertyTest, RandomLinesGiveTheSameCallsAsTheirFile) {
  const std::vector<std::string> csv_pieces = {",", ";", "\t", "|", "\r", "\n", "\n", " ", "x", "12", "1,5", "NA",
                                               "2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "d1", "\xff", "\xc3\xbc"};
  const std::vector<std::string> json_pieces = {
      "\n", "{\"ts\":\"2024-01-01T00:00:00Z\",", "\"device\":\"d1\",", "\"device\":7,", "\"v\":1}", "\"v\":\"x\"}",
      "\"a\":{\"b\":2},", "\"l\":[1],", "\"s\":\"\xff\",", "\"hour\":3,", "}", "{", "\r", " ", "null", "\"n\":null,"};
  uint64_t x = 0x2545F4914F6CDD1DULL;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int round = 0; round < 200; ++round) {
    ColumnRoles roles;
    roles.max_line_bytes = 24 + next() % 64;
    roles.encoding = round % 2 == 0 ? TextEncoding::kUtf8 : TextEncoding::kLatin1;
    roles.json_flatten_depth = static_cast<int>(next() % 3);
    std::string csv = round % 3 == 0 ? "event_time,device_id,location,temp\n" : "ts;device;temp;hour\n";
    std::string json;
    const int n = static_cast<int>(next() % 120);
    for (int i = 0; i < n; ++i) {
      csv += csv_pieces[next() % csv_pieces.size()];
      json += json_pieces[next() % json_pieces.size()];
    }
    SCOPED_TRACE(round);
    ExpectCsvMessagesMatchFile(csv, roles);
    ExpectJsonMessagesMatchFile(json, roles);
  }
}

}  // namespace
}  // namespace iotad::parse
