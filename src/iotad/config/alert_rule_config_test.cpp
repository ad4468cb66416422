#include <gtest/gtest.h>

#include "iotad/config/alert_config.h"
#include "iotad/config/config.h"

namespace iotad::config {
namespace {

const MachineLimits kMachine{2, 8LL << 30};

/// The product's rule kind plus a stand-in `[[alert.sink]]` kind with one type, "file" (the real
/// sink types are other files' work; the rule checks only need sinks to exist by name).
ComponentRegistry AlertRegistry() {
  ComponentRegistry r;
  EXPECT_TRUE(r.Register(DetectRuleKind()).ok());
  EXPECT_TRUE(r.Register(AlertRuleKind()).ok());
  using F = FileSinkOptions;
  EXPECT_TRUE(r.Register(TypedKind("alert.sink", "sinks for the tests.",
                                    {MakeComponentType<F>("file", "a file.",
                                                          {{"path", "string", "\"alerts.jsonl\"", "Where.",
                                                            SetString(&F::path)}})}))
                  .ok());
  return r;
}

Result<LakeConfig> Parse(const std::string& toml) {
  static const ComponentRegistry registry = AlertRegistry();
  return ParseConfig(toml, "lake/iotad.toml", kMachine, registry);
}

const char* kSink = "[[alert.sink]]\nname = \"alerts-file\"\ntype = \"file\"\n";

TEST(AlertRuleConfigTest, AFullRuleAndTheAlertOptionsParse) {
  auto parsed = Parse(std::string(R"(
[alert]
enabled = false
base_url = "https://dash.example.org/"
max_attempts = 3
backoff_initial = "10s"
backoff_max = "5m"
delivery_budget = "20s"
concurrency = 8
timeout = "3s"
lookback = "2d"

[[alert.rule]]
name = "freezers"
detectors = ["default", "zscore"]
metrics = ["temp_c"]
devices = ["freezer-*"]
locations = ["hall-?"]
min_score = 0.8
min_abs_z = 4.5
severity = "critical"
group_by = "device_metric"
group_wait = "1m"
group_interval = "10m"
repeat_interval = "2h"
resolve_after = "30m"
max_per_device_per_hour = 0
send_resolved = false
sinks = ["alerts-file"]

[[alert.rule]]
name = "defaults"
sinks = ["alerts-file"]
)") + kSink);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const AlertConfig& a = parsed->alert;
  EXPECT_FALSE(a.enabled);
  EXPECT_EQ(a.base_url, "https://dash.example.org");
  EXPECT_EQ(a.max_attempts, 3);
  EXPECT_EQ(a.backoff_initial_us, 10'000'000);
  EXPECT_EQ(a.backoff_max_us, 300'000'000);
  EXPECT_EQ(a.delivery_budget_us, 20'000'000);
  EXPECT_EQ(a.concurrency, 8);
  EXPECT_EQ(a.timeout_us, 3'000'000);
  EXPECT_EQ(a.lookback_us, 2 * 86'400'000'000LL);

  const std::vector<AlertRule> rules = AlertRulesOf(parsed->components);
  ASSERT_EQ(rules.size(), 2u);
  const AlertRule& r = rules[0];
  EXPECT_EQ(r.name, "freezers");
  EXPECT_EQ(r.detectors, (std::vector<std::string>{"default", "zscore"}));
  EXPECT_EQ(r.metrics, (std::vector<std::string>{"temp_c"}));
  EXPECT_EQ(r.devices, (std::vector<std::string>{"freezer-*"}));
  EXPECT_EQ(r.locations, (std::vector<std::string>{"hall-?"}));
  EXPECT_DOUBLE_EQ(*r.min_score, 0.8);
  EXPECT_DOUBLE_EQ(*r.min_abs_z, 4.5);
  EXPECT_EQ(r.severity, "critical");
  EXPECT_EQ(r.group_by, "device_metric");
  EXPECT_EQ(r.group_wait_us, 60'000'000);
  EXPECT_EQ(r.group_interval_us, 600'000'000);
  EXPECT_EQ(r.repeat_interval_us, 7'200'000'000);
  EXPECT_EQ(r.resolve_after_us, 1'800'000'000);
  EXPECT_EQ(r.max_per_device_per_hour, 0);
  EXPECT_FALSE(r.send_resolved);
  EXPECT_EQ(r.sinks, (std::vector<std::string>{"alerts-file"}));

  const AlertRule defaults;
  const AlertRule& d = rules[1];
  EXPECT_EQ(d.name, "defaults");
  EXPECT_EQ(d.detectors, defaults.detectors);
  EXPECT_EQ(d.group_by, defaults.group_by);
  EXPECT_EQ(d.group_wait_us, defaults.group_wait_us);
  EXPECT_EQ(d.repeat_interval_us, defaults.repeat_interval_us);
  EXPECT_EQ(d.max_per_device_per_hour, defaults.max_per_device_per_hour);
  EXPECT_FALSE(d.min_score.has_value());
}

TEST(AlertRuleConfigTest, FlatAlertKeysMixWithRuleAndSinkTablesInAnyOrder) {
  // [alert] first, then its tables.
  auto first = Parse(std::string("[alert]\nconcurrency = 2\n[[alert.rule]]\nname = \"r\"\nsinks = [\"alerts-file\"]\n") +
                     kSink);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->alert.concurrency, 2);
  EXPECT_EQ(first->components.Of("alert.rule").size(), 1u);
  // Tables first, then [alert] (TOML allows the super-table after its sub-tables); the sink
  // may come after the rule naming it.
  auto later = Parse(std::string("[[alert.rule]]\nname = \"r\"\nsinks = [\"alerts-file\"]\n") + kSink +
                     "[alert]\nconcurrency = 3\n");
  ASSERT_TRUE(later.ok()) << later.status().message();
  EXPECT_EQ(later->alert.concurrency, 3);
  EXPECT_EQ(later->components.Of("alert.sink").size(), 1u);
  // Dotted keys too.
  auto dotted = Parse(std::string("alert.enabled = false\n") + kSink);
  ASSERT_TRUE(dotted.ok()) << dotted.status().message();
  EXPECT_FALSE(dotted->alert.enabled);
}

TEST(AlertRuleConfigTest, EachBadValueIsOneSentenceNamingTheKey) {
  const std::string rule = "[[alert.rule]]\nname = \"r\"\nsinks = [\"alerts-file\"]\n";
  struct Case {
    std::string toml, key;
  };
  const std::vector<Case> cases = {
      {"[alert]\nenabled = 1\n", "'alert.enabled'"},
      {"[alert]\nbase_url = \"ftp://x\"\n", "'alert.base_url'"},
      {"[alert]\nbase_url = \"http://\"\n", "'alert.base_url'"},
      {"[alert]\nmax_attempts = 0\n", "'alert.max_attempts'"},
      {"[alert]\nmax_attempts = 1001\n", "'alert.max_attempts'"},
      {"[alert]\nbackoff_initial = \"soon\"\n", "'alert.backoff_initial'"},
      {"[alert]\nbackoff_max = \"0s\"\n", "'alert.backoff_max'"},
      {"[alert]\nbackoff_initial = \"2h\"\n", "'alert.backoff_initial'"},  // above backoff_max (1h)
      {"[alert]\ndelivery_budget = 5\n", "'alert.delivery_budget'"},
      {"[alert]\nconcurrency = 0\n", "'alert.concurrency'"},
      {"[alert]\nconcurrency = 257\n", "'alert.concurrency'"},
      {"[alert]\ntimeout = \"-1s\"\n", "'alert.timeout'"},
      {"[alert]\nlookback = \"\"\n", "'alert.lookback'"},
      {"[alert]\nretries = 3\n", "'alert.retries'"},
      {rule + "detectors = [\"nope\"]\n", "'alert.rule[0].detectors'"},
      {rule + "metrics = \"temp_c\"\n", "'alert.rule[0].metrics'"},
      {rule + "devices = [1]\n", "'alert.rule[0].devices'"},
      {rule + "locations = {}\n", "'alert.rule[0].locations'"},
      {rule + "min_score = 1.5\n", "'alert.rule[0].min_score'"},
      {rule + "min_abs_z = 0\n", "'alert.rule[0].min_abs_z'"},
      {rule + "severity = \"page\"\n", "'alert.rule[0].severity'"},
      {rule + "group_by = \"metric\"\n", "'alert.rule[0].group_by'"},
      {rule + "group_wait = \"5 minutes\"\n", "'alert.rule[0].group_wait'"},
      {rule + "group_interval = 30\n", "'alert.rule[0].group_interval'"},
      {rule + "repeat_interval = \"0h\"\n", "'alert.rule[0].repeat_interval'"},
      {rule + "resolve_after = \"x\"\n", "'alert.rule[0].resolve_after'"},
      {rule + "max_per_device_per_hour = -1\n", "'alert.rule[0].max_per_device_per_hour'"},
      {rule + "max_per_device_per_hour = 100001\n", "'alert.rule[0].max_per_device_per_hour'"},
      {rule + "send_resolved = \"yes\"\n", "'alert.rule[0].send_resolved'"},
      {rule + "color = \"red\"\n", "'alert.rule[0].color'"},
      {"[[alert.rule]]\nname = \"r\"\nsinks = []\n", "'alert.rule[0].sinks'"},
      {"[[alert.rule]]\nname = \"r\"\n", "'alert.rule[0].sinks'"},
      {"[[alert.rule]]\nsinks = [\"alerts-file\"]\n", "'alert.rule[0].name'"},
      {"[[alert.rule]]\nname = \"r\"\nsinks = [\"alerts-file\", \"alerts-file\"]\n", "'alert.rule[0].sinks'"},
  };
  for (const Case& c : cases) {
    auto parsed = Parse(c.toml + kSink);
    ASSERT_FALSE(parsed.ok()) << c.toml;
    const std::string& m = parsed.status().message();
    EXPECT_NE(m.find(c.key), std::string::npos) << c.toml << " -> " << m;
    EXPECT_NE(m.find("lake/iotad.toml"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.rfind("config: ", 0), 0u) << m;
  }
}

TEST(AlertRuleConfigTest, ARuleNamingAnUnknownSinkIsAnError) {
  auto parsed = Parse(std::string("[[alert.rule]]\nname = \"ok\"\nsinks = [\"alerts-file\"]\n"
                                  "[[alert.rule]]\nname = \"bad\"\nsinks = [\"alerts-file\", \"ops-slak\"]\n") +
                      kSink + "[[alert.sink]]\nname = \"ops-slack\"\ntype = \"file\"\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "config: 'alert.rule[1].sinks' names 'ops-slak', which is no [[alert.sink]] (known: alerts-file, "
            "ops-slack) (in lake/iotad.toml)");
  auto none = Parse("[[alert.rule]]\nname = \"r\"\nsinks = [\"x\"]\n");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(),
            "config: 'alert.rule[0].sinks' names 'x', which is no [[alert.sink]] (known: none) (in lake/iotad.toml)");
}

TEST(AlertRuleConfigTest, RuleNamesAreUnique) {
  auto parsed = Parse(std::string("[[alert.rule]]\nname = \"r\"\nsinks = [\"alerts-file\"]\n"
                                  "[[alert.rule]]\nname = \"r\"\nsinks = [\"alerts-file\"]\n") +
                      kSink);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("alert.rule[0] and alert.rule[1] are both named \"r\""),
            std::string::npos)
      << parsed.status().message();
}

std::string Uncomment(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.rfind("# ", 0) == 0) line = line.substr(2);
    out += line + "\n";
    start = end + 1;
  }
  return out;
}

TEST(AlertRuleConfigTest, TheExampleShowsTheAlertOptionsAndTheRuleBlockParses) {
  const std::string example = ExampleConfigToml();
  for (const char* key : {"[alert]", "enabled = true", "base_url = \"http://127.0.0.1:8080\"", "max_attempts = 8",
                          "backoff_initial = \"30s\"", "backoff_max = \"1h\"", "delivery_budget = \"1m\"",
                          "concurrency = 4", "timeout = \"10s\"", "lookback = \"7d\"", "# [[alert.rule]]",
                          "# group_by = \"device\"", "# sinks = [\"alerts-file\"]"}) {
    EXPECT_NE(example.find(key), std::string::npos) << key;
  }
  // The flat defaults in the example are the struct's.
  auto parsed = Parse(example);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const AlertConfig defaults;
  EXPECT_EQ(parsed->alert.base_url, defaults.base_url);
  EXPECT_EQ(parsed->alert.backoff_initial_us, defaults.backoff_initial_us);
  EXPECT_EQ(parsed->alert.backoff_max_us, defaults.backoff_max_us);
  EXPECT_EQ(parsed->alert.delivery_budget_us, defaults.delivery_budget_us);
  EXPECT_EQ(parsed->alert.timeout_us, defaults.timeout_us);
  EXPECT_EQ(parsed->alert.lookback_us, defaults.lookback_us);
  // The rule block uncommented (with the sink it names): the generated rule has the defaults.
  auto rules = Parse(Uncomment(ExampleComponentToml(AlertRuleKind())) + kSink +
                     "[[alert.sink]]\nname = \"ops-slack\"\ntype = \"file\"\n");
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  const std::vector<AlertRule> list = AlertRulesOf(rules->components);
  ASSERT_EQ(list.size(), 2u);
  const AlertRule d;
  EXPECT_EQ(list[0].detectors, d.detectors);
  EXPECT_EQ(list[0].severity, d.severity);
  EXPECT_EQ(list[0].group_wait_us, d.group_wait_us);
  EXPECT_EQ(list[0].group_interval_us, d.group_interval_us);
  EXPECT_EQ(list[0].repeat_interval_us, d.repeat_interval_us);
  EXPECT_EQ(list[0].resolve_after_us, d.resolve_after_us);
  EXPECT_EQ(list[0].max_per_device_per_hour, d.max_per_device_per_hour);
  EXPECT_EQ(list[0].send_resolved, d.send_resolved);
  EXPECT_EQ(list[1].name, "freezers-critical");
}

TEST(AlertRuleConfigTest, TheInitConfigHasTheDeviceRuleAndTheFileSink) {
  const std::string init = InitConfigToml();
  EXPECT_EQ(init.rfind(ExampleConfigToml(), 0), 0u);
  auto parsed = Parse(init);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const std::vector<AlertRule> rules = AlertRulesOf(parsed->components);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].name, "device-anomalies");
  EXPECT_EQ(rules[0].detectors, (std::vector<std::string>{"default"}));
  EXPECT_EQ(rules[0].group_by, "device");
  EXPECT_EQ(rules[0].severity, "warning");
  EXPECT_EQ(rules[0].sinks, (std::vector<std::string>{"alerts-file"}));
  const auto& sinks = parsed->components.Of("alert.sink");
  ASSERT_EQ(sinks.size(), 1u);
  EXPECT_EQ(sinks[0].name, "alerts-file");
  EXPECT_EQ(sinks[0].type, "file");
  EXPECT_EQ(sinks[0].As<FileSinkOptions>()->path, "alerts.jsonl");
}

}  // namespace
}  // namespace iotad::config

namespace iotad::config {
namespace {

// With the product's registry (the real sink kind and its file type): what `iotad init` writes.
TEST(AlertRuleConfigTest, TheInitConfigParsesWithTheProductsKinds) {
  auto parsed = ParseConfig(InitConfigToml(), "lake/iotad.toml", kMachine);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(AlertRulesOf(parsed->components).size(), 1u);
  const Component* sink = parsed->components.Find("alert.sink", "alerts-file");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->type, "file");
  // The example (what `iotad config example` prints) has no rule: alerting is the init file's.
  auto example = ParseConfig(ExampleConfigToml(), "example", kMachine);
  ASSERT_TRUE(example.ok()) << example.status().message();
  EXPECT_TRUE(AlertRulesOf(example->components).empty());
}

}  // namespace
}  // namespace iotad::config
