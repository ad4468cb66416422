#include "iotad/gen/series.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <numbers>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "iotad/core/json.h"
#include "iotad/gen/random.h"

namespace iotad::gen {
namespace {

constexpr int64_t kDay = 86400;  // seconds
constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr uint64_t kSeriesSalt = 0x5e21'e500'0000'0001ULL;
/// A counts spike draws from rate x U(6, 10) + this x sqrt(rate + 1): clear even at low rates.
constexpr double kCountSpikeExtra = 15;

// ------------------------------------------------------------------------------------------
// Distributions beyond fleet's Rng (all from its uniforms and gaussians).

/// Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 through Gamma(shape + 1) x U^(1/shape).
double GammaDraw(Rng& rng, double shape) {
  if (shape < 1) {
    const double u = 1.0 - rng.Uniform();
    return GammaDraw(rng, shape + 1) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3;
  const double c = 1.0 / std::sqrt(9 * d);
  for (;;) {
    double x;
    double v;
    do {
      x = rng.Gaussian();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1.0 - rng.Uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

/// Poisson: Knuth's product of uniforms below 30, the rounded normal approximation above.
int64_t PoissonDraw(Rng& rng, double mean) {
  if (!(mean > 0)) return 0;
  if (mean < 30) {
    const double limit = std::exp(-mean);
    int64_t k = 0;
    double p = rng.Uniform();
    while (p > limit) {
      ++k;
      p *= rng.Uniform();
    }
    return k;
  }
  return std::max<int64_t>(0, std::llround(mean + std::sqrt(mean) * rng.Gaussian()));
}

/// Student-t with 3 degrees of freedom (variance 3).
double StudentT3(Rng& rng) {
  const double z = rng.Gaussian();
  double chi2 = 0;
  for (int i = 0; i < 3; ++i) {
    const double g = rng.Gaussian();
    chi2 += g * g;
  }
  return z / std::sqrt(std::max(chi2, 1e-12) / 3);
}

// ------------------------------------------------------------------------------------------
// Time helpers (seconds since the epoch, UTC).

double DayFraction(int64_t t) { return static_cast<double>(((t % kDay) + kDay) % kDay) / kDay; }
/// 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday).
int DayOfWeek(int64_t t) { return static_cast<int>(((t / kDay) + 4) % 7); }
bool Weekend(int64_t t) {
  const int dow = DayOfWeek(t);
  return dow == 0 || dow == 6;
}

void AppendRowTime(std::string& out, int64_t t) {
  const CivilTime c = ToCivil(t * kMicrosPerSecond);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02} {:02}:{:02}:{:02}", c.year, c.month,
                 c.day, c.hour, c.minute, c.second);
}
std::string RowTime(int64_t t) {
  std::string out;
  AppendRowTime(out, t);
  return out;
}

// ------------------------------------------------------------------------------------------
// A file in the making: times, the signal in components, and what is injected into it.

enum class Kind : uint8_t { kSpike, kLevelShift, kVarianceChange, kStuck, kDrift, kSeasonBreak, kOutage };
std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kSpike: return "spike";
    case Kind::kLevelShift: return "level_shift";
    case Kind::kVarianceChange: return "variance_change";
    case Kind::kStuck: return "stuck";
    case Kind::kDrift: return "drift";
    case Kind::kSeasonBreak: return "seasonality_break";
    case Kind::kOutage: return "outage";
  }
  return "?";
}

/// How the value is made from x = base + season + noise (+ spikes).
enum class Output : uint8_t { kPlain, kLog, kCounts };

struct Model {
  std::vector<int64_t> t;  // row times, seconds, strictly increasing
  std::vector<double> base;    // level and slow drift
  std::vector<double> season;  // daily / weekly pattern
  std::vector<double> noise;   // what varies row to row
  std::vector<double> spike;   // added to x (counts: a rate multiplier); 0 elsewhere
  double sd = 1;               // the normal noise sd, in x's units (magnitudes are given in it)
  Output output = Output::kPlain;
  double lo = -HUGE_VAL;  // values are clipped to [lo, hi]
  double hi = HUGE_VAL;
  double resolution = 0;  // > 0: values rounded to a multiple of it
  int decimals = 2;
  std::vector<Kind> kinds;  // what may be injected into this file
  int64_t break_hours = 24;  // a seasonality break lasts this long
  std::string params;
  std::vector<uint8_t> outage;  // counts forced to 0
  double shifted = 0;  // sum of the level shifts and drifts injected so far
  // A spike adds U(spike_sd_lo, spike_sd_hi) sd, or with spike_ratio_lo > 0 multiplies a log
  // family's value by U(spike_ratio_lo, spike_ratio_hi).
  double spike_sd_lo = 6;
  double spike_sd_hi = 10;
  bool spike_up_only = false;
  double spike_ratio_lo = 0;
  double spike_ratio_hi = 0;
};

int64_t Rows(Rng& rng, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(hi - lo + 1)));
}

/// A file's rows drawn for its family, times `--length` (1: the rows as drawn, exactly, so the
/// same bytes as before the option existed).
int64_t Longer(int64_t rows, double length) {
  return static_cast<int64_t>(std::llround(static_cast<double>(rows) * length));
}

/// Regular timestamps from midnight of a day in 2024.
std::vector<int64_t> RegularTimes(Rng& rng, int64_t n, int64_t cadence) {
  const int64_t start = DaysFromCivil(2024, 1, 1) * kDay + Rows(rng, 0, 365) * kDay;
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[static_cast<size_t>(i)] = start + i * cadence;
  return t;
}

