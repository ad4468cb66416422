// `iotad report`: the real binary on a generated lake (plus a hostile device) writes one HTML
// file holding the page, its script and style inline and the API's answers as data; the figures
// in it equal `iotad sql` on the same lake; nothing in it fetches anything; hostile names stay text.
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

constexpr char kXss[] = "<img src=x onerror=alert(1)>";

class ReportE2eTest : public LakeE2eTest {
 protected:
  void SetUp() override {
    LakeE2eTest::SetUp();
    ASSERT_EQ(RunIotad({"generate", "--devices", "8", "--hours", "48", "--seed", "5", "--out", lake_ + "/inbox"}).exit_code, 0);
    // A device and a location whose names are markup: they must reach the file as data only.
    WriteFile(lake_ + "/inbox/hostile-20240102T05.csv",
              std::string("event_time,device_id,temp_c,humidity_pc,vibration_g,location\n") +
                  "2024-01-02T05:00:00Z," + kXss + ",21.5,60.0,0.03," + kXss + "\n" +
                  "2024-01-02T05:01:00Z," + kXss + ",22.5,61.0,0.03," + kXss + "\n");
    const CmdResult run = Iotad({"run"});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  }

  /// Writes a report with `args` and returns the file's text (the command must succeed).
  std::string Report(std::vector<std::string> args) {
    const std::string out = dir_ / "report.html";
    args.insert(args.begin(), {"report", "--out", out});
    const CmdResult r = Iotad(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("report.html"), std::string::npos) << r.out;
    return ReadFile(out);
  }

  /// The text of <script type="application/json" id="iotad-report-data">.
  static std::string DataOf(const std::string& html) {
    const std::string open = "id=\"iotad-report-data\"";
    const size_t at = html.find(open);
    EXPECT_NE(at, std::string::npos) << "no report data in the file";
    if (at == std::string::npos) return "{}";
    EXPECT_EQ(html.find(open, at + 1), std::string::npos) << "the report data appears twice";
    const size_t start = html.find('>', at) + 1;
    const size_t end = html.find("</script>", start);
    EXPECT_NE(end, std::string::npos);
    return html.substr(start, end - start);
  }

  simdjson::dom::parser parser_;
};

