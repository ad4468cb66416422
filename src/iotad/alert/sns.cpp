// type = "sns": the Publish action of the SNS Query API, SigV4-signed by libcurl
// (CURLOPT_AWS_SIGV4 "aws:amz:<region>:sns"), to AWS or an SNS-compatible server.
#include "iotad/alert/sns.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/template.h"
#include "iotad/core/hash.h"

namespace iotad::alert {
namespace {

constexpr size_t kMaxResponse = 4 * 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// The text between <tag> and </tag> (first occurrence), XML entities decoded; nullopt when absent.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag), close = fmt::format("</{}>", tag);
  const size_t b = xml.find(open);
  if (b == std::string_view::npos) return std::nullopt;
  const size_t start = b + open.size();
  const size_t e = xml.find(close, start);
  if (e == std::string_view::npos) return std::nullopt;
  const std::string_view raw = xml.substr(start, e - start);
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities = {
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    bool done = false;
    if (raw[i] == '&') {
      for (const auto& [name, c] : kEntities) {
        if (raw.substr(i, name.size()) == name) {
          out += c;
          i += name.size() - 1;
          done = true;
          break;
        }
      }
    }
    if (!done) out += raw[i];
  }
  return out;
}

// One line, at most `max` bytes (for an error sentence built from what a server said).
std::string OneLine(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    const bool space = c == '\n' || c == '\r' || c == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
    if (out.size() >= max) break;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  return out;
}

bool IsOneOf(const std::string& code, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

class SnsSink final : public Sink {
 public:
  SnsSink(const config::SnsSinkOptions& o, const SinkEnv& env, AwsCredentials creds, std::string region,
          std::string endpoint)
      : Sink(o, "sns", env.alert),
        topic_arn_(o.topic_arn),
        subject_(o.subject.empty() ? std::string(DefaultSubject()) : o.subject),
        body_(o.body.empty() ? std::string(DefaultBody()) : o.body),
        group_template_(o.message_group_id),
        fifo_(o.topic_arn.size() > 5 && o.topic_arn.compare(o.topic_arn.size() - 5, 5, ".fifo") == 0),
        creds_(std::move(creds)),
        region_(std::move(region)),
        endpoint_(std::move(endpoint)) {}

  AttemptResult Send(const Notification& n) override {
    SnsPublish p;
    p.topic_arn = topic_arn_;
    p.subject = SnsSubject(RenderTemplate(subject_, n));
    p.message = RenderTemplate(body_, n);
    if (p.message.empty()) p.message = NotificationJson(n);  // SNS refuses an empty Message
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"dedup_key", &n.dedup_key},
                                      {"severity", &n.severity},
                                      {"status", &n.status},
                                      {"alert_id", &n.alert_id}}) {
      if (!value->empty()) p.attributes.emplace_back(name, *value);
    }
    if (fifo_) {
      p.message_group_id = SnsFifoId(RenderTemplate(group_template_, n), "iotad");
      p.message_deduplication_id = SnsDeduplicationId(n);
    }
    HttpRequest req;
    req.method = "POST";
    req.url = endpoint_;
    req.headers = {"Content-Type: application/x-www-form-urlencoded"};
    if (!creds_.session_token.empty()) req.headers.push_back("X-Amz-Security-Token: " + creds_.session_token);
    req.body = SnsPublishBody(p);
    req.timeout_us = timeout_us();
    req.aws_sigv4 = "aws:amz:" + region_ + ":sns";
    req.user = creds_.access_key_id;
    req.password = creds_.secret_access_key;
    return SnsAttempt(HttpSend(req));
  }

 private:
  std::string topic_arn_, subject_, body_, group_template_;
  bool fifo_;
  AwsCredentials creds_;
  std::string region_, endpoint_;
};

}  // namespace