/// AR(1) with coefficient phi and stationary sd sd.
std::vector<double> Ar1(Rng& rng, size_t n, double phi, double sd) {
  std::vector<double> out(n);
  const double innovation = sd * std::sqrt(1 - phi * phi);
  double e = sd * rng.Gaussian();
  for (size_t i = 0; i < n; ++i) {
    out[i] = e;
    e = phi * e + innovation * rng.Gaussian();
  }
  return out;
}

/// A slow Ornstein-Uhlenbeck wander with the given stationary sd and time constant (rows).
std::vector<double> SlowWander(Rng& rng, size_t n, double sd, double tau) {
  std::vector<double> out(n);
  const double step = sd * std::sqrt(2 / tau);
  double w = sd * rng.Gaussian();
  for (size_t i = 0; i < n; ++i) {
    out[i] = w;
    w += -w / tau + step * rng.Gaussian();
  }
  return out;
}

int DecimalsFor(double scale) {
  return std::clamp(3 - static_cast<int>(std::floor(std::log10(std::max(scale, 1e-9)))), 0, 4);
}

// ------------------------------------------------------------------------------------------
// The families.

Model Counts(Rng& rng, double length) {
  Model m;
  const int64_t n = Longer(Rows(rng, 3000, 12000), length);
  m.t = RegularTimes(rng, n, 300);
  const double rate = std::pow(10, rng.Uniform(-0.5, 3));
  const double amp = rng.Uniform(0.3, 1.2);
  const double peak = rng.Uniform(10, 20) / 24;
  const double weekend = std::log(rng.Uniform(0.4, 1.0));
  const bool poisson = rng.Uniform() < 0.5;
  const double shape = rng.Uniform(3, 20);
  const double burst_rate = 1 / rng.Uniform(150, 500);
  const auto size = static_cast<size_t>(n);
  m.base.assign(size, std::log(rate));
  m.season.resize(size);
  m.noise.assign(size, 0);
  int64_t burst_left = 0;
  double burst = 0;
  for (size_t i = 0; i < size; ++i) {
    m.season[i] = amp * std::cos(kTwoPi * (DayFraction(m.t[i]) - peak)) +
                  (Weekend(m.t[i]) ? weekend : 0);
    if (!poisson) m.noise[i] = std::log(std::max(GammaDraw(rng, shape) / shape, 1e-6));
    // Short benign bursts: part of normal behaviour, never labelled.
    if (burst_left == 0 && rng.Uniform() < burst_rate) {
      burst_left = Rows(rng, 1, 6);
      burst = std::log(rng.Uniform(1.5, 3));
    }
    if (burst_left > 0) {
      m.noise[i] += burst;
      --burst_left;
    }
  }
  m.sd = poisson ? 0.3 : std::max(0.3, 1 / std::sqrt(shape));
  m.output = Output::kCounts;
  m.decimals = 0;
  // At low rates a flat day, a silent hour or burstier counts cannot be told from normal.
  m.kinds = {Kind::kSpike, Kind::kLevelShift, Kind::kDrift};
  if (rate >= 3) m.kinds.push_back(Kind::kOutage);
  if (rate >= 10) m.kinds.push_back(Kind::kVarianceChange);
  if (rate >= 5 && amp >= 0.5) m.kinds.push_back(Kind::kSeasonBreak);
  m.params = fmt::format("rate {:.3g}/5min, daily log-amplitude {:.2f} peak {:.1f}h, weekend x{:.2f}, "
                         "{}, bursts every ~{:.0f} rows",
                         rate, amp, peak * 24, std::exp(weekend),
                         poisson ? "poisson" : fmt::format("negative binomial shape {:.1f}", shape),
                         1 / burst_rate);
  return m;
}

Model Percent(Rng& rng, double length) {
  Model m;
  const int64_t n = Longer(Rows(rng, 3000, 12000), length);
  m.t = RegularTimes(rng, n, 300);
  const double where = rng.Uniform();
  const double level = where < 0.2 ? rng.Uniform(1, 8) : where < 0.4 ? rng.Uniform(85, 97)
                                                                    : rng.Uniform(15, 75);
  const double sd = rng.Uniform(1, 6);
  const double phi = rng.Uniform(0.3, 0.85);
  const double amp = rng.Uniform() < 0.7 ? rng.Uniform(2, 20) : 0;
  const double peak = rng.Uniform(0, 1);
  const double wander_sd = rng.Uniform(1, 5);
  const double tau = rng.Uniform(500, 3000);
  const auto size = static_cast<size_t>(n);
  m.base = SlowWander(rng, size, wander_sd, tau);
  for (double& b : m.base) b += level;
  m.season.resize(size);
  for (size_t i = 0; i < size; ++i) m.season[i] = amp * std::cos(kTwoPi * (DayFraction(m.t[i]) - peak));
  m.noise = Ar1(rng, size, phi, sd);
  m.sd = sd;
  m.lo = 0;
  m.hi = 100;
  m.decimals = rng.Uniform() < 0.5 ? 1 : 2;
  m.kinds = {Kind::kSpike, Kind::kLevelShift, Kind::kVarianceChange, Kind::kStuck, Kind::kDrift};
  if (amp >= 2 * sd) m.kinds.push_back(Kind::kSeasonBreak);
  m.params = fmt::format("level {:.1f}%, noise AR(1) phi {:.2f} sd {:.2f}, daily amplitude {:.1f} "
                         "peak {:.1f}h, slow wander sd {:.1f} over ~{:.0f} rows, clipped to [0, 100]",
                         level, phi, sd, amp, peak * 24, wander_sd, tau);
  return m;
}

