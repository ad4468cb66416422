// The dashboard's API in-process (Api::Handle) on lakes made by the real `iotad generate` + `iotad
// run`: every overview figure equals the same figure computed by `iotad sql` on the same lake; a
// day of a 3-day lake reads that day's files; hostile filter values match nothing; bad parameters
// are 400s; a query over its time limit is a 504.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <stdlib.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "e2e_util.h"
#include "iotad/serve/api.h"

namespace iotad::e2e {
namespace {

using serve::Api;
using serve::ApiOptions;
using serve::Request;
using serve::Response;

using Params = std::vector<std::pair<std::string, std::string>>;

/// CSV rows of `iotad sql --format csv` (header dropped), split on commas (our values hold none).
std::vector<std::vector<std::string>> SqlRows(const std::string& lake, const std::string& sql) {
  std::istringstream in(Sql(lake, sql));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

class ServeApiE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    lake_ = (*dir_) / "lake";
    auto init = RunIotad({"init", lake_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    // Three days of a dirty fleet: empty location cells, quarantined lines, late rows.
    auto gen = RunIotad({"generate", "--devices", "24", "--hours", "72", "--seed", "11", "--dirty", "--anomaly-rate",
                         "3", "--out", lake_ + "/inbox"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    auto run = RunIotad({"run", "--lake", lake_});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(dir_, nullptr);
    ASSERT_GT(SqlInt(lake_, "SELECT count(*) FROM anomalies"), 0) << "the fixture lake has no anomalies";
    auto api = Api::Open(lake_, ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status().message();
    api_ = std::move(*api);
  }

  simdjson::dom::element Call(const std::string& path, const Params& params = {}, int want_status = 200) {
    Request r;
    r.path = path;
    r.params = params;
    Response resp = api_->Handle(r);
    EXPECT_EQ(resp.status, want_status) << path << ": " << resp.body;
    bodies_.push_back(resp.body);
    simdjson::dom::element doc;
    EXPECT_EQ(parser_.emplace_back(std::make_unique<simdjson::dom::parser>())->parse(bodies_.back()).get(doc),
              simdjson::SUCCESS)
        << resp.body;
    return doc;
  }

  void CheckOverviewAgainstSql();

  static TempDir* dir_;
  static std::string lake_;
  std::unique_ptr<Api> api_;
  std::vector<std::unique_ptr<simdjson::dom::parser>> parser_;
  std::vector<std::string> bodies_;
};

TempDir* ServeApiE2eTest::dir_ = nullptr;
std::string ServeApiE2eTest::lake_;

/// One filter set of the overview and the same filters as SQL conditions.
struct Case {
  std::string name;
  Params params;
  std::string from, to;                   // SQL TIMESTAMPTZ literals
  std::string summary_where, anomaly_where, silver_where;
};

std::vector<Case> Cases(const std::string& lake) {
  const std::string device = SqlRows(lake, "SELECT min(device_id) FROM anomalies")[0][0];
  const std::string location = SqlRows(lake, "SELECT min(location) FROM silver WHERE device_id = '" + device + "'")[0][0];
  const std::string day2 = "TIMESTAMPTZ '2024-01-02 00:00:00+00'", day3 = "TIMESTAMPTZ '2024-01-03 00:00:00+00'";
  const std::string day1 = "TIMESTAMPTZ '2024-01-01 00:00:00+00'", day4 = "TIMESTAMPTZ '2024-01-04 00:00:00+00'";
  std::vector<Case> cases;
  // No range: the lake's data hours (3 days, under the 7-day clamp).
  cases.push_back({"default", {}, day1, day4, "true", "true", "true"});
  cases.push_back({"one day", {{"from", "2024-01-02"}, {"to", "2024-01-03"}}, day2, day3, "true", "true", "true"});
  cases.push_back({"metric+detector",
                   {{"from", "2024-01-02T00:00:00Z"}, {"to", "2024-01-04T00:00:00Z"}, {"metric", "temp_c"},
                    {"detector", "zscore,robust_zscore"}},
                   day2, day4, "metric = 'temp_c'", "metric = 'temp_c' AND detector IN ('zscore', 'robust_zscore')",
                   "temp_c IS NOT NULL"});
  cases.push_back({"location+device",
                   {{"location", location}, {"device", device}, {"device", "dev-99999"}},
                   day1, day4, fmt::format("location = '{}' AND device_id IN ('{}', 'dev-99999')", location, device),
                   fmt::format("location = '{}' AND device_id IN ('{}', 'dev-99999')", location, device),
                   fmt::format("location = '{}' AND device_id IN ('{}', 'dev-99999')", location, device)});
  // Whole hours without a device: readings are sums of the silver files' per-location counts.
  cases.push_back({"locations",
                   {{"location", location}, {"location", "Nowhere"}},
                   day1, day4, fmt::format("location IN ('{}', 'Nowhere')", location),
                   fmt::format("location IN ('{}', 'Nowhere')", location),
                   fmt::format("location IN ('{}', 'Nowhere')", location)});
  cases.push_back({"one day, location+metric",
                   {{"from", "2024-01-02"}, {"to", "2024-01-03"}, {"location", location}, {"metric", "temp_c"}},
                   day2, day3, fmt::format("location = '{}' AND metric = 'temp_c'", location),
                   fmt::format("location = '{}' AND metric = 'temp_c'", location),
                   fmt::format("location = '{}' AND temp_c IS NOT NULL", location)});
  return cases;
}

TEST_F(ServeApiE2eTest, EveryOverviewNumberEqualsIotadSql) { CheckOverviewAgainstSql(); }

TEST_F(ServeApiE2eTest, EveryOverviewNumberEqualsIotadSqlWithoutTheSummaryCache) {
  // The SQL paths the API takes when the decoded gold_summary partitions would not fit in memory.
  ASSERT_EQ(::setenv("IOTAD_SERVE_SUMMARY_CACHE_ROWS", "0", 1), 0);
  auto api = Api::Open(lake_, ApiOptions{});
  ::unsetenv("IOTAD_SERVE_SUMMARY_CACHE_ROWS");
  ASSERT_TRUE(api.ok()) << api.status().message();
  api_ = std::move(*api);
  CheckOverviewAgainstSql();
}

void ServeApiE2eTest::CheckOverviewAgainstSql() {
  for (const Case& c : Cases(lake_)) {
    SCOPED_TRACE(c.name);
    const std::string gs_range = fmt::format("hour_start >= {} AND hour_start < {}", c.from, c.to);
    const std::string ev_range = fmt::format("event_time >= {} AND event_time < {}", c.from, c.to);
    const std::string gs = gs_range + " AND " + c.summary_where, an = ev_range + " AND " + c.anomaly_where;

    auto totals = Call("/api/overview/totals", c.params);
    EXPECT_EQ(totals["devices"].get_int64().value(),
              SqlInt(lake_, "SELECT count(DISTINCT device_id) FROM gold_summary WHERE " + gs));
    EXPECT_EQ(totals["readings"].get_int64().value(),
              SqlInt(lake_, "SELECT count(*) FROM silver WHERE " + ev_range + " AND " + c.silver_where));
    const int64_t anomalies = SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE " + an);
    EXPECT_EQ(totals["anomalies"].get_int64().value(), anomalies);
    EXPECT_GT(totals["devices"].get_int64().value(), 0);
    EXPECT_EQ(std::string(totals["last_run"]["command"].get_string().value()), "run");
    EXPECT_EQ(std::string(totals["last_run"]["status"].get_string().value()), "ok");

    // Over time: one point per hour of the range, zero-filled, each the SQL count of its hour.
    auto over = Call("/api/overview/anomalies_over_time", c.params);
    std::map<std::string, int64_t> want_hours;
    for (const auto& row : SqlRows(lake_, "SELECT strftime(date_trunc('hour', event_time), '%Y-%m-%dT%H:00:00Z'), "
                                          "count(*) FROM anomalies WHERE " + an + " GROUP BY 1")) {
      want_hours[row[0]] = std::stoll(row[1]);
    }
    const int64_t hours = SqlInt(lake_, fmt::format("SELECT (epoch({}) - epoch({})) // 3600", c.to, c.from));
    EXPECT_EQ(std::string(over["bucket"].get_string().value()), "hour");
    EXPECT_EQ(static_cast<int64_t>(over["points"].get_array().size()), hours);
    int64_t sum = 0;
    for (auto p : over["points"].get_array()) {
      const std::string t(p["t"].get_string().value());
      const int64_t n = p["anomalies"].get_int64().value();
      EXPECT_EQ(n, want_hours.count(t) ? want_hours[t] : 0) << t;
      sum += n;
    }
    EXPECT_EQ(sum, anomalies);

    // By device: the top 20 with ties by id, and how many devices had any.
    auto bars = Call("/api/overview/anomalies_by_device", c.params);
    const auto want_bars = SqlRows(lake_, "SELECT device_id, count(*) AS n FROM anomalies WHERE " + an +
                                              " GROUP BY 1 ORDER BY n DESC, device_id LIMIT 20");
    ASSERT_EQ(bars["bars"].get_array().size(), want_bars.size());
    size_t i = 0;
    for (auto b : bars["bars"].get_array()) {
      EXPECT_EQ(std::string(b["device_id"].get_string().value()), want_bars[i][0]);
      EXPECT_EQ(b["anomalies"].get_int64().value(), std::stoll(want_bars[i][1]));
      ++i;
    }
    EXPECT_EQ(bars["devices_with_anomalies"].get_int64().value(),
              SqlInt(lake_, "SELECT count(DISTINCT device_id) FROM anomalies WHERE " + an));

    // Heatmap: gold_summary's pooled mean per (location, metric).
    auto heat = Call("/api/overview/heatmap", c.params);
    const auto want_cells = SqlRows(
        lake_, "SELECT coalesce(location, '<null>'), metric, sum(mean * rows) / sum(rows), sum(rows) FROM gold_summary "
               "WHERE " + gs + " AND mean IS NOT NULL AND rows > 0 GROUP BY location, metric ORDER BY location NULLS LAST, metric");
    ASSERT_EQ(heat["cells"].get_array().size(), want_cells.size());
    EXPECT_GT(want_cells.size(), 0u);
    i = 0;
    for (auto cell : heat["cells"].get_array()) {
      const std::string loc = cell["location"].is_null() ? "<null>" : std::string(cell["location"].get_string().value());
      EXPECT_EQ(loc, want_cells[i][0]);
      EXPECT_EQ(std::string(cell["metric"].get_string().value()), want_cells[i][1]);
      EXPECT_NEAR(cell["mean"].get_double().value(), std::stod(want_cells[i][2]),
                  1e-9 * std::max(1.0, std::fabs(std::stod(want_cells[i][2]))));
      EXPECT_EQ(cell["rows"].get_int64().value(), std::stoll(want_cells[i][3]));
      ++i;
    }

    // Summary: per metric, the pooled figures equal silver's own (mean, sample std, min, max, count).
    auto summary = Call("/api/overview/summary", c.params);
    size_t metrics = 0;
    for (auto row : summary["rows"].get_array()) {
      const std::string m(row["metric"].get_string().value());
      SCOPED_TRACE(m);
      ++metrics;
      // gold_summary's own figures (a location filter matches each hour's location there).
      const auto pooled = SqlRows(lake_, fmt::format("SELECT sum(rows), sum(mean * rows) / sum(rows), min(min), max(max) "
                                                     "FROM gold_summary WHERE {} AND metric = '{}' AND rows > 0",
                                                     gs, m))[0];
      EXPECT_EQ(row["readings"].get_int64().value(), std::stoll(pooled[0]));
      EXPECT_NEAR(row["mean"].get_double().value(), std::stod(pooled[1]),
                  1e-9 * std::max(1.0, std::fabs(std::stod(pooled[1]))));
      EXPECT_DOUBLE_EQ(row["min"].get_double().value(), std::stod(pooled[2]));
      EXPECT_DOUBLE_EQ(row["max"].get_double().value(), std::stod(pooled[3]));
      if (c.params.end() == std::find_if(c.params.begin(), c.params.end(), [](const auto& p) { return p.first == "location"; })) {
        // Without a location filter the pooled figures are silver's own (mean, sample std, min, max, count).
        const auto want = SqlRows(
            lake_, fmt::format("SELECT count({m}), avg({m}), stddev_samp({m}), min({m}), max({m}) FROM silver WHERE {r} "
                               "AND {w}",
                               fmt::arg("m", "\"" + m + "\""), fmt::arg("r", ev_range), fmt::arg("w", c.silver_where)))[0];
        EXPECT_EQ(row["readings"].get_int64().value(), std::stoll(want[0]));
        EXPECT_NEAR(row["mean"].get_double().value(), std::stod(want[1]),
                    1e-7 * std::max(1.0, std::fabs(std::stod(want[1]))));
        EXPECT_NEAR(row["std"].get_double().value(), std::stod(want[2]), 1e-6 * std::max(1.0, std::stod(want[2])));
        EXPECT_DOUBLE_EQ(row["min"].get_double().value(), std::stod(want[3]));
        EXPECT_DOUBLE_EQ(row["max"].get_double().value(), std::stod(want[4]));
      }
      EXPECT_EQ(row["devices"].get_int64().value(),
                SqlInt(lake_, fmt::format("SELECT count(DISTINCT device_id) FROM gold_summary WHERE {} AND metric = '{}'",
                                          gs, m)));
      EXPECT_EQ(row["anomalies"].get_int64().value(),
                SqlInt(lake_, fmt::format("SELECT count(*) FROM anomalies WHERE {} AND metric = '{}'", an, m)));
    }
    EXPECT_EQ(static_cast<int64_t>(metrics),
              SqlInt(lake_, "SELECT count(DISTINCT metric) FROM gold_summary WHERE " + gs));
  }
}

TEST_F(ServeApiE2eTest, QuarantinedCountsWholeRowsOfBronzeFilesOfTheRange) {
  // Bronze files sit under the hour of their rows (bronze/dt=2024-01-02/hour=5/...).
  const int64_t whole = SqlInt(lake_, "SELECT count(*) FROM quarantine WHERE column_name IS NULL");
  ASSERT_GT(whole, 0) << "the dirty fleet should have quarantined rows";
  EXPECT_EQ(Call("/api/overview/totals")["quarantined"].get_int64().value(), whole);
  const int64_t day2 = SqlInt(lake_, "SELECT count(*) FROM quarantine WHERE column_name IS NULL AND "
                                     "source_file LIKE 'bronze/dt=2024-01-02/%'");
  ASSERT_GT(day2, 0);
  ASSERT_LT(day2, whole);
  EXPECT_EQ(Call("/api/overview/totals", {{"from", "2024-01-02"}, {"to", "2024-01-03"}})["quarantined"].get_int64().value(),
            day2);
  EXPECT_EQ(Call("/api/overview/totals", {{"from", "2025-01-02"}, {"to", "2025-01-03"}})["quarantined"].get_int64().value(),
            0);
}

TEST_F(ServeApiE2eTest, OneDayOfAThreeDayLakeReadsOnlyThatDaysFiles) {
  const auto day2 = [&](const std::string& layer) {
    return static_cast<int64_t>(ListFiles(lake_, layer + "/year=2024/month=1/day=2").size());
  };
  const int64_t all_summary = static_cast<int64_t>(ListFiles(lake_, "gold_summary").size());
  ASSERT_EQ(day2("gold_summary"), 24);
  ASSERT_GT(all_summary, 60);
  const Params one_day{{"from", "2024-01-02"}, {"to", "2024-01-03"}};
  EXPECT_EQ(Call("/api/overview/heatmap", one_day)["meta"]["files"].get_int64().value(), day2("gold_summary"));
  EXPECT_EQ(Call("/api/overview/anomalies_over_time", one_day)["meta"]["files"].get_int64().value(), day2("gold"));
  EXPECT_EQ(Call("/api/overview/summary", one_day)["meta"]["files"].get_int64().value(),
            day2("gold_summary") + day2("gold"));
  auto meta = Call("/api/overview/heatmap", one_day)["meta"];
  EXPECT_EQ(std::string(meta["from"].get_string().value()), "2024-01-02T00:00:00Z");
  EXPECT_EQ(std::string(meta["to"].get_string().value()), "2024-01-03T00:00:00Z");
  EXPECT_TRUE(meta["cached"].get_bool().value());  // the same view twice on one snapshot
  // The whole lake reads every summary file.
  EXPECT_EQ(Call("/api/overview/heatmap")["meta"]["files"].get_int64().value(), all_summary);
}

TEST_F(ServeApiE2eTest, HostileFilterValuesMatchNothing) {
  const Params everything{};
  const int64_t all = Call("/api/overview/totals", everything)["anomalies"].get_int64().value();
  ASSERT_GT(all, 0);
  for (const std::string hostile : {"x' OR '1'='1", "') OR true --", "dev-00001' UNION SELECT 1 --", "\" OR 1=1 --",
                                    "%' OR device_id LIKE '%", "*"}) {
    SCOPED_TRACE(hostile);
    for (const char* param : {"device", "location", "metric", "detector"}) {
      auto totals = Call("/api/overview/totals", {{param, hostile}});
      EXPECT_EQ(totals["anomalies"].get_int64().value(), 0) << param;
      auto bars = Call("/api/overview/anomalies_by_device", {{param, hostile}});
      EXPECT_EQ(bars["bars"].get_array().size(), 0u) << param;
    }
    auto totals = Call("/api/overview/totals", {{"device", hostile}});
    EXPECT_EQ(totals["readings"].get_int64().value(), 0);
    EXPECT_EQ(totals["devices"].get_int64().value(), 0);
    Call("/api/device", {{"id", hostile}}, 404);
    Call("/api/device/series", {{"id", hostile}}, 404);
    EXPECT_EQ(Call("/api/device/quarantine", {{"id", hostile}})["rows"].get_array().size(), 0u);
    EXPECT_EQ(Call("/api/devices", {{"q", hostile}})["devices"].get_array().size(), 0u);
  }
  // And the lake is untouched.
  EXPECT_EQ(Call("/api/overview/totals", everything)["anomalies"].get_int64().value(), all);
}

TEST_F(ServeApiE2eTest, BadParametersAre400sNamingTheParameter) {
  const std::vector<std::tuple<std::string, Params, std::string>> cases = {
      {"/api/overview/totals", {{"from", "yesterday"}}, "'from'"},
      {"/api/overview/totals", {{"to", "2024-01-02T00:00:00"}}, "'to'"},
      {"/api/overview/totals", {{"from", "2024-01-03"}, {"to", "2024-01-02"}}, "before"},
      {"/api/overview/totals", {{"from", "2022-01-01"}, {"to", "2024-01-02"}}, "400 days"},
      {"/api/overview/heatmap", {{"metric", "a,,b"}}, "'metric'"},
      {"/api/overview/heatmap", {{"location", std::string(201, 'x')}}, "'location'"},
      {"/api/overview/summary", {{"device", "a\x01"}}, "'device'"},
      {"/api/overview/anomalies_by_device", {{"limit", "201"}}, "'limit'"},
      {"/api/overview/anomalies_by_device", {{"limit", "ten"}}, "'limit'"},
      {"/api/overview/anomalies_over_time", {{"bucket", "week"}}, "'bucket'"},
      {"/api/overview/totals", {{"metrics", "temp_c"}}, "unknown parameter 'metrics'"},
      {"/api/device", {}, "'id'"},
      {"/api/device", {{"id", "a"}, {"id", "b"}}, "'id'"},
      {"/api/device/series", {{"id", "dev-00001"}, {"max_points", "20001"}}, "'max_points'"},
      {"/api/devices", {{"limit", "501"}}, "'limit'"},
      {"/api/device/quarantine", {{"id", "dev-00001"}, {"limit", "0"}}, "'limit'"},
  };
  for (const auto& [path, params, needle] : cases) {
    auto doc = Call(path, params, 400);
    const std::string error(doc["error"].get_string().value());
    EXPECT_NE(error.find(needle), std::string::npos) << path << ": " << error;
  }
}

TEST_F(ServeApiE2eTest, AQueryOverItsTimeLimitIs504) {
  ApiOptions options;
  options.query_timeout = std::chrono::milliseconds(1);
  options.cache_entries = 0;
  auto api = Api::Open(lake_, options);
  ASSERT_TRUE(api.ok()) << api.status().message();
  Request r;
  r.path = "/api/overview/summary";
  Response resp = (*api)->Handle(r);
  EXPECT_EQ(resp.status, 504) << resp.body;
  EXPECT_NE(resp.body.find("time limit"), std::string::npos) << resp.body;
  // The API answers again once the limit is sane (the interrupted connection is not reused badly).
  Request v;
  v.path = "/api/version";
  EXPECT_EQ((*api)->Handle(v).status, 200);
}

TEST_F(ServeApiE2eTest, DevicePageNumbersEqualIotadSql) {
  const std::string device = SqlRows(lake_, "SELECT device_id FROM anomalies WHERE event_time >= "
                                            "TIMESTAMPTZ '2024-01-03 00:00:00+00' GROUP BY 1 ORDER BY count(*) DESC, 1 "
                                            "LIMIT 1")[0][0];
  const std::string where = "device_id = '" + device + "'";
  auto info = Call("/api/device", {{"id", device}});
  EXPECT_EQ(info["readings"].get_int64().value(), SqlInt(lake_, "SELECT count(*) FROM silver WHERE " + where));
  EXPECT_EQ(info["anomalies"].get_int64().value(), SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE " + where));
  EXPECT_EQ(std::string(info["last_hour"].get_string().value()), "2024-01-03T23:00:00Z");
  EXPECT_EQ(info["metrics"].get_array().size(), 3u);

  // Series: default range is the device's last day; every silver reading, every gold row.
  auto series = Call("/api/device/series", {{"id", device}});
  EXPECT_EQ(std::string(series["meta"]["from"].get_string().value()), "2024-01-03T00:00:00Z");
  const std::string day = where + " AND event_time >= TIMESTAMPTZ '2024-01-03 00:00:00+00'";
  size_t marks = 0;
  for (auto m : series["metrics"].get_array()) {
    const std::string metric(m["metric"].get_string().value());
    SCOPED_TRACE(metric);
    EXPECT_FALSE(m["downsampled"].get_bool().value());
    EXPECT_EQ(static_cast<int64_t>(m["points"].get_array().size()),
              SqlInt(lake_, "SELECT count(*) FROM silver WHERE " + day));
    EXPECT_EQ(static_cast<int64_t>(m["anomalies"].get_array().size()),
              SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE " + day + " AND metric = '" + metric + "'"));
    marks += m["anomalies"].get_array().size();
    for (auto a : m["anomalies"].get_array()) {
      EXPECT_FALSE(std::string(a["explanation"].get_string().value()).empty());
      EXPECT_FALSE(std::string(a["detector"].get_string().value()).empty());
    }
    if (!m["band"].is_null()) {
      EXPECT_LT(m["band"]["lo"].get_double().value(), m["band"]["hi"].get_double().value());
    }
  }
  EXPECT_GT(marks, 0u);

  // Downsampled: far fewer points, and every anomaly's point is kept.
  auto small = Call("/api/device/series", {{"id", device}, {"max_points", "60"}});
  for (auto m : small["metrics"].get_array()) {
    EXPECT_TRUE(m["downsampled"].get_bool().value());
    std::set<int64_t> kept;
    for (auto p : m["points"].get_array()) kept.insert(p.at(0).get_int64().value());
    EXPECT_LE(kept.size(), 60u + m["anomalies"].get_array().size() + 3);
    for (auto a : m["anomalies"].get_array()) EXPECT_EQ(kept.count(a["ms"].get_int64().value()), 1u);
  }
  // The device list finds it by prefix.
  auto list = Call("/api/devices", {{"q", device}});
  ASSERT_EQ(list["devices"].get_array().size(), 1u);
  EXPECT_EQ(list["devices"].at(0)["anomalies"].get_int64().value(),
            SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE " + where));
  Call("/api/device", {{"id", "dev-99999"}}, 404);
}

TEST_F(ServeApiE2eTest, FiltersListWhatTheLakeHolds) {
  auto f = Call("/api/filters");
  EXPECT_EQ(f["devices"].get_int64().value(), SqlInt(lake_, "SELECT count(DISTINCT device_id) FROM gold_summary"));
  EXPECT_EQ(static_cast<int64_t>(f["metrics"].get_array().size()),
            SqlInt(lake_, "SELECT count(DISTINCT metric) FROM gold_summary"));
  EXPECT_EQ(static_cast<int64_t>(f["detectors"].get_array().size()),
            SqlInt(lake_, "SELECT count(DISTINCT detector) FROM anomalies"));
  EXPECT_EQ(std::string(f["first_hour"].get_string().value()), "2024-01-01T00:00:00Z");
  EXPECT_EQ(std::string(f["last_hour"].get_string().value()), "2024-01-03T23:00:00Z");
}

TEST_F(ServeApiE2eTest, ANewCommitIsSeenAndDropsTheCache) {
  ApiOptions options;
  options.refresh_interval = std::chrono::milliseconds(0);
  auto api = Api::Open(lake_, options);
  ASSERT_TRUE(api.ok());
  Request t;
  t.path = "/api/overview/totals";
  Request v;
  v.path = "/api/version";
  const std::string before = (*api)->Handle(v).body;
  ASSERT_EQ((*api)->Handle(t).status, 200);
  EXPECT_NE((*api)->Handle(t).body.find("\"cached\":true"), std::string::npos);
  auto gold = RunIotad({"gold", "--lake", lake_, "--rebuild"});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  const std::string after = (*api)->Handle(v).body;
  EXPECT_NE(before, after);
  EXPECT_NE((*api)->Handle(t).body.find("\"cached\":false"), std::string::npos);
}


TEST(ServeApiSnapshotE2eTest, AFileDeletedByANewerCommitIsAnsweredFromTheNewerSnapshot) {
  // The API holds a snapshot (here for an hour: it never refreshes on its own) whose gold files
  // a later gold commit deletes. A request then fails on its snapshot and is answered from the
  // newer one, as `iotad sql` does: never a 503 for a lake that is fine.
  TempDir dir;
  const std::string lake = dir / "lake";
  ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  ASSERT_EQ(RunIotad({"generate", "--devices", "6", "--hours", "12", "--seed", "4", "--out", lake + "/inbox"}).exit_code,
            0);
  const auto run = RunIotad({"run", "--lake", lake, "--no-alert"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ApiOptions options;
  options.refresh_interval = std::chrono::hours(1);
  options.cache_entries = 0;
  auto api = Api::Open(lake, options);
  ASSERT_TRUE(api.ok()) << api.status().message();
  Request r;
  r.path = "/api/overview/anomalies_by_device";
  const Response first = (*api)->Handle(r);
  ASSERT_EQ(first.status, 200) << first.body;
  const int64_t anomalies_before = SqlInt(lake, "SELECT count(*) FROM anomalies");
  const auto gold = RunIotad({"gold", "--lake", lake, "--detectors", "zscore"});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  const int64_t anomalies_after = SqlInt(lake, "SELECT count(*) FROM anomalies");
  ASSERT_NE(anomalies_before, anomalies_after) << "the gold commit changed nothing: the test proves nothing";
  const Response second = (*api)->Handle(r);
  ASSERT_EQ(second.status, 200) << second.body;
  auto fresh = Api::Open(lake, options);
  ASSERT_TRUE(fresh.ok());
  const Response expected = (*fresh)->Handle(r);
  auto bars = [](const std::string& body) { return body.substr(0, body.find("\"meta\"")); };
  EXPECT_EQ(bars(second.body), bars(expected.body));
  EXPECT_NE(bars(second.body), bars(first.body));
}

TEST_F(ServeApiE2eTest, DeviceQuarantineFindsTheRowsNamingTheDevice) {
  const auto found = SqlRows(lake_, "SELECT regexp_extract(raw, '(dev-[0-9]+)', 1) AS d FROM quarantine "
                                    "WHERE regexp_matches(raw, ',dev-[0-9]+,') GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1");
  ASSERT_EQ(found.size(), 1u) << "the dirty fleet should quarantine lines naming a device";
  const std::string device = found[0][0];
  const int64_t want = SqlInt(lake_, "SELECT count(*) FROM quarantine WHERE raw LIKE '%," + device + ",%'");
  ASSERT_GT(want, 0);
  auto rows = Call("/api/device/quarantine", {{"id", device}, {"limit", "1000"}});
  EXPECT_EQ(static_cast<int64_t>(rows["rows"].get_array().size()), want);
  for (auto r : rows["rows"].get_array()) {
    EXPECT_NE(std::string(r["raw"].get_string().value()).find("," + device + ","), std::string::npos);
    EXPECT_GT(r["line"].get_int64().value(), 0);
  }
  // A prefix of the id is not the device.
  EXPECT_EQ(Call("/api/device/quarantine", {{"id", device.substr(0, device.size() - 1)}})["rows"].get_array().size(),
            0u);
  EXPECT_EQ(Call("/api/device/quarantine", {{"id", device}, {"limit", "1"}})["rows"].get_array().size(), 1u);
}

TEST_F(ServeApiE2eTest, ConcurrentRequestsGetTheSameAnswersAsOneByOne) {
  ApiOptions options;
  options.cache_entries = 0;  // every request queries
  auto api = Api::Open(lake_, options);
  ASSERT_TRUE(api.ok());
  const std::vector<std::pair<std::string, Params>> calls = {
      {"/api/overview/totals", {}},
      {"/api/overview/summary", {{"metric", "temp_c"}}},
      {"/api/overview/heatmap", {{"from", "2024-01-02"}}},
      {"/api/overview/anomalies_by_device", {{"limit", "5"}}},
      {"/api/overview/anomalies_over_time", {{"bucket", "day"}}},
      {"/api/device/series", {{"id", "dev-00003"}}},
      {"/api/filters", {}},
  };
  auto strip_ms = [](std::string body) {  // meta.ms differs run to run
    const size_t at = body.find("\"ms\":", body.rfind("\"meta\":"));
    if (at != std::string::npos) body.erase(at, body.find(',', at) - at);
    return body;
  };
  std::vector<std::string> want;
  for (const auto& [path, params] : calls) {
    Request r;
    r.path = path;
    r.params = params;
    Response resp = (*api)->Handle(r);
    ASSERT_EQ(resp.status, 200) << path << ": " << resp.body;
    want.push_back(strip_ms(resp.body));
  }
  std::vector<std::string> failures[4];
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 3; ++round) {
          for (size_t k = 0; k < calls.size(); ++k) {
            const size_t i = (k + static_cast<size_t>(t)) % calls.size();
            Request r;
            r.path = calls[i].first;
            r.params = calls[i].second;
            Response resp = (*api)->Handle(r);
            if (resp.status != 200 || strip_ms(resp.body) != want[i]) {
              failures[t].push_back(calls[i].first + ": " + std::to_string(resp.status) + " " + resp.body.substr(0, 200));
            }
          }
        }
      });
    }
  }
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f.front();
}

}  // namespace
}  // namespace iotad::e2e
