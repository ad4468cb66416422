#include "iotad/alert/email.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/sinks_http_test_util.h"
#include "iotad/alert/template.h"
#include "iotad/core/thread.h"

namespace iotad::alert {
namespace {

std::string Base64Decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// The decoded text of a header value made of RFC 2047 B-words (folded with CRLF SP).
std::string DecodeWords(const std::string& v) {
  std::string out;
  for (size_t at = v.find("=?UTF-8?B?"); at != std::string::npos; at = v.find("=?UTF-8?B?", at)) {
    const size_t end = v.find("?=", at + 10);
    out += Base64Decode(v.substr(at + 10, end - at - 10));
    at = end + 2;
  }
  return out;
}

std::vector<std::string> CrlfLines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t at = s.find("\r\n"); at != std::string::npos; at = s.find("\r\n", start)) {
    lines.push_back(s.substr(start, at - start));
    start = at + 2;
  }
  EXPECT_EQ(start, s.size()) << "the message does not end with CRLF";
  return lines;
}

MailMessage Sample() {
  MailMessage m;
  m.from = "iotad@example.com";
  m.to = {"ops@example.com", "oncall@example.org"};
  m.subject = "[critical] firing: dev-1 temp_c";
  m.body = "first line\n.\n..two dots\nlast";
  m.date_us = *ParseTimestamp("2024-03-02T10:30:00Z");
  m.message_id = "iotad.abc-1-mail@example.com";
  m.headers = {{"X-Iotad-Dedup-Key", "r|device=dev-1|2024-03-02T10:00:00Z"}, {"X-Iotad-Alert-Id", "abc"}};
  return m;
}

TEST(MailMessage, HeadersCrlfAndDotLines) {
  const std::string msg = BuildMailMessage(Sample());
  EXPECT_EQ(msg,
            "Date: Sat, 02 Mar 2024 10:30:00 +0000\r\n"
            "From: iotad@example.com\r\n"
            "To: ops@example.com, oncall@example.org\r\n"
            "Subject: [critical] firing: dev-1 temp_c\r\n"
            "Message-ID: <iotad.abc-1-mail@example.com>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "Auto-Submitted: auto-generated\r\n"
            "X-Iotad-Dedup-Key: r|device=dev-1|2024-03-02T10:00:00Z\r\n"
            "X-Iotad-Alert-Id: abc\r\n"
            "\r\n"
            "first line\r\n"
            ".\r\n"  // as is: libcurl dot-stuffs on the wire
            "..two dots\r\n"
            "last\r\n");
  for (size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '\n') {
      EXPECT_TRUE(i > 0 && msg[i - 1] == '\r') << "bare LF at " << i;
    }
    if (msg[i] == '\r') {
      EXPECT_TRUE(i + 1 < msg.size() && msg[i + 1] == '\n') << "bare CR at " << i;
    }
  }
}

TEST(MailMessage, NonAsciiAndLongLinesAreQuotedPrintableWithinLimits) {
  MailMessage m = Sample();
  m.body = "temp\xC3\xA9rature = 81 \xE2\x9C\x93\r\n" + std::string(2000, 'a') + "\r\n\r\ntrailing space \n.x";
  const std::string msg = BuildMailMessage(m);
  EXPECT_NE(msg.find("Content-Transfer-Encoding: quoted-printable\r\n"), std::string::npos);
  const size_t body_at = msg.find("\r\n\r\n") + 4;
  const std::vector<std::string> lines = CrlfLines(msg.substr(body_at));
  for (const std::string& l : lines) {
    EXPECT_LE(l.size(), 76u) << l;
    for (char c : l) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << l;
  }
  EXPECT_EQ(lines.front(), "temp=C3=A9rature =3D 81 =E2=9C=93");
  // Decoding the quoted-printable gives the text back.
  std::string decoded;
  for (const std::string& l : lines) {
    std::string line = l;
    const bool soft = !line.empty() && line.back() == '=';
    if (soft) line.pop_back();
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '=') {
        decoded += static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += line[i];
      }
    }
    if (!soft) decoded += "\n";
  }
  EXPECT_EQ(decoded, "temp\xC3\xA9rature = 81 \xE2\x9C\x93\n" + std::string(2000, 'a') + "\n\ntrailing space \n.x\n");
  EXPECT_NE(msg.find("\r\ntrailing space=20\r\n"), std::string::npos);
}