Model Sensor(Rng& rng, double length) {
  Model m;
  const int64_t n = Longer(Rows(rng, 3000, 12000), length);
  static constexpr std::array<int64_t, 4> kCadences = {60, 120, 180, 300};
  static constexpr std::array<double, 4> kResolutions = {0.01, 0.1, 0.5, 1};
  const int64_t cadence = kCadences[rng.Below(4)];
  const size_t r = rng.Below(4);
  const double resolution = kResolutions[r];
  const int64_t jitter = static_cast<int64_t>(rng.Uniform(0, 0.3) * cadence / 2);
  const double missing = rng.Uniform(0.002, 0.02);
  const double sd = resolution * std::pow(10, rng.Uniform(0.6, 1.6));
  const double level = sd * rng.Uniform(-20, 100);
  const double amp = sd * rng.Uniform(0.5, 4);
  const double peak = rng.Uniform(0, 1);
  const double phi = rng.Uniform(0.9, 0.99);
  const int64_t start = DaysFromCivil(2024, 1, 1) * kDay + Rows(rng, 0, 365) * kDay;
  m.t.reserve(static_cast<size_t>(n));
  for (int64_t slot = 0; static_cast<int64_t>(m.t.size()) < n; ++slot) {
    if (rng.Uniform() < missing) continue;
    if (rng.Uniform() < 0.0005) {  // now and then the sensor is away for a while
      slot += Rows(rng, 2, 20);
      continue;
    }
    m.t.push_back(start + slot * cadence + Rows(rng, -jitter, jitter));
  }
  const auto size = static_cast<size_t>(n);
  m.base.assign(size, level);
  m.season.resize(size);
  for (size_t i = 0; i < size; ++i) m.season[i] = amp * std::cos(kTwoPi * (DayFraction(m.t[i]) - peak));
  m.noise = Ar1(rng, size, phi, sd);
  for (double& e : m.noise) e += 0.3 * resolution * rng.Gaussian();
  m.sd = sd;
  m.resolution = resolution;
  m.decimals = r == 0 ? 2 : r == 3 ? 0 : 1;
  m.kinds = {Kind::kSpike, Kind::kLevelShift, Kind::kVarianceChange, Kind::kStuck, Kind::kDrift};
  if (amp >= 1.5 * sd) m.kinds.push_back(Kind::kSeasonBreak);
  m.params = fmt::format("cadence {}s jitter +-{}s, {:.1f}% missing, resolution {}, level {:.{}f}, "
                         "AR(1) phi {:.3f} sd {:.3g}, daily amplitude {:.3g} peak {:.1f}h",
                         cadence, jitter, 100 * missing, resolution, level, m.decimals, phi, sd,
                         amp, peak * 24);
  return m;
}

Model Traffic(Rng& rng, double length) {
  Model m;
  const int64_t n = Longer(Rows(rng, 2000, 10000), length);
  const int64_t start = DaysFromCivil(2024, 1, 1) * kDay + Rows(rng, 0, 365) * kDay;
  m.t.resize(static_cast<size_t>(n));
  int64_t t = start + Rows(rng, 0, 600);
  for (int64_t& ti : m.t) {
    ti = t;
    t += Rows(rng, 180, 900);
  }
  const double scale = std::pow(10, rng.Uniform(1, 3.5));
  const double morning = rng.Uniform(7, 9) / 24;
  const double evening = rng.Uniform(16, 19) / 24;
  const double night = rng.Uniform(0.1, 0.3);
  const double weekend = rng.Uniform(0.4, 0.8);
  const double noise_scale = scale * rng.Uniform(0.03, 0.1);
  const auto size = static_cast<size_t>(n);
  m.base.assign(size, scale * night);
  m.season.resize(size);
  m.noise.resize(size);
  for (size_t i = 0; i < size; ++i) {
    const double d = DayFraction(m.t[i]);
    const auto bump = [d](double at, double width) {
      const double x = (d - at) / width;
      return std::exp(-0.5 * x * x);
    };
    m.season[i] = Weekend(m.t[i]) ? scale * weekend * bump(13.5 / 24, 3.5 / 24)
                                  : scale * (bump(morning, 1.2 / 24) + 0.9 * bump(evening, 1.5 / 24) +
                                             0.4 * bump(12.5 / 24, 3.0 / 24));
    m.noise[i] = noise_scale * StudentT3(rng);
  }
  m.sd = noise_scale * std::sqrt(3.0);
  m.spike_sd_lo = 30 / std::sqrt(3.0);  // 30-50 t(3) scales, upwards
  m.spike_sd_hi = 50 / std::sqrt(3.0);
  m.spike_up_only = true;
  m.lo = 0;
  m.decimals = 1;
  m.kinds = {Kind::kSpike, Kind::kLevelShift, Kind::kVarianceChange, Kind::kDrift,
             Kind::kSeasonBreak, Kind::kStuck};
  m.params = fmt::format("gaps 3-15 min, scale {:.4g}, weekday peaks {:.1f}h and {:.1f}h, night "
                         "{:.2f}, weekend x{:.2f}, Student-t(3) noise scale {:.3g}, clipped at 0",
                         scale, morning * 24, evening * 24, night, weekend, noise_scale);
  return m;
}

