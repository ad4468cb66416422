#include "iotad/serve/params.h"

#include <algorithm>
#include <charconv>

#include <simdjson.h>

namespace iotad::serve {
namespace {

/// A value fit to quote in a message: ASCII printable only, at most 40 bytes.
std::string Shown(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (value.size() > 40) out += "...";
  return out;
}

Status CheckValue(std::string_view name, std::string_view value) {
  if (value.empty() || value.size() > kMaxFilterValueBytes) {
    return Error(Errc::kInvalidArgument, "parameter '{}' needs values of 1 to {} bytes", name, kMaxFilterValueBytes);
  }
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return Error(Errc::kInvalidArgument, "parameter '{}' must not hold control characters", name);
    }
  }
  if (!simdjson::validate_utf8(value.data(), value.size())) {
    return Error(Errc::kInvalidArgument, "parameter '{}' must be UTF-8 text", name);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> Params::List(std::string_view name) {
  used_.emplace_back(name);
  std::vector<std::string> out;
  for (const auto& [key, value] : request_.params) {
    if (key != name) continue;
    size_t start = 0;
    for (;;) {
      const size_t comma = value.find(',', start);
      const std::string_view part = std::string_view(value).substr(start, comma - start);
      IOTAD_TRY(CheckValue(name, part));
      if (std::find(out.begin(), out.end(), part) == out.end()) out.emplace_back(part);
      if (out.size() > kMaxFilterValues) {
        return Error(Errc::kInvalidArgument, "parameter '{}' takes at most {} values", name, kMaxFilterValues);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

Result<std::optional<std::string>> Params::One(std::string_view name) {
  used_.emplace_back(name);
  std::optional<std::string> out;
  for (const auto& [key, value] : request_.params) {
    if (key != name) continue;
    if (out) return Error(Errc::kInvalidArgument, "parameter '{}' is given more than once", name);
    IOTAD_TRY(CheckValue(name, value));
    out = value;
  }
  return out;
}

Result<std::string> Params::Required(std::string_view name) {
  IOTAD_ASSIGN_OR_RETURN(auto value, One(name));
  if (!value) return Error(Errc::kInvalidArgument, "parameter '{}' is required", name);
  return std::move(*value);
}

Result<int64_t> Params::Int(std::string_view name, int64_t fallback, int64_t lo, int64_t hi) {
  IOTAD_ASSIGN_OR_RETURN(auto value, One(name));
  if (!value) return fallback;
  int64_t n = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, n);
  if (ec != std::errc() || ptr != end || n < lo || n > hi) {
    return Error(Errc::kInvalidArgument, "parameter '{}' must be a whole number from {} to {}, not '{}'", name, lo, hi,
                 Shown(*value));
  }
  return n;
}

Result<std::optional<TimestampUs>> Params::Time(std::string_view name) {
  IOTAD_ASSIGN_OR_RETURN(auto value, One(name));
  if (!value) return std::optional<TimestampUs>();
  const std::string& text = *value;
  const bool date_only = text.size() == 10 && text[4] == '-' && text[7] == '-';
  TimestampInfo info;
  const std::optional<TimestampUs> ts = ParseTimestamp(text, TimestampOptions{}, &info);
  if (!ts || (!date_only && !info.had_zone)) {
    return Error(Errc::kInvalidArgument,
                 "parameter '{}' must be an RFC 3339 time with a zone (2024-01-05T13:00:00Z) or a date (2024-01-05), "
                 "not '{}'",
                 name, Shown(text));
  }
  return ts;
}

Result<std::string> Params::Choice(std::string_view name, std::vector<std::string_view> allowed,
                                   std::string_view fallback) {
  IOTAD_ASSIGN_OR_RETURN(auto value, One(name));
  if (!value) return std::string(fallback);
  if (std::find(allowed.begin(), allowed.end(), *value) != allowed.end()) return std::move(*value);
  std::string list;
  for (size_t i = 0; i < allowed.size(); ++i) {
    list += i == 0 ? "" : (i + 1 == allowed.size() ? " or " : ", ");
    list += allowed[i];
  }
  return Error(Errc::kInvalidArgument, "parameter '{}' must be {}, not '{}'", name, list, Shown(*value));
}

Result<Filters> Params::ReadFilters() {
  Filters f;
  IOTAD_ASSIGN_OR_RETURN(f.from, Time("from"));
  IOTAD_ASSIGN_OR_RETURN(f.to, Time("to"));
  if (f.from && f.to) {
    if (*f.from >= *f.to) return Error(Errc::kInvalidArgument, "parameter 'from' must be before 'to'");
    if (*f.to - *f.from > kMaxRangeDays * kMicrosPerDay) {
      return Error(Errc::kInvalidArgument, "parameters 'from' and 'to' may be at most {} days apart", kMaxRangeDays);
    }
  }
  IOTAD_ASSIGN_OR_RETURN(f.metrics, List("metric"));
  IOTAD_ASSIGN_OR_RETURN(f.locations, List("location"));
  IOTAD_ASSIGN_OR_RETURN(f.devices, List("device"));
  IOTAD_ASSIGN_OR_RETURN(f.detectors, List("detector"));
  return f;
}

Status Params::Finish() const {
  for (const auto& [key, value] : request_.params) {
    if (std::find(used_.begin(), used_.end(), key) == used_.end()) {
      return Error(Errc::kInvalidArgument, "unknown parameter '{}'", Shown(key));
    }
  }
  return Status::Ok();
}

}  // namespace iotad::serve
