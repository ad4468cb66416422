#include "iotad/config/config.h"

#include <functional>
#include <set>

#include <toml++/toml.h>

#include "iotad/core/timestamp.h"

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

Result<std::vector<std::string>> StringList(const toml::node& n, const std::string& key,
                                            const std::vector<std::string>& allowed = {}) {
  const toml::array* arr = n.as_array();
  if (arr == nullptr) return TypeError(key, "a list of strings", "");
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    const auto v = item.value<std::string>();
    if (!v) return TypeError(key, "a list of strings", "");
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
      return Error(Errc::kInvalidArgument, "config: '{}' has unknown entry '{}' (known: {})", key, *v,
                   fmt::join(allowed, ", "));
    }
    out.push_back(*v);
  }
  return out;
}

template <typename Section>
Setter List(Section LakeConfig::*section, std::vector<std::string> Section::*field,
            std::vector<std::string> allowed = {}) {
  return [=](LakeConfig& c, const toml::node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN((c.*section).*field, StringList(n, key, allowed));
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
      {"gold", "detectors", "list", R"(["zscore", "robust_zscore", "default"])",
       "Detectors gold runs; the first is the primary one counted in gold_summary.anomalies. Batch: zscore "
       "(the AWS tutorial's), robust_zscore. Online, replayed in time order: default (the ensemble), window_z, "
       "mad, ewma, seasonal, cusum, flatline, rate, range, silent; mahalanobis (per device, across its metrics).",
       List(&C::gold, &GoldConfig::detectors, DetectorNames())},
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
       "Memory bound for median baselines and the online replay: above this many values, devices are done in buckets.",
       Int(&C::gold, &GoldConfig::max_baseline_points, 1000)},
      {"duckdb", "threads", "int", "0", "Threads DuckDB may use; 0 means all cores.",
       Int(&C::duckdb, &DuckdbConfig::threads, 0)},
      {"duckdb", "memory_limit", "string", "\"1GB\"", "DuckDB memory limit (it spills to disk beyond it).",
       Str(&C::duckdb, &DuckdbConfig::memory_limit)},
  };
  return options;
}

const std::vector<std::string>& DetectorNames() {
  static const std::vector<std::string> names = {"zscore", "robust_zscore", "default", "window_z", "mad", "ewma",
                                                 "seasonal", "cusum", "flatline", "rate", "range", "silent",
                                                 "mahalanobis"};
  return names;
}


Result<double> Number(const toml::node& n, const std::string& key) {
  const auto v = n.value<double>();
  if (!v || !(n.is_floating_point() || n.is_integer())) return TypeError(key, "a number", "");
  return *v;
}

/// `[[detect.rule]]` tables: each key checked, so a typo is an error, not a silent no-op.
Status ParseDetectSection(const toml::table& table, DetectConfig& out) {
  for (const auto& [key, node] : table) {
    if (key.str() != "rule" || !node.is_array_of_tables()) {
      return Error(Errc::kInvalidArgument,
                   "config: unknown key 'detect.{}' (the detect section holds [[detect.rule]] tables)", key.str());
    }
    int index = 0;
    for (const auto& item : *node.as_array()) {
      const toml::table& t = *item.as_table();
      DetectRule rule;
      for (const auto& [k, v] : t) {
        const std::string name(k.str());
        const std::string full = fmt::format("detect.rule[{}].{}", index, name);
        if (name == "metrics") {
          IOTAD_ASSIGN_OR_RETURN(rule.metrics, StringList(v, full));
        } else if (name == "devices") {
          IOTAD_ASSIGN_OR_RETURN(rule.devices, StringList(v, full));
        } else if (name == "detectors") {
          IOTAD_ASSIGN_OR_RETURN(rule.detectors, StringList(v, full, DetectorNames()));
        } else if (name == "false_alarms_per_day") {
          IOTAD_ASSIGN_OR_RETURN(double fa, Number(v, full));
          if (!(fa > 0.0)) return Error(Errc::kInvalidArgument, "config: '{}' must be above 0 (got {})", full, fa);
          rule.false_alarms_per_day = fa;
        } else if (name == "min") {
          IOTAD_ASSIGN_OR_RETURN(rule.min, Number(v, full));
        } else if (name == "max") {
          IOTAD_ASSIGN_OR_RETURN(rule.max, Number(v, full));
        } else if (name == "params") {
          const toml::table* pt = v.as_table();
          if (pt == nullptr) return TypeError(full, "a table such as { \"window_z.window\" = 128 }", "");
          for (const auto& [pk, pv] : *pt) {
            const std::string qualified(pk.str());
            const std::string pfull = fmt::format("{}.\"{}\"", full, qualified);
            const auto dot = qualified.find('.');
            if (dot == std::string::npos || dot == 0 || dot + 1 == qualified.size() ||
                std::find(DetectorNames().begin(), DetectorNames().end(), qualified.substr(0, dot)) ==
                    DetectorNames().end()) {
              return Error(Errc::kInvalidArgument,
                           "config: '{}': parameters are named detector.parameter, e.g. \"window_z.window\"", pfull);
            }
            IOTAD_ASSIGN_OR_RETURN(double value, Number(pv, pfull));
            rule.params.emplace_back(qualified, value);
          }
        } else if (name == "silence") {
          const auto text = v.value<std::string>();
          const auto us = text ? ParseDurationUs(*text) : std::nullopt;
          if (!us || *us <= 0) return TypeError(full, "a duration such as \"15m\"", "");
          rule.silence_us = *us;
        } else {
          return Error(Errc::kInvalidArgument,
                       "config: unknown key '{}' (known: metrics, devices, detectors, false_alarms_per_day, min, "
                       "max, silence, params)",
                       full);
        }
      }
      if (rule.min && rule.max && *rule.min > *rule.max) {
        return Error(Errc::kInvalidArgument, "config: detect.rule[{}] has min {} above max {}", index, *rule.min,
                     *rule.max);
      }
      out.rules.push_back(std::move(rule));
      ++index;
    }
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
    if (section == "detect" && table != nullptr) {
      Status st = ParseDetectSection(*table, config.detect);
      if (!st.ok()) return Status(st.code(), fmt::format("{} (in {})", st.message(), source_name));
      continue;
    }
    if (sections.count(section) == 0 || table == nullptr) {
      return Error(Errc::kInvalidArgument,
                   "config: unknown section '{}' in {} (known: ingest, silver, gold, detect, duckdb)", section,
                   source_name);
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
  out +=
      "\n# Per metric and per device group: [[detect.rule]] tables, applied in order, a later match\n"
      "# overriding the fields it sets. metrics and devices (glob patterns) select the series; an\n"
      "# absent list matches all. Fields: detectors, false_alarms_per_day, min, max (physical range),\n"
      "# silence (a duration). For example:\n"
      "# [[detect.rule]]\n"
      "# metrics = [\"humidity_pc\"]\n"
      "# min = 0\n"
      "# max = 100\n"
      "# [[detect.rule]]\n"
      "# devices = [\"freezer-*\"]\n"
      "# metrics = [\"temp_c\"]\n"
      "# max = -10\n"
      "# false_alarms_per_day = 0.005\n"
      "# silence = \"15m\"\n"
      "# params = { \"window_z.window\" = 128 }   # detector.parameter = value\n";
  return out;
}

}  // namespace iotad::config
