// [[alert.sink]] tables of the HTTP types (webhook, slack, alertmanager, pagerduty) and the
// options every sink type shares.
#include <gtest/gtest.h>

#include "iotad/config/alert_config.h"
#include "iotad/config/config.h"

namespace iotad::config {
namespace {

const MachineLimits kMachine{2, 8LL << 30};

Result<LakeConfig> Parse(const std::string& toml) { return ParseConfig(toml, "lake/iotad.toml", kMachine); }

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// The one-sentence error of `toml`, which must name the file; fails the test when it parses.
std::string ErrorOf(const std::string& toml) {
  auto parsed = Parse(toml);
  if (parsed.ok()) {
    ADD_FAILURE() << "accepted: " << toml;
    return "";
  }
  const std::string& m = parsed.status().message();
  EXPECT_EQ(parsed.status().code(), Errc::kInvalidArgument) << m;
  EXPECT_TRUE(Has(m, "lake/iotad.toml")) << m;
  EXPECT_FALSE(Has(m, "\n")) << m;
  return m;
}

/// One sink table of `type` with `body` (its other keys).
std::string Sink(const std::string& type, const std::string& body) {
  return "[[alert.sink]]\nname = \"s\"\ntype = \"" + type + "\"\n" + body;
}

TEST(AlertSinkConfig, EveryHttpTypeParsesWithAllItsOptions) {
  auto parsed = Parse(R"(
[[alert.sink]]
name = "hook"
type = "webhook"
url = "https://hooks.example.com/iotad?x=1"
bearer_token_env = "HOOK_TOKEN"
headers = ["X-Team: plant-ops", "X-Env:prod"]
timeout = "3s"
max_attempts = 5
concurrency = 4
subject = "{severity}: {device}"
body = "{{literal}} {explanation} {url}"

[[alert.sink]]
name = "ops-slack"
type = "slack"
url_env = "SLACK_WEBHOOK_URL"
channel = "#ops"
username = "iotad"

[[alert.sink]]
name = "am"
type = "alertmanager"
url = "http://127.0.0.1:9093"
basic_auth_user = "iotad"
basic_auth_password_file = "secrets/am-password"
labels = ["team=plant", "env=prod"]
firing_ttl = "12h"

[[alert.sink]]
name = "pd"
type = "pagerduty"
routing_key_file = "/run/secrets/pd"
source = "plant-7"
component = "sensors"
)");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const Components& c = parsed->components;
  ASSERT_EQ(c.Of("alert.sink").size(), 4u);

  const auto* hook = c.Find("alert.sink", "hook")->As<WebhookSinkOptions>();
  ASSERT_NE(hook, nullptr);
  EXPECT_EQ(hook->name, "hook");
  EXPECT_EQ(hook->url, "https://hooks.example.com/iotad?x=1");
  EXPECT_EQ(hook->bearer_token.env, "HOOK_TOKEN");
  EXPECT_TRUE(hook->bearer_token.file.empty());
  EXPECT_EQ(hook->headers, (std::vector<std::string>{"X-Team: plant-ops", "X-Env:prod"}));
  EXPECT_EQ(hook->timeout_us, 3'000'000);
  EXPECT_EQ(hook->max_attempts, 5);
  EXPECT_EQ(hook->concurrency, 4);
  EXPECT_EQ(hook->subject, "{severity}: {device}");
  EXPECT_EQ(hook->body, "{{literal}} {explanation} {url}");

  const auto* slack = c.Find("alert.sink", "ops-slack")->As<SlackSinkOptions>();
  ASSERT_NE(slack, nullptr);
  EXPECT_EQ(slack->url.env, "SLACK_WEBHOOK_URL");
  EXPECT_EQ(slack->channel, "#ops");
  EXPECT_EQ(slack->username, "iotad");
  EXPECT_FALSE(slack->timeout_us.has_value());  // alert.timeout applies
  EXPECT_FALSE(slack->max_attempts.has_value());
  EXPECT_EQ(slack->concurrency, 2);

  const auto* am = c.Find("alert.sink", "am")->As<AlertmanagerSinkOptions>();
  ASSERT_NE(am, nullptr);
  EXPECT_EQ(am->url, "http://127.0.0.1:9093");
  EXPECT_EQ(am->basic_auth_user, "iotad");
  EXPECT_EQ(am->basic_auth_password.file, "secrets/am-password");
  EXPECT_EQ(am->labels, (std::vector<std::string>{"team=plant", "env=prod"}));
  EXPECT_EQ(am->firing_ttl_us, 12LL * 3'600'000'000);

  const auto* pd = c.Find("alert.sink", "pd")->As<PagerDutySinkOptions>();
  ASSERT_NE(pd, nullptr);
  EXPECT_EQ(pd->url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(pd->routing_key.file, "/run/secrets/pd");
  EXPECT_EQ(pd->source, "plant-7");
  EXPECT_EQ(pd->component, "sensors");

  // SinkCommonOf finds the shared part of each.
  for (const Component& comp : c.Of("alert.sink")) {
    const SinkCommon* common = SinkCommonOf(comp);
    ASSERT_NE(common, nullptr) << comp.name;
    EXPECT_EQ(common->name, comp.name);
  }
}

TEST(AlertSinkConfig, DefaultsOfTheMinimalTables) {
  auto parsed = Parse(Sink("alertmanager", "url = \"http://am:9093\"\n") + "\n" +
                      "[[alert.sink]]\nname = \"p\"\ntype = \"pagerduty\"\nrouting_key_env = \"PD_KEY\"\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const auto* am = parsed->components.Find("alert.sink", "s")->As<AlertmanagerSinkOptions>();
  ASSERT_NE(am, nullptr);
  EXPECT_EQ(am->firing_ttl_us, AlertmanagerSinkOptions{}.firing_ttl_us);
  EXPECT_EQ(am->firing_ttl_us, 8LL * 3'600'000'000);
  EXPECT_TRUE(am->labels.empty());
  EXPECT_TRUE(am->basic_auth_password.empty());
  const auto* pd = parsed->components.Find("alert.sink", "p")->As<PagerDutySinkOptions>();
  ASSERT_NE(pd, nullptr);
  EXPECT_EQ(pd->url, PagerDutySinkOptions{}.url);
  EXPECT_TRUE(pd->source.empty());
}

TEST(AlertSinkConfig, EachBadValueIsOneSentenceNamingTheKey) {
  struct Case {
    std::string toml;
    std::vector<std::string> parts;  // each must be in the message
  };
  const std::vector<Case> cases = {
      {Sink("webhook", "url = \"ftp://example.com/x\"\n"), {"'alert.sink[0].url'", "http:// or https://"}},
      {Sink("webhook", "url = \"https:///nohost\"\n"), {"'alert.sink[0].url'"}},
      {Sink("webhook", "url = \"https://a b\"\n"), {"'alert.sink[0].url'"}},
      {Sink("webhook", "url = 5\n"), {"'alert.sink[0].url'", "string"}},
      {Sink("webhook", ""), {"'alert.sink[0].url' is required", "webhook"}},
      {Sink("webhook", "url = \"https://x\"\nheaders = [\"NoColon\"]\n"),
       {"'alert.sink[0].headers'", "\"NoColon\"", "Name: value"}},
      {Sink("webhook", "url = \"https://x\"\nheaders = [\"Bad Name: v\"]\n"), {"'alert.sink[0].headers'"}},
      {Sink("webhook", "url = \"https://x\"\nheaders = [\"Authorization: Bearer abc\"]\n"),
       {"'alert.sink[0].headers'", "bearer_token_env"}},
      {Sink("webhook", "url = \"https://x\"\nheaders = [\"Content-Type: text/plain\"]\n"),
       {"'alert.sink[0].headers'", "Content-Type"}},
      {Sink("webhook", "url = \"https://x\"\nbearer_token_env = \"A\"\nbearer_token_file = \"b\"\n"),
       {"alert.sink[0]", "bearer_token_env", "bearer_token_file"}},
      {Sink("webhook", "url = \"https://x\"\ntimeout = \"soon\"\n"), {"'alert.sink[0].timeout'", "duration"}},
      {Sink("webhook", "url = \"https://x\"\nconcurrency = 0\n"), {"'alert.sink[0].concurrency'", "1 to 64"}},
      {Sink("webhook", "url = \"https://x\"\nmax_attempts = 0\n"), {"'alert.sink[0].max_attempts'"}},
      {Sink("webhook", "url = \"https://x\"\nbody = \"{explanation\"\n"), {"'alert.sink[0].body'"}},
      {Sink("webhook", "url = \"https://x\"\nbearer_token = \"abc\"\n"),
       {"unknown key 'alert.sink[0].bearer_token'", "bearer_token_env", "bearer_token_file"}},
      {Sink("slack", ""), {"alert.sink[0]", "url_env", "url_file", "secret"}},
      {Sink("slack", "url_env = \"A\"\nurl_file = \"b\"\n"), {"alert.sink[0]", "url_env", "url_file"}},
      {Sink("slack", "url_env = \"\"\n"), {"'alert.sink[0].url_env'"}},
      {Sink("slack", "url_env = \"S\"\nchannel = 3\n"), {"'alert.sink[0].channel'"}},
      {Sink("alertmanager", "url = \"127.0.0.1:9093\"\n"), {"'alert.sink[0].url'"}},
      {Sink("alertmanager", "url = \"http://am\"\nlabels = [\"team\"]\n"), {"'alert.sink[0].labels'", "name=value"}},
      {Sink("alertmanager", "url = \"http://am\"\nlabels = [\"team=\"]\n"), {"'alert.sink[0].labels'"}},
      {Sink("alertmanager", "url = \"http://am\"\nlabels = [\"my-team=a\"]\n"),
       {"'alert.sink[0].labels'", "\"my-team\"", "Prometheus label name"}},
      {Sink("alertmanager", "url = \"http://am\"\nlabels = [\"__name__=a\"]\n"), {"'alert.sink[0].labels'", "__name__"}},
      {Sink("alertmanager", "url = \"http://am\"\nlabels = [\"1abc=a\"]\n"), {"'alert.sink[0].labels'", "1abc"}},
      {Sink("alertmanager", "url = \"http://am\"\nlabels = [\"alertname=x\"]\n"),
       {"'alert.sink[0].labels'", "alertname", "iotad sets itself"}},
      {Sink("alertmanager", "url = \"http://am\"\nlabels = [\"a=1\", \"a=2\"]\n"), {"'alert.sink[0].labels'", "twice"}},
      {Sink("alertmanager", "url = \"http://am\"\nbasic_auth_user = \"u\"\n"),
       {"alert.sink[0]", "basic_auth_password_env"}},
      {Sink("alertmanager", "url = \"http://am\"\nbasic_auth_password_env = \"P\"\n"),
       {"alert.sink[0]", "basic_auth_user"}},
      {Sink("alertmanager", "url = \"http://am\"\nfiring_ttl = \"0s\"\n"), {"'alert.sink[0].firing_ttl'"}},
      {Sink("pagerduty", ""), {"alert.sink[0]", "routing_key_env", "routing_key_file"}},
      {Sink("pagerduty", "routing_key_env = \"K\"\nurl = \"mailto:x\"\n"), {"'alert.sink[0].url'"}},
      {Sink("pagerduty", "routing_key = \"R0123456789abcdef\"\n"),
       {"unknown key 'alert.sink[0].routing_key'", "routing_key_env"}},
      {Sink("carrier-pigeon", ""), {"'alert.sink[0].type'", "webhook", "slack", "alertmanager", "pagerduty"}},
  };
  for (const Case& c : cases) {
    const std::string m = ErrorOf(c.toml);
    for (const std::string& part : c.parts) EXPECT_TRUE(Has(m, part)) << "missing \"" << part << "\" in: " << m;
  }
}

TEST(AlertSinkConfig, ASlackUrlInTheConfigIsRefusedWithoutRepeatingIt) {
  const std::string secret = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX";
  const std::string m = ErrorOf(Sink("slack", "url = \"" + secret + "\"\n"));
  EXPECT_TRUE(Has(m, "'alert.sink[0].url'")) << m;
  EXPECT_TRUE(Has(m, "secret")) << m;
  EXPECT_TRUE(Has(m, "url_env")) << m;
  EXPECT_TRUE(Has(m, "url_file")) << m;
  EXPECT_FALSE(Has(m, "XXXXSECRETXXXX")) << m;
}

TEST(AlertSinkConfig, ATemplateWithAnUnknownFieldNamesTheKeyAndTheField) {
  for (const char* key : {"subject", "body"}) {
    const std::string m =
        ErrorOf(Sink("webhook", std::string("url = \"https://x\"\n") + key + " = \"{device} {devise}\"\n"));
    EXPECT_TRUE(Has(m, std::string("'alert.sink[0].") + key + "'")) << m;
    EXPECT_TRUE(Has(m, "{devise}")) << m;
    EXPECT_TRUE(Has(m, "explanation")) << m;  // the known fields are listed
  }
  const std::string m = ErrorOf(Sink("slack", "url_env = \"S\"\nsubject = \"{severity} {nope}\"\n"));
  EXPECT_TRUE(Has(m, "'alert.sink[0].subject'")) << m;
  EXPECT_TRUE(Has(m, "{nope}")) << m;
}

TEST(AlertSinkConfig, ExampleShowsTheHttpTypes) {
  const std::string example = ExampleConfigToml();
  for (const char* part : {"# [[alert.sink]]", "# type = \"webhook\"", "# url = \"https://example.com/iotad-hook\"",
                           "# type = \"slack\"", "url_env", "# type = \"alertmanager\"", "# firing_ttl = \"8h\"",
                           "# type = \"pagerduty\"", "# url = \"https://events.pagerduty.com/v2/enqueue\"",
                           "routing_key_file"}) {
    EXPECT_TRUE(Has(example, part)) << part;
  }
  // The example still parses (the sink tables are commented out).
  auto parsed = ParseConfig(example, "example", kMachine);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->components.Of("alert.sink").empty());
}

}  // namespace
}  // namespace iotad::config
