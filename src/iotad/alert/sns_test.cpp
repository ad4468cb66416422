#include "iotad/alert/sns.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "iotad/alert/sink.h"
#include "iotad/alert/sinks_http_test_util.h"
#include "iotad/alert/template.h"
#include "iotad/alert/test_http_server.h"

namespace iotad::alert {
namespace {

namespace fs = std::filesystem;

// Sets (or, with nullptr, unsets) environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
      if (value) {
        setenv(name, value, 1);
      } else {
        unsetenv(name);
      }
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        setenv(name.c_str(), old->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

fs::path TempDir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / fmt::format("iotad-sns-{}-{}", name, getpid());
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

TEST(SnsForm, EncodesValuesAsFormUrlEncoding) {
  EXPECT_EQ(FormEncode("arn:aws:sns:us-east-1:123456789012:alerts"), "arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts");
  EXPECT_EQ(FormEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(FormEncode("a b+c/d*e=f&g"), "a+b%2Bc%2Fd%2Ae%3Df%26g");
  EXPECT_EQ(FormEncode("[x]\n{y}"), "%5Bx%5D%0A%7By%7D");
  EXPECT_EQ(FormEncode("\xC3\xA9"), "%C3%A9");  // é
  EXPECT_EQ(FormEncode(""), "");
}

TEST(SnsForm, PublishBodyHasEveryParameterInOrder) {
  SnsPublish p;
  p.topic_arn = "arn:aws:sns:eu-west-1:123456789012:t.fifo";
  p.subject = "[critical] firing";
  p.message = "line 1\nline 2";
  p.attributes = {{"dedup_key", "r|device=d|2024"}, {"severity", "critical"}, {"empty", ""}};
  p.message_group_id = "dev-1";
  p.message_deduplication_id = "abc-firing-01";
  EXPECT_EQ(SnsPublishBody(p),
            "Action=Publish&Version=2010-03-31"
            "&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3At.fifo"
            "&Subject=%5Bcritical%5D+firing"
            "&Message=line+1%0Aline+2"
            "&MessageAttributes.entry.1.Name=dedup_key"
            "&MessageAttributes.entry.1.Value.DataType=String"
            "&MessageAttributes.entry.1.Value.StringValue=r%7Cdevice%3Dd%7C2024"
            "&MessageAttributes.entry.2.Name=severity"
            "&MessageAttributes.entry.2.Value.DataType=String"
            "&MessageAttributes.entry.2.Value.StringValue=critical"
            "&MessageGroupId=dev-1"
            "&MessageDeduplicationId=abc-firing-01");
  SnsPublish standard;
  standard.topic_arn = "arn:aws:sns:eu-west-1:123456789012:t";
  standard.message = "m";
  EXPECT_EQ(SnsPublishBody(standard),
            "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3At&Message=m");
}

TEST(SnsForm, SubjectIsOneLineOfPrintableAsciiUpTo100) {
  EXPECT_EQ(SnsSubject("[warning] firing: dev-1 temp_c"), "[warning] firing: dev-1 temp_c");
  EXPECT_EQ(SnsSubject("  two\r\nlines\tand  tabs  "), "two lines and tabs");
  EXPECT_EQ(SnsSubject("caf\xC3\xA9 \xE2\x9C\x93"), "caf? ?");
  EXPECT_EQ(SnsSubject(std::string(300, 'x')).size(), 100u);
  EXPECT_EQ(SnsSubject("\n\n"), "iotad alert");
  const std::string s = SnsSubject(std::string(99, 'a') + "\xC3\xA9\xC3\xA9");
  EXPECT_EQ(s.size(), 100u);
  for (char c : SnsSubject("x\x01y\x7fz")) EXPECT_TRUE(c >= 0x20 && c < 0x7f);
}

TEST(SnsForm, DeduplicationIdIsStablePerDelivery) {
  Notification n = test_util::SampleNotification();
  const std::string id = SnsDeduplicationId(n);
  EXPECT_EQ(id, SnsDeduplicationId(n));  // a re-send of the same delivery: same id
  EXPECT_EQ(id.rfind("a1b2c3d4e5f6-firing-", 0), 0u) << id;
  EXPECT_LE(id.size(), 128u);
  for (char c : id) EXPECT_TRUE(c >= '!' && c <= '~');
  Notification resolved = n;
  resolved.kind = NotificationKind::kResolved;
  EXPECT_NE(SnsDeduplicationId(resolved), id);
  Notification other = n;
  other.id = "a1b2c3d4e5f6-2-ops";
  EXPECT_NE(SnsDeduplicationId(other), id);
  EXPECT_EQ(SnsFifoId("dev 1\xC3\xA9", "x"), "dev_1__");
  EXPECT_EQ(SnsFifoId("", "iotad"), "iotad");
  EXPECT_EQ(SnsFifoId(std::string(200, 'g'), "x").size(), 128u);
}

TEST(SnsCredentials, SharedFileProfiles) {
  const std::string text =
      "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=secretdefault\n\n"
      "[ops]\r\n; another comment\r\nAWS_ACCESS_KEY_ID = AKIDOPS\r\naws_secret_access_key = secret/ops+1\r\n"
      "aws_session_token = tok\r\n[half]\naws_access_key_id = AKIDHALF\n";
  auto d = ParseSharedCredentials(text, "default");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(d->secret_access_key, "secretdefault");
  EXPECT_EQ(d->session_token, "");
  auto ops = ParseSharedCredentials(text, "ops");
  ASSERT_TRUE(ops.has_value());
  EXPECT_EQ(ops->access_key_id, "AKIDOPS");
  EXPECT_EQ(ops->secret_access_key, "secret/ops+1");
  EXPECT_EQ(ops->session_token, "tok");
  EXPECT_FALSE(ParseSharedCredentials(text, "half").has_value());
  EXPECT_FALSE(ParseSharedCredentials(text, "nope").has_value());
}

TEST(SnsCredentials, TheUsualOrder) {
  const fs::path dir = TempDir("creds");
  WriteFile(dir / "home-creds", "[default]\naws_access_key_id=AKIDHOME\naws_secret_access_key=s1\n");
  WriteFile(dir / "env-creds", "[default]\naws_access_key_id=AKIDENVFILE\naws_secret_access_key=s2\n"
                               "[p2]\naws_access_key_id=AKIDP2\naws_secret_access_key=s3\n");
  WriteFile(dir / "lake-creds", "[mine]\naws_access_key_id=AKIDLAKE\naws_secret_access_key=s4\n");
  fs::create_directories(dir / "home" / ".aws");
  fs::copy_file(dir / "home-creds", dir / "home" / ".aws" / "credentials");
  const std::string home = (dir / "home").string(), envfile = (dir / "env-creds").string();
  {
    // 1. The environment wins over any file.
    ScopedEnv env({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "senv"}, {"AWS_SESSION_TOKEN", "t"},
                   {"HOME", home.c_str()}, {"AWS_SHARED_CREDENTIALS_FILE", envfile.c_str()}, {"AWS_PROFILE", nullptr}});
    auto c = LoadAwsCredentials("", "", dir);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->access_key_id, "AKIDENV");
    EXPECT_EQ(c->session_token, "t");
    EXPECT_EQ(c->source, "environment");
  }
  {
    // 2. credentials_file (relative to the lake) with the profile option.
    ScopedEnv env({{"AWS_ACCESS_KEY_ID", nullptr}, {"AWS_SECRET_ACCESS_KEY", nullptr}, {"HOME", home.c_str()},
                   {"AWS_SHARED_CREDENTIALS_FILE", envfile.c_str()}, {"AWS_PROFILE", "p2"}});
    auto c = LoadAwsCredentials("mine", "lake-creds", dir);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->access_key_id, "AKIDLAKE");
    // 3. AWS_SHARED_CREDENTIALS_FILE with AWS_PROFILE.
    c = LoadAwsCredentials("", "", dir);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->access_key_id, "AKIDP2");
    EXPECT_EQ(c->source, envfile + " [p2]");
  }
  {
    // 4. ~/.aws/credentials, profile default.
    ScopedEnv env({{"AWS_ACCESS_KEY_ID", nullptr}, {"AWS_SECRET_ACCESS_KEY", nullptr}, {"HOME", home.c_str()},
                   {"AWS_SHARED_CREDENTIALS_FILE", nullptr}, {"AWS_PROFILE", nullptr}});
    auto c = LoadAwsCredentials("", "", dir);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->access_key_id, "AKIDHOME");
    EXPECT_EQ(c->secret_access_key, "s1");
    // A profile that is not there: one sentence naming the file and the profile.
    c = LoadAwsCredentials("prod", "", dir);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("has no profile [prod]"), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find(home), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
    c = LoadAwsCredentials("", "missing-file", dir);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("missing-file cannot be read"), std::string::npos) << c.status().message();
  }
  {
    ScopedEnv env({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", nullptr}});
    auto c = LoadAwsCredentials("", "", dir);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().message(),
              "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both (or neither, to use a credentials "
              "file)");
  }
  fs::remove_all(dir);
}

