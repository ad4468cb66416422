// Clock, logs and metrics seen from outside: the real binary with a fixed clock
// (IOTAD_TEST_NOW), `--log-format json`, and `--metrics-file`, checked against the lake.
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// A metrics file parsed by the exposition grammar: "name{labels}" -> value. Every line must be
/// a HELP, a TYPE or a sample; a sample's family must have been typed before it.
struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::vector<std::string> errors;
  double Get(const std::string& series) const {
    auto it = samples.find(series);
    return it == samples.end() ? -1 : it->second;
  }
  /// Sum over every series of `name` whose labels contain `label` (or all).
  double Sum(const std::string& name, const std::string& label = "") const {
    double total = 0;
    for (const auto& [series, v] : samples) {
      if (series == name || (series.starts_with(name + "{") && series.find(label) != std::string::npos)) total += v;
    }
    return total;
  }
};

Exposition ParseExposition(const std::string& text) {
  static const std::regex help(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  // name, optional {label="value",...} (values escape only \\, \" and \n), one space, a value.
  static const std::string label = R"re([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")re";
  static const std::regex sample(R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)re" + label + "(?:," + label +
                                 R"re()*\})? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|\+Inf|-Inf|NaN)$)re");
  Exposition e;
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  for (const auto& line : Lines(text)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      e.types[m[1]] = m[2];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      e.errors.push_back(line);
      continue;
    }
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!e.types.count(family) && family.ends_with(suffix)) family.resize(family.size() - std::string(suffix).size());
    }
    if (!e.types.count(family)) e.errors.push_back("untyped: " + line);
    if (e.types[family] == "counter" && !family.ends_with("_total")) e.errors.push_back("counter name: " + line);
    if (!family.starts_with("iotad_")) e.errors.push_back("prefix: " + line);
    e.samples[std::string(m[1]) + std::string(m[2])] = std::stod(m[3] == "+Inf" ? "inf" : std::string(m[3]));
  }
  return e;
}

/// `SELECT k, n ...` through `iotad sql` as a map.
std::map<std::string, double> SqlPairs(const std::string& lake, const std::string& sql) {
  std::map<std::string, double> out;
  const auto lines = Lines(Sql(lake, sql));
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t comma = lines[i].rfind(',');
    out[lines[i].substr(0, comma)] = std::stod(lines[i].substr(comma + 1));
  }
  return out;
}

class ObserveE2eTest : public LakeE2eTest {
 protected:
  /// A small fleet and a file with bad rows of three kinds, in the inbox.
  void FillInbox() {
    ASSERT_EQ(Iotad({"generate", "--devices", "10", "--hours", "4", "--dirty", "--seed", "5"}).exit_code, 0);
    WriteFile(std::filesystem::path(lake_) / "inbox" / "extra.csv",
              "timestamp,device_id,temp_c\nnot-a-time,d1,1.5\n2024-03-01T10:00:00Z,d1,abc\n"
              "2024-03-01T10:01:00Z,,2\n");
  }
};

TEST_F(ObserveE2eTest, MetricsFileOfARunIsValidExpositionAndMatchesTheLake) {
  FillInbox();
  const std::string metrics = dir_ / "iotad.prom";
  CmdResult r = Iotad({"run", "--metrics-file", metrics});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Exposition e = ParseExposition(ReadFile(metrics));
  EXPECT_TRUE(e.errors.empty()) << fmt::format("{}", fmt::join(e.errors, "\n"));

  // Counters against what the lake holds after this one run.
  EXPECT_EQ(e.Get("iotad_rows_stored_total"), SqlInt(lake_, "SELECT count(*) FROM silver"));
  EXPECT_EQ(e.Get("iotad_ingest_files_total{result=\"new\"}"), SqlInt(lake_, "SELECT count(*) FROM bronze"));
  EXPECT_EQ(e.Get("iotad_rows_read_total"),
            SqlInt(lake_, "SELECT (counts->>'rows')::BIGINT FROM runs WHERE command = 'run'"));
  const auto quarantined = SqlPairs(lake_, "SELECT reason, count(*) FROM quarantine WHERE column_name IS NULL "
                                           "GROUP BY reason ORDER BY reason");
  ASSERT_EQ(quarantined.size(), 3u);  // bad_timestamp, bad_number, missing_device_id
  for (const auto& [reason, n] : quarantined) {
    EXPECT_EQ(e.Get(fmt::format("iotad_rows_quarantined_total{{reason=\"{}\"}}", reason)), n) << reason;
  }
  EXPECT_EQ(e.Sum("iotad_rows_quarantined_total"),
            SqlInt(lake_, "SELECT count(*) FROM quarantine WHERE column_name IS NULL"));
  const auto anomalies =
      SqlPairs(lake_, "SELECT detector, count(*) FROM anomalies GROUP BY detector ORDER BY detector");
  ASSERT_FALSE(anomalies.empty());
  for (const auto& [detector, n] : anomalies) {
    EXPECT_EQ(e.Get(fmt::format("iotad_anomalies_total{{detector=\"{}\"}}", detector)), n) << detector;
  }
  EXPECT_EQ(e.Sum("iotad_commits_total"), static_cast<double>(ListFiles(lake_, "_iotad/log/").size()));
  EXPECT_EQ(e.Get("iotad_commits_total{stage=\"silver\"}"), 1);
  EXPECT_EQ(e.Get("iotad_runs_total{command=\"run\",status=\"ok\"}"), 1);
  EXPECT_EQ(e.Get("iotad_last_run_success{command=\"run\"}"), 1);
  EXPECT_EQ(e.Get("iotad_check_passed{check=\"accounting_balances\"}"), 1);
  // One observation per stage; buckets cumulative up to +Inf = _count.
  for (const char* stage : {"ingest", "silver", "gold", "checks"}) {
    EXPECT_EQ(e.Get(fmt::format("iotad_stage_duration_seconds_count{{stage=\"{}\"}}", stage)), 1) << stage;
    EXPECT_EQ(e.Get(fmt::format("iotad_stage_duration_seconds_bucket{{stage=\"{}\",le=\"+Inf\"}}", stage)), 1);
  }
  EXPECT_EQ(e.types.at("iotad_stage_duration_seconds"), "histogram");
  EXPECT_EQ(e.types.at("iotad_ingest_bytes_total"), "counter");
  // Replaced whole: nothing left beside it.
  EXPECT_EQ(ListFiles(dir_.path(), "").size(), ListFiles(dir_.path(), "lake/").size() + 1);
}