std::string FormEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3 / 2);
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string SnsPublishBody(const SnsPublish& p) {
  std::string body = "Action=Publish&Version=2010-03-31";
  auto add = [&body](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    body += '&';
    body += FormEncode(name);
    body += '=';
    body += FormEncode(value);
  };
  add("TopicArn", p.topic_arn);
  add("Subject", p.subject);
  add("Message", p.message);
  int i = 0;
  for (const auto& [name, value] : p.attributes) {
    if (name.empty() || value.empty()) continue;
    ++i;
    const std::string prefix = fmt::format("MessageAttributes.entry.{}.", i);
    add(prefix + "Name", name);
    add(prefix + "Value.DataType", "String");
    add(prefix + "Value.StringValue", value);
  }
  add("MessageGroupId", p.message_group_id);
  add("MessageDeduplicationId", p.message_deduplication_id);
  return body;
}

std::string SnsSubject(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size() && out.size() < 100; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    char keep;
    if (c >= 0x21 && c < 0x7f) {
      keep = static_cast<char>(c);
    } else if (c < 0x80) {
      keep = ' ';  // space, line breaks, control characters
    } else if (c >= 0xC0) {
      keep = '?';  // the lead byte of a multi-byte character
    } else {
      continue;  // a continuation byte
    }
    if (keep == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += keep;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "iotad alert" : out;
}

std::string SnsFifoId(std::string_view text, std::string_view fallback) {
  std::string out;
  for (const char c : text) {
    if (out.size() == 128) break;
    out += (c >= '!' && c <= '~') ? c : '_';
  }
  return out.empty() ? std::string(fallback) : out;
}

std::string SnsDeduplicationId(const Notification& n) {
  const std::string kind = NotificationKindName(n.kind);
  const std::string hash = HashBytes(n.dedup_key + "\n" + kind + "\n" + n.id).Hex();
  return SnsFifoId(fmt::format("{}-{}-{}", n.alert_id, kind, hash), hash);
}

TopicArnParts SplitTopicArn(std::string_view arn) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t at = arn.find(':'); at != std::string_view::npos && parts.size() < 5; at = arn.find(':', start)) {
    parts.push_back(arn.substr(start, at - start));
    start = at + 1;
  }
  parts.push_back(arn.substr(start));
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns") return {};
  return {std::string(parts[1]), std::string(parts[3]), std::string(parts[4]), std::string(parts[5])};
}