TEST(MailMessage, SubjectsAreEncodedWordsWhenNotAsciiAndNeverInjectHeaders) {
  const std::string text = "Temp\xC3\xA9rature \xC3\xA9lev\xC3\xA9" "e \xE2\x9C\x93 " + std::string(60, 'x') + " \xE2\x9C\x93";
  const std::string v = EncodeHeaderValue(text, 9);
  EXPECT_EQ(v.rfind("=?UTF-8?B?", 0), 0u);
  EXPECT_EQ(DecodeWords(v), text);
  size_t start = 0;
  for (size_t at = v.find("\r\n "); ; at = v.find("\r\n ", start)) {
    const std::string word = v.substr(start, (at == std::string::npos ? v.size() : at) - start);
    EXPECT_LE(word.size(), 75u) << word;
    if (at == std::string::npos) break;
    start = at + 3;
  }
  // A line break in a subject (from a template field) never starts a new header.
  MailMessage m = Sample();
  m.subject = "hello\r\nBcc: victim@example.com";
  const std::string msg = BuildMailMessage(m);
  EXPECT_NE(msg.find("Subject: hello  Bcc: victim@example.com\r\n"), std::string::npos) << msg;
  for (const std::string& l : CrlfLines(msg)) EXPECT_NE(l.rfind("Bcc:", 0), 0u);
  // Long ASCII folds at spaces within 78 columns.
  m.subject = std::string(40, 'a') + " " + std::string(40, 'b') + " " + std::string(40, 'c');
  const std::string folded = BuildMailMessage(m);
  EXPECT_NE(folded.find("Subject: " + std::string(40, 'a') + "\r\n " + std::string(40, 'b') + "\r\n " +
                        std::string(40, 'c') + "\r\n"),
            std::string::npos)
      << folded;
}

