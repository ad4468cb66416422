#include "iotad/alert/http.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "iotad/alert/curl_api.h"
#include "iotad/alert/test_http_server.h"

namespace iotad::alert {
namespace {

using testutil::TestHttpServer;

bool HasHeader(const HttpResponse& r, const std::string& line) {
  for (const std::string& h : r.headers) {
    if (h == line) return true;
  }
  return false;
}

// libcurl is opened on first use (curl_api.h): loading twice is one load, and the functions work.
TEST(CurlApi, LoadsOnceAndItsFunctionsWork) {
  ASSERT_TRUE(curl::Load().ok()) << curl::Load().message();
  EXPECT_TRUE(curl::Load().ok());
  EXPECT_TRUE(curl::Loaded());
  CURL* h = curl::EasyInit();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(curl::EasySetopt(h, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
  long code = -1;
  EXPECT_EQ(curl::EasyGetinfo(h, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
  EXPECT_EQ(code, 0);  // nothing sent yet
  curl::EasyCleanup(h);
  EXPECT_STREQ(curl::EasyStrerror(CURLE_OPERATION_TIMEDOUT), "Timeout was reached");
  curl_slist* list = curl::SlistAppend(nullptr, "X-A: 1");
  ASSERT_NE(list, nullptr);
  EXPECT_STREQ(list->data, "X-A: 1");
  curl::SlistFreeAll(list);
}

TEST(HttpSend, PostsBodyAndHeadersAndReadsTheAnswer) {
  TestHttpServer srv;
  std::mutex mu;
  std::string got_body, got_type, got_extra, got_method;
  srv.server().Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    got_body = req.body;
    got_method = req.method;
    got_type = req.get_header_value("Content-Type");
    got_extra = req.get_header_value("X-Extra");
    res.set_header("X-Answer", "42");
    res.set_content("accepted", "text/plain");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.url = srv.url("/hook");
  req.headers = {"Content-Type: application/json", "X-Extra: yes"};
  req.body = R"({"a":1})";
  const HttpResponse r = HttpSend(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, "accepted");
  EXPECT_TRUE(HasHeader(r, "X-Answer: 42"));
  EXPECT_FALSE(r.retry_after_us.has_value());
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(got_method, "POST");
    EXPECT_EQ(got_body, R"({"a":1})");
    EXPECT_EQ(got_type, "application/json");
    EXPECT_EQ(got_extra, "yes");
  }
  const AttemptResult a = ToAttempt(r);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered);
  EXPECT_EQ(a.status_code, 200);
  EXPECT_EQ(a.response, "accepted");
  EXPECT_EQ(a.error, "");
}

TEST(HttpSend, PutAndGetUseTheirMethods) {
  TestHttpServer srv;
  std::atomic<int> puts{0}, gets{0};
  srv.server().Put("/x", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.body == "b") ++puts;
    res.status = 204;
  });
  srv.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    ++gets;
    res.set_content("g", "text/plain");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest put;
  put.method = "PUT";
  put.url = srv.url("/x");
  put.body = "b";
  EXPECT_EQ(HttpSend(put).status, 204);
  HttpRequest get;
  get.method = "GET";
  get.url = srv.url("/x");
  EXPECT_EQ(HttpSend(get).body, "g");
  EXPECT_EQ(puts.load(), 1);
  EXPECT_EQ(gets.load(), 1);
}

TEST(HttpSend, ServerErrorIsARetry) {
  TestHttpServer srv;
  srv.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("boom", "text/plain");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.url = srv.url("/");
  const HttpResponse r = HttpSend(req);
  EXPECT_EQ(r.status, 500);
  const AttemptResult a = ToAttempt(r);
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 500);
  EXPECT_EQ(a.response, "boom");
  EXPECT_EQ(a.error, "the receiver answered HTTP 500");
}

TEST(HttpSend, TooManyRequestsCarriesRetryAfterSeconds) {
  TestHttpServer srv;
  srv.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "7");
    res.set_content("slow down", "text/plain");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.url = srv.url("/");
  const HttpResponse r = HttpSend(req);
  EXPECT_EQ(r.status, 429);
  ASSERT_TRUE(r.retry_after_us.has_value());
  EXPECT_EQ(*r.retry_after_us, 7 * kMicrosPerSecond);
  const AttemptResult a = ToAttempt(r);
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  ASSERT_TRUE(a.retry_after_us.has_value());
  EXPECT_EQ(*a.retry_after_us, 7 * kMicrosPerSecond);
}

