#include "iotad/alert/template.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "iotad/alert/sinks_http_test_util.h"
#include "iotad/config/alert_config.h"

namespace iotad::alert {
namespace {

using test_util::SampleNotification;

TEST(Template, FieldsAreTheConfigList) {
  EXPECT_EQ(&TemplateFields(), &config::AlertTemplateFields());
}

TEST(Template, EveryFieldRenders) {
  const Notification n = SampleNotification();
  EXPECT_EQ(FieldValue("alert_id", n), "a1b2c3d4e5f6");
  EXPECT_EQ(FieldValue("dedup_key", n), "device-anomalies|device=dev-00042|2024-03-01T10:00:00Z");
  EXPECT_EQ(FieldValue("rule", n), "device-anomalies");
  EXPECT_EQ(FieldValue("severity", n), "critical");
  EXPECT_EQ(FieldValue("group_key", n), "device=dev-00042");
  EXPECT_EQ(FieldValue("status", n), "firing");
  EXPECT_EQ(FieldValue("kind", n), "firing");
  EXPECT_EQ(FieldValue("device", n), "dev-00042");
  EXPECT_EQ(FieldValue("metric", n), "temp_c");
  EXPECT_EQ(FieldValue("location", n), "hall-2");
  EXPECT_EQ(FieldValue("detector", n), "default");
  EXPECT_EQ(FieldValue("starts_at", n), "2024-03-01T10:00:00Z");
  EXPECT_EQ(FieldValue("ends_at", n), "");
  EXPECT_EQ(FieldValue("event_time", n), "2024-03-01T10:20:00Z");
  EXPECT_EQ(FieldValue("anomalies", n), "3");
  EXPECT_EQ(FieldValue("max_score", n), "0.987");
  EXPECT_EQ(FieldValue("value", n), "81.25");
  EXPECT_EQ(FieldValue("expected", n), "21.5");
  EXPECT_EQ(FieldValue("expected_lo", n), "18");
  EXPECT_EQ(FieldValue("expected_hi", n), "25");
  EXPECT_EQ(FieldValue("z", n), "6.5");
  EXPECT_EQ(FieldValue("score", n), "0.95");
  EXPECT_EQ(FieldValue("explanation", n), "temp_c 81.25 is 6.5 sigma above the expected 21.5");
  EXPECT_EQ(FieldValue("anomaly_rule", n), "|z| > threshold");
  EXPECT_EQ(FieldValue("url", n), "http://127.0.0.1:8080/devices/dev-00042");
  // Every listed field has a value in the sample (a field added to the list without a case here fails).
  for (const std::string& f : TemplateFields()) {
    if (f == "ends_at") continue;
    EXPECT_FALSE(FieldValue(f, n).empty()) << f;
  }
}

TEST(Template, NumbersHaveSixSignificantDigitsAndAbsentValuesAreEmpty) {
  Notification n = SampleNotification();
  n.latest.value = 1234.56789;
  n.latest.z = std::nullopt;
  n.latest.expected = std::numeric_limits<double>::quiet_NaN();
  n.ends_at_us = *ParseTimestamp("2024-03-01T11:20:00Z");
  EXPECT_EQ(FieldValue("value", n), "1234.57");
  EXPECT_EQ(FieldValue("z", n), "");
  EXPECT_EQ(FieldValue("expected", n), "");
  EXPECT_EQ(FieldValue("ends_at", n), "2024-03-01T11:20:00Z");
  EXPECT_EQ(FieldValue("no_such_field", n), "");
}

TEST(Template, RenderReplacesFieldsAndKeepsEscapedBraces) {
  const Notification n = SampleNotification();
  EXPECT_EQ(RenderTemplate("{{literal}} {device}/{metric}: {z}{{}}", n), "{literal} dev-00042/temp_c: 6.5{}");
  EXPECT_EQ(RenderTemplate(DefaultSubject(), n), "[critical] firing: dev-00042 temp_c (device-anomalies)");
  EXPECT_EQ(RenderTemplate("no fields", n), "no fields");
  EXPECT_EQ(RenderTemplate("", n), "");
}

TEST(Template, DefaultsAreValidTemplates) {
  EXPECT_TRUE(config::CheckAlertTemplate(std::string(DefaultSubject()), "subject").ok());
  EXPECT_TRUE(config::CheckAlertTemplate(std::string(DefaultBody()), "body").ok());
  const std::string body = RenderTemplate(DefaultBody(), SampleNotification());
  EXPECT_NE(body.find("temp_c 81.25 is 6.5 sigma"), std::string::npos) << body;
  EXPECT_NE(body.find("device-anomalies|device=dev-00042|2024-03-01T10:00:00Z"), std::string::npos) << body;
  EXPECT_NE(body.find("http://127.0.0.1:8080/devices/dev-00042"), std::string::npos) << body;
}

TEST(NotificationJson, FieldByField) {
  const std::string json = NotificationJson(SampleNotification());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(int64_t(doc["version"]), 1);
  EXPECT_EQ(std::string_view(doc["id"]), "a1b2c3d4e5f6-1-ops");
  EXPECT_EQ(std::string_view(doc["kind"]), "firing");
  EXPECT_EQ(std::string_view(doc["status"]), "firing");
  EXPECT_EQ(std::string_view(doc["alert_id"]), "a1b2c3d4e5f6");
  EXPECT_EQ(std::string_view(doc["dedup_key"]), "device-anomalies|device=dev-00042|2024-03-01T10:00:00Z");
  EXPECT_EQ(std::string_view(doc["rule"]), "device-anomalies");
  EXPECT_EQ(std::string_view(doc["severity"]), "critical");
  EXPECT_EQ(std::string_view(doc["group_key"]), "device=dev-00042");
  EXPECT_EQ(std::string_view(doc["labels"]["device"]), "dev-00042");
  EXPECT_EQ(std::string_view(doc["labels"]["metric"]), "temp_c");
  EXPECT_EQ(std::string_view(doc["labels"]["location"]), "hall-2");
  EXPECT_EQ(std::string_view(doc["labels"]["detector"]), "default");
  EXPECT_EQ(std::string_view(doc["starts_at"]), "2024-03-01T10:00:00Z");
  EXPECT_TRUE(doc["ends_at"].is_null());
  EXPECT_EQ(std::string_view(doc["event_time"]), "2024-03-01T10:20:00Z");
  EXPECT_EQ(int64_t(doc["anomalies"]), 3);
  EXPECT_DOUBLE_EQ(double(doc["max_score"]), 0.987);
  EXPECT_EQ(std::string_view(doc["url"]), "http://127.0.0.1:8080/devices/dev-00042");
  simdjson::dom::element a = doc["anomaly"];
  EXPECT_EQ(std::string_view(a["event_time"]), "2024-03-01T10:20:00Z");
  EXPECT_DOUBLE_EQ(double(a["value"]), 81.25);
  EXPECT_DOUBLE_EQ(double(a["expected"]), 21.5);
  EXPECT_DOUBLE_EQ(double(a["expected_lo"]), 18.0);
  EXPECT_DOUBLE_EQ(double(a["expected_hi"]), 25.0);
  EXPECT_DOUBLE_EQ(double(a["z"]), 6.5);
  EXPECT_DOUBLE_EQ(double(a["score"]), 0.95);
  EXPECT_EQ(std::string_view(a["detector"]), "default");
  EXPECT_EQ(std::string_view(a["explanation"]), "temp_c 81.25 is 6.5 sigma above the expected 21.5");
  EXPECT_EQ(std::string_view(a["rule"]), "|z| > threshold");
  EXPECT_EQ(std::string_view(doc["created_at"]), "2024-03-01T10:30:00Z");
}

TEST(NotificationJson, AbsentValuesAreNullNeverNaN) {
  Notification n = SampleNotification();
  n.kind = NotificationKind::kResolved;
  n.status = "resolved";
  n.ends_at_us = *ParseTimestamp("2024-03-01T11:20:00Z");
  n.location.clear();
  n.latest.location.clear();
  n.latest.value = std::nullopt;
  n.latest.z = std::numeric_limits<double>::quiet_NaN();
  n.latest.expected = std::numeric_limits<double>::infinity();
  n.latest.expected_lo = std::nullopt;
  n.latest.expected_hi = std::nullopt;
  n.max_score = std::numeric_limits<double>::quiet_NaN();
  n.latest.explanation = "quote \" backslash \\ newline \n done";
  const std::string json = NotificationJson(n);
  EXPECT_EQ(json.find("NaN"), std::string::npos) << json;
  EXPECT_EQ(json.find("nan"), std::string::npos) << json;
  EXPECT_EQ(json.find("inf"), std::string::npos) << json;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);  // valid JSON, or this throws
  EXPECT_EQ(std::string_view(doc["kind"]), "resolved");
  EXPECT_EQ(std::string_view(doc["ends_at"]), "2024-03-01T11:20:00Z");
  EXPECT_TRUE(doc["labels"]["location"].is_null());
  EXPECT_TRUE(doc["max_score"].is_null());
  for (const char* k : {"value", "z", "expected", "expected_lo", "expected_hi"}) {
    EXPECT_TRUE(doc["anomaly"][k].is_null()) << k;
  }
  EXPECT_EQ(std::string_view(doc["anomaly"]["explanation"]), "quote \" backslash \\ newline \n done");
}

}  // namespace
}  // namespace iotad::alert