TEST(MailMessage, DatesAndMessageIds) {
  EXPECT_EQ(MailDate(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(MailDate(*ParseTimestamp("2024-02-29T23:59:59Z")), "Thu, 29 Feb 2024 23:59:59 +0000");
  EXPECT_EQ(MailDate(*ParseTimestamp("2026-12-06T08:00:00Z")), "Sun, 06 Dec 2026 08:00:00 +0000");
  Notification n = test_util::SampleNotification();
  EXPECT_EQ(MailMessageId(n, "iotad@example.com"), "iotad.a1b2c3d4e5f6-1-ops@example.com");
  EXPECT_EQ(MailMessageId(n, "iotad@example.com"), MailMessageId(n, "iotad@example.com"));
  n.id = "a1b2c3d4e5f6-2-ops mail<x>";
  EXPECT_EQ(MailMessageId(n, "iotad@example.com"), "iotad.a1b2c3d4e5f6-2-ops_mail_x_@example.com");
}

// A small but real SMTP server on 127.0.0.1 (RFC 5321 as far as libcurl uses it), one thread,
// connections one after another: records what it receives; rejects RCPT to reject@..., answers
// 451 to busy@...; with user/pass set, offers AUTH PLAIN and requires it.
class FakeSmtp {
 public:
  struct Mail {
    std::string from;
    std::vector<std::string> rcpts;
    std::string data;
  };
  std::string user, pass;
  bool stall = false;  // accept, then never greet

  bool Start() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0) return false;
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    auto t = StartThread("fake smtp", [this] { Serve(); });
    if (!t.ok()) return false;
    thread_ = std::move(t).value();
    return true;
  }
  ~FakeSmtp() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return fmt::format("smtp://127.0.0.1:{}", port_); }
  std::vector<Mail> mails() {
    std::lock_guard lock(mu_);
    return mails_;
  }
  std::string auth_seen() {
    std::lock_guard lock(mu_);
    return auth_seen_;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      timeval tv{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (stall) {
        char b;
        (void)::recv(c, &b, 1, 0);  // until the client gives up
      } else {
        Session(c);
      }
      ::close(c);
    }
  }

  bool ReadLine(int c, std::string& buf, std::string& line) {
    while (true) {
      const size_t at = buf.find("\r\n");
      if (at != std::string::npos) {
        line = buf.substr(0, at);
        buf.erase(0, at + 2);
        return true;
      }
      char tmp[4096];
      const ssize_t r = ::recv(c, tmp, sizeof tmp, 0);
      if (r <= 0) return false;
      buf.append(tmp, r);
    }
  }
  static void Say(int c, const std::string& s) { (void)::send(c, s.data(), s.size(), MSG_NOSIGNAL); }

  void Session(int c) {
    std::string buf, line;
    bool authed = user.empty();
    Mail mail;
    Say(c, "220 fake ESMTP ready\r\n");
    while (ReadLine(c, buf, line)) {
      const std::string verb = line.substr(0, line.find(' '));
      if (verb == "EHLO") {
        Say(c, std::string("250-fake greets you\r\n") + (user.empty() ? "" : "250-AUTH PLAIN\r\n") + "250 8BITMIME\r\n");
      } else if (verb == "HELO" || verb == "NOOP" || verb == "RSET") {
        Say(c, "250 OK\r\n");
      } else if (verb == "AUTH") {
        std::string b64 = line.size() > 11 ? line.substr(11) : "";
        if (b64.empty()) {
          Say(c, "334 \r\n");
          if (!ReadLine(c, buf, b64)) return;
        }
        const std::string plain = Base64Decode(b64);
        {
          std::lock_guard lock(mu_);
          auth_seen_ = plain;
        }
        authed = plain == std::string("\0", 1) + user + std::string("\0", 1) + pass;
        Say(c, authed ? "235 2.7.0 Authentication successful\r\n" : "535 5.7.8 Authentication credentials invalid\r\n");
      } else if (verb == "MAIL") {
        if (!authed) {
          Say(c, "530 5.7.0 Authentication required\r\n");
          continue;
        }
        mail = Mail{};
        mail.from = line.substr(line.find('<') + 1, line.find('>') - line.find('<') - 1);
        Say(c, "250 2.1.0 OK\r\n");
      } else if (verb == "RCPT") {
        const std::string to = line.substr(line.find('<') + 1, line.find('>') - line.find('<') - 1);
        if (to.rfind("reject@", 0) == 0) {
          Say(c, "550 5.1.1 <" + to + ">: Recipient address rejected: User unknown\r\n");
        } else if (to.rfind("busy@", 0) == 0) {
          Say(c, "451 4.3.0 <" + to + ">: Mailbox busy, try again later\r\n");
        } else {
          mail.rcpts.push_back(to);
          Say(c, "250 2.1.5 OK\r\n");
        }
      } else if (verb == "DATA") {
        Say(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
        while (ReadLine(c, buf, line) && line != ".") {
          mail.data += (line.rfind(".", 0) == 0 ? line.substr(1) : line) + "\r\n";  // un-stuff
        }
        {
          std::lock_guard lock(mu_);
          mails_.push_back(mail);
        }
        Say(c, "250 2.0.0 Ok: queued as 42\r\n");
      } else if (verb == "QUIT") {
        Say(c, "221 2.0.0 Bye\r\n");
        return;
      } else {
        Say(c, "502 5.5.2 Command not recognized\r\n");
      }
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::jthread thread_;
  std::mutex mu_;
  std::vector<Mail> mails_;
  std::string auth_seen_;
};

config::EmailSinkOptions Options(const std::string& url) {
  config::EmailSinkOptions o;
  o.name = "mail";
  o.url = url;
  o.from = "iotad@example.com";
  o.to = {"ops@example.com"};
  o.starttls = "off";
  o.timeout_us = 5'000'000;
  return o;
}

TEST(EmailSink, DeliversOneMailWithItsHeadersAndTheDotLinesIntact) {
  FakeSmtp smtp;
  ASSERT_TRUE(smtp.Start());
  auto o = Options(smtp.url());
  o.to = {"ops@example.com", "oncall@example.org"};
  o.body = "{explanation}\n.\n..\nend";
  o.starttls = "try";  // the server offers none: plain
  auto sink = MakeEmailSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  EXPECT_EQ((*sink)->type(), "email");
  const Notification n = test_util::SampleNotification();
  const AttemptResult a = (*sink)->Send(n);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(a.status_code, 250);
  EXPECT_EQ(a.response, "250 2.0.0 Ok: queued as 42");
  const auto mails = smtp.mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].from, "iotad@example.com");
  EXPECT_EQ(mails[0].rcpts, (std::vector<std::string>{"ops@example.com", "oncall@example.org"}));
  const std::string& d = mails[0].data;
  for (const std::string& h : std::vector<std::string>{"From: iotad@example.com\r\n", "To: ops@example.com, oncall@example.org\r\n",
        "Subject: [critical] firing: dev-00042 temp_c (device-anomalies)\r\n",
        "Message-ID: <iotad.a1b2c3d4e5f6-1-ops@example.com>\r\n", "MIME-Version: 1.0\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n", "X-Iotad-Alert-Id: a1b2c3d4e5f6\r\n",
        "X-Iotad-Dedup-Key: device-anomalies|device=dev-00042|2024-03-01T10:00:00Z\r\n",
        "\r\n\r\n" + n.latest.explanation + "\r\n.\r\n..\r\nend\r\n"}) {
    EXPECT_NE(d.find(h), std::string::npos) << h << "\n---\n" << d;
  }
  EXPECT_EQ(d.rfind("Date: ", 0), 0u);
}