Model Hourly(Rng& rng, double length) {
  Model m;
  const int64_t n = Longer(Rows(rng, 1500, 2500), length);
  m.t = RegularTimes(rng, n, 3600);
  const double scale = std::pow(10, rng.Uniform(0, 4));
  const double week_sd = rng.Uniform(0.15, 0.5);
  std::array<double, 7> dow{};
  for (double& d : dow) d = week_sd * rng.Gaussian();
  const double amp = rng.Uniform(0.1, 0.4);
  const double peak = rng.Uniform(0, 1);
  const double sd = rng.Uniform(0.15, 0.45);
  const double phi = rng.Uniform(0, 0.6);
  const auto size = static_cast<size_t>(n);
  m.base.assign(size, std::log(scale));
  m.season.resize(size);
  for (size_t i = 0; i < size; ++i) {
    m.season[i] = dow[static_cast<size_t>(DayOfWeek(m.t[i]))] +
                  amp * std::cos(kTwoPi * (DayFraction(m.t[i]) - peak));
  }
  m.noise = Ar1(rng, size, phi, sd);
  m.sd = sd;
  m.output = Output::kLog;
  m.decimals = DecimalsFor(scale);
  m.spike_up_only = true;
  m.kinds = {Kind::kSpike, Kind::kLevelShift, Kind::kVarianceChange, Kind::kDrift, Kind::kSeasonBreak};
  m.break_hours = 48;  // a weekly pattern needs more than a day to be seen missing
  m.params = fmt::format("lognormal around {:.4g}, day-of-week sd {:.2f}, daily log-amplitude {:.2f}, "
                         "log noise AR(1) phi {:.2f} sd {:.2f}",
                         scale, week_sd, amp, phi, sd);
  return m;
}

Model Latency(Rng& rng, double length) {
  Model m;
  const int64_t n = Longer(Rows(rng, 3000, 12000), length);
  m.t = RegularTimes(rng, n, 300);
  const double baseline = std::pow(10, rng.Uniform(0, 3));
  const double sd = rng.Uniform(0.08, 0.25);
  const double amp = rng.Uniform() < 0.5 ? rng.Uniform(0, 0.3) : 0;
  const double peak = rng.Uniform(0, 1);
  const double spike_rate = rng.Uniform(0.005, 0.02);
  const double alpha = rng.Uniform(1.5, 2.5);
  const auto size = static_cast<size_t>(n);
  m.base.assign(size, std::log(baseline));
  m.season.resize(size);
  m.noise.resize(size);
  for (size_t i = 0; i < size; ++i) {
    m.season[i] = amp * std::cos(kTwoPi * (DayFraction(m.t[i]) - peak));
    m.noise[i] = sd * rng.Gaussian();
    // Recurring slow requests: pareto spikes (x2 and up, capped at x12) are normal here.
    if (rng.Uniform() < spike_rate) {
      m.noise[i] += std::log(std::min(12.0, 2 * std::pow(1.0 - rng.Uniform(), -1 / alpha)));
    }
  }
  m.sd = sd;
  m.output = Output::kLog;
  m.decimals = DecimalsFor(baseline);
  m.spike_ratio_lo = 30;  // past the x12 normal spikes
  m.spike_ratio_hi = 60;
  m.kinds = {Kind::kSpike, Kind::kLevelShift, Kind::kVarianceChange, Kind::kDrift, Kind::kStuck};
  if (amp >= 2 * sd) m.kinds.push_back(Kind::kSeasonBreak);
  m.params = fmt::format("baseline {:.4g} ms, lognormal sd {:.2f}, daily log-amplitude {:.2f}, "
                         "pareto(alpha {:.2f}) spikes x2-x12 on {:.1f}% of rows",
                         baseline, sd, amp, alpha, 100 * spike_rate);
  return m;
}

// A machine with operating regimes: a pump, a compressor, a chiller run at two or three setpoints
// (off, idle, part load, full load), each held for tens of minutes to hours and left within a
// reading. The switches are its normal behaviour and never labelled: they are 8 to 20 noise sds
// apart, larger than the spikes injected, so a detector must learn them as the series' habit
// (issue 11: level regimes). An "off" setpoint reads 0 with a twentieth of the noise.
Model Regime(Rng& rng, double length) {
  Model m;
  const int64_t n = Longer(Rows(rng, 3000, 12000), length);
  const int64_t cadence = rng.Uniform() < 0.5 ? 60 : 300;
  m.t = RegularTimes(rng, n, cadence);
  const double sd = std::pow(10, rng.Uniform(-1, 1));
  const int setpoints = rng.Uniform() < 0.6 ? 2 : 3;
  const bool off = rng.Uniform() < 0.3;
  std::array<double, 3> level{};
  level[0] = off ? 0 : sd * rng.Uniform(10, 100);
  for (int k = 1; k < setpoints; ++k) {
    level[static_cast<size_t>(k)] = level[static_cast<size_t>(k - 1)] + sd * rng.Uniform(8, 20);
  }
  const int64_t dwell = Rows(rng, 20, 200);  // mean rows a setpoint is held
  const double phi = rng.Uniform(0.3, 0.9);
  const auto size = static_cast<size_t>(n);
  m.base.resize(size);
  m.season.assign(size, 0);
  m.noise = Ar1(rng, size, phi, sd);
  auto state = static_cast<int>(rng.Below(static_cast<uint64_t>(setpoints)));
  int64_t left = Rows(rng, 1, 2 * dwell);
  for (size_t i = 0; i < size; ++i) {
    if (left-- == 0) {
      state = (state + 1 + static_cast<int>(rng.Below(static_cast<uint64_t>(setpoints - 1)))) % setpoints;
      left = Rows(rng, dwell / 4, 2 * dwell);
    }
    m.base[i] = level[static_cast<size_t>(state)];
    if (off && state == 0) m.noise[i] *= 0.05;
  }
  m.sd = sd;
  if (off) m.lo = 0;
  m.decimals = sd < 0.3 ? 3 : 2;
  m.kinds = {Kind::kSpike, Kind::kLevelShift, Kind::kVarianceChange, Kind::kStuck, Kind::kDrift};
  std::string levels;
  for (int k = 0; k < setpoints; ++k) {
    fmt::format_to(std::back_inserter(levels), "{}{:.{}f}", k > 0 ? " / " : "",
                   level[static_cast<size_t>(k)], m.decimals);
  }
  m.params = fmt::format("{} setpoints {}, every {}s, each held ~{} rows (a quarter to twice that), "
                         "AR(1) phi {:.2f} sd {:.3g}{}",
                         setpoints, levels, cadence, dwell, phi, sd, off ? ", the lowest off (0)" : "");
  return m;
}