std::optional<AwsCredentials> ParseSharedCredentials(std::string_view text, std::string_view profile) {
  AwsCredentials c;
  bool in_profile = false;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    const std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[') {
      const size_t close = l.find(']');
      in_profile = close != std::string_view::npos && Trim(l.substr(1, close - 1)) == profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = Lower(Trim(l.substr(0, eq)));
    const std::string value(Trim(l.substr(eq + 1)));
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
    if (key == "aws_session_token") c.session_token = value;
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  return c;
}

Result<AwsCredentials> LoadAwsCredentials(const std::string& profile_option, const std::string& credentials_file,
                                          const std::filesystem::path& lake_root) {
  const std::string key_id = Env("AWS_ACCESS_KEY_ID"), secret = Env("AWS_SECRET_ACCESS_KEY");
  if (!key_id.empty() && !secret.empty()) {
    return AwsCredentials{key_id, secret, Env("AWS_SESSION_TOKEN"), "environment"};
  }
  if (!key_id.empty() || !secret.empty()) {
    return Error(Errc::kInvalidArgument, "{} is set but {} is not; set both (or neither, to use a credentials file)",
                 key_id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
                 key_id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
  }
  std::filesystem::path file;
  if (!credentials_file.empty()) {
    file = credentials_file;
    if (file.is_relative()) file = lake_root / file;
  } else if (const std::string f = Env("AWS_SHARED_CREDENTIALS_FILE"); !f.empty()) {
    file = f;
  } else if (const std::string home = Env("HOME"); !home.empty()) {
    file = std::filesystem::path(home) / ".aws" / "credentials";
  } else {
    return Error(Errc::kInvalidArgument,
                 "no AWS credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set, and neither "
                 "credentials_file, AWS_SHARED_CREDENTIALS_FILE nor HOME names a credentials file");
  }
  std::string profile = profile_option;
  if (profile.empty()) profile = Env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Error(Errc::kInvalidArgument,
                 "no AWS credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set and the shared "
                 "credentials file {} cannot be read",
                 file.string());
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::optional<AwsCredentials> c = ParseSharedCredentials(ss.str(), profile);
  if (!c) {
    return Error(Errc::kInvalidArgument,
                 "no AWS credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set and the shared "
                 "credentials file {} has no profile [{}] with aws_access_key_id and aws_secret_access_key",
                 file.string(), profile);
  }
  c->source = fmt::format("{} [{}]", file.string(), profile);
  return *c;
}

AttemptResult SnsAttempt(const HttpResponse& r) {
  AttemptResult a = ToAttempt(r);
  if (r.status == 0) {
    a.error = "sns: " + a.error;
    return a;
  }
  a.response = CapUtf8(r.body, kMaxResponse);
  if (r.status >= 200 && r.status < 300) {
    if (const auto id = XmlText(r.body, "MessageId"); id && !id->empty()) {
      a.outcome = AttemptOutcome::kDelivered;
      a.error.clear();
      a.response = "<MessageId>" + *id + "</MessageId>";
    } else {
      // Published or not, the answer does not say: dead-lettered for a person to look at.
      a.outcome = AttemptOutcome::kRefused;
      a.error = fmt::format("sns: the answer (HTTP {}) has no MessageId", r.status);
    }
    return a;
  }
  const std::string code = OneLine(XmlText(r.body, "Code").value_or(""), 100);
  const std::string message = OneLine(XmlText(r.body, "Message").value_or(""), 300);
  if (code.empty()) {
    a.error = fmt::format("sns: HTTP {}", r.status);
    return a;  // ToAttempt's outcome by status
  }
  a.error = message.empty() ? fmt::format("sns: {}", code) : fmt::format("sns: {}: {}", code, message);
  if (IsOneOf(code, {"SignatureDoesNotMatch", "InvalidClientTokenId", "AccessDenied", "AccessDeniedException",
                     "AuthorizationError", "IncompleteSignature", "MissingAuthenticationToken", "ExpiredToken",
                     "UnrecognizedClientException", "InvalidAccessKeyId", "NotFound", "InvalidParameter",
                     "InvalidParameterValue", "KMSAccessDenied", "KMSDisabled", "KMSNotFound"})) {
    a.outcome = AttemptOutcome::kRefused;
  } else if (IsOneOf(code, {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
                            "ServiceUnavailable", "InternalError", "InternalFailure", "KMSThrottling",
                            "RequestExpired"})) {
    a.outcome = AttemptOutcome::kRetry;
  }
  return a;
}

Result<std::unique_ptr<Sink>> MakeSnsSink(const config::SnsSinkOptions& o, const SinkEnv& env) {
  const TopicArnParts arn = SplitTopicArn(o.topic_arn);
  std::string region = o.region;
  if (region.empty()) region = arn.region;
  if (region.empty()) region = Env("AWS_REGION");
  if (region.empty()) region = Env("AWS_DEFAULT_REGION");
  if (region.empty()) {
    return Error(Errc::kInvalidArgument,
                 "no region: set region, or AWS_REGION / AWS_DEFAULT_REGION (the topic ARN names none)");
  }
  std::string endpoint = o.endpoint;
  if (endpoint.empty()) {
    endpoint = fmt::format("https://sns.{}.amazonaws.com{}/", region, arn.partition == "aws-cn" ? ".cn" : "");
  }
  IOTAD_ASSIGN_OR_RETURN(AwsCredentials creds, LoadAwsCredentials(o.profile, o.credentials_file, env.lake_root));
  return std::unique_ptr<Sink>(new SnsSink(o, env, std::move(creds), std::move(region), std::move(endpoint)));
}

}  // namespace iotad::alert
