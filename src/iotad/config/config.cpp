#include "iotad/config/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>
#include <thread>

#include <unistd.h>

// toml++ 3.3 asserts (aborts) on some malformed headers such as "[.a]" in builds without NDEBUG;
// its parser reports the same inputs as errors when the assert is off (found by fuzz/config).
#define TOML_ASSERT(expr) ((void)0)
#include <toml++/toml.h>

#include <fmt/ranges.h>

#include "iotad/core/timestamp.h"
#include "iotad/detect/detector.h"
#include "iotad/detect/registry.h"

namespace iotad::config {

namespace {

using Setter =
    std::function<Status(LakeConfig&, const toml::node&, const std::string&, const MachineLimits&)>;

struct OptionSpec {
  std::string section;
  std::string name;
  std::string type;           // for messages and docs
  std::string default_toml;   // default as it appears in the example file
  std::string doc;
  Setter set;
};

Status TypeError(const std::string& key, const std::string& type, const std::string&) {
  return Error(Errc::kInvalidArgument, "config: '{}' must be {}", key, type);
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::string list;
  for (const auto& a : items) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", a);
  return list;
}

std::string Printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\x{:02x}", c);
    else out += c;
  }
  return out;
}

const toml::node& Toml(const Node& n) { return *static_cast<const toml::node*>(n.raw()); }

}  // namespace

Result<std::string> ReadString(const Node& node, const std::string& key, const std::vector<std::string>& allowed) {
  const toml::node& n = Toml(node);
  const auto v = n.value<std::string>();
  if (!v || !n.is_string()) return TypeError(key, "a string", "");
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
    std::vector<std::string> shown;
    for (const auto& a : allowed) shown.push_back(Printable(a));
    return Error(Errc::kInvalidArgument, "config: '{}' must be one of {} (got \"{}\")", key, QuotedList(shown),
                 Printable(*v));
  }
  if (allowed.empty() && v->empty()) return TypeError(key, "a non-empty string", "");
  return *v;
}

Result<int64_t> ReadInt(const Node& node, const std::string& key, int64_t min_value, int64_t max_value) {
  const toml::node& n = Toml(node);
  const auto v = n.value<int64_t>();
  if (!v || !n.is_integer()) return TypeError(key, "an integer", "");
  if (*v < min_value || *v > max_value) {
    return Error(Errc::kInvalidArgument, "config: '{}' must be an integer from {} to {} (got {})", key, min_value,
                 max_value, *v);
  }
  return *v;
}

/// nan and inf are refused: a NaN threshold compares false with everything, so it would
/// silently flag nothing.
Result<double> ReadNumber(const Node& node, const std::string& key, double min_value, double max_value,
                          bool above_min) {
  const toml::node& n = Toml(node);
  const auto v = n.value<double>();
  if (!v || !(n.is_floating_point() || n.is_integer())) return TypeError(key, "a number", "");
  const bool in_range = std::isfinite(*v) && (above_min ? *v > min_value : *v >= min_value) && *v <= max_value;
  if (!in_range) {
    return Error(Errc::kInvalidArgument, "config: '{}' must be a finite number {} {} and at most {} (got {})", key,
                 above_min ? "above" : "of at least", min_value, max_value, *v);
  }
  return *v;
}

Result<bool> ReadBool(const Node& node, const std::string& key) {
  const toml::node& n = Toml(node);
  const auto v = n.value<bool>();
  if (!v || !n.is_boolean()) return TypeError(key, "true or false", "");
  return *v;
}

Result<std::vector<std::string>> ReadStringList(const Node& node, const std::string& key,
                                                const std::vector<std::string>& allowed, bool non_empty) {
  const toml::array* arr = Toml(node).as_array();
  if (arr == nullptr) return TypeError(key, "a list of strings", "");
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    const auto v = item.value<std::string>();
    if (!v || !item.is_string()) return TypeError(key, "a list of strings", "");
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
      return Error(Errc::kInvalidArgument, "config: '{}' has unknown entry '{}' (known: {})", key, *v,
                   fmt::join(allowed, ", "));
    }
    out.push_back(*v);
  }
  if (non_empty && out.empty()) return TypeError(key, "a list of at least one string", "");
  return out;
}

Result<int64_t> ReadDurationUs(const Node& node, const std::string& key) {
  const auto text = Toml(node).value<std::string>();
  const auto us = text && Toml(node).is_string() ? ParseDurationUs(*text) : std::nullopt;
  if (!us || *us <= 0) return TypeError(key, "a duration such as \"15m\"", "");
  return *us;
}

Result<std::vector<std::pair<std::string, Node>>> ReadTable(const Node& node, const std::string& key,
                                                           const std::string& expected) {
  const toml::table* table = Toml(node).as_table();
  if (table == nullptr) return TypeError(key, expected, "");
  std::vector<std::pair<std::string, Node>> out;
  for (const auto& [k, v] : *table) out.emplace_back(std::string(k.str()), Node(&v));
  return out;
}