Model Simulate(SeriesFamily family, Rng& rng, double length) {
  switch (family) {
    case SeriesFamily::kCounts: return Counts(rng, length);
    case SeriesFamily::kPercent: return Percent(rng, length);
    case SeriesFamily::kSensor: return Sensor(rng, length);
    case SeriesFamily::kTraffic: return Traffic(rng, length);
    case SeriesFamily::kHourly: return Hourly(rng, length);
    case SeriesFamily::kLatency: return Latency(rng, length);
    case SeriesFamily::kRegime: return Regime(rng, length);
  }
  return Counts(rng, length);
}

// ------------------------------------------------------------------------------------------
// Injection.

struct Planned {
  Kind kind;
  int64_t start = 0;
  int64_t rows = 0;  // rows it occupies for placement (a shift: 1; a drift: its ramp)
};

/// Rows from `start` covering `hours` of time (at least 1, at most to the end).
int64_t RowsFor(const Model& m, int64_t start, double hours) {
  const int64_t until = m.t[static_cast<size_t>(start)] + static_cast<int64_t>(hours * 3600);
  const auto end = std::lower_bound(m.t.begin() + start, m.t.end(), until);
  return std::max<int64_t>(1, end - (m.t.begin() + start));
}

/// Typical duration of an anomaly of `kind`, in hours (a spike: rows instead).
double DurationHours(Rng& rng, Kind kind, const Model& m) {
  const bool hourly = m.t.size() > 1 && m.t[1] - m.t[0] >= 3600;
  switch (kind) {
    case Kind::kVarianceChange: return hourly ? rng.Uniform(24, 72) : rng.Uniform(3, 12);
    case Kind::kStuck: return rng.Uniform(2, 10);
    case Kind::kDrift: return hourly ? rng.Uniform(48, 120) : rng.Uniform(6, 36);
    case Kind::kSeasonBreak: return static_cast<double>(m.break_hours);
    case Kind::kOutage: return rng.Uniform(1, 6);
    default: return 0;
  }
}

/// Sign for a shift of `amount` at row i that keeps clear of the clip bounds where it can, and
/// does not pile onto an earlier shift (a second one goes back the other way).
double ShiftSign(Rng& rng, const Model& m, size_t i, double amount) {
  const double x = m.base[i] + m.season[i];
  const double up = m.hi - x;
  const double down = x - m.lo;
  if (up > amount + 2 * m.sd && down > amount + 2 * m.sd) {
    if (m.shifted != 0) return m.shifted > 0 ? -1 : 1;
    return rng.Uniform() < 0.5 ? -1 : 1;
  }
  return up >= down ? 1 : -1;
}

/// Whether a counts shift goes up: at random, or back against an earlier one.
bool CountsUp(Rng& rng, const Model& m) {
  return m.shifted != 0 ? m.shifted < 0 : rng.Uniform() < 0.5;
}

std::string Signed(double v) { return fmt::format("{:+.3g}", v); }

/// Applies one anomaly to the components; returns its magnitude, for people.
std::string Inject(Rng& rng, Model& m, const Planned& p, int64_t rows) {
  const auto n = static_cast<int64_t>(m.t.size());
  const auto s = static_cast<size_t>(p.start);
  const auto e = static_cast<size_t>(std::min(n, p.start + rows));
  const bool counts = m.output == Output::kCounts;
  const bool log = m.output != Output::kPlain;
  const auto describe = [&](double amount, double k) {
    return log ? fmt::format("x{:.3g} ({:+.1f} sd)", std::exp(amount), k)
               : fmt::format("{} ({:+.1f} sd)", Signed(amount), k);
  };
  switch (p.kind) {
    case Kind::kSpike: {
      if (counts) {
        const double mult = rng.Uniform(6, 10);
        for (size_t i = s; i < e; ++i) m.spike[i] = mult;
        return fmt::format("rate x{:.1f} + {:.0f} sqrt(rate + 1)", mult, kCountSpikeExtra);
      }
      // Beyond the family's normal tail (set per family: t(3) and pareto spikes reach far).
      double amount;
      if (m.spike_ratio_lo > 0) {
        amount = std::log(rng.Uniform(m.spike_ratio_lo, m.spike_ratio_hi));
      } else {
        amount = rng.Uniform(m.spike_sd_lo, m.spike_sd_hi) * m.sd;
        if (!m.spike_up_only) amount *= ShiftSign(rng, m, s, amount);
      }
      for (size_t i = s; i < e; ++i) m.spike[i] = amount;
      return describe(amount, amount / m.sd);
    }
    case Kind::kLevelShift: {
      double amount;
      if (counts) {
        amount = std::log(CountsUp(rng, m) ? rng.Uniform(1.8, 2.6) : rng.Uniform(0.3, 0.5));
      } else {
        amount = rng.Uniform(2.5, 5) * m.sd;
        amount *= ShiftSign(rng, m, s, amount);
      }
      for (size_t i = s; i < m.base.size(); ++i) m.base[i] += amount;
      m.shifted += amount;
      return describe(amount, amount / m.sd);
    }
    case Kind::kDrift: {
      double amount;
      if (counts) {
        amount = std::log(CountsUp(rng, m) ? rng.Uniform(2, 3) : rng.Uniform(0.25, 0.45));
      } else {
        amount = rng.Uniform(3, 5) * m.sd;
        amount *= ShiftSign(rng, m, s, amount);
      }
      m.shifted += amount;
      for (size_t i = s; i < m.base.size(); ++i) {
        m.base[i] += amount * std::min(1.0, static_cast<double>(i - s + 1) / static_cast<double>(rows));
      }
      return describe(amount, amount / m.sd) + fmt::format(" over {} rows, then held", rows);
    }
    case Kind::kVarianceChange: {
      const double factor = rng.Uniform(3, 5);
      if (counts) {  // far burstier than normal: a gamma of shape 0.7 per row
        for (size_t i = s; i < e; ++i) {
          m.noise[i] = std::log(std::max(GammaDraw(rng, 0.7) / 0.7, 1e-6));
        }
        return "negative binomial shape 0.7";
      }
      for (size_t i = s; i < e; ++i) m.noise[i] *= factor;
      return fmt::format("noise x{:.1f}", factor);
    }
    case Kind::kSeasonBreak: {
      const bool invert = rng.Uniform() < 0.5;
      double mean = 0;
      for (double v : m.season) mean += v;
      mean /= static_cast<double>(m.season.size());
      for (size_t i = s; i < e; ++i) m.season[i] = invert ? 2 * mean - m.season[i] : mean;
      return invert ? "pattern inverted" : "pattern flat";
    }
    case Kind::kStuck: return "value held";  // applied to the printed values
    case Kind::kOutage:
      for (size_t i = s; i < e; ++i) m.outage[i] = 1;
      return "counts 0";
  }
  return "";
}

