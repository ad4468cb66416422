// The option tables of the sns, email, exec and file sinks.
#include <gtest/gtest.h>

#include "iotad/config/alert_config.h"
#include "iotad/config/config.h"

namespace iotad::config {
namespace {

const MachineLimits kMachine{2, 8LL << 30};

Result<LakeConfig> Parse(const std::string& toml) { return ParseConfig(toml, "lake/iotad.toml", kMachine); }

template <typename T>
const T* Only(Result<LakeConfig>&&) = delete;  // would point into a temporary
template <typename T>
const T* Only(const Result<LakeConfig>& parsed) {
  if (!parsed.ok()) {
    ADD_FAILURE() << parsed.status().message();
    return nullptr;
  }
  const auto& sinks = parsed->components.Of("alert.sink");
  if (sinks.size() != 1) {
    ADD_FAILURE() << "sinks: " << sinks.size();
    return nullptr;
  }
  return sinks[0].As<T>();
}

std::string ErrorOf(const std::string& toml) {
  auto parsed = Parse(toml);
  if (parsed.ok()) {
    ADD_FAILURE() << "accepted: " << toml;
    return "";
  }
  EXPECT_NE(parsed.status().message().find("lake/iotad.toml"), std::string::npos) << parsed.status().message();
  EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos) << parsed.status().message();
  return parsed.status().message();
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(SnsSinkConfig, ParsesWithDefaults) {
  const auto parsed = Parse(R"(
[[alert.sink]]
name = "topic"
type = "sns"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:alerts.fifo"
endpoint = "http://127.0.0.1:5000"
profile = "ops"
timeout = "3s"
)");
  const auto* o = Only<SnsSinkOptions>(parsed);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->name, "topic");
  EXPECT_EQ(o->topic_arn, "arn:aws:sns:eu-west-1:123456789012:alerts.fifo");
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:5000");
  EXPECT_EQ(o->profile, "ops");
  EXPECT_EQ(o->region, "");
  EXPECT_EQ(o->message_group_id, "{device}");
  EXPECT_EQ(o->timeout_us, 3'000'000);
  EXPECT_EQ(o->concurrency, 2);
}

TEST(SnsSinkConfig, RejectsBadArnsEndpointsRegionsAndTemplates) {
  const std::string head = "[[alert.sink]]\nname = \"t\"\ntype = \"sns\"\n";
  const std::string arn = "topic_arn = \"arn:aws:sns:us-east-1:123456789012:a\"\n";
  EXPECT_TRUE(Has(ErrorOf(head), "alert.sink[0].topic_arn' is required"));
  for (const char* bad : {"arn:aws:sqs:us-east-1:123456789012:a", "arn:aws:sns:us-east-1:1234:a",
                          "arn:aws:sns::123456789012:a", "arn:aws:sns:us-east-1:123456789012:",
                          "arn:aws:sns:us-east-1:123456789012:a b", "sns:us-east-1:123456789012:a",
                          "arn:aws:sns:us-east-1:123456789012:a:extra"}) {
    const std::string e = ErrorOf(head + "topic_arn = \"" + bad + "\"\n");
    EXPECT_TRUE(Has(e, "'alert.sink[0].topic_arn' must be an SNS topic ARN")) << e;
  }
  // Other partitions are ARNs too.
  EXPECT_TRUE(Parse(head + "topic_arn = \"arn:aws-cn:sns:cn-north-1:123456789012:a\"\n").ok());
  EXPECT_TRUE(Has(ErrorOf(head + arn + "endpoint = \"sns.local\"\n"), "'alert.sink[0].endpoint' must be an http://"));
  EXPECT_TRUE(Has(ErrorOf(head + arn + "region = \"EU West\"\n"), "'alert.sink[0].region' must be a region name"));
  EXPECT_TRUE(Has(ErrorOf(head + arn + "message_group_id = \"{devise}\"\n"), "unknown field {devise}"));
  EXPECT_TRUE(Has(ErrorOf(head + arn + "subject = \"{nope}\"\n"), "unknown field {nope}"));
  EXPECT_TRUE(Has(ErrorOf(head + arn + "secret_key = \"x\"\n"), "unknown key 'alert.sink[0].secret_key'"));
}

TEST(EmailSinkConfig, ParsesWithAuthFromASecret) {
  const auto parsed = Parse(R"(
[[alert.sink]]
name = "mail"
type = "email"
url = "smtp://mail.example.com:587"
from = "iotad@example.com"
to = ["ops@example.com", "oncall@example.org"]
starttls = "require"
username = "iotad"
password_env = "SMTP_PASSWORD"
)");
  const auto* o = Only<EmailSinkOptions>(parsed);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->url, "smtp://mail.example.com:587");
  EXPECT_EQ(o->to.size(), 2u);
  EXPECT_EQ(o->starttls, "require");
  EXPECT_EQ(o->username, "iotad");
  EXPECT_EQ(o->password.env, "SMTP_PASSWORD");
  EXPECT_EQ(o->password.file, "");
}