TEST_F(ReportE2eTest, OneSelfContainedFileWhoseFiguresEqualSql) {
  const std::string html = Report({"--from", "2024-01-02", "--to", "2024-01-03"});
  ASSERT_FALSE(html.empty());

  // The page, its style and its script are inline; nothing points at the server or the network.
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(html.find("/assets/"), std::string::npos) << "the report still links an asset of the server";
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(<script[^>]*\ssrc\s*=)", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(<link[^>]*href\s*=\s*"(?!data:))", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(<(img|iframe|object|embed)\b)", std::regex::icase)))
      << "an element that loads something (or the hostile name as markup)";
  // The script element holding the bundle ends only where the report closes it: exactly two
  // closing tags (data, bundle).
  size_t closings = 0;
  for (size_t at = html.find("</script"); at != std::string::npos; at = html.find("</script", at + 1)) ++closings;
  EXPECT_EQ(closings, 2u);

  const std::string data = DataOf(html);
  EXPECT_EQ(data.find('<'), std::string::npos) << "a raw '<' inside the embedded JSON";
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(data).get(doc), simdjson::SUCCESS) << data.substr(0, 500);
  for (const char* key : {"/api/filters", "/api/overview/totals", "/api/overview/anomalies_over_time",
                          "/api/overview/anomalies_by_device", "/api/overview/heatmap", "/api/overview/summary"}) {
    simdjson::dom::object answer;
    EXPECT_EQ(doc[key].get(answer), simdjson::SUCCESS) << "no answer for " << key;
  }

  // The range asked for is the range applied, and the figures are the lake's.
  EXPECT_EQ(std::string_view(doc["/api/overview/totals"]["meta"]["from"].get_string().value()), "2024-01-02T00:00:00Z");
  EXPECT_EQ(std::string_view(doc["/api/overview/totals"]["meta"]["to"].get_string().value()), "2024-01-03T00:00:00Z");
  const std::string range = "event_time >= TIMESTAMPTZ '2024-01-02 00:00:00+00' AND event_time < TIMESTAMPTZ '2024-01-03 00:00:00+00'";
  const long long readings = SqlInt(lake_, "SELECT count(*) FROM silver WHERE " + range);
  const long long anomalies = SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE " + range);
  ASSERT_GT(readings, 0);
  EXPECT_EQ(doc["/api/overview/totals"]["readings"].get_int64().value(), readings);
  EXPECT_EQ(doc["/api/overview/totals"]["anomalies"].get_int64().value(), anomalies);
  EXPECT_EQ(doc["/api/overview/totals"]["devices"].get_int64().value(),
            SqlInt(lake_, "SELECT count(DISTINCT device_id) FROM silver WHERE " + range));

  // One hourly point per hour of the day, adding up to the anomalies.
  simdjson::dom::array points = doc["/api/overview/anomalies_over_time"]["points"].get_array();
  EXPECT_EQ(points.size(), 24u);
  long long sum = 0;
  for (auto p : points) sum += p["anomalies"].get_int64().value();
  EXPECT_EQ(sum, anomalies);
  EXPECT_EQ(doc["/api/overview/summary"]["rows"].get_array().size(),
            static_cast<size_t>(SqlInt(lake_, "SELECT count(*) FROM (SELECT DISTINCT metric FROM gold_summary WHERE "
                                              "hour_start >= TIMESTAMPTZ '2024-01-02 00:00:00+00' AND "
                                              "hour_start < TIMESTAMPTZ '2024-01-03 00:00:00+00')")));

  // The hostile location is in the data, escaped, and nowhere in the file as markup.
  EXPECT_NE(data.find("\\u003cimg src=x onerror=alert(1)>"), std::string::npos);
  EXPECT_EQ(html.find(kXss), std::string::npos);
  bool found = false;
  for (auto l : doc["/api/filters"]["locations"].get_array()) {
    std::string_view s;
    if (l.get_string().get(s) == simdjson::SUCCESS && s == kXss) found = true;
  }
  EXPECT_TRUE(found) << "the hostile location is missing from /api/filters";
}

TEST_F(ReportE2eTest, FiltersNarrowTheReport) {
  const std::string all = DataOf(Report({"--from", "2024-01-01", "--to", "2024-01-03"}));
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(all).get(doc), simdjson::SUCCESS);
  const int64_t all_devices = doc["/api/overview/totals"]["devices"].get_int64().value();
  const std::string one = DataOf(Report({"--from", "2024-01-01", "--to", "2024-01-03", "--device", "dev-00001", "--metric", "temp_c"}));
  simdjson::dom::parser parser;
  simdjson::dom::element narrowed;
  ASSERT_EQ(parser.parse(one).get(narrowed), simdjson::SUCCESS);
  EXPECT_EQ(narrowed["/api/overview/totals"]["devices"].get_int64().value(), 1);
  EXPECT_GT(all_devices, 1);
  EXPECT_EQ(narrowed["/api/overview/totals"]["readings"].get_int64().value(),
            SqlInt(lake_, "SELECT count(*) FROM silver WHERE device_id = 'dev-00001' AND temp_c IS NOT NULL"));
  EXPECT_EQ(narrowed["/api/overview/summary"]["rows"].get_array().size(), 1u);
}

TEST_F(ReportE2eTest, BadRangeIsAClearErrorAndNoFile) {
  const std::string out = dir_ / "bad.html";
  const CmdResult r = Iotad({"report", "--from", "yesterday", "--out", out});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("from"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  const CmdResult missing = RunIotad({"report", "--lake", dir_ / "no-lake", "--out", out});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace iotad::e2e