TEST(HttpSend, RetryAfterAsADateIsAgainstTheServersDate) {
  TestHttpServer srv;
  srv.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Date", "Wed, 21 Oct 2015 07:28:00 GMT");
    res.set_header("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.url = srv.url("/");
  const HttpResponse r = HttpSend(req);
  EXPECT_EQ(r.status, 503);
  ASSERT_TRUE(r.retry_after_us.has_value());
  EXPECT_EQ(*r.retry_after_us, 30 * kMicrosPerSecond);
}

TEST(HttpSend, ClientErrorsAreRefusedButRequestTimeoutIsRetried) {
  TestHttpServer srv;
  srv.server().Post("/404", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  srv.server().Post("/408", [](const httplib::Request&, httplib::Response& res) { res.status = 408; });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.url = srv.url("/404");
  AttemptResult a = ToAttempt(HttpSend(req));
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.status_code, 404);
  EXPECT_EQ(a.error, "the receiver refused it with HTTP 404");
  req.url = srv.url("/408");
  a = ToAttempt(HttpSend(req));
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
}

TEST(HttpSend, AStalledServerTimesOut) {
  TestHttpServer srv;
  std::atomic<bool> release{false};
  srv.server().Post("/", [&](const httplib::Request&, httplib::Response& res) {
    for (int i = 0; i < 500 && !release.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.set_content("late", "text/plain");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.url = srv.url("/");
  req.timeout_us = 300'000;
  const auto t0 = std::chrono::steady_clock::now();
  const HttpResponse r = HttpSend(req);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  release = true;
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("no response within the timeout of 300 ms"), std::string::npos) << r.error;
  EXPECT_GE(took, 0.25);
  EXPECT_LT(took, 2.0);
  const AttemptResult a = ToAttempt(r);
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 0);
  EXPECT_EQ(a.error, r.error);
}

// A port nobody listens on: bound then closed.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(HttpSend, RefusedConnectionIsARetryWithoutSecretsInTheError) {
  const int port = ClosedPort();
  ASSERT_GT(port, 0);
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/services/T000/B000/secretpath";
  req.user = "someuser";
  req.password = "hunter2-secret";
  const HttpResponse r = HttpSend(req);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("no response: "), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("secretpath"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos);
  const AttemptResult a = ToAttempt(r);
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_FALSE(a.error.empty());
}

TEST(HttpSend, BodyIsCappedAt64KiBAndTheAttemptAt4KiB) {
  TestHttpServer srv;
  srv.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(100'000, 'x'), "text/plain");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.url = srv.url("/");
  const HttpResponse r = HttpSend(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 64u * 1024);
  EXPECT_EQ(ToAttempt(r).response.size(), 4096u);
}

TEST(HttpSend, OnlyHttpSchemes) {
  HttpRequest req;
  req.url = "file:///etc/passwd";
  const HttpResponse r = HttpSend(req);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
}

TEST(ParseRetryAfter, SecondsAndDates) {
  EXPECT_EQ(ParseRetryAfter("120", 0), 120 * kMicrosPerSecond);
  EXPECT_EQ(ParseRetryAfter(" 0 ", 0), 0);
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 s since the epoch.
  const TimestampUs at = 1'445'412'480LL * kMicrosPerSecond;
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", at - 90 * kMicrosPerSecond), 90 * kMicrosPerSecond);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", at + kMicrosPerSecond), 0);  // past: now
  EXPECT_FALSE(ParseRetryAfter("", 0).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", 0).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", 0).has_value());
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Foo 2015 07:28:00 GMT", 0).has_value());
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 UTC", 0).has_value());
  EXPECT_EQ(ParseRetryAfter("99999999999999", 0), 999'999'999LL * kMicrosPerSecond);
}

}  // namespace
}  // namespace iotad::alert

namespace iotad::alert {
namespace {

// The AWS Signature Version 4 test suite's "get-vanilla" case (the suite published with AWS's
// SigV4 documentation): GET / on example.amazonaws.com at 20150830T123600Z, region us-east-1,
// service "service", key AKIDEXAMPLE. libcurl signs it (CURLOPT_AWS_SIGV4) and takes the date from
// the X-Amz-Date header given; connect_to sends the request for example.amazonaws.com:80 to a
// local server, which records the Authorization header libcurl computed.
TEST(HttpSendSigV4, MatchesThePublishedGetVanillaVector) {
  testutil::TestHttpServer srv;
  std::mutex mu;
  std::string authorization, host, date;
  srv.server().Get("/", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    authorization = req.get_header_value("Authorization");
    host = req.get_header_value("Host");
    date = req.get_header_value("X-Amz-Date");
    res.set_content("ok", "text/plain");
  });
  ASSERT_TRUE(srv.Start());
  HttpRequest req;
  req.method = "GET";
  req.url = "http://example.amazonaws.com/";
  req.headers = {"X-Amz-Date: 20150830T123600Z"};
  req.aws_sigv4 = "aws:amz:us-east-1:service";
  req.user = "AKIDEXAMPLE";
  req.password = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  req.connect_to = {"example.amazonaws.com:80:127.0.0.1:" + std::to_string(srv.port())};
  const HttpResponse r = HttpSend(req);
  ASSERT_EQ(r.status, 200) << r.error;
  std::lock_guard lock(mu);
  EXPECT_EQ(host, "example.amazonaws.com");
  EXPECT_EQ(date, "20150830T123600Z");
  EXPECT_EQ(authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

}  // namespace
}  // namespace iotad::alert
