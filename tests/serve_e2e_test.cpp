// `iotad serve` end to end: the real binary serving a real lake, spoken to over HTTP with
// libcurl. Access (loopback default, tokens from a flag, a file or the environment, the /login
// cookie, the write role), hostile paths, limits, security headers, and that no token ever
// reaches the process's output.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

// HttpCall is filled with designated initializers naming only what a call needs.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "read-tok-5f2c9a71e0";
constexpr const char* kWriteToken = "write-tok-b83d14c6aa";

struct HttpAnswer {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; the last of a repeated one
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::string> body;
  bool path_as_is = false;  // send the path exactly (no ../ folding by curl)
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}

HttpAnswer Http(const HttpCall& call) {
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  EXPECT_NE(curl, nullptr);
  if (curl == nullptr) return answer;
  curl_slist* headers = nullptr;
  for (const auto& h : call.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (call.body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body->size()));
  }
  if (call.path_as_is) curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  const CURLcode rc = curl_easy_perform(curl);
  EXPECT_EQ(rc, CURLE_OK) << call.method << " " << call.url << ": " << curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

HttpAnswer Get(const std::string& url, std::vector<std::string> headers = {}) {
  return Http({.method = "GET", .url = url, .headers = std::move(headers)});
}

std::string Bearer(const std::string& token) { return "Authorization: Bearer " + token; }

