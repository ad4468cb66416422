// sns, email, exec, file: option tables and validation. Whether credentials and secrets are
// actually there is checked when the sink is built (alert::MakeSink), not here.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "iotad/config/alert_config.h"

namespace iotad::config {
namespace {

bool AllOf(std::string_view s, bool (*ok)(char)) { return !s.empty() && std::all_of(s.begin(), s.end(), ok); }
bool RegionChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool DigitChar(char c) { return c >= '0' && c <= '9'; }
bool TopicChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// `s` for a message: control characters and non-ASCII bytes as \xNN, at most 120 characters.
std::string Shown(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 120)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02X}", u);
    } else {
      out += c;
    }
  }
  return s.size() > 120 ? out + "..." : out;
}

// Every type's validate starts here: SinkCommon::name is the table's name.
template <typename T>
Status FillName(T& t, const ComponentContext& ctx) {
  t.name = ctx.name;
  return Status::Ok();
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at = s.find(sep); at != std::string::npos; at = s.find(sep, start)) {
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

// arn:<partition>:sns:<region>:<account>:<topic>, e.g. arn:aws:sns:eu-west-1:123456789012:alerts.
Status CheckTopicArn(const std::string& arn, const std::string& key) {
  const std::vector<std::string> parts = Split(arn, ':');
  bool ok = parts.size() == 6 && parts[0] == "arn" && parts[1].rfind("aws", 0) == 0 && AllOf(parts[1], RegionChar) &&
            parts[2] == "sns" && AllOf(parts[3], RegionChar) && parts[4].size() == 12 && AllOf(parts[4], DigitChar);
  if (ok) {
    std::string topic = parts[5];
    if (topic.size() > 5 && topic.compare(topic.size() - 5, 5, ".fifo") == 0) topic.resize(topic.size() - 5);
    ok = topic.size() <= 256 && AllOf(topic, TopicChar);
  }
  if (!ok) {
    return Error(Errc::kInvalidArgument,
                 "config: '{}' must be an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:alerts (got \"{}\")",
                 key, Shown(arn));
  }
  return Status::Ok();
}

// A bare mail address (local@domain): no display name, no spaces or angle brackets, no line breaks.
bool IsMailAddress(const std::string& a) {
  const size_t at = a.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= a.size() || a.find('@', at + 1) != std::string::npos) {
    return false;
  }
  return std::none_of(a.begin(), a.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
           c == '(' || c == ')' || c == '\\' || c == 0x7f;
  });
}

Status CheckSmtpUrl(const std::string& url, const std::string& key) {
  const bool scheme = url.rfind("smtp://", 0) == 0 || url.rfind("smtps://", 0) == 0;
  const size_t host_at = scheme ? url.find("://") + 3 : 0;
  const bool host = scheme && host_at < url.size() && url[host_at] != '/' && url[host_at] != ':';
  const bool clean = std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '@';
  });
  if (!scheme || !host || !clean) {
    return Error(Errc::kInvalidArgument,
                 "config: '{}' must be an smtp:// or smtps:// URL with a host and no credentials, like "
                 "smtp://mail.example.com:587 (got \"{}\")",
                 key, Shown(url));
  }
  return Status::Ok();
}

ComponentType SnsType() {
  using T = SnsSinkOptions;
  std::vector<Option<T>> options = CommonSinkOptions<T>();
  std::vector<Option<T>> own = {
      {"topic_arn", "string", "\"arn:aws:sns:us-east-1:123456789012:iotad-alerts\"",
       "The topic's ARN; a topic whose name ends in .fifo gets MessageGroupId and MessageDeduplicationId.",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(std::string v, ReadString(n, key));
         IOTAD_TRY(CheckTopicArn(v, key));
         t.topic_arn = std::move(v);
         return Status::Ok();
       },
       /*required=*/true},
      {"region", "string", "", "AWS region, e.g. eu-west-1; unset: the ARN's, else AWS_REGION / AWS_DEFAULT_REGION.",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(std::string v, ReadString(n, key));
         if (!AllOf(v, RegionChar)) {
           return Error(Errc::kInvalidArgument,
                        "config: '{}' must be a region name like eu-west-1 (lower-case letters, digits, -)", key);
         }
         t.region = std::move(v);
         return Status::Ok();
       }},
      {"endpoint", "string", "",
       "SNS endpoint URL (an SNS-compatible server, e.g. http://127.0.0.1:5000); unset: "
       "https://sns.<region>.amazonaws.com/.",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(std::string v, ReadString(n, key));
         IOTAD_TRY(CheckHttpUrl(v, key));
         t.endpoint = std::move(v);
         return Status::Ok();
       }},
      {"profile", "string", "",
       "Profile of the shared credentials file (used when AWS_ACCESS_KEY_ID is not set); unset: AWS_PROFILE, "
       "else default.",
       SetString(&T::profile)},
      {"credentials_file", "string", "",
       "Shared credentials file (relative: to the lake folder); unset: AWS_SHARED_CREDENTIALS_FILE, else "
       "~/.aws/credentials.",
       SetString(&T::credentials_file)},
      {"message_group_id", "string", "\"{device}\"", "FIFO topics: template of MessageGroupId (one order per group).",
       [](T& t, const Node& n, const std::string& key) { return SetTemplateField(t.message_group_id, n, key); }},
  };
  for (auto& o : own) options.push_back(std::move(o));
  return MakeComponentType<T>(
      "sns",
      "the Publish action of the SNS Query API, SigV4-signed; credentials from AWS_ACCESS_KEY_ID / "
      "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else the shared credentials file's profile.",
      std::move(options), FillName<T>);
}