TEST(EmailSinkConfig, RejectsBadUrlsAddressesTlsAndHalfAuth) {
  const std::string head = "[[alert.sink]]\nname = \"m\"\ntype = \"email\"\n";
  const std::string ok = "url = \"smtps://mail.example.com\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\n";
  EXPECT_TRUE(Parse(head + ok).ok());
  EXPECT_TRUE(Has(ErrorOf(head + "from = \"a@example.com\"\nto = [\"b@example.com\"]\n"), "'alert.sink[0].url' is required"));
  EXPECT_TRUE(Has(ErrorOf(head + "url = \"http://mail.example.com\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\n"),
                  "'alert.sink[0].url' must be an smtp:// or smtps:// URL"));
  EXPECT_TRUE(Has(ErrorOf(head + "url = \"smtp://user:pw@mail.example.com\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\n"),
                  "no credentials"));
  EXPECT_TRUE(Has(ErrorOf(head + "url = \"smtp://m\"\nfrom = \"nobody\"\nto = [\"b@example.com\"]\n"),
                  "'alert.sink[0].from' must be a mail address"));
  EXPECT_TRUE(Has(ErrorOf(head + "url = \"smtp://m\"\nfrom = \"a@example.com\"\nto = []\n"), "alert.sink[0].to"));
  EXPECT_TRUE(Has(ErrorOf(head + "url = \"smtp://m\"\nfrom = \"a@example.com\"\nto = [\"x\\r\\nRCPT TO:<e@vil>\"]\n"),
                  "'alert.sink[0].to' must list mail addresses"));
  EXPECT_TRUE(Has(ErrorOf(head + ok + "starttls = \"maybe\"\n"), "alert.sink[0].starttls"));
  EXPECT_TRUE(Has(ErrorOf(head + ok + "password_env = \"P\"\n"), "sets a password but no username"));
  EXPECT_TRUE(Has(ErrorOf(head + ok + "username = \"u\"\n"), "sets username but no password"));
  EXPECT_TRUE(Has(ErrorOf(head + ok + "username = \"u\"\npassword_env = \"P\"\npassword_file = \"p.txt\"\n"),
                  "sets both password_env and password_file"));
  EXPECT_TRUE(Has(ErrorOf(head + ok + "password = \"hunter2\"\n"), "unknown key 'alert.sink[0].password'"));
}

TEST(ExecSinkConfig, CommandIsAnAbsolutePathOrAName) {
  const std::string head = "[[alert.sink]]\nname = \"x\"\ntype = \"exec\"\n";
  const auto parsed = Parse(head + "command = [\"/bin/sh\", \"-c\", \"cat\"]\n");
  const auto* o = Only<ExecSinkOptions>(parsed);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->command, (std::vector<std::string>{"/bin/sh", "-c", "cat"}));
  EXPECT_TRUE(Parse(head + "command = [\"logger\"]\n").ok());
  EXPECT_TRUE(Has(ErrorOf(head), "'alert.sink[0].command' is required"));
  EXPECT_TRUE(Has(ErrorOf(head + "command = []\n"), "alert.sink[0].command"));
  EXPECT_TRUE(Has(ErrorOf(head + "command = [\"./notify.sh\"]\n"), "must start with an absolute path or a program name"));
  EXPECT_TRUE(Has(ErrorOf(head + "command = \"/bin/true\"\n"), "alert.sink[0].command"));
}

TEST(FileSinkConfig, PathDefaultsToAlertsJsonl) {
  const auto parsed = Parse("[[alert.sink]]\nname = \"f\"\ntype = \"file\"\n");
  const auto* o = Only<FileSinkOptions>(parsed);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->path, "alerts.jsonl");
  EXPECT_EQ(o->name, "f");
  const auto parsed2 = Parse("[[alert.sink]]\nname = \"f2\"\ntype = \"file\"\npath = \"/tmp/a.jsonl\"\nmax_attempts = 3\n");
  const auto* p = Only<FileSinkOptions>(parsed2);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->path, "/tmp/a.jsonl");
  EXPECT_EQ(p->max_attempts, 3);
}

// `config example`'s sink block, uncommented, parses: each required example value is valid.
TEST(OtherSinkConfig, ExampleValuesOfTheseTypesParse) {
  for (const ComponentType& t : OtherSinkTypes()) {
    std::string toml = "[[alert.sink]]\nname = \"s\"\ntype = \"" + t.name + "\"\n";
    for (const OptionDoc& o : t.options) {
      if (!o.default_toml.empty()) toml += o.name + " = " + o.default_toml + "\n";
    }
    const auto parsed = Parse(toml);
    EXPECT_TRUE(parsed.ok()) << t.name << ": " << parsed.status().message() << "\n" << toml;
  }
}

}  // namespace
}  // namespace iotad::config

namespace iotad::config {
namespace {

// `iotad config example`'s [[alert.sink]] block with its first "# " removed per line parses, and
// each of this file's types appears in it with its defaults.
TEST(OtherSinkConfig, TheExampleBlockUncommentedParses) {
  ComponentKind kind = AlertSinkKind();
  kind.example.clear();  // its hand-written slack example belongs to the http types' tests
  const std::string block = ExampleComponentToml(kind);
  std::string text;
  for (size_t start = 0; start < block.size();) {
    size_t end = block.find('\n', start);
    if (end == std::string::npos) end = block.size();
    const std::string line = block.substr(start, end - start);
    text += (line.rfind("# ", 0) == 0 ? line.substr(2) : line) + "\n";
    start = end + 1;
  }
  const auto parsed = Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  int seen = 0;
  for (const Component& c : parsed->components.Of("alert.sink")) {
    if (const auto* o = c.As<SnsSinkOptions>()) {
      EXPECT_EQ(o->message_group_id, "{device}");
      ++seen;
    } else if (const auto* o = c.As<EmailSinkOptions>()) {
      EXPECT_EQ(o->starttls, "try");
      ++seen;
    } else if (c.As<ExecSinkOptions>() != nullptr) {
      ++seen;
    } else if (const auto* o = c.As<FileSinkOptions>()) {
      EXPECT_EQ(o->path, "alerts.jsonl");
      ++seen;
    }
  }
  EXPECT_EQ(seen, 4);
}

}  // namespace
}  // namespace iotad::config