HttpResponse Answer(int64_t status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(SnsAnswer, MapsMessageIdsAndErrorCodes) {
  AttemptResult a = SnsAttempt(Answer(200,
                                      "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>"
                                      "<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>"
                                      "</PublishResponse>"));
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered);
  EXPECT_EQ(a.response, "<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId>");
  EXPECT_EQ(a.error, "");

  const std::string sig =
      "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
      "calculated does not match the signature you provided.</Message></Error><RequestId>r</RequestId></ErrorResponse>";
  a = SnsAttempt(Answer(403, sig));
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.status_code, 403);
  EXPECT_EQ(a.error,
            "sns: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided");
  EXPECT_EQ(a.response, sig);

  for (const char* code : {"InvalidClientTokenId", "AccessDenied", "AuthorizationError"}) {
    a = SnsAttempt(Answer(403, fmt::format("<Error><Code>{}</Code><Message>no &amp; no</Message></Error>", code)));
    EXPECT_EQ(a.outcome, AttemptOutcome::kRefused) << code;
    EXPECT_EQ(a.error, fmt::format("sns: {}: no & no", code));
  }
  // Throttling comes as a 400 but is worth a retry.
  a = SnsAttempt(Answer(400, "<Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"));
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.error, "sns: Throttling: Rate exceeded");
  a = SnsAttempt(Answer(503, "oops"));
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.error, "sns: HTTP 503");
  a = SnsAttempt(Answer(404, "<Error><Code>NotFound</Code><Message>Topic does not exist</Message></Error>"));
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  a = SnsAttempt(Answer(200, "<html>captive portal</html>"));
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.error, "sns: the answer (HTTP 200) has no MessageId");
  HttpResponse none;
  none.error = "no response: Connection refused";
  a = SnsAttempt(none);
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.error, "sns: no response: Connection refused");
}