ComponentType EmailType() {
  using T = EmailSinkOptions;
  std::vector<Option<T>> options = CommonSinkOptions<T>();
  std::vector<Option<T>> own = {
      {"url", "string", "\"smtp://127.0.0.1:25\"",
       "SMTP server: smtp://host[:port] (STARTTLS by starttls) or smtps://host[:port] (TLS from the start).",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(std::string v, ReadString(n, key));
         IOTAD_TRY(CheckSmtpUrl(v, key));
         t.url = std::move(v);
         return Status::Ok();
       },
       /*required=*/true},
      {"from", "string", "\"iotad@example.com\"", "Sender address (envelope and From:).",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(std::string v, ReadString(n, key));
         if (!IsMailAddress(v)) {
           return Error(Errc::kInvalidArgument, "config: '{}' must be a mail address like iotad@example.com (got \"{}\")",
                        key, Shown(v));
         }
         t.from = std::move(v);
         return Status::Ok();
       },
       /*required=*/true},
      {"to", "list", "[\"ops@example.com\"]", "Recipient addresses (at least one).",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(std::vector<std::string> v, ReadStringList(n, key, {}, /*non_empty=*/true));
         for (const std::string& a : v) {
           if (!IsMailAddress(a)) {
             return Error(Errc::kInvalidArgument,
                          "config: '{}' must list mail addresses like ops@example.com (got \"{}\")", key, Shown(a));
           }
         }
         t.to = std::move(v);
         return Status::Ok();
       },
       /*required=*/true},
      {"starttls", "string", "\"try\"",
       "smtp:// only: require (fail without STARTTLS), try (use it when offered) or off.",
       SetString(&T::starttls, {"require", "try", "off"})},
      {"username", "string", "", "SMTP AUTH user (with password_env or password_file).", SetString(&T::username)},
      {"ca_file", "string", "",
       "PEM file of the CA(s) that signed the server's certificate, for a private CA (relative: to the lake "
       "folder); unset: the system's CAs.",
       SetString(&T::ca_file)},
  };
  for (auto& o : own) options.push_back(std::move(o));
  for (auto& o : SecretOptions<T>(&T::password, "password", "the SMTP AUTH password")) options.push_back(std::move(o));
  return MakeComponentType<T>(
      "email", "mail through SMTP (libcurl): STARTTLS, AUTH; one mail per notification to every address in to.",
      std::move(options), [](T& t, const ComponentContext& ctx) -> Status {
        IOTAD_TRY(FillName(t, ctx));
        IOTAD_TRY(CheckSecretRef(t.password, "password", ctx, /*required=*/false));
        if (!t.password.empty() && t.username.empty()) {
          return Error(Errc::kInvalidArgument, "config: {} sets a password but no username; set {}.username", ctx.key,
                       ctx.key);
        }
        if (t.password.empty() && !t.username.empty()) {
          return Error(Errc::kInvalidArgument,
                       "config: {} sets username but no password; set {}.password_env or {}.password_file", ctx.key,
                       ctx.key, ctx.key);
        }
        return Status::Ok();
      });
}

ComponentType ExecType() {
  using T = ExecSinkOptions;
  std::vector<Option<T>> options = CommonSinkOptions<T>();
  options.push_back(
      {"command", "list", "[\"/usr/local/bin/iotad-notify\", \"--quiet\"]",
       "The program and its arguments (no shell): an absolute path or a name looked up in PATH. It gets the "
       "notification JSON on stdin; exit 0 is delivered, 75 (EX_TEMPFAIL) is retried, anything else refused.",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(std::vector<std::string> v, ReadStringList(n, key, {}, /*non_empty=*/true));
         const std::string& prog = v.front();
         if (prog.empty() || (prog.front() != '/' && prog.find('/') != std::string::npos)) {
           return Error(Errc::kInvalidArgument,
                        "config: '{}' must start with an absolute path or a program name found in PATH (got \"{}\")",
                        key, Shown(prog));
         }
         t.command = std::move(v);
         return Status::Ok();
       },
       /*required=*/true});
  return MakeComponentType<T>("exec", "runs a command with the notification JSON on stdin.", std::move(options),
                              FillName<T>);
}

ComponentType FileType() {
  using T = FileSinkOptions;
  std::vector<Option<T>> options = CommonSinkOptions<T>();
  options.push_back({"path", "string", "\"alerts.jsonl\"", "File the JSON lines are appended to (relative: to the lake folder).",
                     SetString(&T::path)});
  return MakeComponentType<T>("file", "appends each notification's JSON as one line to a file.", std::move(options),
                              FillName<T>);
}

}  // namespace

std::vector<ComponentType> OtherSinkTypes() { return {SnsType(), EmailType(), ExecType(), FileType()}; }

}  // namespace iotad::config
