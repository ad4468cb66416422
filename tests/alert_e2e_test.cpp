// Alerts end to end: a generated lake -> `iotad run` -> notifications in a file sink; re-runs and
// recomputes page nobody again; silences and acks; and kill -9 at every alert fault point, then
// a re-run: every notification reaches the file, a repeat only for the one in flight.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNow = "2024-01-02T00:00:00Z";

/// One notification line of the file sink: its delivery id, alert id and dedup key.
struct Line {
  std::string id, alert_id, dedup_key, kind;
};

std::string Field(const std::string& line, const std::string& key) {
  const std::string marker = "\"" + key + "\":\"";
  const size_t at = line.find(marker);
  if (at == std::string::npos) return "";
  const size_t from = at + marker.size();
  return line.substr(from, line.find('"', from) - from);
}

std::vector<Line> Lines(const std::string& path) {
  std::vector<Line> out;
  if (!fs::exists(path)) return out;
  const std::string text = ReadFile(path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    if (!line.empty()) {
      out.push_back({Field(line, "id"), Field(line, "alert_id"), Field(line, "dedup_key"), Field(line, "kind")});
    }
    pos = end + 1;
  }
  return out;
}

std::set<std::string> SqlSet(const std::string& lake, const std::string& sql) {
  std::set<std::string> out;
  const std::string csv = Sql(lake, sql);
  size_t pos = csv.find('\n');  // header
  while (pos != std::string::npos && pos + 1 < csv.size()) {
    const size_t end = csv.find('\n', pos + 1);
    out.insert(csv.substr(pos + 1, (end == std::string::npos ? csv.size() : end) - pos - 1));
    pos = end;
  }
  return out;
}

class AlertE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const CmdResult g = RunIotad({"generate", "--devices", "8", "--hours", "12", "--seed", "3", "--anomaly-rate", "10",
                                  "--out", dir_ / "gen"});
    ASSERT_EQ(g.exit_code, 0) << "set-up: iotad generate failed: " << g.err;
  }

  /// A lake with one rule (alerts stay firing: resolve_after 30d) to the file sink `e2e-file`,
  /// one delivery in flight at a time (so a crash has exactly one in flight).
  std::string MakeLake(const std::string& name) {
    const std::string lake = dir_ / name;
    EXPECT_EQ(RunIotad({"init", lake}).exit_code, 0);
    std::string toml = ReadFile(fs::path(lake) / "iotad.toml");
    toml = std::regex_replace(toml, std::regex("\nconcurrency = 4\n"), "\nconcurrency = 1\n");
    // Only this test's rule and sink: leave out any a fresh lake comes with.
    std::string kept;
    bool skipping = false;
    size_t pos = 0;
    while (pos < toml.size()) {
      size_t end = toml.find('\n', pos);
      if (end == std::string::npos) end = toml.size() - 1;
      const std::string line = toml.substr(pos, end - pos + 1);
      if (line.rfind("[[alert.rule]]", 0) == 0 || line.rfind("[[alert.sink]]", 0) == 0) {
        skipping = true;
      } else if (!line.empty() && line[0] == '[') {
        skipping = false;
      }
      if (!skipping) kept += line;
      pos = end + 1;
    }
    toml = kept;
    EXPECT_NE(toml.find("\nconcurrency = 1\n"), std::string::npos) << "set-up: [alert] concurrency not found";
    toml +=
        "\n[[alert.rule]]\nname = \"e2e-rule\"\nsinks = [\"e2e-file\"]\nmax_per_device_per_hour = 0\n"
        "resolve_after = \"30d\"\n\n[[alert.sink]]\nname = \"e2e-file\"\ntype = \"file\"\npath = \"e2e-alerts.jsonl\"\n";
    WriteFile(fs::path(lake) / "iotad.toml", toml);
    return lake;
  }

  CmdResult Iotad(const std::string& lake, std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.push_back("--lake");
    args.push_back(lake);
    if (env.count("IOTAD_TEST_NOW") == 0) env["IOTAD_TEST_NOW"] = kNow;
    return RunIotad(args, env);
  }

  std::string File(const std::string& lake) { return (fs::path(lake) / "e2e-alerts.jsonl").string(); }

  TempDir dir_;
};