TEST_F(ObserveE2eTest, StageCommandsWriteTheirMetricsEvenWhenTheyFail) {
  FillInbox();
  const std::string metrics = dir_ / "stage.prom";
  ASSERT_EQ(Iotad({"ingest", lake_ + "/inbox", "--metrics-file", metrics}).exit_code, 0);
  Exposition e = ParseExposition(ReadFile(metrics));
  EXPECT_TRUE(e.errors.empty());
  EXPECT_EQ(e.Get("iotad_ingest_files_total{result=\"new\"}"), SqlInt(lake_, "SELECT count(*) FROM bronze"));
  EXPECT_EQ(e.Get("iotad_runs_total{command=\"ingest\",status=\"ok\"}"), 1);

  // The global flag may come before the subcommand too.
  ASSERT_EQ(RunIotad({"--metrics-file", metrics, "silver", "--lake", lake_}).exit_code, 0);
  e = ParseExposition(ReadFile(metrics));
  EXPECT_EQ(e.Get("iotad_rows_stored_total"), SqlInt(lake_, "SELECT count(*) FROM silver"));
  EXPECT_EQ(e.Get("iotad_runs_total{command=\"silver\",status=\"ok\"}"), 1);
  EXPECT_EQ(e.Get("iotad_ingest_files_total{result=\"new\"}"), -1);  // this process ingested nothing

  ASSERT_EQ(Iotad({"gold", "--metrics-file", metrics}).exit_code, 0);
  e = ParseExposition(ReadFile(metrics));
  EXPECT_EQ(e.Sum("iotad_anomalies_total"), SqlInt(lake_, "SELECT count(*) FROM anomalies"));

  // Nothing but a bad file: the ingest fails (recorded), and its metrics say so.
  const std::string empty = dir_ / "empty.csv";
  WriteFile(empty, "");
  CmdResult r = Iotad({"ingest", empty, "--metrics-file", metrics});
  EXPECT_NE(r.exit_code, 0);
  e = ParseExposition(ReadFile(metrics));
  EXPECT_EQ(e.Get("iotad_runs_total{command=\"ingest\",status=\"failed\"}"), 1);
  EXPECT_EQ(e.Get("iotad_last_run_success{command=\"ingest\"}"), 0);

  // A metrics file that cannot be written is an i/o failure of an otherwise good command.
  r = Iotad({"silver", "--metrics-file", dir_ / "no-such-folder/x.prom"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("metrics: cannot write"), std::string::npos) << r.err;
}

TEST_F(ObserveE2eTest, JsonLogsAreOneObjectPerLineWithTheStageFields) {
  FillInbox();
  WriteFile(std::filesystem::path(lake_) / "inbox" / "empty.csv", "");  // a warning
  CmdResult r = RunIotad({"--log-format", "json", "run", "--lake", lake_});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // inputs_skipped fails in the run that first sees the bad file
  EXPECT_NE(r.out.find("check inputs_skipped"), std::string::npos);  // the report stays on stdout
  std::map<std::string, int> stages;
  int warnings = 0, errors = 0;
  std::string run_id;
  const auto lines = Lines(r.err);
  ASSERT_GE(lines.size(), 6u) << r.err;
  for (const auto& line : lines) {
    simdjson::padded_string padded(line);
    simdjson::dom::parser dom;
    simdjson::dom::element doc;
    ASSERT_EQ(dom.parse(padded).get(doc), simdjson::SUCCESS) << line;
    std::string_view ts, level, msg;
    ASSERT_EQ(doc["ts"].get(ts), simdjson::SUCCESS) << line;
    ASSERT_EQ(doc["level"].get(level), simdjson::SUCCESS) << line;
    ASSERT_EQ(doc["msg"].get(msg), simdjson::SUCCESS) << line;
    EXPECT_TRUE(std::regex_match(std::string(ts), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)"))) << ts;
    std::string_view id;
    if (doc["run_id"].get(id) == simdjson::SUCCESS) {
      if (run_id.empty()) run_id = id;
      EXPECT_EQ(id, run_id) << line;
    }
    if (level == "warn") {
      ++warnings;
      std::string_view path, reason;
      EXPECT_EQ(doc["path"].get(path), simdjson::SUCCESS) << line;
      EXPECT_EQ(doc["reason"].get(reason), simdjson::SUCCESS) << line;
      EXPECT_TRUE(path.ends_with("empty.csv")) << line;
    }
    if (level == "error") ++errors;
    std::string_view stage;
    if (level == "info" && doc["stage"].get(stage) == simdjson::SUCCESS) {
      ++stages[std::string(stage)];
      double seconds = -1;
      EXPECT_EQ(doc["seconds"].get(seconds), simdjson::SUCCESS) << line;
      EXPECT_GE(seconds, 0);
      simdjson::dom::object counts;
      EXPECT_EQ(doc["counts"].get(counts), simdjson::SUCCESS) << line;
      if (stage == "silver") {
        int64_t seq = 0, rows = 0;
        EXPECT_EQ(doc["seq"].get(seq), simdjson::SUCCESS);
        EXPECT_EQ(doc["rows"].get(rows), simdjson::SUCCESS);
        EXPECT_GT(seq, 0);
        EXPECT_EQ(rows, SqlInt(lake_, "SELECT (counts->>'rows')::BIGINT FROM runs WHERE command = 'run'"));
      }
    }
  }
  EXPECT_EQ(warnings, 1);
  EXPECT_EQ(errors, 1);  // "run ... finished but some checks failed"
  EXPECT_EQ(stages, (std::map<std::string, int>{{"alert", 1}, {"checks", 1}, {"gold", 1}, {"ingest", 1}, {"silver", 1}}));
  EXPECT_EQ(run_id, Sql(lake_, "SELECT run_id FROM runs").substr(7, run_id.size()));
}

TEST_F(ObserveE2eTest, TextLogsStayAsBeforeAndInfoIsOptIn) {
  FillInbox();
  WriteFile(std::filesystem::path(lake_) / "inbox" / "empty.csv", "");
  CmdResult r = Iotad({"run"});
  EXPECT_EQ(r.exit_code, 1);
  const std::string run_id = Sql(lake_, "SELECT run_id FROM runs").substr(7);
  EXPECT_EQ(r.err, fmt::format("iotad: ingest: skipped '{}/inbox/empty.csv': empty file (left in place)\n"
                               "iotad: run {} finished but some checks failed (see above)\n",
                               lake_, run_id.substr(0, run_id.size() - 1)));
  // A clean second run prints nothing on stderr at the default level, and its stage lines with
  // --log-level info.
  std::filesystem::remove(std::filesystem::path(lake_) / "inbox" / "empty.csv");
  r = Iotad({"run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = Iotad({"run", "--log-level", "info"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("iotad: silver: done in "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('{'), std::string::npos) << r.err;
  r = Iotad({"run", "--log-level", "loud"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ObserveE2eTest, FixedClockStampsRunIdsCommitsRunRecordsArrivalAndLogs) {
  const std::string in = dir_ / "in";
  WriteFile(std::filesystem::path(in) / "no_time.csv", "a,b\n1,2\n");
  const std::map<std::string, std::string> env = {{"IOTAD_TEST_NOW", "2030-05-06T07:08:09Z"}};
  CmdResult r = RunIotad({"--log-format", "json", "ingest", in, "--lake", lake_}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A file whose rows have no time lands under its arrival hour: the clock's, not the machine's.
  const auto bronze = ListFiles(lake_, "bronze/");
  ASSERT_EQ(bronze.size(), 1u);
  EXPECT_TRUE(bronze[0].starts_with("bronze/dt=2030-05-06/hour=7/")) << bronze[0];
  EXPECT_EQ(Sql(lake_, "SELECT (run_id LIKE '20300506T070809Z-%')::INT AS id_ok, epoch(started_at)::BIGINT AS s, "
                      "epoch(finished_at)::BIGINT AS f FROM runs"),
            "id_ok,s,f\n1,1904281689,1904281689\n");  // 2030-05-06T07:08:09Z
  const auto log = ListFiles(lake_, "_iotad/log/");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(ReadFile(std::filesystem::path(lake_) / log[0]).find("\"committed_at\":\"2030-05-06T07:08:09Z\""),
            std::string::npos);
  EXPECT_NE(r.err.find("\"ts\":\"2030-05-06T07:08:09Z\""), std::string::npos) << r.err;

  r = RunIotad({"status", "--lake", lake_}, {{"IOTAD_TEST_NOW", "next tuesday"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("IOTAD_TEST_NOW"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace iotad::e2e