/// Value of row i from the components.
double RowValue(Rng& rng, const Model& m, size_t i) {
  const double x = m.base[i] + m.season[i] + m.noise[i];
  double v = x;
  switch (m.output) {
    case Output::kCounts: {
      if (m.outage[i]) return 0;
      double rate = std::exp(x);
      if (m.spike[i] > 0) rate = rate * m.spike[i] + kCountSpikeExtra * std::sqrt(rate + 1);
      return static_cast<double>(PoissonDraw(rng, rate));
    }
    case Output::kLog: v = std::exp(x + m.spike[i]); break;
    case Output::kPlain: v = x + m.spike[i]; break;
  }
  v = std::clamp(v, m.lo, m.hi);
  if (m.resolution > 0) v = std::round(v / m.resolution) * m.resolution;
  return v;
}

// ------------------------------------------------------------------------------------------
// Files.

struct Built {
  SeriesFile file;
  std::string csv;
};

Built BuildFile(uint64_t seed, SeriesFamily family, int64_t k, double length) {
  const auto family_index = static_cast<uint64_t>(family);
  Rng rng(StreamSeed(seed ^ kSeriesSalt, family_index, static_cast<uint64_t>(k)));
  Model m = Simulate(family, rng, length);
  const auto n = static_cast<int64_t>(m.t.size());
  const auto size = static_cast<size_t>(n);
  m.spike.assign(size, 0);
  m.outage.assign(size, 0);

  // About one file in six has no anomaly: a fixed rotation, so every set has some.
  const int64_t count =
      (k + static_cast<int64_t>(family_index)) % 6 == 5 ? 0 : Rows(rng, 1, 3);
  std::vector<Kind> kinds = m.kinds;
  for (size_t i = kinds.size(); i > 1; --i) std::swap(kinds[i - 1], kinds[rng.Below(i)]);

  Built built;
  SeriesFile& file = built.file;
  file.family = std::string(SeriesFamilyName(family));
  file.key = fmt::format("{}/{}_{}.csv", file.family, file.family, k + 1);
  file.rows = n;
  file.first_us = m.t.front() * kMicrosPerSecond;
  file.last_us = m.t.back() * kMicrosPerSecond;
  file.params = m.params;

  // NAB's windows: 10 % of the rows shared among the anomalies, centred on each start. Starts
  // leave the probation period (15 %) and its half window clear, one per equal segment after it,
  // so no two anomalies or windows overlap.
  std::vector<Planned> plan;
  std::vector<std::string> magnitudes;
  std::vector<int64_t> lengths;
  if (count > 0) {
    const int64_t half = (n / 10 / count) / 2;
    const int64_t lo = (15 * n + 99) / 100 + half;
    const int64_t segment = (n - lo) / count;
    for (int64_t j = 0; j < count; ++j) {
      const Kind kind = kinds[static_cast<size_t>(j) % kinds.size()];
      const int64_t a = lo + j * segment + (j > 0 ? half : 0);
      const int64_t b = lo + (j + 1) * segment - half - 1;  // last row its span may reach
      const double hours = DurationHours(rng, kind, m);
      // The start is drawn first for the time-based lengths, then fitted.
      int64_t start = a + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(std::max<int64_t>(1, (b - a) / 2))));
      int64_t rows = kind == Kind::kSpike ? Rows(rng, 1, 3)
                     : kind == Kind::kLevelShift ? 1
                                                 : RowsFor(m, start, hours);
      rows = std::min(rows, std::max<int64_t>(1, b - start));
      plan.push_back({kind, start, rows});
      lengths.push_back(kind == Kind::kLevelShift || kind == Kind::kDrift ? n - start : rows);
      const int64_t left = std::max<int64_t>(0, start - half);
      const int64_t right = std::min(n - 1, start + half);
      file.windows.emplace_back(m.t[static_cast<size_t>(left)] * kMicrosPerSecond,
                                m.t[static_cast<size_t>(right)] * kMicrosPerSecond);
    }
    for (const Planned& p : plan) magnitudes.push_back(Inject(rng, m, p, p.rows));
  }

  std::vector<double> values(size);
  for (size_t i = 0; i < size; ++i) values[i] = RowValue(rng, m, i);
  for (size_t j = 0; j < plan.size(); ++j) {
    const Planned& p = plan[j];
    if (p.kind != Kind::kStuck) continue;
    const double held = values[static_cast<size_t>(p.start - 1)];
    for (int64_t i = p.start; i < std::min(n, p.start + p.rows); ++i) values[static_cast<size_t>(i)] = held;
    magnitudes[j] = fmt::format("value held at {:.{}f} for {} rows", held, m.decimals, p.rows);
  }
  for (size_t j = 0; j < plan.size(); ++j) {
    SeriesAnomaly a;
    a.kind = std::string(KindName(plan[j].kind));
    a.start_row = plan[j].start;
    a.rows = lengths[j];
    a.start_us = m.t[static_cast<size_t>(plan[j].start)] * kMicrosPerSecond;
    a.magnitude = magnitudes[j];
    file.anomalies.push_back(std::move(a));
  }

  std::string& csv = built.csv;
  csv.reserve(size * 32);
  csv += "timestamp,value\n";
  std::string number;
  for (size_t i = 0; i < size; ++i) {
    AppendRowTime(csv, m.t[i]);
    csv += ',';
    number.clear();
    fmt::format_to(std::back_inserter(number), "{:.{}f}", values[i], m.decimals);
    // No "-0.00": a value that rounds to zero is printed as zero.
    if (number[0] == '-' && number.find_first_not_of("-0.") == std::string::npos) number.erase(0, 1);
    csv += number;
    csv += '\n';
  }
  return built;
}

