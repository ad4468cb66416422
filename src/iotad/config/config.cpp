#include "iotad/config/config.h"

#include <functional>
#include <set>

#include <toml++/toml.h>

namespace iotad::config {
namespace {

using Setter = std::function<Status(LakeConfig&, const toml::node&, const std::string&)>;

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


template <typename Section>
Setter Str(Section LakeConfig::*section, std::string Section::*field,
           std::vector<std::string> allowed = {}) {
  return [=](LakeConfig& c, const toml::node& n, const std::string& key) -> Status {
    const auto v = n.value<std::string>();
    if (!v) return TypeError(key, "a string", "");
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Error(Errc::kInvalidArgument, "config: '{}' must be one of {} (got '{}')", key, list, *v);
    }
    (c.*section).*field = *v;
    return Status::Ok();
  };
}

template <typename Section>
Setter Int(Section LakeConfig::*section, int64_t Section::*field, int64_t min_value) {
  return [=](LakeConfig& c, const toml::node& n, const std::string& key) -> Status {
    const auto v = n.value<int64_t>();
    if (!v || !n.is_integer()) return TypeError(key, "an integer", "");
    if (*v < min_value) {
      return Error(Errc::kInvalidArgument, "config: '{}' must be at least {} (got {})", key, min_value, *v);
    }
    (c.*section).*field = *v;
    return Status::Ok();
  };
}

template <typename Section>
Setter Dbl(Section LakeConfig::*section, double Section::*field, double min_value) {
  return [=](LakeConfig& c, const toml::node& n, const std::string& key) -> Status {
    const auto v = n.value<double>();
    if (!v || !(n.is_floating_point() || n.is_integer())) return TypeError(key, "a number", "");
    if (*v < min_value) {
      return Error(Errc::kInvalidArgument, "config: '{}' must be at least {} (got {})", key, min_value, *v);
    }
    (c.*section).*field = *v;
    return Status::Ok();
  };
}

template <typename Section>
Setter Bool(Section LakeConfig::*section, bool Section::*field) {
  return [=](LakeConfig& c, const toml::node& n, const std::string& key) -> Status {
    const auto v = n.value<bool>();
    if (!v || !n.is_boolean()) return TypeError(key, "true or false", "");
    (c.*section).*field = *v;
    return Status::Ok();
  };
}

template <typename Section>
Setter List(Section LakeConfig::*section, std::vector<std::string> Section::*field,
            std::vector<std::string> allowed = {}) {
  return [=](LakeConfig& c, const toml::node& n, const std::string& key) -> Status {
    const toml::array* arr = n.as_array();
    if (arr == nullptr) return TypeError(key, "a list of strings", "");
    std::vector<std::string> out;
    for (const auto& item : *arr) {
      const auto v = item.value<std::string>();
      if (!v) return TypeError(key, "a list of strings", "");
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return Error(Errc::kInvalidArgument, "config: '{}' has unknown entry '{}' (known: {})", key, *v, list);
      }
      out.push_back(*v);
    }
    (c.*section).*field = std::move(out);
    return Status::Ok();
  };
}

