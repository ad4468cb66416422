// type = "email": one mail per notification over SMTP through libcurl (STARTTLS, AUTH).
#include "iotad/alert/email.h"

#include "iotad/alert/curl_api.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/template.h"
#include "iotad/core/clock.h"

namespace iotad::alert {
namespace {

constexpr size_t kMaxResponse = 4 * 1024;

std::string Base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Control characters (line breaks included) as spaces: a header value never starts a new header.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  return out;
}

bool PlainAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;  // a stray byte: on its own
}

// Folds printable ASCII at spaces so lines stay within 78 columns where a space allows.
std::string FoldAscii(std::string_view v, size_t first_column) {
  std::string out;
  size_t column = first_column;
  size_t start = 0;
  while (start < v.size()) {
    size_t end = v.find(' ', start + 1);
    if (end == std::string_view::npos) end = v.size();
    const std::string_view word = v.substr(start, end - start);  // with its leading space, if any
    if (column + word.size() > 78 && column > first_column && word.front() == ' ') {
      out += "\r\n";
      column = 0;
    }
    out += word;
    column += word.size();
    start = end;
  }
  return out;
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += EncodeHeaderValue(value, name.size() + 2);
  out += "\r\n";
}

// Lines of `text` (CRLF, CR or LF ends a line), without their endings.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      lines.push_back(text.substr(start, i - start));
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

// The mail read by libcurl's upload.
struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t nitems, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t n = std::min(size * nitems, u->data->size() - u->offset);
  std::copy_n(u->data->data() + u->offset, n, buffer);
  u->offset += n;
  return n;
}

// The server's replies (what libcurl's debug callback calls "header in"), the last few kept.
// Only incoming lines: the outgoing ones would hold the AUTH exchange.
int OnDebug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto* replies = static_cast<std::vector<std::string>*>(user);
  std::string line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return 0;
  if (replies->size() == 8) replies->erase(replies->begin());
  replies->push_back(line.substr(0, kMaxResponse));
  return 0;
}

// The reply that decided: the last one with the final reply code (libcurl sends QUIT after a
// failure, whose "221" is not what the attempt is about).
std::string DecidingReply(const std::vector<std::string>& replies, long code) {
  const std::string prefix = fmt::format("{}", code);
  for (auto it = replies.rbegin(); it != replies.rend(); ++it) {
    if (code > 0 && it->rfind(prefix, 0) == 0) return *it;
  }
  return replies.empty() ? std::string() : replies.back();
}

std::string Scrub(std::string text, const std::string& secret) {
  if (secret.size() < 3) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "***");
  }
  return text;
}

class EmailSink final : public Sink {
 public:
  EmailSink(const config::EmailSinkOptions& o, const SinkEnv& env, std::string password)
      : Sink(o, "email", env.alert),
        o_(o),
        subject_(o.subject.empty() ? std::string(DefaultSubject()) : o.subject),
        body_(o.body.empty() ? std::string(DefaultBody()) : o.body),
        password_(std::move(password)),
        clock_(env.clock != nullptr ? env.clock : &SystemClock::Instance()),
        ca_file_(o.ca_file.empty() ? std::string()
                 : std::filesystem::path(o.ca_file).is_absolute() ? o.ca_file
                                                                  : (env.lake_root / o.ca_file).string()) {}