/// A running `iotad serve`: started in the constructor, SIGTERM in Stop() (the destructor kills
/// a server a failed test left running).
class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    static int counter = 0;
    base_ = fs::temp_directory_path() /
            ("iotad-serve-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    out_path_ = base_.string() + ".out";
    err_path_ = base_.string() + ".err";
    const std::string binary = IotadBinary();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::unsetenv("IOTAD_SERVE_TOKEN");
      ::unsetenv("IOTAD_SERVE_WRITE_TOKEN");
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      std::vector<std::string> argv_s{binary, "serve"};
      argv_s.insert(argv_s.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove(out_path_, ec);
    fs::remove(err_path_, ec);
  }

  /// Waits for `dashboard: URL` on stdout; empty when the process ended or 60 s passed.
  std::string WaitForUrl() {
    for (int i = 0; i < 600; ++i) {
      const std::string out = ReadFile(out_path_);
      const size_t at = out.find("dashboard: ");
      if (at != std::string::npos) {
        const size_t end = out.find('\n', at);
        if (end != std::string::npos) return out.substr(at + 11, end - at - 11);
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }

  /// Waits for the process to end by itself (it refused to start); its exit code.
  int WaitExit() {
    if (!exited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return exit_code_;
  }

  /// SIGTERM, then its exit code (-1 when it did not end cleanly within 30 s).
  int Stop() {
    if (exited_) return exit_code_;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

  std::string Out() const { return ReadFile(out_path_); }
  std::string Err() const { return ReadFile(err_path_); }

 private:
  fs::path base_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
};

/// The port of "http://HOST:PORT/".
std::string LoopbackUrl(const std::string& url) {
  const size_t colon = url.rfind(':');
  return "http://127.0.0.1" + url.substr(colon);
}

class ServeE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir_ = new TempDir();
    lake_ = (*dir_ / "lake");
    ASSERT_EQ(RunIotad({"init", lake_}).exit_code, 0);
    const auto gen = RunIotad({"generate", "--devices", "4", "--hours", "3", "--seed", "5", "--out", lake_ + "/inbox"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const auto run = RunIotad({"run", "--lake", lake_});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  /// Starts a server on a free loopback port with `args`; fails the test when it does not start.
  std::unique_ptr<ServeProcess> Start(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), {"--lake", lake_});
    if (std::find(args.begin(), args.end(), "--listen") == args.end()) {
      args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    }
    auto server = std::make_unique<ServeProcess>(args, env);
    url_ = server->WaitForUrl();
    EXPECT_FALSE(url_.empty()) << "iotad serve did not start: " << server->Err();
    return server;
  }

  static TempDir* dir_;
  static std::string lake_;
  std::string url_;  // "http://127.0.0.1:PORT/"
};

TempDir* ServeE2eTest::dir_ = nullptr;
std::string ServeE2eTest::lake_;

TEST_F(ServeE2eTest, ListensOnLoopbackByDefault) {
  const auto help = RunIotad({"serve", "--help"});
  EXPECT_NE(help.out.find("127.0.0.1:8080"), std::string::npos) << help.out;
  // Without --listen: 127.0.0.1:8080 (another process may hold that port: then the error names it).
  ServeProcess server({"--lake", lake_});
  const std::string url = server.WaitForUrl();
  if (url.empty()) {
    EXPECT_NE(server.Err().find("127.0.0.1:8080"), std::string::npos) << server.Err();
  } else {
    EXPECT_EQ(url, "http://127.0.0.1:8080/");
    EXPECT_EQ(server.Stop(), 0);
  }
}

TEST_F(ServeE2eTest, RefusesANonLoopbackAddressWithoutAToken) {
  ServeProcess refused({"--lake", lake_, "--listen", "0.0.0.0:0"});
  EXPECT_EQ(refused.WaitExit(), 2);
  EXPECT_NE(refused.Err().find("not a loopback address"), std::string::npos) << refused.Err();
  EXPECT_EQ(refused.Out().find("dashboard:"), std::string::npos);

  auto server = Start({"--listen", "0.0.0.0:0", "--token", kToken});
  ASSERT_FALSE(url_.empty());
  EXPECT_TRUE(url_.starts_with("http://0.0.0.0:")) << url_;
  const std::string url = LoopbackUrl(url_);
  EXPECT_EQ(Get(url).status, 401);
  EXPECT_EQ(Get(url, {Bearer(kToken)}).status, 200);
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeE2eTest, TokenFromFlagFileOrEnvironmentIsRequiredForEveryRequestButHealthz) {
  TempDir tmp;
  const std::string token_file = tmp / "token";
  WriteFile(token_file, std::string(kToken) + "\n");
  const std::vector<std::pair<std::vector<std::string>, std::map<std::string, std::string>>> ways = {
      {{"--token", kToken}, {}},
      {{"--token-file", token_file}, {}},
      {{}, {{"IOTAD_SERVE_TOKEN", kToken}}},
  };
  for (const auto& [args, env] : ways) {
    auto server = Start(args, env);
    ASSERT_FALSE(url_.empty());
    for (const std::string path : {"", "device", "alerts", "pipeline", "assets/app.js", "api/version", "metrics"}) {
      EXPECT_EQ(Get(url_ + path).status, 401) << path;
      EXPECT_EQ(Get(url_ + path, {Bearer("wrong-token")}).status, 401) << path;
      EXPECT_EQ(Get(url_ + path, {Bearer(kToken)}).status, 200) << path;
    }
    const auto api = Get(url_ + "api/version");
    EXPECT_EQ(api.Header("content-type"), "application/json; charset=utf-8");
    EXPECT_NE(api.body.find("\"error\""), std::string::npos) << api.body;
    EXPECT_EQ(api.Header("www-authenticate"), "Bearer");
    // A browser gets a form that asks for the token and sends it to /login.
    const auto page = Get(url_ + "device?id=x");
    EXPECT_EQ(page.status, 401);
    EXPECT_TRUE(page.Header("content-type").starts_with("text/html")) << page.Header("content-type");
    EXPECT_NE(page.body.find("action=\"/login\""), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("name=\"token\""), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("<script"), std::string::npos);
    const auto health = Get(url_ + "healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_NE(health.body.find("\"status\":\"ok\""), std::string::npos) << health.body;
    EXPECT_EQ(server->Stop(), 0);
    EXPECT_EQ(server->Out().find(kToken), std::string::npos);
    EXPECT_EQ(server->Err().find(kToken), std::string::npos);
  }
}

TEST_F(ServeE2eTest, RefusesTwoTokenSourcesAndAnEmptyTokenFile) {
  TempDir tmp;
  const std::string empty_file = tmp / "empty";
  WriteFile(empty_file, "\n");
  ServeProcess two({"--lake", lake_, "--listen", "127.0.0.1:0", "--token", kToken}, {{"IOTAD_SERVE_TOKEN", kToken}});
  EXPECT_EQ(two.WaitExit(), 2);
  EXPECT_NE(two.Err().find("one way only"), std::string::npos) << two.Err();
  EXPECT_EQ(two.Err().find(kToken), std::string::npos);
  ServeProcess empty({"--lake", lake_, "--listen", "127.0.0.1:0", "--token-file", empty_file});
  EXPECT_EQ(empty.WaitExit(), 2);
  EXPECT_NE(empty.Err().find("is empty"), std::string::npos) << empty.Err();
  ServeProcess missing({"--lake", lake_, "--listen", "127.0.0.1:0", "--token-file", tmp / "nope"});
  EXPECT_EQ(missing.WaitExit(), 2);
  EXPECT_NE(missing.Err().find("cannot read"), std::string::npos) << missing.Err();
}

TEST_F(ServeE2eTest, AMistypedTokenFlagNamesTheOptionButNeverTheValue) {
  // CLI11 would list every unexpected argument: the token typed after a misspelt flag too.
  const CmdResult typo = RunIotad({"serve", "--lake", lake_, "--tokn", kToken, "--listen=0.0.0.0:1"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("--tokn"), std::string::npos) << typo.err;
  EXPECT_EQ(typo.err.find(kToken), std::string::npos) << typo.err;
  EXPECT_EQ(typo.out.find(kToken), std::string::npos) << typo.out;
}

TEST_F(ServeE2eTest, LoginSetsAStrictHttpOnlyCookieThatOpensThePages) {
  auto server = Start({"--token", kToken});
  ASSERT_FALSE(url_.empty());
  const auto wrong = Get(url_ + "login?token=not-it");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Header("set-cookie"), "");
  EXPECT_EQ(wrong.body.find("not-it"), std::string::npos) << "a page echoes what was typed";
  const auto login = Get(url_ + "login?token=" + kToken);
  EXPECT_EQ(login.status, 303);
  EXPECT_EQ(login.Header("location"), "/");
  const std::string cookie = login.Header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;
  const std::string pair = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(pair, std::string("iotad_token=") + kToken);
  EXPECT_EQ(Get(url_, {"Cookie: " + pair}).status, 200);
  EXPECT_EQ(Get(url_ + "api/version", {"Cookie: other=1; " + pair}).status, 200);
  EXPECT_EQ(Get(url_, {"Cookie: iotad_token=not-it"}).status, 401);
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeE2eTest, AlertActionsNeedTheWriteTokenInTheHeader) {
  const std::string ack = R"({"id": "no-such-alert", "by": "e2e"})";
  {
    // No write token configured: the actions are off (403), whatever the request carries.
    auto server = Start({"--token", kToken});
    ASSERT_FALSE(url_.empty());
    const auto off = Http({.method = "POST", .url = url_ + "api/alerts/ack", .headers = {Bearer(kToken)}, .body = ack});
    EXPECT_EQ(off.status, 403) << off.body;
    EXPECT_NE(off.body.find("--write-token"), std::string::npos) << off.body;
    EXPECT_EQ(server->Stop(), 0);
  }
  auto server = Start({"--token", kToken, "--write-token", kWriteToken});
  ASSERT_FALSE(url_.empty());
  const auto read_only = Http({.method = "POST", .url = url_ + "api/alerts/ack", .headers = {Bearer(kToken)}, .body = ack});
  EXPECT_EQ(read_only.status, 401) << read_only.body;
  EXPECT_NE(read_only.body.find("write token"), std::string::npos) << read_only.body;
  const auto login = Get(url_ + "login?token=" + kToken);
  const std::string pair = login.Header("set-cookie").substr(0, login.Header("set-cookie").find(';'));
  const auto by_cookie = Http({.method = "POST", .url = url_ + "api/alerts/ack", .headers = {"Cookie: " + pair}, .body = ack});
  EXPECT_EQ(by_cookie.status, 401) << by_cookie.body;
  // With the write token the action runs: an unknown alert is a 404, not a refusal.
  const auto written =
      Http({.method = "POST", .url = url_ + "api/alerts/ack", .headers = {Bearer(kWriteToken)}, .body = ack});
  EXPECT_EQ(written.status, 404) << written.body;
  // The write token reads too.
  EXPECT_EQ(Get(url_ + "api/version", {Bearer(kWriteToken)}).status, 200);
  EXPECT_EQ(server->Stop(), 0);
  EXPECT_EQ(server->Err().find(kWriteToken), std::string::npos);
}

TEST_F(ServeE2eTest, ServesThePagesAndEmbeddedAssetsAndNothingElse) {
  auto server = Start({});
  ASSERT_FALSE(url_.empty());
  const auto index = Get(url_ + "assets/index.html");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<html"), std::string::npos);
  for (const std::string page : {"", "device?id=dev-00001", "alerts", "pipeline"}) {
    const auto answer = Get(url_ + page);
    EXPECT_EQ(answer.status, 200) << page;
    EXPECT_EQ(answer.body, index.body) << page;
  }
  const auto js = Get(url_ + "assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("cache-control"), "no-cache");
  const std::string etag = js.Header("etag");
  EXPECT_EQ(etag.size(), 66u) << etag;  // a quoted sha256
  EXPECT_EQ(Get(url_ + "assets/app.js", {"If-None-Match: " + etag}).status, 304);
  EXPECT_EQ(Get(url_ + "assets/app.js", {"If-None-Match: \"other\""}).status, 200);
  EXPECT_EQ(Get(url_ + "assets/app.css").Header("content-type"), "text/css; charset=utf-8");
  // A browser accepts brotli; compressing the bundle per request took seconds: it goes as is.
  const auto br = Get(url_ + "assets/app.js", {"Accept-Encoding: gzip, deflate, br"});
  EXPECT_EQ(br.Header("content-encoding"), "");
  EXPECT_EQ(br.body, js.body);

  // Nothing outside the embedded table: traversal, encoded traversal, absolute paths, files of
  // the lake and of the machine.
  for (const std::string path :
       {"assets/../assets/app.js", "assets/../../../../etc/passwd", "assets/%2e%2e/index.html",
        "assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "assets/..%2f..%2fetc%2fpasswd", "assets//etc/passwd",
        "assets/%2fetc%2fpasswd", "assets/", "assets", "etc/passwd", "index.html", "app.js", "_iotad/config.toml",
        "assets/app.js%00.png", "assets/./app.js", "assets/APP.JS", "favicon.ico", "device/x", "..%2f..%2fetc%2fpasswd"}) {
    const auto answer = Http({.method = "GET", .url = url_ + path, .path_as_is = true});
    EXPECT_EQ(answer.status, 404) << path << ": " << answer.body.substr(0, 200);
    EXPECT_EQ(answer.body.find("root:"), std::string::npos) << path;
  }
  EXPECT_EQ(server->Stop(), 0);
}

TEST(ServeDemoE2eTest, DemoEndsWithTheDashboardCommandAndItServesTheDemoLake) {
  TempDir tmp;
  const std::string demo_lake = tmp / "demo";
  const CmdResult demo = RunIotad({"demo", "--devices", "3", "--days", "0.1", "--lake", demo_lake});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  const std::string command = "iotad serve --lake " + demo_lake;
  const size_t at = demo.out.rfind(command);
  ASSERT_NE(at, std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find("http://127.0.0.1:8080/", at), std::string::npos) << demo.out.substr(at);
  // The command it prints serves that lake.
  ServeProcess server({"--lake", demo_lake, "--listen", "127.0.0.1:0"});
  const std::string url = server.WaitForUrl();
  ASSERT_FALSE(url.empty()) << server.Err();
  EXPECT_EQ(Get(url).status, 200);
  const auto totals = Get(url + "api/overview/totals");
  EXPECT_EQ(totals.status, 200) << totals.body;
  EXPECT_NE(totals.body.find("\"devices\":3"), std::string::npos) << totals.body;
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(ServeE2eTest, TheOverviewsDefaultViewsAreComputedAtStart) {
  // No request asks for them: the server computes them itself at start and says so in its log;
  // then each is answered from the cache.
  auto server = Start({"--log-level", "info"});
  ASSERT_FALSE(url_.empty());
  bool warmed = false;
  for (int i = 0; i < 600 && !warmed; ++i) {  // 60 s at most (a loaded machine)
    warmed = server->Err().find("default views are ready") != std::string::npos;
    if (!warmed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(warmed) << server->Err();
  for (const std::string view : {"api/filters", "api/overview/totals", "api/overview/anomalies_over_time",
                                 "api/overview/anomalies_by_device?limit=20", "api/overview/heatmap",
                                 "api/overview/summary"}) {
    const auto answer = Get(url_ + view);
    EXPECT_EQ(answer.status, 200) << view << ": " << answer.body;
    EXPECT_NE(answer.body.find("\"cached\":true"), std::string::npos) << view << " was not warmed: " << answer.body;
  }
  // A view nobody asked for is computed on demand.
  EXPECT_NE(Get(url_ + "api/overview/summary?metric=temp_c").body.find("\"cached\":false"), std::string::npos);
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeE2eTest, HandsTheDecodedQueryToTheApi) {
  auto server = Start({});
  ASSERT_FALSE(url_.empty());
  const auto unknown = Get(url_ + "api/overview/totals?b%6Fgus=1");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("bogus"), std::string::npos) << unknown.body;
  const auto bad_time = Get(url_ + "api/overview/totals?from=yesterday%20noon");
  EXPECT_EQ(bad_time.status, 400) << bad_time.body;
  EXPECT_NE(bad_time.body.find("from"), std::string::npos) << bad_time.body;
  const auto repeated = Get(url_ + "api/overview/totals?metric=temp_c&metric=humidity_pc&location=a%2Cb");
  EXPECT_EQ(repeated.status, 200) << repeated.body;
  EXPECT_NE(repeated.body.find("\"meta\""), std::string::npos) << repeated.body;
  EXPECT_EQ(repeated.Header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeE2eTest, SmallAnswersOnAKeptAliveConnectionDoNotWaitForDelayedAcks) {
  // Without TCP_NODELAY each small answer waited ~40 ms for the client's delayed ACK.
  auto server = Start({});
  ASSERT_FALSE(url_.empty());
  CURL* curl = curl_easy_init();
  ASSERT_NE(curl, nullptr);
  std::string body;
  const std::string url = url_ + "api/version";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  std::vector<double> seconds;
  for (int i = 0; i < 21; ++i) {
    ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
    double total = 0;
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &total);
    seconds.push_back(total);
  }
  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_cleanup(curl);
  EXPECT_EQ(connects, 0) << "the last request opened a new connection: keep-alive is off";
  std::sort(seconds.begin(), seconds.end());
  // A delayed ACK costs ~40 ms per answer; anything well under that means none is waited for
  // (the margin is for loaded machines and sanitizer builds).
  EXPECT_LT(seconds[10], 0.035) << "median " << seconds[10] * 1000 << " ms for /api/version";
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeE2eTest, RefusesOtherMethodsAndLargeBodies) {
  auto server = Start({});
  ASSERT_FALSE(url_.empty());
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "TRACE"}) {
    // A body (with its Content-Length) as a real client sends with these methods.
    const std::optional<std::string> body = method == "TRACE" ? std::nullopt : std::optional<std::string>("x");
    EXPECT_EQ(Http({.method = method, .url = url_, .body = body}).status, 405) << method;
    EXPECT_EQ(Http({.method = method, .url = url_ + "assets/app.js", .body = body}).status, 405) << method;
  }
  EXPECT_EQ(Http({.method = "DELETE", .url = url_ + "api/version"}).status, 405);
  const auto big = Http({.method = "POST", .url = url_ + "api/alerts/ack", .body = std::string(70 * 1024, 'x')});
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("64 KiB"), std::string::npos) << big.body;
  EXPECT_EQ(Http({.method = "HEAD", .url = url_}).status, 200);
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeE2eTest, EveryAnswerCarriesTheSecurityHeaders) {
  auto server = Start({"--token", kToken});
  ASSERT_FALSE(url_.empty());
  const std::vector<HttpAnswer> answers = {
      Get(url_, {Bearer(kToken)}),
      Get(url_ + "assets/app.js", {Bearer(kToken)}),
      Get(url_ + "api/version", {Bearer(kToken)}),
      Get(url_ + "nope", {Bearer(kToken)}),
      Get(url_),
      Get(url_ + "healthz"),
      Http({.method = "POST", .url = url_ + "api/alerts/ack", .headers = {Bearer(kToken)}, .body = std::string(70000, 'x')}),
  };
  const std::vector<long> statuses = {200, 200, 200, 404, 401, 200, 413};
  for (size_t i = 0; i < answers.size(); ++i) {
    const auto& a = answers[i];
    EXPECT_EQ(a.status, statuses[i]) << i;
    const std::string csp = a.Header("content-security-policy");
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << i << ": " << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << i << ": " << csp;
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << i << ": " << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << i << ": " << csp;
    EXPECT_EQ(a.Header("x-content-type-options"), "nosniff") << i;
    EXPECT_EQ(a.Header("referrer-policy"), "no-referrer") << i;
    EXPECT_EQ(a.Header("x-frame-options"), "DENY") << i;
  }
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeE2eTest, NoTokenReachesTheLogsAndMetricsHaveTheHttpHistogram) {
  auto server = Start({"--token", kToken, "--write-token", kWriteToken, "--log-format", "json", "--log-level", "debug"});
  ASSERT_FALSE(url_.empty());
  EXPECT_EQ(Get(url_ + "login?token=" + std::string(kToken)).status, 303);
  EXPECT_EQ(Get(url_ + "login?token=" + std::string(kWriteToken)).status, 401);
  EXPECT_NE(Get(url_ + "api/version?x=" + std::string(kToken), {Bearer(kToken)}).status, 401);
  EXPECT_EQ(Get(url_, {"Cookie: iotad_token=" + std::string(kToken)}).status, 200);
  EXPECT_EQ(Get(url_ + "api/version", {Bearer(kWriteToken)}).status, 200);
  EXPECT_EQ(Http({.method = "POST", .url = url_ + "api/alerts/ack", .headers = {Bearer(kWriteToken)},
                  .body = R"({"id": "no-such-alert"})"})
                .status / 100,
            4);
  const auto metrics = Get(url_ + "metrics", {Bearer(kToken)});
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(metrics.Header("content-type").starts_with("text/plain")) << metrics.Header("content-type");
  EXPECT_NE(metrics.body.find("# TYPE iotad_http_request_duration_seconds histogram"), std::string::npos)
      << metrics.body.substr(0, 2000);
  EXPECT_NE(metrics.body.find("iotad_http_request_duration_seconds_bucket{"), std::string::npos);
  EXPECT_NE(metrics.body.find("route=\"/login\""), std::string::npos);
  EXPECT_NE(metrics.body.find("iotad_http_requests_total{"), std::string::npos);
  EXPECT_EQ(metrics.body.find(kToken), std::string::npos);
  EXPECT_EQ(server->Stop(), 0);
  const std::string out = server->Out(), err = server->Err();
  EXPECT_NE(err.find("\"msg\":\"http request\""), std::string::npos) << err.substr(0, 2000);  // the access log ran
  EXPECT_NE(err.find("\"path\":\"/login\""), std::string::npos) << err.substr(0, 2000);
  EXPECT_EQ(out.find(kToken), std::string::npos) << out;
  EXPECT_EQ(err.find(kToken), std::string::npos) << err;
  EXPECT_EQ(out.find(kWriteToken), std::string::npos) << out;
  EXPECT_EQ(err.find(kWriteToken), std::string::npos) << err;
}

}  // namespace
}  // namespace iotad::e2e