namespace {

/// A flat option's setter: the field setter a component would use, applied to its section.
template <typename Section>
Setter InSection(Section LakeConfig::*section, FieldSetter<Section> set) {
  return [=](LakeConfig& c, const toml::node& n, const std::string& key, const MachineLimits&) -> Status {
    return set(c.*section, Node(&n), key);
  };
}

template <typename Section>
Setter Str(Section LakeConfig::*section, std::string Section::*field,
           std::vector<std::string> allowed = {}) {
  return InSection(section, SetString(field, std::move(allowed)));
}

/// One of `choices`: the string as written goes to `field`, its typed value to `typed`.
template <typename Section, typename Typed>
Setter Choice(Section LakeConfig::*section, std::string Section::*field, Typed Section::*typed,
              std::vector<std::pair<std::string, Typed>> choices) {
  std::vector<std::string> allowed;
  for (const auto& c : choices) allowed.push_back(c.first);
  return [=](LakeConfig& c, const toml::node& n, const std::string& key, const MachineLimits&) -> Status {
    IOTAD_ASSIGN_OR_RETURN(std::string value, ReadString(Node(&n), key, allowed));
    for (const auto& [text, v] : choices) {
      if (text == value) (c.*section).*typed = v;
    }
    (c.*section).*field = std::move(value);
    return Status::Ok();
  };
}

template <typename Section>
Setter Int(Section LakeConfig::*section, int64_t Section::*field, int64_t min_value, int64_t max_value) {
  return InSection(section, SetInt(field, min_value, max_value));
}

/// A finite number in (min, max] when `above_min`, else in [min, max].
template <typename Section>
Setter Dbl(Section LakeConfig::*section, double Section::*field, double min_value, double max_value,
           bool above_min) {
  return InSection(section, SetNumber(field, min_value, max_value, above_min));
}

template <typename Section>
Setter Bool(Section LakeConfig::*section, bool Section::*field) {
  return InSection(section, SetBool(field));
}

template <typename Section>
Setter List(Section LakeConfig::*section, std::vector<std::string> Section::*field,
            std::vector<std::string> allowed = {}, bool non_empty = false) {
  return InSection(section, SetList(field, std::move(allowed), non_empty));
}

/// duckdb.threads: 0 (all cores) up to kMaxThreads; above the machine's hardware threads it is
/// capped there with a warning (more DuckDB workers than cores only contend, and a huge count
/// makes DuckDB start that many OS threads).
constexpr int64_t kMaxThreads = 1024;

Setter Threads() {
  return [](LakeConfig& c, const toml::node& n, const std::string& key, const MachineLimits& m) -> Status {
    const auto v = n.value<int64_t>();
    if (!v || !n.is_integer()) return TypeError(key, "an integer", "");
    if (*v < 0 || *v > kMaxThreads) {
      return Error(Errc::kInvalidArgument, "config: '{}' must be an integer from 0 (all cores) to {} (got {})", key,
                   kMaxThreads, *v);
    }
    c.duckdb.threads = *v;
    if (m.hardware_threads > 0 && *v > m.hardware_threads) {
      c.duckdb.threads = m.hardware_threads;
      c.warnings.push_back(fmt::format("config: '{}' = {} is more than the {} hardware threads this machine has, so "
                                       "{} are used",
                                       key, *v, m.hardware_threads, m.hardware_threads));
    }
    return Status::Ok();
  };
}

constexpr int64_t kMinMemoryBytes = 32LL << 20;  // below this DuckDB cannot run a scan
constexpr int64_t kMaxMemoryBytes = 1LL << 50;   // 1 PiB: anything above is a typo

Setter MemoryLimit() {
  return [](LakeConfig& c, const toml::node& n, const std::string& key, const MachineLimits& m) -> Status {
    const auto v = n.value<std::string>();
    if (!v || !n.is_string()) return TypeError(key, "a size such as \"1GB\", \"512MiB\" or \"80%\"", "");
    const auto bytes = ParseByteSize(*v, m.physical_memory_bytes);
    if (!bytes) {
      return Error(Errc::kInvalidArgument,
                   "config: '{}' must be a size such as \"1GB\", \"512MiB\" or \"80%\" (got \"{}\")", key,
                   Printable(*v));
    }
    if (*bytes < kMinMemoryBytes || *bytes > kMaxMemoryBytes) {
      return Error(Errc::kInvalidArgument, "config: '{}' must be from 32MiB to 1PiB (got \"{}\", {} bytes)", key,
                   Printable(*v), *bytes);
    }
    c.duckdb.memory_limit_bytes = *bytes;
    c.duckdb.memory_limit = v->find('%') == std::string::npos ? *v : fmt::format("{} bytes", *bytes);
    return Status::Ok();
  };
}

Setter TimeZone() {
  return [](LakeConfig& c, const toml::node& n, const std::string& key, const MachineLimits&) -> Status {
    const auto v = n.value<std::string>();
    if (!v || !n.is_string()) return TypeError(key, "\"UTC\" or a fixed offset such as \"+05:30\"", "");
    const auto minutes = ParseUtcOffset(*v);
    if (!minutes) {
      return Error(Errc::kInvalidArgument,
                   "config: '{}' must be \"UTC\" or a fixed offset from \"-12:00\" to \"+14:00\" such as "
                   "\"+05:30\" (got \"{}\"; zone names are not supported)",
                   key, Printable(*v));
    }
    c.silver.default_timezone = *v;
    c.silver.default_utc_offset_minutes = *minutes;
    return Status::Ok();
  };
}

Setter BaseUrl() {
  return [](LakeConfig& c, const toml::node& n, const std::string& key, const MachineLimits&) -> Status {
    IOTAD_ASSIGN_OR_RETURN(std::string url, ReadString(Node(&n), key));
    IOTAD_TRY(CheckHttpUrl(url, key));
    while (url.size() > 1 && url.back() == '/' && url[url.size() - 2] != '/') url.pop_back();
    c.alert.base_url = std::move(url);
    return Status::Ok();
  };
}

const std::vector<std::string>& DetectorNames();

const std::vector<OptionSpec>& Options() {
  using C = LakeConfig;
  static const std::vector<OptionSpec> options = {
      {"ingest", "inbox", "string", "\"inbox\"",
       "Folder, relative to the lake (or absolute), that `iotad run` ingests new files from.",
       Str(&C::ingest, &IngestConfig::inbox)},
      {"ingest", "partition_by", "string", "\"event_time\"",
       "Bronze dt=/hour= folder of a file: \"event_time\" (its first row's hour) or \"arrival\".",
       Choice(&C::ingest, &IngestConfig::partition_by, &IngestConfig::partition,
              {{"event_time", PartitionBy::kEventTime}, {"arrival", PartitionBy::kArrival}})},
      {"ingest", "delete_after_ingest", "bool", "false",
       "Remove inbox files once they are durably in bronze.",
       Bool(&C::ingest, &IngestConfig::delete_after_ingest)},
      {"silver", "time_columns", "list", R"(["event_time", "timestamp", "ts", "time"])",
       "Header names accepted for the event time column (first match wins).",
       List(&C::silver, &SilverConfig::time_columns, {}, true)},
      {"silver", "device_columns", "list", R"(["device_id", "device", "deviceid"])",
       "Header names accepted for the device id column.",
       List(&C::silver, &SilverConfig::device_columns, {}, true)},
      {"silver", "dimension_columns", "list", R"(["location"])",
       "Text columns kept as strings; every other column is a numeric metric.",
       List(&C::silver, &SilverConfig::dimension_columns)},
      {"silver", "max_buffered_rows", "int", "2000000",
       "Memory bound: rows held in memory before the oldest hours are written out (1000 to 1000000000).",
       Int(&C::silver, &SilverConfig::max_buffered_rows, 1000, 1'000'000'000)},
      {"silver", "compression", "string", "\"zstd\"", "Parquet compression: zstd, snappy, gzip or uncompressed.",
       Str(&C::silver, &SilverConfig::compression, {"zstd", "snappy", "gzip", "uncompressed"})},
      {"silver", "delimiter", "string", "\"\"",
       "CSV field separator: \"\" detects it from the header line; or one of \",\", \";\", \"\\t\", \"|\".",
       Choice(&C::silver, &SilverConfig::delimiter, &SilverConfig::delimiter_byte,
              {{"", '\0'}, {",", ','}, {";", ';'}, {"\t", '\t'}, {"|", '|'}})},
      {"silver", "encoding", "string", "\"utf-8\"",
       "Text encoding of the raw files: \"utf-8\" or \"latin-1\" (ISO-8859-1).",
       Choice(&C::silver, &SilverConfig::encoding, &SilverConfig::text_encoding,
              {{"utf-8", TextEncoding::kUtf8}, {"latin-1", TextEncoding::kLatin1}})},
      {"silver", "null_values", "list", R"(["", "NA", "N/A", "NULL", "NaN", "None", "-"])",
       "Cells that mean \"no value\" (compared case-insensitively after trimming): stored as NULL, not rejected.",
       List(&C::silver, &SilverConfig::null_values)},
      {"silver", "max_line_bytes", "int", "1048576",
       "A longer line (or a quote left open longer) is quarantined as line_too_long (1024 to 268435456).",
       Int(&C::silver, &SilverConfig::max_line_bytes, 1024, 256LL << 20)},
      {"silver", "json_flatten_depth", "int", "3",
       "JSON lines: nested objects are flattened ({\"a\":{\"b\":1}} -> a_b) up to this depth (0 to 16).",
       Int(&C::silver, &SilverConfig::json_flatten_depth, 0, 16)},
      {"silver", "default_timezone", "string", "\"UTC\"",
       "Zone of timestamps that carry none: \"UTC\" or a fixed offset such as \"+05:30\" or \"-08:00\".",
       TimeZone()},
      {"silver", "max_metric_columns", "int", "1000",
       "Metric columns a lake may have; cells of further columns are quarantined (1 to 10000).",
       Int(&C::silver, &SilverConfig::max_metric_columns, 1, 10'000)},
      {"gold", "detectors", "list", R"(["zscore", "robust_zscore", "default"])",
       "Detectors gold runs; the first is the primary one counted in gold_summary.anomalies. Batch: zscore "
       "(the AWS tutorial's), robust_zscore. Online, replayed in time order: default (the ensemble), running_zscore, "
       "window_z, mad, ewma, seasonal, cusum, flatline, rate, range, silent; mahalanobis (per device, across its "
       "metrics).",
       List(&C::gold, &GoldConfig::detectors, DetectorNames(), true)},
      {"gold", "false_alarms_per_day", "number", "0.02",
       "Sensitivity of the online detectors: expected false alarms per device and metric per day (above 0).",
       Dbl(&C::gold, &GoldConfig::false_alarms_per_day, 0.0, 1e6, true)},
      {"gold", "zscore_threshold", "number", "3.0",
       "zscore (the AWS tutorial's detector): anomaly when |value - mean| / std > this (above 0, at most 1000).",
       Dbl(&C::gold, &GoldConfig::zscore_threshold, 0.0, 1000.0, true)},
      {"gold", "robust_threshold", "number", "3.5",
       "robust_zscore: anomaly when 0.6745 * |value - median| / MAD > this (Iglewicz-Hoaglin; above 0, at most 1000).",
       Dbl(&C::gold, &GoldConfig::robust_threshold, 0.0, 1000.0, true)},
      {"gold", "min_points", "int", "3",
       "A device and metric with fewer readings never flags (warm-up; 2 or more).",
       Int(&C::gold, &GoldConfig::min_points, 2, 1'000'000'000)},
      {"gold", "max_baseline_points", "int", "8000000",
       "Memory bound for median baselines and the online replay: above this many values, devices are done in buckets.",
       Int(&C::gold, &GoldConfig::max_baseline_points, 1000, 100'000'000'000)},
      {"duckdb", "threads", "int", "0",
       "Threads DuckDB may use; 0 means all cores. At most 1024; above this machine's hardware threads it is "
       "capped there (with a warning).",
       Threads()},
      {"duckdb", "memory_limit", "string", "\"1GB\"",
       "DuckDB memory limit, it spills to disk beyond it: \"1GB\", \"512MiB\", or \"80%\" of this machine's "
       "memory (32MiB at least).",
       MemoryLimit()},
      {"alert", "enabled", "bool", "true", "Run the alert stage after gold in `iotad run` (false: skip it).",
       Bool(&C::alert, &AlertConfig::enabled)},
      {"alert", "base_url", "string", "\"http://127.0.0.1:8080\"",
       "Dashboard address: notifications link to base_url + \"/devices/<id>\" (an http:// or https:// URL).",
       BaseUrl()},
      {"alert", "max_attempts", "int", "8",
       "Failed attempts before a delivery is dead-lettered (1 to 1000; `iotad alert retry` re-queues it).",
       Int(&C::alert, &AlertConfig::max_attempts, 1, 1000)},
      {"alert", "backoff_initial", "duration", "\"30s\"",
       "First retry after about this long, doubling each time with +-20% jitter (Retry-After wins when longer).",
       InSection(&C::alert, SetDuration(&AlertConfig::backoff_initial_us))},
      {"alert", "backoff_max", "duration", "\"1h\"", "Longest wait between retries (at least backoff_initial).",
       InSection(&C::alert, SetDuration(&AlertConfig::backoff_max_us))},
      {"alert", "delivery_budget", "duration", "\"1m\"",
       "Wall time one run spends delivering at most; what is left goes out on the next run.",
       InSection(&C::alert, SetDuration(&AlertConfig::delivery_budget_us))},
      {"alert", "concurrency", "int", "4", "Deliveries in flight at once, over all sinks (1 to 256).",
       Int(&C::alert, &AlertConfig::concurrency, 1, 256)},
      {"alert", "timeout", "duration", "\"10s\"", "Per request, unless the sink sets its own timeout.",
       InSection(&C::alert, SetDuration(&AlertConfig::timeout_us))},
      {"alert", "lookback", "duration", "\"7d\"",
       "Anomalies older than the data's latest time minus this never open alerts (a new lake's history does not "
       "page).",
       InSection(&C::alert, SetDuration(&AlertConfig::lookback_us))},
  };
  return options;
}

/// Gold's detectors: every detector of the registry (batch, online, per device).
const std::vector<std::string>& DetectorNames() {
  static const std::vector<std::string> names = detect::DetectorNames();
  return names;
}

/// A `[[detect.rule]]` parameter checked by the detector that will receive it: the registry's
/// specs and the same factory gold and eval call, so `config check` refuses exactly what they would.
Status CheckDetectorParam(const std::string& detector, const std::string& param, double value) {
  detect::DetectorOptions options;
  options.params.emplace_back(param, value);
  return detect::CheckDetector(detector, options);
}

Result<double> Number(const toml::node& n, const std::string& key) {
  const auto v = n.value<double>();
  if (!v || !(n.is_floating_point() || n.is_integer())) return TypeError(key, "a number", "");
  if (!std::isfinite(*v)) {
    return Error(Errc::kInvalidArgument, "config: '{}' must be a finite number (got {}; leave it out for no bound)",
                 key, *v);
  }
  return *v;
}

}  // namespace

Result<double> ReadFiniteNumber(const Node& node, const std::string& key) { return Number(Toml(node), key); }

namespace {

/// `[[detect.rule]]` params: keys name detector.parameter, and the detector that will receive
/// each value checks it (CheckDetectorParam).
Status SetDetectorParams(DetectRule& rule, const Node& node, const std::string& full) {
  IOTAD_ASSIGN_OR_RETURN(const auto entries, ReadTable(node, full, "a table such as { \"window_z.window\" = 128 }"));
  for (const auto& [qualified, pv] : entries) {
    const std::string pfull = fmt::format("{}.\"{}\"", full, qualified);
    const auto dot = qualified.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == qualified.size() ||
        std::find(DetectorNames().begin(), DetectorNames().end(), qualified.substr(0, dot)) ==
            DetectorNames().end()) {
      return Error(Errc::kInvalidArgument,
                   "config: '{}': parameters are named detector.parameter, e.g. \"window_z.window\"", pfull);
    }
    IOTAD_ASSIGN_OR_RETURN(double value, ReadFiniteNumber(pv, pfull));
    Status accepted = CheckDetectorParam(qualified.substr(0, dot), qualified.substr(dot + 1), value);
    if (!accepted.ok()) {
      return Error(Errc::kInvalidArgument, "config: '{}' is refused: {}", pfull, accepted.message());
    }
    rule.params.emplace_back(qualified, value);
  }
  return Status::Ok();
}

Status ValidateDetectRule(DetectRule& rule, const ComponentContext& ctx) {
  if (rule.min && rule.max && *rule.min > *rule.max) {
    return Error(Errc::kInvalidArgument, "config: {} has min {} above max {}", ctx.key, *rule.min, *rule.max);
  }
  return Status::Ok();
}

}  // namespace

ComponentKind DetectRuleKind() {
  using R = DetectRule;
  std::vector<Option<R>> options = {
      {"metrics", "list", "[]", "Metrics the rule applies to; an empty list matches every metric.",
       SetList(&R::metrics)},
      {"devices", "list", "[]",
       "Device ids the rule applies to, as glob patterns (* any run, ? one character); empty matches every device.",
       SetList(&R::devices)},
      {"detectors", "list", "[]",
       "Detectors run on the matching series instead of gold.detectors; empty keeps them.",
       SetList(&R::detectors, DetectorNames())},
      {"false_alarms_per_day", "number", "",
       "Sensitivity of the online detectors on the matching series (above 0, at most 1000000); unset keeps "
       "gold.false_alarms_per_day.",
       SetNumber(&R::false_alarms_per_day, 0.0, 1e6, true)},
      {"min", "number", "", "Physical lower bound: a value below it flags (the range check); unset: none.",
       SetFiniteNumber(&R::min)},
      {"max", "number", "", "Physical upper bound: a value above it flags; unset: none.", SetFiniteNumber(&R::max)},
      {"silence", "duration", "",
       "No data for longer than this (\"15m\", \"2h\") flags the series as silent, every time; unset: automatic "
       "(10 intervals, at least 5 minutes), and with `default` a silence the series has made often (a device that "
       "sleeps each night) becomes routine and flags only past the sensitivity.",
       SetDuration(&R::silence_us)},
      {"params", "table", "",
       "Detector parameters, \"detector.parameter\" = number, checked against what that detector accepts "
       "(e.g. window_z.window 8..256, cusum.k 0.05..5, ewma.alpha 1e-6..1).",
       SetDetectorParams},
  };
  ComponentKind kind = UntypedKind(
      "detect.rule",
      "detector settings per metric and device group. A series (device, metric) matches a rule when its metric "
      "is in metrics and its device matches one of devices; rules apply in file order, a later match overriding "
      "the fields it sets.",
      MakeComponentType<R>("", "", std::move(options), ValidateDetectRule));
  kind.example =
      "# # For example:\n"
      "# [[detect.rule]]\n"
      "# metrics = [\"humidity_pc\"]\n"
      "# min = 0\n"
      "# max = 100\n"
      "# [[detect.rule]]\n"
      "# name = \"freezers\"\n"
      "# devices = [\"freezer-*\"]\n"
      "# metrics = [\"temp_c\"]\n"
      "# max = -10\n"
      "# false_alarms_per_day = 0.005\n"
      "# silence = \"15m\"\n"
      "# params = { \"window_z.window\" = 128 }   # detector.parameter = value\n";
  return kind;
}

namespace {

/// The `[[<kind>]]` tables under `node`: each gets its name (unique within the kind), its type
/// and its typed options from the type's factory.
Status ParseComponentTables(const ComponentKind& kind, const toml::node& node, Components& out) {
  if (!node.is_array_of_tables()) {
    return Error(Errc::kInvalidArgument, "config: '{}' must be written as [[{}]] tables", kind.section, kind.section);
  }
  int index = 0;
  for (const auto& item : *node.as_array()) {
    ComponentContext ctx;
    ctx.kind = kind.section;
    ctx.index = index;
    ctx.key = fmt::format("{}[{}]", kind.section, index);
    std::optional<std::string> name, type_name;
    ComponentKeys keys;
    for (const auto& [k, v] : *item.as_table()) {
      if (k.str() == "name") {
        IOTAD_ASSIGN_OR_RETURN(name, ReadString(Node(&v), ctx.key + ".name"));
      } else if (k.str() == "type" && kind.typed) {
        std::vector<std::string> known;
        for (const ComponentType& t : kind.types) known.push_back(t.name);
        IOTAD_ASSIGN_OR_RETURN(type_name, ReadString(Node(&v), ctx.key + ".type", known));
      } else {
        keys.emplace_back(std::string(k.str()), Node(&v));
      }
    }
    const ComponentType* type = &kind.types.front();
    if (kind.typed) {
      if (!type_name) {
        std::vector<std::string> known;
        for (const ComponentType& t : kind.types) known.push_back(t.name);
        return Error(Errc::kInvalidArgument, "config: '{}.type' is required: one of {}", ctx.key, QuotedList(known));
      }
      type = &*std::find_if(kind.types.begin(), kind.types.end(),
                            [&](const ComponentType& t) { return t.name == *type_name; });
    }
    if (!name && kind.name_required) {
      return Error(Errc::kInvalidArgument, "config: '{}.name' is required: a name unique among the [[{}]] tables",
                   ctx.key, kind.section);
    }
    ctx.type = type->name;
    ctx.name = name ? *name : ctx.key;
    for (const Component& other : out.Of(kind.section)) {
      if (other.name == ctx.name) {
        return Error(Errc::kInvalidArgument,
                     "config: {}[{}] and {} are both named \"{}\"; names are unique among the [[{}]] tables",
                     kind.section, other.index, ctx.key, Printable(ctx.name), kind.section);
      }
    }
    IOTAD_ASSIGN_OR_RETURN(std::any options, type->make(keys, ctx));
    out.Add(Component{kind.section, ctx.type, ctx.name, index, std::move(options)});
    ++index;
  }
  return Status::Ok();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

SeriesSettings ResolveSeries(const LakeConfig& config, std::string_view device, std::string_view metric) {
  SeriesSettings s;
  s.detectors = config.gold.detectors;
  s.false_alarms_per_day = config.gold.false_alarms_per_day;
  for (const DetectRule& r : config.detect.rules) {
    const bool metric_ok = r.metrics.empty() || std::find(r.metrics.begin(), r.metrics.end(), metric) != r.metrics.end();
    const bool device_ok = r.devices.empty() || std::any_of(r.devices.begin(), r.devices.end(),
                                                            [&](const std::string& g) { return GlobMatch(g, device); });
    if (!metric_ok || !device_ok) continue;
    if (!r.detectors.empty()) s.detectors = r.detectors;
    if (r.false_alarms_per_day) s.false_alarms_per_day = *r.false_alarms_per_day;
    if (r.min) s.min = *r.min;
    if (r.max) s.max = *r.max;
    if (r.silence_us) s.silence_us = *r.silence_us;
    for (const auto& [key, value] : r.params) {
      auto it = std::find_if(s.params.begin(), s.params.end(), [&key = key](const auto& p) { return p.first == key; });
      if (it != s.params.end()) it->second = value;
      else s.params.emplace_back(key, value);
    }
  }
  return s;
}

MachineLimits MachineLimits::Current() {
  MachineLimits m;
  m.hardware_threads = static_cast<int64_t>(std::thread::hardware_concurrency());
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) m.physical_memory_bytes = static_cast<int64_t>(pages) * page_size;
  return m;
}

std::optional<int64_t> ParseByteSize(std::string_view text, int64_t physical_bytes) {
  auto trim = [](std::string_view t) {
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    return t;
  };
  text = trim(text);
  size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  if (end == 0) return std::nullopt;
  double number = 0.0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, number);
  if (ec != std::errc() || ptr != text.data() + end || !std::isfinite(number)) return std::nullopt;
  std::string unit(trim(text.substr(end)));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double bytes = 0.0;
  if (unit == "%") {
    if (physical_bytes <= 0 || !(number > 0.0) || number > 100.0) return std::nullopt;
    bytes = number / 100.0 * static_cast<double>(physical_bytes);
  } else {
    static const std::pair<std::string_view, double> kUnits[] = {
        {"b", 1.0},     {"byte", 1.0},   {"bytes", 1.0},  {"kb", 1e3},    {"mb", 1e6},
        {"gb", 1e9},    {"tb", 1e12},    {"kib", 0x1p10}, {"mib", 0x1p20}, {"gib", 0x1p30},
        {"tib", 0x1p40}};
    const auto* hit = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const auto& u) { return u.first == unit; });
    if (hit == std::end(kUnits)) return std::nullopt;
    bytes = number * hit->second;
  }
  if (!(bytes < 9.0e18)) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

std::optional<int32_t> ParseUtcOffset(std::string_view text) {
  if (text == "UTC" || text == "Z") return 0;
  // [+-]HH:MM
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') return std::nullopt;
  for (const size_t i : {1, 2, 4, 5}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  const int hours = (text[1] - '0') * 10 + (text[2] - '0');
  const int minutes = (text[4] - '0') * 10 + (text[5] - '0');
  if (minutes >= 60) return std::nullopt;
  const int total = hours * 60 + minutes;
  if (text[0] == '+' ? total > 14 * 60 : total > 12 * 60) return std::nullopt;
  return text[0] == '+' ? total : -total;
}

Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name) {
  return ParseConfig(toml_text, source_name, MachineLimits::Current());
}

namespace {
/// toml++ 3.3 (Debian 12's) classifies some non-ASCII characters as whitespace through a table
/// that reaches __builtin_unreachable() (undefined behaviour) for code points in three blocks of
/// 1018: the ones starting at U+00A0, U+2C5E and U+FB26, except U+00A0, U+3000 and U+FEFF
/// themselves (fuzz/config found U+FEDA in a table header, U+FEF7 in a string left open and
/// U+0350 after a number). Where the parser calls it depends on its state, so such a character
/// is refused anywhere in the file, before toml++ sees the text. Strings can hold them as
/// \uXXXX escapes.
bool TomlCannotReadSafely(char32_t c) {
  if (c < 0xA0 || c > 0xFEFF || c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
  const uint64_t block = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
  return block == 0 || block == 11 || block == 63;
}

/// The first such character (and its line), decoding UTF-8 (invalid bytes are toml++'s to refuse).
std::optional<std::pair<char32_t, int64_t>> FirstUnsafeCharacter(std::string_view t) {
  int64_t line = 1;
  for (size_t i = 0; i < t.size();) {
    const auto b = static_cast<unsigned char>(t[i]);
    if (b == '\n') ++line;
    if (b < 0x80) {
      ++i;
      continue;
    }
    const size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    char32_t c = n == 4 ? b & 0x07 : n == 3 ? b & 0x0F : b & 0x1F;
    size_t k = 1;
    for (; k < n && i + k < t.size() && (static_cast<unsigned char>(t[i + k]) & 0xC0) == 0x80; ++k) {
      c = (c << 6) | (static_cast<unsigned char>(t[i + k]) & 0x3F);
    }
    if (n > 1 && k == n && TomlCannotReadSafely(c)) return std::make_pair(c, line);
    i += k;
  }
  return std::nullopt;
}
}  // namespace

Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name,
                               const MachineLimits& machine) {
  return ParseConfig(toml_text, source_name, machine, ComponentRegistry::Default());
}

Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name,
                               const MachineLimits& machine, const ComponentRegistry& registry) {
  LakeConfig config;
  if (const auto bad = FirstUnsafeCharacter(toml_text)) {
    return Error(Errc::kInvalidArgument,
                 "config: {} line {} has the character U+{:04X}, which the TOML reader cannot take safely; "
                 "in a string write it as \\u{:04X}, elsewhere remove it",
                 source_name, bad->second, static_cast<uint32_t>(bad->first), static_cast<uint32_t>(bad->first));
  }
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string(source_name));
  } catch (const toml::parse_error& e) {
    return Error(Errc::kInvalidArgument, "config: {} is not valid TOML: {} (line {})", source_name,
                 e.description(), e.source().begin.line);
  }
  const auto& options = Options();
  std::vector<std::string> sections;  // in the order `config example` shows them
  for (const auto& o : options) {
    if (std::find(sections.begin(), sections.end(), o.section) == sections.end()) sections.push_back(o.section);
  }
  for (const ComponentKind& k : registry.kinds()) {
    const std::string group = k.section.substr(0, k.section.find('.'));
    if (std::find(sections.begin(), sections.end(), group) == sections.end()) sections.push_back(group);
  }
  // Setters and factories do not know the file; say it here.
  const auto in_file = [&](const Status& st) {
    return Status(st.code(), fmt::format("{} (in {})", st.message(), source_name));
  };
  for (const auto& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    const toml::table* table = section_node.as_table();
    if (std::find(sections.begin(), sections.end(), section) == sections.end() || table == nullptr) {
      return Error(Errc::kInvalidArgument, "config: unknown section '{}' in {} (known: {})", section, source_name,
                   fmt::join(sections, ", "));
    }
    for (const auto& [key, node] : *table) {
      const std::string name(key.str());
      const std::string full = section + "." + name;
      if (const ComponentKind* kind = registry.Find(full)) {
        if (Status st = ParseComponentTables(*kind, node, config.components); !st.ok()) return in_file(st);
        continue;
      }
      const OptionSpec* spec = nullptr;
      for (const auto& o : options) {
        if (o.section == section && o.name == name) spec = &o;
      }
      if (spec == nullptr) {
        std::vector<std::string> tables;
        for (const ComponentKind& k : registry.kinds()) {
          if (k.section.compare(0, section.size() + 1, section + ".") == 0) tables.push_back("[[" + k.section + "]]");
        }
        return Error(Errc::kInvalidArgument, "config: unknown key '{}' in {} (see `iotad config example`{})", full,
                     source_name,
                     tables.empty() ? "" : fmt::format("; [{}] holds {} tables", section, fmt::join(tables, ", ")));
      }
      if (Status st = spec->set(config, node, full, machine); !st.ok()) return in_file(st);
    }
  }
  if (config.alert.backoff_initial_us > config.alert.backoff_max_us) {
    return Error(Errc::kInvalidArgument,
                 "config: 'alert.backoff_initial' ({:g}s) must be at most 'alert.backoff_max' ({:g}s) in {}",
                 config.alert.backoff_initial_us / 1e6, config.alert.backoff_max_us / 1e6, source_name);
  }
  // Every sink a rule names must exist (the tables may come in any order, so after all of them).
  if (Status st = CheckAlertRuleSinks(config.components); !st.ok()) return in_file(st);
  // Stages read the rules as a typed vector.
  for (const DetectRule* rule : config.components.OptionsOf<DetectRule>("detect.rule")) {
    config.detect.rules.push_back(*rule);
  }
  for (std::string& w : config.warnings) w = fmt::format("{} (in {})", w, source_name);
  return config;
}

std::string ExampleComponentToml(const ComponentKind& kind) {
  std::string out = fmt::format("# # [[{}]] tables, any number: {}\n", kind.section, kind.doc);
  for (const ComponentType& type : kind.types) {
    if (kind.typed) out += fmt::format("# # With type = \"{}\": {}\n", type.name, type.doc);
    out += fmt::format("# [[{}]]\n", kind.section);
    if (kind.name_required) {
      out += fmt::format("# # A name unique among the [[{}]] tables (string, required)\n", kind.section);
      const std::string leaf = kind.section.substr(kind.section.find('.') + 1);
      out += fmt::format("# name = \"{}-1\"\n", kind.typed ? type.name : leaf);
    } else {
      out += fmt::format("# # name: a name unique among the [[{}]] tables, for messages (string; unset: \"{}[<n>]\")\n",
                         kind.section, kind.section);
    }
    if (kind.typed) out += fmt::format("# type = \"{}\"\n", type.name);
    for (const OptionDoc& o : type.options) {
      if (o.required) {
        out += fmt::format("# # {} ({}, required)\n# {} = {}\n", o.doc, o.type, o.name, o.default_toml);
      } else if (o.default_toml.empty()) {
        out += fmt::format("# # {}: {} ({}; unset by default)\n", o.name, o.doc, o.type);
      } else {
        out += fmt::format("# # {} ({})\n# {} = {}\n", o.doc, o.type, o.name, o.default_toml);
      }
    }
  }
  out += kind.example;
  return out;
}

std::string ExampleConfigToml() { return ExampleConfigToml(ComponentRegistry::Default()); }

std::string InitConfigToml() {
  return ExampleConfigToml() +
         "\n"
         "# This lake's alerting: anomalies of the default detector, one alert per device, written as JSON lines\n"
         "# to alerts.jsonl in the lake folder. Add a [[alert.sink]] (slack, webhook, sns, email...) and name it in\n"
         "# the rule's sinks to be paged; `iotad alert preview` shows what a rule would have sent.\n"
         "[[alert.rule]]\n"
         "name = \"device-anomalies\"\n"
         "detectors = [\"default\"]\n"
         "group_by = \"device\"\n"
         "severity = \"warning\"\n"
         "sinks = [\"alerts-file\"]\n"
         "\n"
         "[[alert.sink]]\n"
         "name = \"alerts-file\"\n"
         "type = \"file\"\n"
         "path = \"alerts.jsonl\"\n";
}

std::string ExampleConfigToml(const ComponentRegistry& registry) {
  std::string out =
      "# iotad lake configuration. Every option is listed with its default value;\n"
      "# edit a value to change it. Unknown keys are errors, so typos cannot go unnoticed.\n";
  std::string section;
  for (const auto& o : Options()) {
    if (o.section != section) {
      section = o.section;
      out += fmt::format("\n[{}]\n", section);
    }
    out += fmt::format("# {} ({})\n{} = {}\n", o.doc, o.type, o.name, o.default_toml);
  }
  for (const ComponentKind& kind : registry.kinds()) {
    out += '\n';
    out += ExampleComponentToml(kind);
  }
  return out;
}

}  // namespace iotad::config
