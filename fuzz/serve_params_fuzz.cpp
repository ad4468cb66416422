// libFuzzer target: the dashboard API's query parameters. The input picks an endpoint (first
// byte) and is a query string (`name=value&...`, raw bytes). Params and Api::Handle run on a small
// lake made once (one hour of silver, gold and gold_summary). Every answer is 200, 400 or 404
// with a JSON body; a 400 names what was wrong in `error`; nothing throws or crashes.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <simdjson.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"
#include "iotad/serve/api.h"
#include "iotad/serve/params.h"

namespace {

using namespace iotad;

/// A lake with one committed hour of every hourly layer, written with DuckDB.
std::filesystem::path MakeLake() {
  const auto root = std::filesystem::temp_directory_path() / ("iotad_fuzz_serve_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  auto check = [](const Status& st) {
    if (!st.ok()) {
      std::fprintf(stderr, "fuzz set-up: %s\n", st.message().c_str());
      std::abort();
    }
  };
  check(lake::Lake::Init(root));
  auto lake = lake::Lake::Open(root);
  check(lake.status());
  check((*lake)->BeginWrite());
  auto duck = lake::DuckSession::Open({});
  check(duck.status());
  const std::string staging = lake::Lake::StagingPrefix("fuzz");
  const std::string hour = "year=2024/month=1/day=1/hour=0/";
  const std::pair<std::string, std::string> files[] = {
      {"silver/" + hour + "part-0.parquet",
       "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_minutes(i) AS event_time, 'dev-' || (i % 3) AS device_id, "
       "CASE WHEN i % 5 = 0 THEN NULL ELSE 'hall ''' || (i % 2) END AS location, i * 0.5 AS temp_c, "
       "CASE WHEN i % 4 = 0 THEN NULL ELSE i::DOUBLE END AS \"x' OR '1'='1\" FROM range(60) t(i) ORDER BY device_id"},
      {"gold/" + hour + "anomalies-0.parquet",
       "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_minutes(i) AS event_time, 'dev-' || (i % 3) AS device_id, "
       "'hall ''1' AS location, 'temp_c' AS metric, i * 0.5 AS value, 1.0 AS baseline_mean, 0.5 AS baseline_std, "
       "10::BIGINT AS baseline_n, 4.0 AS z, 3.0 AS threshold, 'zscore' AS detector, 1 AS detector_version, "
       "'far from usual' AS explanation, 0.9 AS score, 1.0 AS expected, 0.0 AS expected_lo, 2.0 AS expected_hi, "
       "'|z| > threshold' AS rule, 4.0 AS statistic, 'z' AS statistic_name, NULL::DOUBLE AS gap_seconds, "
       "NULL::DOUBLE AS timeout_seconds FROM range(0, 60, 7) t(i)"},
      {"gold_summary/" + hour + "summary-0.parquet",
       "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS hour_start, 'dev-' || i AS device_id, "
       "'hall ''' || (i % 2) AS location, 'temp_c' AS metric, 20::BIGINT AS rows, 2::BIGINT AS anomalies, "
       "10.0 + i AS mean, 1.5 AS std, 1.0 AS min, 30.0 AS max FROM range(3) t(i)"},
  };
  lake::Commit commit;
  commit.stage = "gold";
  commit.run_id = "fuzz";
  for (const auto& [key, select] : files) {
    const std::string staged = staging + key;
    std::filesystem::create_directories((root / staged).parent_path());
    check((*duck)->Exec("COPY (" + select + ") TO " + lake::SqlQuote((root / staged).string()) + " (FORMAT parquet)"));
    commit.moves.emplace_back(staged, key);
  }
  check((*lake)->Publish(commit).status());
  return root;
}

constexpr const char* kPaths[] = {
    "/api/filters",          "/api/overview/totals",  "/api/overview/anomalies_over_time",
    "/api/overview/anomalies_by_device", "/api/overview/heatmap", "/api/overview/summary",
    "/api/devices",          "/api/device",           "/api/device/series",
    "/api/device/quarantine", "/api/version",         "/healthz",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const std::filesystem::path root = MakeLake();
  static std::unique_ptr<serve::Api> api = [] {
    serve::ApiOptions options;
    options.cache_entries = 0;
    auto opened = serve::Api::Open(root, options);
    if (!opened.ok()) {
      std::fprintf(stderr, "fuzz set-up: %s\n", opened.status().message().c_str());
      std::abort();
    }
    return std::move(*opened);
  }();
  if (size == 0) return 0;
  serve::Request request;
  request.path = kPaths[bytes[0] % std::size(kPaths)];
  const std::string_view query(reinterpret_cast<const char*>(bytes + 1), size - 1);
  size_t start = 0;
  while (start <= query.size() && request.params.size() < 64) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(start, amp - start);
    const size_t eq = pair.find('=');
    request.params.emplace_back(std::string(pair.substr(0, eq)),
                                eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
    start = amp + 1;
  }
  // Params alone: every result is a value or a 400-style error with a message.
  {
    serve::Params params(request);
    auto filters = params.ReadFilters();
    IOTAD_FUZZ_CHECK(filters.ok() || (filters.status().code() == Errc::kInvalidArgument &&
                                      !filters.status().message().empty()));
    if (filters.ok()) {
      IOTAD_FUZZ_CHECK(!filters->from || !filters->to || *filters->from < *filters->to);
      IOTAD_FUZZ_CHECK(filters->metrics.size() <= serve::kMaxFilterValues);
    }
  }
  const serve::Response response = api->Handle(request);
  IOTAD_FUZZ_CHECK(response.status == 200 || response.status == 400 || response.status == 404);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  IOTAD_FUZZ_CHECK(parser.parse(response.body).get(doc) == simdjson::SUCCESS);
  if (response.status != 200) {
    std::string_view error;
    IOTAD_FUZZ_CHECK(doc["error"].get_string().get(error) == simdjson::SUCCESS && !error.empty());
  }
  return 0;
}