/// `{"<file>": [item, ...], ...}` in NAB's layout: `count(file)` items per file, each written
/// by `write(out, file, i)`.
template <typename Count, typename Write>
std::string JsonByFile(const std::vector<SeriesFile>& files, Count count, Write write) {
  std::string out = "{\n";
  for (size_t f = 0; f < files.size(); ++f) {
    const SeriesFile& file = files[f];
    fmt::format_to(std::back_inserter(out), " \"{}\": [", file.key);
    const size_t n = count(file);
    for (size_t i = 0; i < n; ++i) {
      out += i > 0 ? ",\n" : "\n";
      write(out, file, i);
    }
    out += n == 0 ? "]" : "\n ]";
    out += f + 1 < files.size() ? ",\n" : "\n";
  }
  out += "}\n";
  return out;
}

std::string WindowsJson(const std::vector<SeriesFile>& files) {
  return JsonByFile(
      files, [](const SeriesFile& file) { return file.windows.size(); },
      [](std::string& out, const SeriesFile& file, size_t w) {
        fmt::format_to(std::back_inserter(out), "  [\n   \"{}.000000\",\n   \"{}.000000\"\n  ]",
                       RowTime(file.windows[w].first / kMicrosPerSecond),
                       RowTime(file.windows[w].second / kMicrosPerSecond));
      });
}

std::string LabelsJson(const std::vector<SeriesFile>& files) {
  return JsonByFile(
      files, [](const SeriesFile& file) { return file.anomalies.size(); },
      [](std::string& out, const SeriesFile& file, size_t a) {
        fmt::format_to(std::back_inserter(out), "  \"{}\"", RowTime(file.anomalies[a].start_us / kMicrosPerSecond));
      });
}

/// What the README's tables say, for programs: per file, each anomaly with its NAB window (the
/// windows are the anomalies', in order), so a detector's hits can be counted by kind.
std::string AnomaliesJson(const std::vector<SeriesFile>& files) {
  return JsonByFile(
      files, [](const SeriesFile& file) { return file.anomalies.size(); },
      [](std::string& out, const SeriesFile& file, size_t a) {
        const SeriesAnomaly& anomaly = file.anomalies[a];
        out += "  {\"kind\": ";
        AppendJsonString(out, anomaly.kind);
        fmt::format_to(std::back_inserter(out), ", \"start\": \"{}.000000\", \"row\": {}, \"rows\": {}, \"magnitude\": ",
                       RowTime(anomaly.start_us / kMicrosPerSecond), anomaly.start_row, anomaly.rows);
        AppendJsonString(out, anomaly.magnitude);
        fmt::format_to(std::back_inserter(out), ", \"window\": [\"{}.000000\", \"{}.000000\"]}}",
                       RowTime(file.windows[a].first / kMicrosPerSecond),
                       RowTime(file.windows[a].second / kMicrosPerSecond));
      });
}

std::string ReadmeText(const SeriesOptions& options, const std::vector<SeriesFile>& files) {
  std::string families;
  for (SeriesFamily f : options.families) {
    fmt::format_to(std::back_inserter(families), "{}{}", families.empty() ? "" : ",",
                   SeriesFamilyName(f));
  }
  std::string out = fmt::format(
      "# Generated validation series\n\n"
      "Written by `iotad generate-series --seed {} --families {} --files-per-family {}{}`; the "
      "same flags give the same bytes. Each file is `timestamp,value` under `data/`; "
      "`combined_windows.json` holds NAB windows (10 % of the rows shared among the file's "
      "anomalies, centred on each start), `combined_labels.json` the anomaly starts, "
      "`anomalies.json` each anomaly's kind, start, rows, magnitude and window. Rows are "
      "0-based data rows. level_shift and drift last to the end of the file.\n",
      options.seed, families, options.files_per_family,
      options.length == 1.0 ? std::string() : fmt::format(" --length {}", options.length));
  for (const SeriesFile& file : files) {
    fmt::format_to(std::back_inserter(out), "\n## {}\n\n{} rows, {} .. {}. {}.\n\n", file.key,
                   file.rows, RowTime(file.first_us / kMicrosPerSecond),
                   RowTime(file.last_us / kMicrosPerSecond), file.params);
    if (file.anomalies.empty()) {
      out += "No anomaly.\n";
      continue;
    }
    out += "| kind | start | row | rows | magnitude |\n|---|---|---|---|---|\n";
    for (const SeriesAnomaly& a : file.anomalies) {
      fmt::format_to(std::back_inserter(out), "| {} | {} | {} | {} | {} |\n", a.kind,
                     RowTime(a.start_us / kMicrosPerSecond), a.start_row, a.rows, a.magnitude);
    }
  }
  return out;
}