config::SnsSinkOptions Options(const std::string& arn, const std::string& endpoint) {
  config::SnsSinkOptions o;
  o.name = "topic";
  o.topic_arn = arn;
  o.endpoint = endpoint;
  o.timeout_us = 5'000'000;
  return o;
}

// A local server standing in for SNS: records what a Publish carried and answers like SNS does.
struct FakeSns {
  testutil::TestHttpServer srv;
  std::mutex mu;
  std::vector<httplib::Params> params;
  std::vector<std::string> authorization, token, content_type, bodies;
  int status = 200;
  std::string answer =
      "<PublishResponse><PublishResult><MessageId>mid-1</MessageId></PublishResult></PublishResponse>";

  bool Start() {
    srv.server().Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      params.push_back(req.params);
      authorization.push_back(req.get_header_value("Authorization"));
      token.push_back(req.get_header_value("X-Amz-Security-Token"));
      content_type.push_back(req.get_header_value("Content-Type"));
      bodies.push_back(req.body);
      res.status = status;
      res.set_content(answer, "text/xml");
    });
    return srv.Start();
  }
  std::string Param(size_t i, const std::string& name) {
    std::lock_guard lock(mu);
    const auto it = params.at(i).find(name);
    return it == params.at(i).end() ? "<absent>" : it->second;
  }
};

TEST(SnsSink, PublishesASignedFormAndReadsTheMessageId) {
  FakeSns sns;
  ASSERT_TRUE(sns.Start());
  ScopedEnv env({{"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", "secret-key"},
                 {"AWS_SESSION_TOKEN", "session-token"}});
  auto sink = MakeSnsSink(Options("arn:aws:sns:eu-west-1:123456789012:alerts", sns.srv.url("/")), SinkEnv{});
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  EXPECT_EQ((*sink)->type(), "sns");
  EXPECT_EQ((*sink)->name(), "topic");
  const Notification n = test_util::SampleNotification();
  const AttemptResult a = (*sink)->Send(n);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(a.response, "<MessageId>mid-1</MessageId>");
  EXPECT_EQ(a.status_code, 200);
  EXPECT_EQ(sns.Param(0, "Action"), "Publish");
  EXPECT_EQ(sns.Param(0, "Version"), "2010-03-31");
  EXPECT_EQ(sns.Param(0, "TopicArn"), "arn:aws:sns:eu-west-1:123456789012:alerts");
  EXPECT_EQ(sns.Param(0, "Subject"), "[critical] firing: dev-00042 temp_c (device-anomalies)");
  EXPECT_EQ(sns.Param(0, "Message"), RenderTemplate(DefaultBody(), n));
  EXPECT_EQ(sns.Param(0, "MessageAttributes.entry.1.Name"), "dedup_key");
  EXPECT_EQ(sns.Param(0, "MessageAttributes.entry.1.Value.StringValue"), n.dedup_key);
  EXPECT_EQ(sns.Param(0, "MessageAttributes.entry.2.Name"), "severity");
  EXPECT_EQ(sns.Param(0, "MessageAttributes.entry.2.Value.StringValue"), "critical");
  EXPECT_EQ(sns.Param(0, "MessageGroupId"), "<absent>");  // a standard topic
  EXPECT_EQ(sns.Param(0, "MessageDeduplicationId"), "<absent>");
  std::lock_guard lock(sns.mu);
  EXPECT_EQ(sns.content_type[0], "application/x-www-form-urlencoded");
  EXPECT_EQ(sns.token[0], "session-token");
  // Region from the ARN, service sns, the session token under the signature.
  const std::string& auth = sns.authorization[0];
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDTEST/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/eu-west-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
                      "Signature="),
            std::string::npos)
      << auth;
  EXPECT_EQ(auth.find("secret-key"), std::string::npos);
  EXPECT_EQ(sns.bodies[0].find(' '), std::string::npos);  // every value encoded
}