  AttemptResult Send(const Notification& n) override {
    if (const Status loaded = curl::Load(); !loaded.ok()) {
      AttemptResult a;
      a.error = fmt::format("email: {}", loaded.message());
      return a;
    }
    MailMessage m;
    m.from = o_.from;
    m.to = o_.to;
    m.subject = RenderTemplate(subject_, n);
    m.body = RenderTemplate(body_, n);
    m.date_us = clock_->NowUs();
    m.message_id = MailMessageId(n, o_.from);
    m.headers = {{"X-Iotad-Alert-Id", n.alert_id},
                 {"X-Iotad-Dedup-Key", n.dedup_key},
                 {"X-Iotad-Notification", NotificationKindName(n.kind)},
                 {"X-Iotad-Severity", n.severity}};
    const std::string mail = BuildMailMessage(m);

    AttemptResult a;
    curl::Easy easy(curl::EasyInit());
    if (!easy) {
      a.error = "email: libcurl could not create a request handle";
      return a;
    }
    CURL* h = easy.get();
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::vector<std::string> replies;
    Upload upload{&mail};
    curl_slist* rcpt = nullptr;
    for (const std::string& to : o_.to) rcpt = curl::SlistAppend(rcpt, ("<" + to + ">").c_str());
    const curl::Slist rcpt_list(rcpt);
    const std::string mail_from = "<" + o_.from + ">";
    const bool implicit_tls = o_.url.rfind("smtps://", 0) == 0;

    curl::EasySetopt(h, CURLOPT_URL, o_.url.c_str());
    curl::EasySetopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl::EasySetopt(h, CURLOPT_NOSIGNAL, 1L);
    curl::EasySetopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, (timeout_us() + 999) / 1000)));
    curl::EasySetopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl::EasySetopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl::EasySetopt(h, CURLOPT_MAIL_RCPT, rcpt_list.get());
    curl::EasySetopt(h, CURLOPT_UPLOAD, 1L);
    curl::EasySetopt(h, CURLOPT_READFUNCTION, ReadUpload);
    curl::EasySetopt(h, CURLOPT_READDATA, &upload);
    curl::EasySetopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.size()));
    curl::EasySetopt(h, CURLOPT_VERBOSE, 1L);
    curl::EasySetopt(h, CURLOPT_DEBUGFUNCTION, OnDebug);
    curl::EasySetopt(h, CURLOPT_DEBUGDATA, &replies);
    if (!implicit_tls) {
      const long use_ssl = o_.starttls == "require" ? CURLUSESSL_ALL
                           : o_.starttls == "try"   ? CURLUSESSL_TRY
                                                    : CURLUSESSL_NONE;
      curl::EasySetopt(h, CURLOPT_USE_SSL, use_ssl);
    }
    if (!ca_file_.empty()) curl::EasySetopt(h, CURLOPT_CAINFO, ca_file_.c_str());
    if (!o_.username.empty()) {
      curl::EasySetopt(h, CURLOPT_USERNAME, o_.username.c_str());
      curl::EasySetopt(h, CURLOPT_PASSWORD, password_.c_str());
    }
    const CURLcode rc = curl::EasyPerform(h);
    double total = 0;
    curl::EasyGetinfo(h, CURLINFO_TOTAL_TIME, &total);
    long code = 0;
    curl::EasyGetinfo(h, CURLINFO_RESPONSE_CODE, &code);
    a.seconds = total;
    a.status_code = code;
    a.response = Scrub(DecidingReply(replies, code), password_);
    if (rc == CURLE_OK) {
      a.outcome = AttemptOutcome::kDelivered;
      return a;
    }
    std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl::EasyStrerror(rc));
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '.')) detail.pop_back();
    detail = Scrub(detail, password_);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      a.error = fmt::format("email: no answer within the timeout of {} ms ({})", (timeout_us() + 999) / 1000, detail);
    } else if (!a.response.empty() && code >= 400) {
      a.error = fmt::format("email: {} (the server said \"{}\")", detail, OneLine(a.response));
    } else {
      a.error = fmt::format("email: {}", detail);
    }
    // SMTP: 4xx is transient, 5xx permanent; a server without the STARTTLS that starttls =
    // "require" asks for, or refusing the login, is not fixed by retrying.
    if (code >= 500 || rc == CURLE_USE_SSL_FAILED || rc == CURLE_LOGIN_DENIED) {
      a.outcome = AttemptOutcome::kRefused;
    } else {
      a.outcome = AttemptOutcome::kRetry;
    }
    return a;
  }

 private:
  config::EmailSinkOptions o_;
  std::string subject_, body_, password_;
  const Clock* clock_;
  std::string ca_file_;  // CURLOPT_CAINFO when set (resolved against the lake folder)
};

}  // namespace

