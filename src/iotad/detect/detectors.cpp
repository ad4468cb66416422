// The single detectors (one check each), the factory and the sentences users read.
#include <array>

#include <fmt/format.h>

#include "iotad/detect/checkpoint.h"
#include "iotad/detect/checks.h"
#include "iotad/detect/ensemble.h"

namespace iotad::detect {
namespace {

/// A named numeric parameter a detector accepts.
struct Param {
  std::string_view name;
  double* as_double = nullptr;
  int* as_int = nullptr;
  int64_t* as_int64 = nullptr;
  double min = 0.0, max = 1e12;
};

Status ApplyParams(std::string_view detector, const DetectorOptions& options, std::initializer_list<Param> known) {
  for (const auto& [name, value] : options.params) {
    const Param* hit = nullptr;
    for (const Param& p : known) {
      if (p.name == name) hit = &p;
    }
    if (hit == nullptr) {
      std::string names;
      for (const Param& p : known) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
      return Error(Errc::kInvalidArgument, "detector {}: unknown parameter '{}' (known: {})", detector, name,
                   names.empty() ? "none" : names);
    }
    if (!(value >= hit->min && value <= hit->max)) {
      return Error(Errc::kInvalidArgument, "detector {}: parameter {} = {} is outside [{}, {}]", detector, name,
                   value, hit->min, hit->max);
    }
    if (hit->as_double) *hit->as_double = value;
    if (hit->as_int) *hit->as_int = static_cast<int>(value);
    if (hit->as_int64) *hit->as_int64 = static_cast<int64_t>(value);
  }
  return {};
}

constexpr double kReferenceFalseAlarmsPerDay = 0.05;

/// One check, its cadence and the flag rule: p < false alarms per day / points per day.
template <typename Check>
class SingleDetector final : public SeriesDetector {
 public:
  SingleDetector(std::string_view name, int version, double false_alarms_per_day)
      : name_(name), version_(version), fa_per_day_(false_alarms_per_day) {}
  Check& check() { return check_; }

  std::string_view name() const override { return name_; }
  int version() const override { return version_; }
  size_t state_bytes() const override { return sizeof(*this); }

  Score Update(int64_t ts_us, double value) override {
    Score out;
    out.at_us = ts_us;
    if (std::isnan(value)) return out;
    const PointContext c{ts_us, cadence_.Observe(ts_us), &cadence_};
    const double limit = limit_.Get(cadence_, fa_per_day_);
    if constexpr (requires { check_.Step(c, value, out.why, limit); }) {
      // The check's own alarm level (restarts, reminders) is fixed: scores do not depend on the
      // sensitivity knob, which only moves where flags start.
      out.surprise = check_.Step(c, value, out.why, alarm_.Get(cadence_, kReferenceFalseAlarmsPerDay));
    } else {
      out.surprise = check_.Step(c, value, out.why);
    }
    if constexpr (requires { check_.threshold; }) {
      out.flag = !out.why.warming_up && std::fabs(out.why.stat) > check_.threshold;  // the tutorial's rule
    } else {
      out.flag = !out.why.warming_up && out.surprise > limit;
    }
    out.score = ScoreFromSurprise(out.surprise);
    return out;
  }

  void SaveState(std::string& out) const override { SaveBlocks(out, check_, cadence_, limit_, alarm_); }
  Status RestoreState(std::string_view& in) override {
    return RestoreBlocks(in, name_, check_, cadence_, limit_, alarm_);
  }

 private:
  Check check_;
  Cadence cadence_;
  FlagLimit limit_;
  FlagLimit alarm_;
  std::string_view name_;
  int version_;
  double fa_per_day_;
};

/// `silent`: scores the gap before each point; Tick reports a silence while it is going on.
class SilentDetector final : public SeriesDetector {
 public:
  explicit SilentDetector(int64_t timeout_us) { check_.timeout_us = timeout_us; }
  std::string_view name() const override { return "silent"; }
  int version() const override { return 1; }
  size_t state_bytes() const override { return sizeof(*this); }

  Score Update(int64_t ts_us, double value) override {
    Score out;
    out.at_us = ts_us;
    if (std::isnan(value)) return out;
    const int64_t last = cadence_.last_ts;
    cadence_.Observe(ts_us);
    out.surprise = check_.Before(cadence_, last, ts_us, out.why, &out.at_us);
    out.flag = out.surprise > 0.0;
    out.score = ScoreFromSurprise(out.surprise);
    return out;
  }
  Score Tick(int64_t now_us) override { return check_.Tick(cadence_, now_us); }
  void SaveState(std::string& out) const override { SaveBlocks(out, check_, cadence_); }
  Status RestoreState(std::string_view& in) override { return RestoreBlocks(in, name(), check_, cadence_); }