TEST(SnsSink, FifoTopicsGetAGroupAndAStableDeduplicationId) {
  FakeSns sns;
  ASSERT_TRUE(sns.Start());
  ScopedEnv env({{"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", "secret-key"},
                 {"AWS_SESSION_TOKEN", nullptr}});
  auto o = Options("arn:aws:sns:us-east-1:123456789012:alerts.fifo", sns.srv.url("/"));
  o.message_group_id = "{location}/{device}";
  o.region = "us-west-2";  // the option wins over the ARN's region
  o.subject = "{{iotad}} {status} on {device}";
  o.body = "{explanation}";
  auto sink = MakeSnsSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  const Notification n = test_util::SampleNotification();
  EXPECT_EQ((*sink)->Send(n).outcome, AttemptOutcome::kDelivered);
  EXPECT_EQ((*sink)->Send(n).outcome, AttemptOutcome::kDelivered);  // the same delivery, sent again
  EXPECT_EQ(sns.Param(0, "MessageGroupId"), "hall-2/dev-00042");
  EXPECT_EQ(sns.Param(0, "MessageDeduplicationId"), SnsDeduplicationId(n));
  EXPECT_EQ(sns.Param(1, "MessageDeduplicationId"), sns.Param(0, "MessageDeduplicationId"));
  EXPECT_EQ(sns.Param(0, "Subject"), "{iotad} firing on dev-00042");
  EXPECT_EQ(sns.Param(0, "Message"), n.latest.explanation);
  std::lock_guard lock(sns.mu);
  EXPECT_NE(sns.authorization[0].find("/us-west-2/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, "),
            std::string::npos)
      << sns.authorization[0];
  EXPECT_EQ(sns.token[0], "");
}

TEST(SnsSink, AWrongSecretIsOneClearErrorNotASilentDrop) {
  FakeSns sns;
  sns.status = 403;
  sns.answer =
      "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature "
      "we calculated does not match the signature you provided.</Message></Error></ErrorResponse>";
  ASSERT_TRUE(sns.Start());
  ScopedEnv env({{"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", "wrong-secret"}});
  auto sink = MakeSnsSink(Options("arn:aws:sns:us-east-1:123456789012:alerts", sns.srv.url("/")), SinkEnv{});
  ASSERT_TRUE(sink.ok());
  const AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.status_code, 403);
  EXPECT_EQ(a.error.rfind("sns: SignatureDoesNotMatch: The request signature", 0), 0u) << a.error;
  EXPECT_EQ(a.error.find("wrong-secret"), std::string::npos);
}

TEST(SnsSink, AnUnreachableEndpointIsARetry) {
  ScopedEnv env({{"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", "s"}});
  auto o = Options("arn:aws:sns:us-east-1:123456789012:alerts", "http://127.0.0.1:1/");
  auto sink = MakeSnsSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok());
  const AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.error.rfind("sns: no response", 0), 0u) << a.error;
}

TEST(SnsSink, NoCredentialsIsOneSentenceAtMakeTime) {
  const fs::path dir = TempDir("nocreds");
  const std::string home = dir.string();
  ScopedEnv env({{"AWS_ACCESS_KEY_ID", nullptr}, {"AWS_SECRET_ACCESS_KEY", nullptr}, {"HOME", home.c_str()},
                 {"AWS_SHARED_CREDENTIALS_FILE", nullptr}, {"AWS_PROFILE", nullptr}});
  auto sink = MakeSnsSink(Options("arn:aws:sns:us-east-1:123456789012:alerts", ""), SinkEnv{});
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().message(),
            fmt::format("no AWS credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set and the shared "
                        "credentials file {}/.aws/credentials cannot be read",
                        home));
  fs::remove_all(dir);
}

TEST(SnsArn, Splits) {
  const TopicArnParts p = SplitTopicArn("arn:aws-cn:sns:cn-north-1:123456789012:a.fifo");
  EXPECT_EQ(p.partition, "aws-cn");
  EXPECT_EQ(p.region, "cn-north-1");
  EXPECT_EQ(p.account, "123456789012");
  EXPECT_EQ(p.name, "a.fifo");
  EXPECT_EQ(SplitTopicArn("arn:aws:sqs:us-east-1:1:a").region, "");
}

}  // namespace
}  // namespace iotad::alert
