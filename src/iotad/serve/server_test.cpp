#include "iotad/serve/server.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace iotad::serve {
namespace {

TEST(IsLoopbackHostTest, KnowsTheLoopbackAddressesAndNothingElse) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "192.168.1.2", "example.com", "localhost.evil",
                           "127.0.0.1.nip.io", "", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

class ResolveTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("IOTAD_SERVE_TOKEN");
    ::unsetenv("IOTAD_SERVE_WRITE_TOKEN");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(ResolveTokensTest, ANonLoopbackAddressNeedsAReadToken) {
  ServeOptions options;
  options.listen = "0.0.0.0:8080";
  const Status refused = ResolveTokens(options, "", "", "w-secret-1", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("not a loopback address"), std::string::npos) << refused.message();
  EXPECT_TRUE(ResolveTokens(options, "r-secret-1", "", "", "").ok());
  EXPECT_EQ(options.token, "r-secret-1");
  options.listen = "127.0.0.1:0";
  EXPECT_TRUE(ResolveTokens(options, "", "", "", "").ok());
  EXPECT_EQ(options.token, "");
}

TEST_F(ResolveTokensTest, TakesTheEnvironmentAndRefusesTwoSourcesWithoutNamingTheToken) {
  ServeOptions options;
  ::setenv("IOTAD_SERVE_TOKEN", "env-secret-1", 1);
  ::setenv("IOTAD_SERVE_WRITE_TOKEN", "env-write-1", 1);
  ASSERT_TRUE(ResolveTokens(options, "", "", "", "").ok());
  EXPECT_EQ(options.token, "env-secret-1");
  EXPECT_EQ(options.write_token, "env-write-1");
  const Status two = ResolveTokens(options, "flag-secret-1", "", "", "");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.message().find("one way only"), std::string::npos) << two.message();
  EXPECT_EQ(two.message().find("secret"), std::string::npos) << two.message();
}

TEST_F(ResolveTokensTest, RefusesTokensACookieCannotCarry) {
  ServeOptions options;
  for (const char* bad : {"has space", "semi;colon", "comma,", "quote\"", "tab\t", "caf\xc3\xa9"}) {
    const Status status = ResolveTokens(options, bad, "", "", "");
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.message().find(bad), std::string::npos) << status.message();
  }
}

TEST_F(ResolveTokensTest, RefusesAListenAddressWithoutPort) {
  ServeOptions options;
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:99999", "127.0.0.1:http", "[::1]8080"}) {
    options.listen = bad;
    EXPECT_FALSE(ResolveTokens(options, "", "", "", "").ok()) << bad;
  }
}

}  // namespace
}  // namespace iotad::serve