 private:
  SilenceCheck check_;
  Cadence cadence_;
};

template <typename Check>
std::unique_ptr<SingleDetector<Check>> Single(std::string_view name, const DetectorOptions& o) {
  return std::make_unique<SingleDetector<Check>>(name, 1, o.false_alarms_per_day);
}

constexpr std::array<std::string_view, 11> kNames = {
    "default", "zscore", "window_z", "mad", "ewma", "seasonal", "cusum", "flatline", "rate", "range", "silent"};

}  // namespace

std::span<const std::string_view> SeriesDetectorNames() { return kNames; }

Result<std::unique_ptr<SeriesDetector>> MakeSeriesDetector(std::string_view name, const DetectorOptions& o) {
  if (!(o.false_alarms_per_day > 0.0)) {
    return Error(Errc::kInvalidArgument, "detector {}: false alarms per day must be > 0, got {}", name,
                 o.false_alarms_per_day);
  }
  if (name == "default") return MakeEnsemble(o);
  if (name == "zscore") {
    auto d = Single<ZScoreCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"threshold", &d->check().threshold, nullptr, nullptr, 0.1, 100},
                                    {"min_points", nullptr, nullptr, &d->check().min_points, 2, 1e9}}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "window_z") {
    auto d = Single<WindowZCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"window", nullptr, &d->check().window, nullptr, 8, WindowZCheck::kMaxWindow},
                                    {"min_points", nullptr, nullptr, &d->check().min_points, 2, 1e9}}));
    d->check().min_points = std::min<int64_t>(d->check().min_points, d->check().window);
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "mad") {
    auto d = Single<MadCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"min_points", nullptr, nullptr, &d->check().min_points, MadCheck::kHop, MadCheck::kWindow}}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "ewma") {
    auto d = Single<EwmaCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"alpha", &d->check().alpha, nullptr, nullptr, 1e-6, 1},
                                    {"clip", &d->check().clip, nullptr, nullptr, 1, 1e6},
                                    {"min_points", nullptr, nullptr, &d->check().min_points, 2, 1e9}}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "seasonal") {
    auto d = Single<SeasonalCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"memory_days", &d->check().memory_days, nullptr, nullptr, 1, 1000},
                                    {"min_visits", nullptr, &d->check().min_visits, nullptr, 1, 1000}}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "cusum") {
    auto d = Single<CusumCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"k", &d->check().k, nullptr, nullptr, 0.05, 5},
                                    {"min_points", nullptr, nullptr, &d->check().min_points, 2, 1e9}}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "flatline") {
    auto d = Single<FlatlineCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"min_run", nullptr, &d->check().min_run, nullptr, 1, 1e9},
                                    {"min_points", nullptr, nullptr, &d->check().min_points, 2, 1e9}}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "rate") {
    auto d = Single<RateCheck>(name, o);
    IOTAD_TRY(ApplyParams(name, o, {{"alpha", &d->check().alpha, nullptr, nullptr, 1e-6, 1},
                                    {"min_points", nullptr, nullptr, &d->check().min_points, 2, 1e9}}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "range") {
    auto d = Single<RangeCheck>(name, o);
    d->check().lo = o.min_value;
    d->check().hi = o.max_value;
    IOTAD_TRY(ApplyParams(name, o, {}));
    return std::unique_ptr<SeriesDetector>(std::move(d));
  }
  if (name == "silent") {
    IOTAD_TRY(ApplyParams(name, o, {}));
    return std::unique_ptr<SeriesDetector>(std::make_unique<SilentDetector>(o.silence_us));
  }
  return Error(Errc::kInvalidArgument, "unknown detector '{}' (known: {})", name,
               fmt::join(SeriesDetectorNames(), ", "));
}

std::string Describe(const Score& s, double value) {
  const Explanation& w = s.why;
  if (w.warming_up) {
    return fmt::format("{}: warming up ({} of {} needed), no flags yet", w.detector, w.n, w.needed);
  }
  std::string text = fmt::format("{:.6g}: {}", value, w.rule);
  if (w.detector == "silent") {
    text = fmt::format("no data for {:.0f} s (timeout {:.0f} s)", w.stat, w.scale);
  } else if (w.detector == "flatline") {
    text += fmt::format(" for {:.0f} readings in a row (a repeat has p = {:.3g} here)", w.stat, w.scale);
  } else if (w.detector == "range") {
    text += fmt::format(" (allowed {:.6g}..{:.6g})", w.lo, w.hi);
  } else if (!std::isnan(w.expected)) {
    text += fmt::format("; expected {:.6g} (normal {:.6g}..{:.6g}; baseline {:.6g} +- {:.3g} over {} points), "
                        "statistic {:.3g}",
                        w.expected, w.lo, w.hi, w.center, w.scale, w.n, w.stat);
  }
  text += fmt::format(" [{}", w.detector);
  if (w.drivers != 0) {
    std::string names;
    for (size_t i = 0; i < std::size(kEnsembleMembers); ++i) {
      if (w.drivers & (1u << i)) names += fmt::format("{}{}", names.empty() ? "" : "+", kEnsembleMembers[i]);
    }
    text += fmt::format(", driven by {}", names);
  }
  text += fmt::format(", score {:.4f}]", s.score);
  return text;
}

}  // namespace iotad::detect