std::string EncodeHeaderValue(std::string_view value, size_t name_length) {
  const std::string v = OneLine(value);
  if (PlainAscii(v) && v.find("=?") == std::string::npos) return FoldAscii(v, name_length);
  // Encoded words of at most 75 characters: "=?UTF-8?B?" + base64 of up to 45 bytes + "?=".
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t end = i;
    while (end < v.size()) {
      const size_t len = std::min(Utf8Length(static_cast<unsigned char>(v[end])), v.size() - end);
      if (end + len - i > 45) break;
      end += len;
    }
    if (end == i) end = i + 1;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(std::string_view(v).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string QuotedPrintableLine(std::string_view line) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t column = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
      piece = static_cast<char>(c);
    } else {
      piece = {'=', kHex[c >> 4], kHex[c & 0xF]};
    }
    // A soft break ("=" ending the line) keeps every line within 76 characters.
    if (column + piece.size() > (last ? 76 : 75)) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  }
  return out;
}

std::string MailMessageId(const Notification& n, std::string_view from) {
  const size_t at = from.rfind('@');
  const std::string_view domain = at == std::string_view::npos ? std::string_view("iotad.invalid") : from.substr(at + 1);
  std::string id = "iotad.";
  for (char c : n.id) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) !=
                                                                        std::string_view::npos;
    id += ok ? c : '_';
  }
  return id + "@" + std::string(domain);
}

std::string MailDate(TimestampUs t) {
  static constexpr std::array<const char*, 7> kDays = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const CivilTime c = ToCivil(t);
  int64_t days = t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay);
  const int64_t weekday = ((days % 7) + 7) % 7;  // 1970-01-01 was a Thursday
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} +0000", kDays[weekday], c.day, kMonths[c.month - 1],
                     c.year, c.hour, c.minute, c.second);
}

std::string BuildMailMessage(const MailMessage& m) {
  std::string out;
  AppendHeader(out, "Date", MailDate(m.date_us));
  AppendHeader(out, "From", m.from);
  std::string to;
  for (const std::string& t : m.to) to += (to.empty() ? "" : ", ") + t;
  AppendHeader(out, "To", to);
  AppendHeader(out, "Subject", m.subject);
  out += "Message-ID: <" + m.message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  const std::vector<std::string_view> lines = SplitLines(m.body);
  const bool seven_bit = std::all_of(lines.begin(), lines.end(), [](std::string_view l) {
    return l.size() <= 998 && std::all_of(l.begin(), l.end(), [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; });
  });
  out += seven_bit ? "Content-Transfer-Encoding: 7bit\r\n" : "Content-Transfer-Encoding: quoted-printable\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  for (const auto& [name, value] : m.headers) {
    if (!value.empty()) AppendHeader(out, name, value);
  }
  out += "\r\n";
  for (std::string_view line : lines) {
    out += seven_bit ? std::string(line) : QuotedPrintableLine(line);
    out += "\r\n";
  }
  return out;
}

Result<std::unique_ptr<Sink>> MakeEmailSink(const config::EmailSinkOptions& o, const SinkEnv& env) {
  IOTAD_ASSIGN_OR_RETURN(std::string password, ResolveSecret(o.password, "password", env.lake_root, false));
  if (!o.username.empty() && password.empty()) {
    return Error(Errc::kInvalidArgument, "username is set but password_env / password_file is not");
  }
  if (o.to.empty()) return Error(Errc::kInvalidArgument, "to lists no address");
  return std::unique_ptr<Sink>(new EmailSink(o, env, std::move(password)));
}

}  // namespace iotad::alert
