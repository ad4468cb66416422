// What the rules read from the lake (gold_reader.h): the live gold anomaly objects of the lake's
// snapshot against the ones the alert state has seen, the changed hours read whole with DuckDB
// over the explicit file list (never a folder glob), and silver's watermark.
#include "iotad/alert/gold_reader.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "iotad/lake/duck.h"
#include "iotad/lake/snapshot.h"

namespace iotad::alert {

namespace {

/// What a gold key is recorded as seen with: its content hash, or (objects committed before
/// stamps existed) the commit that published it.
std::string SeenStamp(const lake::LiveFile& f) {
  if (f.stamp && !f.stamp->hash.empty()) return f.stamp->hash;
  return fmt::format("seq:{}", f.seq);
}

/// The WHERE clause keeping the rules' detectors ("" when a rule takes any detector).
std::string DetectorFilter(const std::vector<config::AlertRule>& rules) {
  std::vector<std::string> names;
  for (const config::AlertRule& r : rules) {
    if (r.detectors.empty()) return "";
    for (const std::string& d : r.detectors) {
      if (std::find(names.begin(), names.end(), d) == names.end()) names.push_back(d);
    }
  }
  std::sort(names.begin(), names.end());
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + lake::SqlQuote(n);
  return list.empty() ? "false" : fmt::format("detector IN ({})", list);
}

std::optional<double> OptDouble(const lake::DuckChunk& chunk, size_t col, size_t row) {
  if (!lake::DuckChunk::IsValid(chunk.Validity(col), row)) return std::nullopt;
  return chunk.Data<double>(col)[row];
}

std::string Str(const lake::DuckChunk& chunk, size_t col, size_t row) {
  if (!lake::DuckChunk::IsValid(chunk.Validity(col), row)) return {};
  return std::string(chunk.Strings(col)[row]);
}

/// The anomalies of `keys` (gold objects) the rules could match, sorted as engine.h wants.
Result<std::vector<Anomaly>> ReadFiles(lake::Lake& lake, const std::vector<std::string>& keys,
                                       const std::vector<config::AlertRule>& rules, const std::string& extra_where) {
  std::vector<Anomaly> out;
  if (keys.empty() || rules.empty()) return out;
  std::string where = DetectorFilter(rules);
  if (!extra_where.empty()) where = where.empty() ? extra_where : where + " AND " + extra_where;
  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(false));
  const std::string sql = fmt::format(
      "SELECT epoch_us(event_time), device_id, location, metric, detector, score, value, z, expected, expected_lo, "
      "expected_hi, baseline_mean, explanation, rule FROM read_parquet({}, union_by_name = true){} "
      "ORDER BY event_time, device_id, metric, detector",
      lake::SqlList(lake.ReadPaths(keys)), where.empty() ? "" : " WHERE " + where);
  IOTAD_ASSIGN_OR_RETURN(lake::DuckResult result, session->Stream(sql));
  while (true) {
    IOTAD_ASSIGN_OR_RETURN(lake::DuckChunk chunk, result.Next());
    if (!chunk) break;
    const size_t n = chunk.size();
    const int64_t* ts = chunk.Data<int64_t>(0);
    const double* score = chunk.Data<double>(5);
    for (size_t r = 0; r < n; ++r) {
      Anomaly a;
      a.event_time = ts[r];
      a.device_id = Str(chunk, 1, r);
      a.location = Str(chunk, 2, r);
      a.metric = Str(chunk, 3, r);
      a.detector = Str(chunk, 4, r);
      a.score = lake::DuckChunk::IsValid(chunk.Validity(5), r) ? score[r] : 0.0;
      a.value = OptDouble(chunk, 6, r);
      a.z = OptDouble(chunk, 7, r);
      a.expected = OptDouble(chunk, 8, r);
      a.expected_lo = OptDouble(chunk, 9, r);
      a.expected_hi = OptDouble(chunk, 10, r);
      a.baseline_mean = OptDouble(chunk, 11, r);
      a.explanation = Str(chunk, 12, r);
      a.rule = Str(chunk, 13, r);
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace

Result<TimestampUs> SilverWatermark(lake::Lake& lake) {
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  // Only the latest silver hour's files: the watermark is in them, and reading one hour is cheap.
  std::vector<std::string> latest;
  TimestampUs latest_hour = std::numeric_limits<TimestampUs>::min();
  for (std::string& key : snapshot->Keys(lake::kSilverPrefix, ".parquet")) {
    const auto hour = lake::HourFromKey(key);
    if (!hour) continue;
    if (*hour > latest_hour) {
      latest_hour = *hour;
      latest.clear();
    }
    if (*hour == latest_hour) latest.push_back(std::move(key));
  }
  if (latest.empty()) return TimestampUs{0};
  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(false));
  return session->QueryInt(fmt::format("SELECT epoch_us(max(event_time)) FROM read_parquet({}, union_by_name = true)",
                                       lake::SqlList(lake.ReadPaths(latest))));
}

Result<GoldDelta> ReadGoldDelta(lake::Lake& lake, const AlertState& state,
                                const std::vector<config::AlertRule>& rules) {
  GoldDelta delta;
  IOTAD_ASSIGN_OR_RETURN(delta.watermark_us, SilverWatermark(lake));
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  const std::string prefix(lake::kGoldPrefix);
  // Live gold objects per hour, and the hours where something changed since the state saw them.
  std::map<TimestampUs, std::vector<std::string>> live_by_hour;
  std::set<TimestampUs> changed;
  std::set<std::string> live;
  for (auto it = snapshot->files().lower_bound(prefix);
       it != snapshot->files().end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    const std::string& key = it->first;
    if (!key.ends_with(".parquet")) continue;
    const auto hour = lake::HourFromKey(key);
    if (!hour) continue;
    live.insert(key);
    live_by_hour[*hour].push_back(key);
    const std::string stamp = SeenStamp(it->second);
    const auto seen = state.gold_seen.find(key);
    if (seen == state.gold_seen.end() || seen->second != stamp) {
      delta.seen_set[key] = stamp;
      changed.insert(*hour);
    }
  }
  for (const auto& [key, stamp] : state.gold_seen) {
    if (live.count(key) != 0) continue;
    delta.seen_erase.push_back(key);
    if (const auto hour = lake::HourFromKey(key)) changed.insert(*hour);
  }
  // Hours wholly older than the lookback are recorded as seen without being read: they could
  // open no alert (and a lake's whole history must not be read on its first alert run).
  const TimestampUs oldest = delta.watermark_us - lake.config().alert.lookback_us;
  std::vector<std::string> keys;
  for (const TimestampUs hour : changed) {
    if (hour + kMicrosPerHour <= oldest) continue;
    delta.hours.insert(hour);
    const auto files = live_by_hour.find(hour);
    if (files != live_by_hour.end()) keys.insert(keys.end(), files->second.begin(), files->second.end());
  }
  IOTAD_ASSIGN_OR_RETURN(delta.anomalies, ReadFiles(lake, keys, rules, ""));
  return delta;
}

Result<std::vector<Anomaly>> ReadAnomalies(lake::Lake& lake, const std::vector<config::AlertRule>& rules,
                                           TimestampUs from_us, TimestampUs to_us) {
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  std::vector<std::string> keys;
  const TimestampUs first_hour = HourStart(from_us);
  for (std::string& key : snapshot->Keys(lake::kGoldPrefix, ".parquet")) {
    const auto hour = lake::HourFromKey(key);
    if (hour && *hour >= first_hour && *hour < to_us) keys.push_back(std::move(key));
  }
  return ReadFiles(lake, keys, rules,
                   fmt::format("epoch_us(event_time) >= {} AND epoch_us(event_time) < {}", from_us, to_us));
}

}  // namespace iotad::alert