TEST_F(AlertE2eTest, RunDeliversAndReRunsSendNothingNew) {
  const std::string lake = MakeLake("lake");
  const CmdResult run = Iotad(lake, {"run", "--input", dir_ / "gen"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("alert: "), std::string::npos) << run.out;
  const auto lines = Lines(File(lake));
  ASSERT_GT(lines.size(), 1u) << "no notifications written";
  const long long alerts = SqlInt(lake, "SELECT count(*) FROM alerts WHERE rule = 'e2e-rule'");
  EXPECT_EQ(static_cast<size_t>(alerts), lines.size()) << "one firing notification per alert";
  EXPECT_EQ(SqlInt(lake, "SELECT count(DISTINCT delivery_id) FROM alert_deliveries WHERE sink = 'e2e-file' AND state = 'delivered'"),
            alerts);
  // Each line carries the dedup key of its alert.
  const auto keys = SqlSet(lake, "SELECT dedup_key FROM alerts WHERE rule = 'e2e-rule'");
  for (const auto& l : lines) {
    EXPECT_EQ(keys.count(l.dedup_key), 1u) << l.dedup_key;
    EXPECT_EQ(l.kind, "firing");
  }
  // The run record has the stage.
  EXPECT_EQ(SqlInt(lake, "SELECT count(*) FROM runs WHERE command = 'run' AND status = 'ok' "
                         "AND CAST(stages AS VARCHAR) LIKE '%alert%'"),
            1);
  const CmdResult status = Iotad(lake, {"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("firing  pending  failed  dead"), std::string::npos) << status.out;

  // Nothing new: a second run, a recompute of gold and the stage alone.
  ASSERT_EQ(Iotad(lake, {"run"}).exit_code, 0);
  EXPECT_EQ(Lines(File(lake)).size(), lines.size());
  ASSERT_EQ(Iotad(lake, {"gold", "--rebuild"}).exit_code, 0);
  const CmdResult again = Iotad(lake, {"alert"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 notifications"), std::string::npos) << again.out;
  EXPECT_EQ(Lines(File(lake)).size(), lines.size());
}

TEST_F(AlertE2eTest, NoDeliverCommitsTheOutboxOnly) {
  const std::string lake = MakeLake("lake");
  const CmdResult run = Iotad(lake, {"run", "--no-alert", "--input", dir_ / "gen"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.find("alert: "), std::string::npos) << run.out;
  const CmdResult outbox = Iotad(lake, {"alert", "--no-deliver"});
  ASSERT_EQ(outbox.exit_code, 0) << outbox.err;
  EXPECT_EQ(Lines(File(lake)).size(), 0u);
  const long long alerts = SqlInt(lake, "SELECT count(*) FROM alerts WHERE rule = 'e2e-rule'");
  ASSERT_GT(alerts, 0);
  EXPECT_EQ(SqlInt(lake, "SELECT count(*) FROM alert_deliveries WHERE sink = 'e2e-file' AND state = 'pending' "
                         "AND attempt IS NULL"),
            alerts);
  const CmdResult list = Iotad(lake, {"alert", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const auto& key : SqlSet(lake, "SELECT id FROM alerts WHERE rule = 'e2e-rule'")) {
    EXPECT_NE(list.out.find("\"" + key + "\""), std::string::npos) << key << "\n" << list.out;
  }
  // The next stage delivers what the outbox holds.
  ASSERT_EQ(Iotad(lake, {"alert"}).exit_code, 0);
  EXPECT_EQ(static_cast<long long>(Lines(File(lake)).size()), alerts);
}

TEST_F(AlertE2eTest, SilencedNotificationsAreRecordedNotSent) {
  const std::string lake = MakeLake("lake");
  const CmdResult add = Iotad(lake, {"alert", "silence", "add", "--match", "device=dev-0000*", "--match",
                                     "device!=dev-00007", "--for", "2h", "--reason", "maintenance"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string id = add.out.substr(0, add.out.find('\n'));
  EXPECT_EQ(id.size(), 12u) << add.out;
  const CmdResult list = Iotad(lake, {"alert", "silence", "list"});
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  ASSERT_EQ(Iotad(lake, {"run", "--input", dir_ / "gen"}).exit_code, 0);
  const auto lines = Lines(File(lake));
  // Only dev-00007 is outside the silence.
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].dedup_key.find("device=dev-00007"), std::string::npos);
  const long long silenced = SqlInt(lake, "SELECT count(*) FROM alert_deliveries WHERE sink = 'e2e-file' AND state = 'silenced'");
  EXPECT_EQ(silenced, SqlInt(lake, "SELECT count(*) FROM alerts WHERE rule = 'e2e-rule'") - 1);
  EXPECT_GT(silenced, 0);
  EXPECT_EQ(SqlInt(lake, fmt::format("SELECT count(*) FROM silences WHERE id = '{}' AND reason = 'maintenance' "
                                     "AND ends_at - starts_at = INTERVAL 2 HOUR "
                                     "AND matchers = 'device=dev-0000*,device!=dev-00007'",
                                     id)),
            1);
  // Expired: listed with --all only.
  ASSERT_EQ(Iotad(lake, {"alert", "silence", "expire", id}).exit_code, 0);
  EXPECT_EQ(Iotad(lake, {"alert", "silence", "list"}).out.find(id), std::string::npos);
  EXPECT_NE(Iotad(lake, {"alert", "silence", "list", "--all"}).out.find(id), std::string::npos);
}

TEST_F(AlertE2eTest, AckStopsRepeats) {
  const std::string lake = MakeLake("lake");
  ASSERT_EQ(Iotad(lake, {"run", "--input", dir_ / "gen"}).exit_code, 0);
  const auto first = Lines(File(lake));
  ASSERT_GT(first.size(), 1u);
  const std::string acked = first[0].alert_id;
  const CmdResult ack = Iotad(lake, {"alert", "ack", acked, "--note", "replacing it", "--by", "ops"});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_EQ(SqlInt(lake, fmt::format("SELECT count(*) FROM alerts WHERE rule = 'e2e-rule' AND id = '{}' AND acknowledged_by = 'ops' "
                                     "AND ack_note = 'replacing it'",
                                     acked)),
            1);
  EXPECT_NE(Iotad(lake, {"alert", "ack", "000000000000"}).exit_code, 0);
  // Past repeat_interval (4h of wall time): a reminder for every firing alert but the acked one.
  const CmdResult later = Iotad(lake, {"alert"}, {{"IOTAD_TEST_NOW", "2024-01-02T05:00:00Z"}});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  const auto all = Lines(File(lake));
  ASSERT_EQ(all.size(), first.size() * 2 - 1);
  for (size_t i = first.size(); i < all.size(); ++i) {
    EXPECT_EQ(all[i].kind, "repeat");
    EXPECT_NE(all[i].alert_id, acked);
  }
}

TEST_F(AlertE2eTest, DeadDeliveriesThenRetry) {
  const std::string lake = MakeLake("lake");
  // First the receiver fails every time (an exec sink exiting 75: try again later), one attempt
  // allowed: dead at once. Then the same sink name is a working file sink, and retry re-queues.
  const std::string toml = ReadFile(fs::path(lake) / "iotad.toml");
  const std::string file_sink = "type = \"file\"\npath = \"e2e-alerts.jsonl\"";
  ASSERT_NE(toml.find(file_sink), std::string::npos);
  WriteFile(fs::path(lake) / "iotad.toml",
            std::regex_replace(toml, std::regex(file_sink),
                               "type = \"exec\"\ncommand = [\"sh\", \"-c\", \"cat >/dev/null; exit 75\"]\nmax_attempts = 1"));
  const CmdResult run = Iotad(lake, {"run", "--input", dir_ / "gen"});
  ASSERT_EQ(run.exit_code, 0) << "a failing receiver never fails the run: " << run.out << run.err;
  const long long alerts = SqlInt(lake, "SELECT count(*) FROM alerts WHERE rule = 'e2e-rule'");
  ASSERT_GT(alerts, 0);
  EXPECT_EQ(SqlInt(lake, "SELECT count(DISTINCT delivery_id) FROM alert_deliveries WHERE sink = 'e2e-file' AND state = 'dead' "
                         "AND attempt = 1 AND error IS NOT NULL"),
            alerts);
  const CmdResult status = Iotad(lake, {"status"});
  EXPECT_NE(status.out.find("firing  pending  failed  dead"), std::string::npos) << status.out;
  WriteFile(fs::path(lake) / "iotad.toml", toml);
  const CmdResult retry = Iotad(lake, {"alert", "retry", "--all"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_NE(retry.out.find(fmt::format("{} dead deliveries re-queued", alerts)), std::string::npos) << retry.out;
  const CmdResult again = Iotad(lake, {"alert"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(static_cast<long long>(Lines(File(lake)).size()), alerts);
  EXPECT_EQ(SqlInt(lake, "SELECT count(DISTINCT delivery_id) FROM alert_deliveries WHERE sink = 'e2e-file' AND state = 'delivered'"), alerts);
}

TEST_F(AlertE2eTest, MissingSecretFailsTheRunWithOneSentence) {
  const std::string lake = MakeLake("lake");
  WriteFile(fs::path(lake) / "iotad.toml",
            ReadFile(fs::path(lake) / "iotad.toml") +
                "\n[[alert.sink]]\nname = \"ops-slack\"\ntype = \"slack\"\nurl_env = \"IOTAD_E2E_NO_SUCH_VAR\"\n");
  const CmdResult run = Iotad(lake, {"run", "--input", dir_ / "gen"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("IOTAD_E2E_NO_SUCH_VAR"), std::string::npos) << run.err;
  EXPECT_EQ(Lines(File(lake)).size(), 0u);
  EXPECT_EQ(SqlInt(lake, "SELECT count(*) FROM alerts WHERE rule = 'e2e-rule'"), 0) << "nothing evaluated before the sinks are built";
}

/// kill -9 at each alert fault point, then a run without the crash: every delivery reaches the
/// file; a duplicate only for the one in flight when the receiver had answered.
class AlertCrashTest : public AlertE2eTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(AlertCrashTest, EveryAlertDeliveredAtMostTheInFlightOneTwice) {
  const std::string point = GetParam();
  const std::string lake = MakeLake("lake");
  // The second pass for the per-delivery points: one delivery is done before the crash.
  const std::string at = point == "alert_after_outbox_commit" ? point : point + ":2";
  const CmdResult crashed = Iotad(lake, {"run", "--input", dir_ / "gen"}, {{"IOTAD_CRASH_AT", at}});
  ASSERT_EQ(crashed.signal, 9) << "expected a kill at " << at << ": " << crashed.out << crashed.err;
  const size_t before = Lines(File(lake)).size();
  const CmdResult rerun = Iotad(lake, {"run"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;

  const auto lines = Lines(File(lake));
  std::map<std::string, int> per_id;
  for (const auto& l : lines) ++per_id[l.id];
  const auto delivered = SqlSet(lake, "SELECT DISTINCT delivery_id FROM alert_deliveries WHERE sink = 'e2e-file' AND state = 'delivered'");
  const long long alerts = SqlInt(lake, "SELECT count(*) FROM alerts WHERE rule = 'e2e-rule'");
  ASSERT_GT(alerts, 1);
  EXPECT_EQ(SqlInt(lake, "SELECT count(*) FROM alert_deliveries WHERE sink = 'e2e-file' AND state <> 'delivered'"), 0);
  EXPECT_EQ(static_cast<long long>(delivered.size()), alerts);
  std::set<std::string> in_file;
  for (const auto& [id, n] : per_id) in_file.insert(id);
  EXPECT_EQ(in_file, delivered);
  int duplicated = 0;
  for (const auto& [id, n] : per_id) {
    EXPECT_LE(n, 2) << id;
    duplicated += n > 1;
  }
  if (point == "alert_after_response") {
    // The receiver had it, the attempt was not recorded: sent again, with the same dedup key.
    EXPECT_EQ(duplicated, 1);
    EXPECT_EQ(before, 2u);
  } else {
    EXPECT_EQ(duplicated, 0);
  }
  std::map<std::string, std::set<std::string>> keys_per_id;
  for (const auto& l : lines) keys_per_id[l.id].insert(l.dedup_key);
  for (const auto& [id, keys] : keys_per_id) EXPECT_EQ(keys.size(), 1u) << id;
}

INSTANTIATE_TEST_SUITE_P(FaultPoints, AlertCrashTest,
                         ::testing::Values("alert_after_outbox_commit", "alert_before_send", "alert_after_response",
                                           "alert_after_attempt_commit"));

}  // namespace
}  // namespace iotad::e2e
