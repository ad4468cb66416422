#include "iotad/serve/api.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include "iotad/lake/lake.h"
#include "iotad/serve/api_internal.h"

namespace iotad::serve {
namespace {

namespace fs = std::filesystem;

Request Get(std::string path, std::vector<std::pair<std::string, std::string>> params = {}) {
  Request r;
  r.path = std::move(path);
  r.params = std::move(params);
  return r;
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& body) {
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  return doc;
}

class EmptyLakeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("iotad_api_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    ASSERT_TRUE(lake::Lake::Init(root_).ok());
    auto api = Api::Open(root_, ApiOptions{});
    ASSERT_TRUE(api.ok()) << api.status().message();
    api_ = std::move(*api);
  }
  void TearDown() override {
    api_.reset();
    fs::remove_all(root_);
  }
  fs::path root_;
  std::unique_ptr<Api> api_;
};

TEST_F(EmptyLakeApiTest, HealthAndVersion) {
  simdjson::dom::parser parser;
  Response h = api_->Handle(Get("/healthz"));
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.route, "/healthz");
  EXPECT_EQ(std::string(Parse(parser, h.body)["status"].get_string().value()), "ok");
  Response v = api_->Handle(Get("/api/version"));
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(Parse(parser, v.body)["lake_seq"].get_int64().value(), 0);
}

TEST_F(EmptyLakeApiTest, EveryOverviewAnswersZerosOnAnEmptyLake) {
  simdjson::dom::parser parser;
  Response t = api_->Handle(Get("/api/overview/totals"));
  ASSERT_EQ(t.status, 200) << t.body;
  auto doc = Parse(parser, t.body);
  EXPECT_EQ(doc["devices"].get_int64().value(), 0);
  EXPECT_EQ(doc["readings"].get_int64().value(), 0);
  EXPECT_EQ(doc["anomalies"].get_int64().value(), 0);
  EXPECT_TRUE(doc["last_run"].is_null());
  EXPECT_FALSE(doc["meta"]["cached"].get_bool().value());
  for (const char* path : {"/api/filters", "/api/overview/anomalies_over_time", "/api/overview/anomalies_by_device",
                           "/api/overview/heatmap", "/api/overview/summary", "/api/devices"}) {
    Response r = api_->Handle(Get(path));
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(r.route, path);
  }
  Response over = api_->Handle(Get("/api/overview/anomalies_over_time", {{"from", "2024-01-01"}, {"to", "2024-01-02"}}));
  ASSERT_EQ(over.status, 200);
  auto points = Parse(parser, over.body)["points"].get_array();
  EXPECT_EQ(points.size(), 24u);  // zero-filled hours
}

TEST_F(EmptyLakeApiTest, ErrorsMapToStatusCodes) {
  simdjson::dom::parser parser;
  Response unknown = api_->Handle(Get("/api/nope"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.route, "other");
  Request post = Get("/api/overview/totals");
  post.method = "POST";
  Response not_allowed = api_->Handle(post);
  EXPECT_EQ(not_allowed.status, 405);
  Response bad = api_->Handle(Get("/api/overview/totals", {{"from", "soon"}}));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(std::string(Parse(parser, bad.body)["error"].get_string().value()).find("'from'"), std::string::npos);
  Response extra = api_->Handle(Get("/api/overview/heatmap", {{"colour", "red"}}));
  EXPECT_EQ(extra.status, 400);
  EXPECT_NE(extra.body.find("unknown parameter 'colour'"), std::string::npos) << extra.body;
  Response device = api_->Handle(Get("/api/device", {{"id", "ghost"}}));
  EXPECT_EQ(device.status, 404) << device.body;
  Response no_id = api_->Handle(Get("/api/device/series"));
  EXPECT_EQ(no_id.status, 400);
}

TEST_F(EmptyLakeApiTest, TheSameViewTwiceOnOneSnapshotIsCached) {
  const Request r = Get("/api/overview/summary", {{"from", "2024-01-01"}, {"to", "2024-01-03"}});
  Response first = api_->Handle(r);
  Response second = api_->Handle(r);
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  EXPECT_NE(first.body.find("\"cached\":false"), std::string::npos);
  EXPECT_NE(second.body.find("\"cached\":true"), std::string::npos) << second.body;
  // Errors are not cached, and a different view is a miss.
  Response other = api_->Handle(Get("/api/overview/summary", {{"from", "2024-01-01"}, {"to", "2024-01-02"}}));
  EXPECT_NE(other.body.find("\"cached\":false"), std::string::npos);
}

TEST(RouterTest, FindTellsAMissingPathFromAWrongMethod) {
  Router router;
  router.Add({"GET", "/a", [](Context&) -> Result<Response> { return Response{}; }, false, false, "a"});
  bool exists = false;
  EXPECT_NE(router.Find("GET", "/a", &exists), nullptr);
  EXPECT_TRUE(exists);
  EXPECT_EQ(router.Find("POST", "/a", &exists), nullptr);
  EXPECT_TRUE(exists);
  EXPECT_EQ(router.Find("GET", "/a/", &exists), nullptr);
  EXPECT_FALSE(exists);
}

}  // namespace
}  // namespace iotad::serve