Status WriteWhole(const std::filesystem::path& path, std::string_view contents) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return Error(Errc::kIo, "generate-series: cannot create folder '{}': {}",
                 path.parent_path().string(), ec.message());
  }
  std::filesystem::path temp = path;
  std::string temp_name = "_";
  temp_name += path.filename().string();
  temp_name += ".tmp";
  temp.replace_filename(temp_name);
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) {
    return Error(Errc::kIo, "generate-series: cannot write '{}': {}", temp.string(),
                 std::strerror(errno));
  }
  const size_t written = std::fwrite(contents.data(), 1, contents.size(), file);
  if (std::fclose(file) != 0 || written != contents.size()) {
    std::remove(temp.c_str());
    return Error(Errc::kIo, "generate-series: cannot write '{}'", temp.string());
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::remove(temp.c_str());
    return Error(Errc::kIo, "generate-series: cannot rename '{}' to '{}': {}", temp.string(),
                 path.string(), ec.message());
  }
  return Status::Ok();
}

}  // namespace

std::string_view SeriesFamilyName(SeriesFamily family) {
  switch (family) {
    case SeriesFamily::kCounts: return "counts";
    case SeriesFamily::kPercent: return "percent";
    case SeriesFamily::kSensor: return "sensor";
    case SeriesFamily::kTraffic: return "traffic";
    case SeriesFamily::kHourly: return "hourly";
    case SeriesFamily::kLatency: return "latency";
    case SeriesFamily::kRegime: return "regime";
  }
  return "?";
}

Result<std::vector<SeriesFamily>> ParseSeriesFamilies(std::string_view list) {
  std::vector<SeriesFamily> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string_view name = list.substr(pos, comma - pos);
    const auto it = std::find_if(kAllSeriesFamilies.begin(), kAllSeriesFamilies.end(),
                                 [&](SeriesFamily f) { return SeriesFamilyName(f) == name; });
    if (it == kAllSeriesFamilies.end()) {
      return Error(Errc::kInvalidArgument,
                   "generate-series: --families takes counts, percent, sensor, traffic, hourly, "
                   "latency, regime; got '{}'",
                   name);
    }
    if (std::find(out.begin(), out.end(), *it) == out.end()) out.push_back(*it);
    pos = comma + 1;
  }
  return out;
}

Status ValidateSeriesOptions(const SeriesOptions& options) {
  if (options.families.empty()) {
    return Status(Errc::kInvalidArgument, "generate-series: --families names no family");
  }
  if (options.files_per_family < 1 || options.files_per_family > 1000) {
    return Error(Errc::kInvalidArgument,
                 "generate-series: --files-per-family must be 1 to 1000, got {}",
                 options.files_per_family);
  }
  if (!(options.length >= 1.0 && options.length <= 10.0)) {
    return Error(Errc::kInvalidArgument, "generate-series: --length must be 1 to 10, got {}",
                 options.length);
  }
  return Status::Ok();
}

Result<SeriesReport> GenerateSeriesSet(const SeriesOptions& options, const SeriesSink& sink) {
  IOTAD_TRY(ValidateSeriesOptions(options));
  SeriesReport report;
  for (SeriesFamily family : options.families) {
    for (int64_t k = 0; k < options.files_per_family; ++k) {
      Built built = BuildFile(options.seed, family, k, options.length);
      std::string path = "data/";
      path += built.file.key;
      IOTAD_TRY(sink(path, built.csv));
      report.rows += built.file.rows;
      report.anomalies += static_cast<int64_t>(built.file.anomalies.size());
      report.files.push_back(std::move(built.file));
    }
  }
  std::sort(report.files.begin(), report.files.end(),
            [](const SeriesFile& a, const SeriesFile& b) { return a.key < b.key; });
  IOTAD_TRY(sink("labels/combined_windows.json", WindowsJson(report.files)));
  IOTAD_TRY(sink("labels/combined_labels.json", LabelsJson(report.files)));
  IOTAD_TRY(sink("labels/anomalies.json", AnomaliesJson(report.files)));
  IOTAD_TRY(sink("labels/README.md", ReadmeText(options, report.files)));
  return report;
}

Result<SeriesReport> GenerateSeriesSet(const SeriesOptions& options, const std::string& out_dir) {
  const auto started = std::chrono::steady_clock::now();
  const std::filesystem::path dir(out_dir);
  IOTAD_ASSIGN_OR_RETURN(SeriesReport report,
                         GenerateSeriesSet(options, [&](const std::string& path,
                                                        std::string_view contents) {
                           return WriteWhole(dir / path, contents);
                         }));
  report.out_dir = out_dir;
  report.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

std::string FormatSeriesSummary(const SeriesReport& report) {
  int64_t without = 0;
  for (const SeriesFile& f : report.files) without += f.anomalies.empty() ? 1 : 0;
  std::string line = fmt::format("generate-series: {} files", report.files.size());
  if (!report.out_dir.empty()) fmt::format_to(std::back_inserter(line), " in {}", report.out_dir);
  fmt::format_to(std::back_inserter(line),
                 ", {} rows, {} anomalies ({} files without); labels in labels/; {:.2f} s",
                 report.rows, report.anomalies, without, report.elapsed_s);
  return line;
}

}  // namespace iotad::gen
