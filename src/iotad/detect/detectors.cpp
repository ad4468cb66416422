// The single detectors (one check each), the factory and the sentences users read.
#include <array>
#include <tuple>
#include <type_traits>

#include <fmt/format.h>

#include "iotad/detect/checkpoint.h"
#include "iotad/detect/checks.h"
#include "iotad/detect/ensemble.h"
#include "iotad/detect/registry.h"

namespace iotad::detect {
namespace {

/// Where a parameter of the registry's specs goes in a check.
struct Param {
  std::string_view name;
  double* as_double = nullptr;
  int* as_int = nullptr;
  int64_t* as_int64 = nullptr;
};

/// Checks the options' parameters against the registry (names, types, ranges), then sets them.
Status ApplyParams(std::string_view detector, const DetectorOptions& options, std::initializer_list<Param> known) {
  const DetectorSpec* spec = FindDetector(detector);
  if (spec == nullptr) return Error(Errc::kInternal, "detector {} is not in the registry", detector);
  IOTAD_TRY(CheckParams(*spec, options.params));
  for (const auto& [name, value] : options.params) {
    for (const Param& p : known) {
      if (p.name != name) continue;
      if (p.as_double) *p.as_double = value;
      if (p.as_int) *p.as_int = static_cast<int>(value);
      if (p.as_int64) *p.as_int64 = static_cast<int64_t>(value);
    }
  }
  return {};
}

constexpr double kReferenceFalseAlarmsPerDay = 0.05;

/// Checks whose surprise is GaussianSurprise((x - expected) / scale): their band is where that
/// reaches the flag limit.
template <typename Check>
constexpr bool kGaussianBand = std::is_same_v<Check, WindowZCheck> || std::is_same_v<Check, MadCheck> ||
                               std::is_same_v<Check, EwmaCheck> || std::is_same_v<Check, SeasonalCheck> ||
                               std::is_same_v<Check, RateCheck>;

/// A check that keeps a scratch between points (derived from time and cadence, never saved).
template <typename Check>
concept HasScratch = requires { typename Check::Scratch; };
struct NoScratch {};
template <typename Check>
struct ScratchOf {
  using type = NoScratch;
};
template <HasScratch Check>
struct ScratchOf<Check> {
  using type = typename Check::Scratch;
};

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
    if (!UsableReading(value)) return UnusableReading(name_, ts_us);
    const PointContext c{ts_us, cadence_.Observe(ts_us), &cadence_};
    const double limit = limit_.Get(cadence_, fa_per_day_);
    [[maybe_unused]] std::pair<double, double> cusum_band;
    if constexpr (std::is_same_v<Check, CusumCheck>) cusum_band = check_.Band(limit);  // before it learns
    if constexpr (requires { check_.Step(c, value, out.why, limit); }) {
      // The check's own alarm level (restarts, reminders) is fixed: scores do not depend on the
      // sensitivity knob, which only moves where flags start.
      out.surprise = check_.Step(c, value, out.why, alarm_.Get(cadence_, kReferenceFalseAlarmsPerDay));
    } else if constexpr (HasScratch<Check>) {
      out.surprise = check_.Step(c, value, out.why, true, scratch_);
    } else {
      out.surprise = check_.Step(c, value, out.why);
    }
    out.surprise = std::min(out.surprise, kMaxSurprise);
    if constexpr (requires { check_.threshold; }) {
      out.flag = !out.why.warming_up && std::fabs(out.why.stat) > check_.threshold;  // the tutorial's rule
    } else {
      out.flag = !out.why.warming_up && out.surprise > limit;
    }
    // The "normal" band is the flag limit's: outside it <=> flagged.
    if constexpr (kGaussianBand<Check>) {
      if (!out.why.warming_up) {
        const double half = GaussianZForSurprise(limit) * out.why.scale;
        out.why.lo = out.why.expected - half;
        out.why.hi = out.why.expected + half;
      }
    } else if constexpr (std::is_same_v<Check, CusumCheck>) {
      if (!out.why.warming_up) std::tie(out.why.lo, out.why.hi) = cusum_band;
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
  [[no_unique_address]] typename ScratchOf<Check>::type scratch_;  // not saved: see HasScratch
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
  int version() const override { return DetectorVersion(*FindDetector("silent")); }
  size_t state_bytes() const override { return sizeof(*this); }

  Score Update(int64_t ts_us, double value) override {
    Score out;
    out.at_us = ts_us;
    if (std::isnan(value)) return out;
    // A garbage reading still says the device is there: the silence check sees its time.
    const int64_t last = cadence_.last_ts;
    cadence_.Observe(ts_us);
    out.surprise = std::min(check_.Before(cadence_, last, ts_us, out.why, &out.at_us), kMaxSurprise);
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
  return std::make_unique<SingleDetector<Check>>(name, DetectorVersion(*FindDetector(name)), o.false_alarms_per_day);
}

using Made = Result<std::unique_ptr<SeriesDetector>>;

}  // namespace

namespace factories {

Made Default(const DetectorOptions& o) { return MakeEnsemble(o); }

Made RunningZScore(const DetectorOptions& o) {
  auto d = Single<ZScoreCheck>("running_zscore", o);
  IOTAD_TRY(ApplyParams("running_zscore", o, {{"threshold", &d->check().threshold, nullptr, nullptr},
                                              {"min_points", nullptr, nullptr, &d->check().min_points}}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made WindowZ(const DetectorOptions& o) {
  auto d = Single<WindowZCheck>("window_z", o);
  IOTAD_TRY(ApplyParams("window_z", o, {{"window", nullptr, &d->check().window, nullptr},
                                        {"min_points", nullptr, nullptr, &d->check().min_points}}));
  d->check().min_points = std::min<int64_t>(d->check().min_points, d->check().window);
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Mad(const DetectorOptions& o) {
  auto d = Single<MadCheck>("mad", o);
  IOTAD_TRY(ApplyParams("mad", o, {{"min_points", nullptr, nullptr, &d->check().min_points}}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Ewma(const DetectorOptions& o) {
  auto d = Single<EwmaCheck>("ewma", o);
  IOTAD_TRY(ApplyParams("ewma", o, {{"alpha", &d->check().alpha, nullptr, nullptr},
                                    {"clip", &d->check().clip, nullptr, nullptr},
                                    {"min_points", nullptr, nullptr, &d->check().min_points}}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Seasonal(const DetectorOptions& o) {
  auto d = Single<SeasonalCheck>("seasonal", o);
  IOTAD_TRY(ApplyParams("seasonal", o, {{"memory_days", &d->check().memory_days, nullptr, nullptr},
                                        {"min_visits", nullptr, &d->check().min_visits, nullptr}}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Cusum(const DetectorOptions& o) {
  auto d = Single<CusumCheck>("cusum", o);
  IOTAD_TRY(ApplyParams("cusum", o, {{"k", &d->check().k, nullptr, nullptr},
                                     {"min_points", nullptr, nullptr, &d->check().min_points}}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Flatline(const DetectorOptions& o) {
  auto d = Single<FlatlineCheck>("flatline", o);
  IOTAD_TRY(ApplyParams("flatline", o, {{"min_run", nullptr, &d->check().min_run, nullptr},
                                        {"min_points", nullptr, nullptr, &d->check().min_points}}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Rate(const DetectorOptions& o) {
  auto d = Single<RateCheck>("rate", o);
  IOTAD_TRY(ApplyParams("rate", o, {{"alpha", &d->check().alpha, nullptr, nullptr},
                                    {"min_points", nullptr, nullptr, &d->check().min_points}}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Range(const DetectorOptions& o) {
  auto d = Single<RangeCheck>("range", o);
  d->check().lo = o.min_value;
  d->check().hi = o.max_value;
  IOTAD_TRY(ApplyParams("range", o, {}));
  return std::unique_ptr<SeriesDetector>(std::move(d));
}

Made Silent(const DetectorOptions& o) {
  IOTAD_TRY(ApplyParams("silent", o, {}));
  return std::unique_ptr<SeriesDetector>(std::make_unique<SilentDetector>(o.silence_us));
}

}  // namespace factories

std::span<const std::string_view> SeriesDetectorNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const DetectorSpec& d : Detectors()) {
      if (d.kind == DetectorKind::kOnline) out.push_back(d.name);
    }
    return out;
  }();
  return names;
}

Result<std::unique_ptr<SeriesDetector>> MakeSeriesDetector(std::string_view name, const DetectorOptions& o) {
  IOTAD_ASSIGN_OR_RETURN(const DetectorSpec* spec, LookupOnlineDetector(name));
  if (!(o.false_alarms_per_day > 0.0)) {
    return Error(Errc::kInvalidArgument, "detector {}: false alarms per day must be > 0, got {}", name,
                 o.false_alarms_per_day);
  }
  return spec->make_online(o);
}

Score UnusableReading(std::string_view detector, int64_t ts_us) {
  Score out;
  out.at_us = ts_us;
  out.surprise = 30.0;
  out.score = ScoreFromSurprise(out.surprise);
  out.flag = true;
  out.why.detector = detector;
  out.why.rule = "not a usable reading (beyond +-1e100, or infinite): not learned";
  out.why.lo = -kMaxUsableReading;
  out.why.hi = kMaxUsableReading;
  return out;
}

std::string Describe(const Score& s, double value) {
  const Explanation& w = s.why;
  if (w.warming_up) {
    // A warm-up that says what it counts ("warming up (days seen in this time-of-day slot)").
    constexpr std::string_view kCounted = "warming up (";
    if (w.rule.starts_with(kCounted) && w.rule.ends_with(')')) {
      const std::string_view what = w.rule.substr(kCounted.size(), w.rule.size() - kCounted.size() - 1);
      return fmt::format("{}: warming up ({}: {} of {}), no flags yet", w.detector, what, w.n, w.needed);
    }
    return fmt::format("{}: warming up ({} of {} needed), no flags yet", w.detector, w.n, w.needed);
  }
  std::string text = fmt::format("{:.6g}: {}", value, w.rule);
  if (w.detector == "silent") {
    text = fmt::format("no data for {:.0f} s (timeout {:.0f} s)", w.stat, w.scale);
    // The qualifier of a rule that says more than the timeout ("..., but no longer than a
    // silence the series made before (a habit)").
    if (const size_t q = w.rule.find(", but "); q != std::string_view::npos) text += w.rule.substr(q);
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