const std::vector<OptionSpec>& Options() {
  using C = LakeConfig;
  static const std::vector<OptionSpec> options = {
      {"ingest", "inbox", "string", "\"inbox\"",
       "Folder, relative to the lake (or absolute), that `iotad run` ingests new files from.",
       Str(&C::ingest, &IngestConfig::inbox)},
      {"ingest", "partition_by", "string", "\"event_time\"",
       "Bronze dt=/hour= folder of a file: \"event_time\" (its first row's hour) or \"arrival\".",
       Str(&C::ingest, &IngestConfig::partition_by, {"event_time", "arrival"})},
      {"ingest", "delete_after_ingest", "bool", "false",
       "Remove inbox files once they are durably in bronze.",
       Bool(&C::ingest, &IngestConfig::delete_after_ingest)},
      {"silver", "time_columns", "list", R"(["event_time", "timestamp", "ts", "time"])",
       "Header names accepted for the event time column (first match wins).",
       List(&C::silver, &SilverConfig::time_columns)},
      {"silver", "device_columns", "list", R"(["device_id", "device", "deviceid"])",
       "Header names accepted for the device id column.",
       List(&C::silver, &SilverConfig::device_columns)},
      {"silver", "dimension_columns", "list", R"(["location"])",
       "Text columns kept as strings; every other column is a numeric metric.",
       List(&C::silver, &SilverConfig::dimension_columns)},
      {"silver", "max_buffered_rows", "int", "2000000",
       "Memory bound: rows held in memory before the oldest hours are written out.",
       Int(&C::silver, &SilverConfig::max_buffered_rows, 1000)},
      {"silver", "compression", "string", "\"zstd\"", "Parquet compression: zstd, snappy, gzip or uncompressed.",
       Str(&C::silver, &SilverConfig::compression, {"zstd", "snappy", "gzip", "uncompressed"})},
      {"gold", "detectors", "list", R"(["zscore", "robust_zscore"])",
       "Detectors gold runs; the first is the primary one counted in gold_summary.anomalies. Batch: zscore "
       "(the AWS tutorial's), robust_zscore. Online, replayed in time order: default (the ensemble), window_z, "
       "mad, ewma, seasonal, cusum, flatline, rate, range, silent.",
       List(&C::gold, &GoldConfig::detectors,
            {"zscore", "robust_zscore", "default", "window_z", "mad", "ewma", "seasonal", "cusum", "flatline", "rate",
             "range", "silent"})},
      {"gold", "false_alarms_per_day", "number", "0.02",
       "Sensitivity of the online detectors: expected false alarms per device and metric per day.",
       Dbl(&C::gold, &GoldConfig::false_alarms_per_day, 1e-9)},
      {"gold", "zscore_threshold", "number", "3.0",
       "zscore (the AWS tutorial's detector): anomaly when |value - mean| / std > this.",
       Dbl(&C::gold, &GoldConfig::zscore_threshold, 0.0)},
      {"gold", "robust_threshold", "number", "3.5",
       "robust_zscore: anomaly when 0.6745 * |value - median| / MAD > this (Iglewicz-Hoaglin).",
       Dbl(&C::gold, &GoldConfig::robust_threshold, 0.0)},
      {"gold", "min_points", "int", "3",
       "A device and metric with fewer readings never flags (warm-up).",
       Int(&C::gold, &GoldConfig::min_points, 2)},
      {"gold", "max_baseline_points", "int", "8000000",
       "Memory bound for median baselines: above this many values, devices are done in buckets.",
       Int(&C::gold, &GoldConfig::max_baseline_points, 1000)},
      {"duckdb", "threads", "int", "0", "Threads DuckDB may use; 0 means all cores.",
       Int(&C::duckdb, &DuckdbConfig::threads, 0)},
      {"duckdb", "memory_limit", "string", "\"1GB\"", "DuckDB memory limit (it spills to disk beyond it).",
       Str(&C::duckdb, &DuckdbConfig::memory_limit)},
  };
  return options;
}

}  // namespace

Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name) {
  LakeConfig config;
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string(source_name));
  } catch (const toml::parse_error& e) {
    return Error(Errc::kInvalidArgument, "config: {} is not valid TOML: {} (line {})", source_name,
                 e.description(), e.source().begin.line);
  }
  const auto& options = Options();
  std::set<std::string> sections;
  for (const auto& o : options) sections.insert(o.section);
  for (const auto& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    const toml::table* table = section_node.as_table();
    if (sections.count(section) == 0 || table == nullptr) {
      return Error(Errc::kInvalidArgument, "config: unknown section '{}' in {} (known: ingest, silver, gold, duckdb)",
                   section, source_name);
    }
    for (const auto& [key, node] : *table) {
      const std::string name(key.str());
      const std::string full = section + "." + name;
      const OptionSpec* spec = nullptr;
      for (const auto& o : options) {
        if (o.section == section && o.name == name) spec = &o;
      }
      if (spec == nullptr) {
        return Error(Errc::kInvalidArgument, "config: unknown key '{}' in {} (see `iotad config example`)", full,
                     source_name);
      }
      Status st = spec->set(config, node, full);
      if (!st.ok()) {
        // Setters do not know the file; say it here.
        return Status(st.code(), fmt::format("{} (in {})", st.message(), source_name));
      }
    }
  }
  return config;
}

std::string ExampleConfigToml() {
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
  return out;
}

}  // namespace iotad::config
