#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/sinks_http_test_util.h"
#include "iotad/alert/template.h"

namespace iotad::alert {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("iotad-file-sink-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(FileSink, AppendsOneJsonLinePerNotificationUnderTheLake) {
  const fs::path lake = TempDir("append");
  config::FileSinkOptions o;
  o.name = "alerts-file";
  o.path = "out/nested/alerts.jsonl";
  SinkEnv env;
  env.lake_root = lake;
  auto sink = MakeFileSink(o, env);
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  EXPECT_EQ((*sink)->type(), "file");
  EXPECT_FALSE(fs::exists(lake / "out"));  // building the sink (config check) writes nothing
  Notification n = test_util::SampleNotification();
  AttemptResult a = (*sink)->Send(n);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  const fs::path file = lake / "out" / "nested" / "alerts.jsonl";
  EXPECT_EQ(a.response, "appended " + std::to_string(NotificationJson(n).size() + 1) + " bytes to " + file.string());
  n.kind = NotificationKind::kResolved;
  n.status = "resolved";
  EXPECT_EQ((*sink)->Send(n).outcome, AttemptOutcome::kDelivered);
  const auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 2u);
  simdjson::dom::parser parser;
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(lines[i]).get(doc), simdjson::SUCCESS) << lines[i];
    std::string_view dedup, status;
    ASSERT_EQ(doc["dedup_key"].get(dedup), simdjson::SUCCESS);
    ASSERT_EQ(doc["status"].get(status), simdjson::SUCCESS);
    EXPECT_EQ(dedup, n.dedup_key);
    EXPECT_EQ(status, i == 0 ? "firing" : "resolved");
  }
  fs::remove_all(lake);
}

TEST(FileSink, ConcurrentSendsNeverInterleaveLines) {
  const fs::path dir = TempDir("concurrent");
  config::FileSinkOptions o;
  o.name = "f";
  o.path = (dir / "a.jsonl").string();  // absolute: the lake root does not apply
  SinkEnv env;
  env.lake_root = "/nonexistent-lake";
  auto sink = MakeFileSink(o, env);
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  Sink* s = sink->get();
  std::vector<std::jthread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([s, t] {
      Notification n = test_util::SampleNotification();
      for (int i = 0; i < 40; ++i) {
        n.id = fmt::format("t{}-{}", t, i);
        n.latest.explanation = std::string(500 + i, 'x');
        EXPECT_EQ(s->Send(n).outcome, AttemptOutcome::kDelivered);
      }
    });
  }
  threads.clear();
  const auto lines = Lines(dir / "a.jsonl");
  ASSERT_EQ(lines.size(), 240u);
  simdjson::dom::parser parser;
  for (const std::string& line : lines) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line.substr(0, 80);
  }
  fs::remove_all(dir);
}

TEST(FileSink, APathThatCannotBeAFileFailsAtBuildTime) {
  const fs::path dir = TempDir("bad");
  config::FileSinkOptions o;
  o.name = "f";
  o.path = dir.string();
  auto sink = MakeFileSink(o, SinkEnv{});
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().message(), "path " + dir.string() + " is a folder, not a file");
  fs::remove_all(dir);
}

TEST(FileSink, AFolderThatCannotBeMadeIsARetry) {
  config::FileSinkOptions o;
  o.name = "f";
  o.path = "/proc/iotad-no-such/alerts.jsonl";
  auto sink = MakeFileSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok());
  const AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.error.rfind("file: cannot create the folder of /proc/iotad-no-such/alerts.jsonl: ", 0), 0u) << a.error;
}

TEST(FileSink, AFolderRemovedUnderItIsMadeAgain) {
  const fs::path dir = TempDir("gone");
  config::FileSinkOptions o;
  o.name = "f";
  o.path = (dir / "sub" / "a.jsonl").string();
  auto sink = MakeFileSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ((*sink)->Send(test_util::SampleNotification()).outcome, AttemptOutcome::kDelivered);
  fs::remove_all(dir / "sub");
  const AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(Lines(dir / "sub" / "a.jsonl").size(), 1u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace iotad::alert
