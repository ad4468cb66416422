#include "iotad/core/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <unistd.h>

namespace iotad::metrics {
namespace {

[[noreturn]] void Bug(const std::string& what) {
  std::fprintf(stderr, "iotad: internal error: metrics: %s\n", what.c_str());
  std::abort();
}

bool ValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

/// `{a="x",b="y"}` (with `extra` = `le="0.5"` appended), or empty without labels.
std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra = {}) {
  if (names.empty() && extra.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{}=\"{}\"", names[i], EscapeLabelValue(values[i]));
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help, Type type) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, EscapeHelp(help), name, TypeName(type));
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<int64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // Upper bounds are inclusive: v lands in the first bucket whose bound is >= v (NaN: +Inf).
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<int64_t> Histogram::BucketCounts() const {
  std::vector<int64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = buckets_[i].load(std::memory_order_relaxed);
  return counts;
}

const std::vector<double>& DurationBuckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                              5,     10,   30,    60,   120, 300,  600, 1800};
  return buckets;
}

template <class T>
T& Family<T>::With(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    Bug(fmt::format("{} takes {} label values, got {}", name_, label_names_.size(), label_values.size()));
  }
  std::lock_guard lock(mu_);
  auto& slot = series_[label_values];
  if (!slot) {
    if constexpr (std::is_same_v<T, Histogram>) {
      slot = std::make_unique<Histogram>(bounds_);
    } else {
      slot = std::make_unique<T>();
    }
  }
  return *slot;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Entry& Registry::Find(std::string_view name, Type type, const std::vector<std::string>& label_names) {
  if (!ValidName(name, true)) Bug(fmt::format("'{}' is not a valid metric name", name));
  for (const auto& l : label_names) {
    if (!ValidName(l, false) || l.starts_with("__") || (type == Type::kHistogram && l == "le")) {
      Bug(fmt::format("'{}' is not a valid label name for {}", l, name));
    }
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Entry{type, nullptr, nullptr, nullptr}).first;
    return it->second;
  }
  const Entry& e = it->second;
  const std::vector<std::string>* names = e.type == Type::kCounter ? &e.counters->label_names_
                                          : e.type == Type::kGauge ? &e.gauges->label_names_
                                                                   : &e.histograms->label_names_;
  if (e.type != type || *names != label_names) {
    Bug(fmt::format("{} registered twice with another type or other labels", name));
  }
  return it->second;
}

Family<Counter>& Registry::CounterFamily(std::string_view name, std::string_view help,
                                         std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kCounter, label_names);
  if (!e.counters) {
    e.counters.reset(new Family<Counter>(std::string(name), std::string(help), std::move(label_names), {}));
  }
  return *e.counters;
}

Family<Gauge>& Registry::GaugeFamily(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kGauge, label_names);
  if (!e.gauges) e.gauges.reset(new Family<Gauge>(std::string(name), std::string(help), std::move(label_names), {}));
  return *e.gauges;
}

Family<Histogram>& Registry::HistogramFamily(std::string_view name, std::string_view help,
                                             std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  if (upper_bounds.empty() || !std::is_sorted(upper_bounds.begin(), upper_bounds.end()) ||
      std::adjacent_find(upper_bounds.begin(), upper_bounds.end()) != upper_bounds.end() ||
      !std::all_of(upper_bounds.begin(), upper_bounds.end(), [](double b) { return std::isfinite(b); })) {
    Bug(fmt::format("{}: bucket bounds must be finite and strictly ascending", name));
  }
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kHistogram, label_names);
  if (!e.histograms) {
    e.histograms.reset(new Family<Histogram>(std::string(name), std::string(help), std::move(label_names),
                                             std::move(upper_bounds)));
  } else if (e.histograms->bounds_ != upper_bounds) {
    Bug(fmt::format("{} registered twice with other buckets", name));
  }
  return *e.histograms;
}

std::string Registry::Exposition() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, e] : families_) {
    switch (e.type) {
      case Type::kCounter: {
        const auto& f = *e.counters;
        AppendHeader(out, f.name_, f.help_, e.type);
        std::lock_guard series_lock(f.mu_);
        for (const auto& [values, c] : f.series_) {
          out += fmt::format("{}{} {}\n", name, LabelText(f.label_names_, values), c->Value());
        }
        break;
      }
      case Type::kGauge: {
        const auto& f = *e.gauges;
        AppendHeader(out, f.name_, f.help_, e.type);
        std::lock_guard series_lock(f.mu_);
        for (const auto& [values, g] : f.series_) {
          out += fmt::format("{}{} {}\n", name, LabelText(f.label_names_, values), FormatValue(g->Value()));
        }
        break;
      }
      case Type::kHistogram: {
        const auto& f = *e.histograms;
        AppendHeader(out, f.name_, f.help_, e.type);
        std::lock_guard series_lock(f.mu_);
        for (const auto& [values, h] : f.series_) {
          // The count is the buckets' total, so `+Inf` and `_count` agree even while observed.
          const std::vector<int64_t> counts = h->BucketCounts();
          int64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            const std::string le =
                i < f.bounds_.size() ? FormatValue(f.bounds_[i]) : std::string("+Inf");
            out += fmt::format("{}_bucket{} {}\n", name, LabelText(f.label_names_, values, "le=\"" + le + "\""),
                               cumulative);
          }
          const std::string labels = LabelText(f.label_names_, values);
          out += fmt::format("{}_sum{} {}\n", name, labels, FormatValue(h->Sum()));
          out += fmt::format("{}_count{} {}\n", name, labels, cumulative);
        }
        break;
      }
    }
  }
  return out;
}

Status WriteTextFile(const Registry& registry, const std::filesystem::path& path) {
  const std::string text = registry.Exposition();
  const std::filesystem::path aside = path.string() + fmt::format(".{}.tmp", ::getpid());
  {
    std::ofstream f(aside, std::ios::binary | std::ios::trunc);
    if (!f) return Error(Errc::kIo, "metrics: cannot write '{}'", aside.string());
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(aside, ec);
      return Error(Errc::kIo, "metrics: cannot write '{}' (disk full?)", aside.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(aside, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(aside, ignored);
    return Error(Errc::kIo, "metrics: cannot rename '{}' to '{}': {}", aside.string(), path.string(), ec.message());
  }
  return Status();
}

}  // namespace iotad::metrics