TEST(EmailSink, AuthUsesTheSecretAndABadOneIsRefusedWithoutShowingIt) {
  FakeSmtp smtp;
  smtp.user = "iotad";
  smtp.pass = "s3cret-pass";
  ASSERT_TRUE(smtp.Start());
  auto o = Options(smtp.url());
  o.username = "iotad";
  o.password.env = "IOTAD_TEST_SMTP_PASSWORD";
  setenv("IOTAD_TEST_SMTP_PASSWORD", "s3cret-pass", 1);
  auto sink = MakeEmailSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(smtp.auth_seen(), std::string("\0iotad\0s3cret-pass", 18));
  setenv("IOTAD_TEST_SMTP_PASSWORD", "wrong-pass", 1);
  sink = MakeEmailSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok());
  a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.status_code, 535);
  EXPECT_NE(a.error.find("535 5.7.8 Authentication credentials invalid"), std::string::npos) << a.error;
  EXPECT_EQ(a.error.find("wrong-pass"), std::string::npos);
  EXPECT_EQ(a.response.find("wrong-pass"), std::string::npos);
  unsetenv("IOTAD_TEST_SMTP_PASSWORD");
  auto missing = MakeEmailSink(o, SinkEnv{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "password_env names the environment variable IOTAD_TEST_SMTP_PASSWORD, which is not set");
  EXPECT_EQ(smtp.mails().size(), 1u);
}

TEST(EmailSink, SmtpReplyCodesDecide) {
  FakeSmtp smtp;
  ASSERT_TRUE(smtp.Start());
  auto o = Options(smtp.url());
  o.to = {"reject@example.com"};
  auto sink = MakeEmailSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok());
  AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.status_code, 550);
  EXPECT_NE(a.error.find("User unknown"), std::string::npos) << a.error;
  o.to = {"busy@example.com"};
  sink = MakeEmailSink(o, SinkEnv{});
  a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 451);
  EXPECT_TRUE(smtp.mails().empty());
}

TEST(EmailSink, RequiredStartTlsThatTheServerLacksIsRefused) {
  FakeSmtp smtp;
  ASSERT_TRUE(smtp.Start());
  auto o = Options(smtp.url());
  o.starttls = "require";
  auto sink = MakeEmailSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok());
  const AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused) << a.error;
  EXPECT_EQ(a.error.rfind("email: ", 0), 0u);
  EXPECT_TRUE(smtp.mails().empty());
}

TEST(EmailSink, DownOrStalledServersAreRetries) {
  FakeSmtp stalled;
  stalled.stall = true;
  ASSERT_TRUE(stalled.Start());
  auto o = Options(stalled.url());
  o.timeout_us = 300'000;
  auto sink = MakeEmailSink(o, SinkEnv{});
  ASSERT_TRUE(sink.ok());
  const auto t0 = std::chrono::steady_clock::now();
  AttemptResult a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 3.0);
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.error.rfind("email: no answer within the timeout of 300 ms", 0), 0u) << a.error;

  o.url = "smtp://127.0.0.1:1";
  sink = MakeEmailSink(o, SinkEnv{});
  a = (*sink)->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 0);
  EXPECT_FALSE(a.error.empty());
}

}  // namespace
}  // namespace iotad::alert
