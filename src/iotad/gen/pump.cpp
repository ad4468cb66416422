#include "iotad/gen/pump.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <numbers>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "iotad/gen/random.h"

namespace iotad::gen {
namespace {

// ------------------------------------------------------------------------------------------
// The loop. A centrifugal pump in normalised units (1 = best-efficiency point): its head falls
// with flow, h = kShutoffHead s^2 - (kShutoffHead - 1) q^2 at speed s; the loop's system curve
// rises with it, h = kStaticHead + r q^2, r wandering slowly (the process); a leak is an orifice
// in parallel, q_leak = c sqrt(h). The operating point is where they meet. Current follows the
// shaft power q h / efficiency; temperatures follow their losses through first-order lags.

constexpr double kShutoffHead = 1.33;
constexpr double kStaticHead = 0.3;
constexpr double kEfficiencyDrop = 0.45;  // efficiency factor 1 - this x (q/s - 1)^2
constexpr double kOffDesignVibration = 1.5;  // vibration factor 1 + this x (q/s - 1)^2
constexpr double kVibrationNoise = 0.008;    // relative spread of one vibration RMS reading

constexpr int kAccel1 = 0;
constexpr int kAccel2 = 1;
constexpr int kCurrent = 2;
constexpr int kPressure = 3;
constexpr int kTemp = 4;
constexpr int kThermo = 5;
constexpr int kVoltage = 6;
constexpr int kFlow = 7;
constexpr int kMetricCount = 8;
// Printed precision of each metric (the sensors' resolution).
constexpr int kDecimals[kMetricCount] = {4, 4, 3, 3, 2, 2, 1, 2};

// Stream ids of StreamSeed (device = run index).
constexpr uint64_t kPlanStream = 0;     // run parameters, fault timing and size
constexpr uint64_t kProcessStream = 1;  // the loop's wander and its benign pressure dips
constexpr uint64_t kSensorStream = 2;   // measurement noise
constexpr uint64_t kFaultStream = 3;    // the fault's own randomness (oscillation, extra noise)
constexpr uint64_t kKindSalt = 0x9a3b'0000'0000'0001ULL;  // fault kinds, per block of six runs

constexpr double kDipsPerHour = 3;  // benign pressure dips (a valve elsewhere in the loop)

/// Stationary AR(1) with the given spread and time constant (seconds; one step per second).
class Wander {
 public:
  Wander(Rng& rng, double sd, double tau_s)
      : phi_(std::exp(-1.0 / tau_s)), innovation_(sd * std::sqrt(1 - phi_ * phi_)),
        x_(sd * rng.Gaussian()) {}
  double Next(Rng& rng) {
    const double x = x_;
    x_ = phi_ * x_ + innovation_ * rng.Gaussian();
    return x;
  }

 private:
  double phi_;
  double innovation_;
  double x_;
};

/// Head and pump flow at speed s, system resistance r and leak coefficient c (bisection on h:
/// the pump's flow falls with head, the loop's and the leak's rise).
std::pair<double, double> OperatingPoint(double s, double r, double c) {
  const double shutoff = kShutoffHead * s * s;
  auto pump_flow = [&](double h) {
    return std::sqrt(std::max(shutoff - h, 0.0) / (kShutoffHead - 1));
  };
  double lo = kStaticHead;
  double hi = shutoff;
  for (int i = 0; i < 48; ++i) {
    const double h = 0.5 * (lo + hi);
    const double demand = std::sqrt(std::max(h - kStaticHead, 0.0) / r) + c * std::sqrt(h);
    (pump_flow(h) > demand ? lo : hi) = h;
  }
  const double h = 0.5 * (lo + hi);
  return {h, pump_flow(h)};
}

/// Everything drawn for one run before its signals are computed.
struct RunPlan {
  int64_t length = 0;  // seconds = readings
  PumpFaultKind kind = PumpFaultKind::kValveClosure;
  int64_t fault_start = 0;  // first and last faulty reading (inclusive)
  int64_t fault_end = 0;
  bool to_end = false;  // the fault lasts until the run ends
  double magnitude = 0;  // in normal standard deviations of the main sensor
  double rise_s = 1;     // how fast the fault sets in (and, ending early, goes away)
  int target = 0;        // imbalance: the accelerometer; sensor drift: the sensor
  double sign = 1;       // sensor drift: up or down

  // The loop and its sensors.
  double flow_bep_lpm = 0, pressure_bep_bar = 0, r0 = 0, r_sd = 0, r_tau_s = 0;
  double volts = 0, current_idle_a = 0, current_load_a = 0;
  double accel_base[2] = {0, 0};
  double ambient_c = 0, motor_rise_c = 0, fluid_rise_c = 0, motor_tau_s = 0, fluid_tau_s = 0;
  double motor_start_c = 0, fluid_start_c = 0;
};

/// The loop's own variation and the measurement noise, drawn once per run; the fault is laid on
/// top, so the same run with and without its fault differs only where the fault acts.
struct RunNoise {
  std::vector<double> speed, log_r, volts, dip_pressure, dip_flow;
  std::vector<double> vib_slow[2], vib_eps[2];
  std::vector<double> sensor[kMetricCount];
};

/// What the fault changes, second by second (all neutral when there is no fault).
struct FaultEffect {
  explicit FaultEffect(int64_t n)
      : r_factor(n, 1), leak(n, 0), head_add(n, 0), motor_heat_c(n, 0), fluid_heat_c(n, 0),
        current_add(n, 0), flow_add(n, 0) {
    for (auto& v : vib_add) v.assign(n, 0);
    for (auto& v : offset) v.assign(n, 0);
  }
  std::vector<double> r_factor, leak, head_add, motor_heat_c, fluid_heat_c, current_add, flow_add;
  std::vector<double> vib_add[2];  // g
  std::vector<double> offset[kMetricCount];  // sensor drift, in the metric's units
};

using Signals = std::array<std::vector<double>, kMetricCount>;

PumpFaultKind KindOfRun(uint64_t seed, int64_t run) {
  // Each block of six runs holds every kind once, in an order of its own: 34 runs give each kind
  // five or six times, and a run's kind does not depend on --runs.
  Rng rng(StreamSeed(seed ^ kKindSalt, static_cast<uint64_t>(run / kPumpFaultKindCount), 0));
  std::array<PumpFaultKind, kPumpFaultKindCount> order = kAllPumpFaultKinds;
  for (int i = kPumpFaultKindCount - 1; i > 0; --i) {
    std::swap(order[i], order[rng.Below(static_cast<uint64_t>(i) + 1)]);
  }
  return order[run % kPumpFaultKindCount];
}

RunPlan PlanRun(uint64_t seed, int64_t run) {
  Rng rng(StreamSeed(seed, static_cast<uint64_t>(run), kPlanStream));
  RunPlan p;
  p.length = kPumpMinRunSeconds +
             static_cast<int64_t>(rng.Below(kPumpMaxRunSeconds - kPumpMinRunSeconds + 1));
  p.flow_bep_lpm = rng.Uniform(28, 36);
  p.pressure_bep_bar = rng.Uniform(2.2, 2.8);
  p.r0 = rng.Uniform(0.55, 0.9);  // operating point a little left or right of best efficiency
  p.r_sd = rng.Uniform(0.03, 0.05);
  p.r_tau_s = rng.Uniform(120, 300);
  p.volts = rng.Uniform(226, 234);
  p.current_idle_a = rng.Uniform(1.7, 2.1);
  p.current_load_a = rng.Uniform(2.9, 3.5);
  p.accel_base[0] = rng.Uniform(0.025, 0.045);
  p.accel_base[1] = p.accel_base[0] * rng.Uniform(0.6, 0.9);
  p.ambient_c = rng.Uniform(18, 26);
  p.motor_rise_c = rng.Uniform(18, 26);  // motor above ambient at best efficiency, steady state
  p.fluid_rise_c = rng.Uniform(4, 8);
  p.motor_tau_s = rng.Uniform(900, 1500);
  p.fluid_tau_s = rng.Uniform(1500, 2500);
  // The testbed is still warming up: every run starts below its steady temperatures.
  p.motor_start_c = p.ambient_c + p.motor_rise_c * rng.Uniform(0.55, 0.85);
  p.fluid_start_c = p.ambient_c + p.fluid_rise_c * rng.Uniform(0.3, 0.7);

  p.kind = KindOfRun(seed, run);
  p.fault_start = static_cast<int64_t>(static_cast<double>(p.length) * rng.Uniform(0.35, 0.65));
  // A hot motor cools only slowly: overheating always lasts to the end of the run.
  p.to_end = p.kind == PumpFaultKind::kOverheating || rng.Uniform() < 0.5;
  const int64_t duration = 180 + static_cast<int64_t>(rng.Below(301));  // 3-8 minutes
  p.fault_end = p.to_end ? p.length - 1 : std::min(p.fault_start + duration - 1, p.length - 1);
  p.to_end = p.fault_end == p.length - 1;
  switch (p.kind) {
    case PumpFaultKind::kValveClosure:
      p.magnitude = rng.Uniform(3, 6);  // flow drop
      p.rise_s = rng.Uniform(3, 15);    // the valve's travel
      break;
    case PumpFaultKind::kCavitation:
      p.magnitude = rng.Uniform(2, 4);  // vibration rise
      p.rise_s = rng.Uniform(10, 40);
      break;
    case PumpFaultKind::kImbalance:
      p.magnitude = rng.Uniform(4, 8);  // vibration rise on one accelerometer
      p.rise_s = rng.Uniform(1, 3);
      p.target = static_cast<int>(rng.Below(2));
      break;
    case PumpFaultKind::kLeak:
      p.magnitude = rng.Uniform(3, 6);  // pressure drop
      p.rise_s = rng.Uniform(5, 240);  // a crack that opens at once, or a seal that wears
      break;
    case PumpFaultKind::kOverheating:
      p.magnitude = rng.Uniform(5, 10);  // motor temperature rise after 6 minutes
      break;
    case PumpFaultKind::kSensorDrift: {
      constexpr int kDrifting[] = {kPressure, kFlow, kTemp, kThermo, kCurrent};
      p.magnitude = rng.Uniform(3, 6);  // offset after 5 minutes
      p.target = kDrifting[rng.Below(std::size(kDrifting))];
      p.sign = rng.Uniform() < 0.5 ? -1 : 1;
      break;
    }
  }
  return p;
}

RunNoise DrawNoise(uint64_t seed, int64_t run, const RunPlan& p) {
  const auto n = static_cast<size_t>(p.length);
  RunNoise z;
  Rng process(StreamSeed(seed, static_cast<uint64_t>(run), kProcessStream));
  Wander speed(process, 0.002, 120);
  Wander log_r(process, p.r_sd, p.r_tau_s);
  Wander volts(process, 0.6, 300);
  Wander vib_slow[2] = {Wander(process, 0.05, 60), Wander(process, 0.05, 60)};
  z.speed.resize(n);
  z.log_r.resize(n);
  z.volts.resize(n);
  for (auto& v : z.vib_slow) v.resize(n);
  for (size_t t = 0; t < n; ++t) {
    z.speed[t] = speed.Next(process);
    z.log_r[t] = log_r.Next(process);
    z.volts[t] = volts.Next(process);
    for (int k = 0; k < 2; ++k) z.vib_slow[k][t] = vib_slow[k].Next(process);
  }
  // Benign pressure dips: another valve in the loop opens for a moment; the pressure falls by a
  // few per cent within a second, the flow rises a little, both recover within seconds.
  z.dip_pressure.assign(n, 1);
  z.dip_flow.assign(n, 1);
  for (double at = process.Exponential(3600 / kDipsPerHour); at < static_cast<double>(n);
       at += process.Exponential(3600 / kDipsPerHour)) {
    const double depth = process.Uniform(0.02, 0.05);
    const double tau = process.Uniform(1, 2.5);
    const auto t0 = static_cast<size_t>(at);
    for (size_t t = t0; t < n && t < t0 + 20; ++t) {
      const double age = static_cast<double>(t - t0);
      const double shape = t == t0 ? 0.6 : std::exp(-(age - 1) / tau);
      z.dip_pressure[t] -= depth * shape;
      z.dip_flow[t] += 0.15 * depth * shape;
    }
  }

  Rng sensor(StreamSeed(seed, static_cast<uint64_t>(run), kSensorStream));
  for (int k = 0; k < 2; ++k) {
    // Vibration RMS: multiplicative noise, slightly heavy-tailed (one reading in 100 is drawn
    // from a spread 3 times wider).
    z.vib_eps[k].resize(n);
    for (size_t t = 0; t < n; ++t) {
      const double wide = sensor.Uniform() < 1.0 / 100 ? 3.0 : 1.0;
      z.vib_eps[k][t] = wide * sensor.Gaussian();
    }
  }
  // Per sensor: white noise plus (for the slow sensors) an autocorrelated part.
  struct SensorNoise {
    int metric;
    double white, ar_sd, ar_tau_s;
  };
  const SensorNoise kNoise[] = {
      {kCurrent, 0.005, 0.004, 10},
      {kPressure, 0.005, 0.003, 5},
      {kTemp, 0.006, 0.02, 50},     // RTD: fine, slow
      {kThermo, 0.02, 0.04, 10},    // thermocouple: coarser
      {kVoltage, 0.08, 0, 1},
      {kFlow, 0.003 * p.flow_bep_lpm, 0.002 * p.flow_bep_lpm, 8},  // turbine meter
  };
  for (const SensorNoise& s : kNoise) {
    Wander ar(sensor, s.ar_sd, s.ar_tau_s);
    auto& out = z.sensor[s.metric];
    out.resize(n);
    for (size_t t = 0; t < n; ++t) out[t] = s.white * sensor.Gaussian() + ar.Next(sensor);
  }
  return z;
}

Signals Simulate(const RunPlan& p, const RunNoise& z, const FaultEffect& f) {
  const auto n = static_cast<size_t>(p.length);
  Signals out;
  for (auto& v : out) v.resize(n);
  double motor_c = p.motor_start_c;
  double fluid_c = p.fluid_start_c;
  for (size_t t = 0; t < n; ++t) {
    const double s = 1 + z.speed[t];
    const double r = p.r0 * std::exp(z.log_r[t]) * f.r_factor[t];
    const auto [h, q] = OperatingPoint(s, r, f.leak[t]);
    const double x = q / s - 1;
    const double power = q * h / (1 - kEfficiencyDrop * x * x);
    const double volts = p.volts + z.volts[t];
    const double current = p.current_idle_a + p.current_load_a * power * (p.volts / volts);
    motor_c += (p.ambient_c + p.motor_rise_c * power + f.motor_heat_c[t] - motor_c) / p.motor_tau_s;
    fluid_c += (p.ambient_c + p.fluid_rise_c * power + f.fluid_heat_c[t] - fluid_c) / p.fluid_tau_s;
    for (int k = 0; k < 2; ++k) {
      out[k][t] = p.accel_base[k] * s * s * (1 + kOffDesignVibration * x * x) *
                      (1 + z.vib_slow[k][t]) * std::exp(kVibrationNoise * z.vib_eps[k][t]) +
                  f.vib_add[k][t];
    }
    out[kCurrent][t] = current + f.current_add[t];
    out[kPressure][t] = p.pressure_bep_bar * (h * z.dip_pressure[t] + f.head_add[t]);
    out[kTemp][t] = motor_c;
    out[kThermo][t] = fluid_c;
    out[kVoltage][t] = volts;
    out[kFlow][t] = p.flow_bep_lpm * q * z.dip_flow[t] + f.flow_add[t];
    for (int m = kCurrent; m < kMetricCount; ++m) out[m][t] += z.sensor[m][t] + f.offset[m][t];
  }
  return out;
}

/// Standard deviation of v[0, end).
double Spread(const std::vector<double>& v, int64_t end) {
  double mean = 0;
  for (int64_t t = 0; t < end; ++t) mean += v[t];
  mean /= static_cast<double>(end);
  double ss = 0;
  for (int64_t t = 0; t < end; ++t) ss += (v[t] - mean) * (v[t] - mean);
  return std::sqrt(ss / static_cast<double>(end));
}

/// 0 outside the fault; rises linearly to 1 over `rise_s` after its start and, when it ends
/// before the run does, falls back over the same time before its end.
double Envelope(const RunPlan& p, int64_t t) {
  if (t < p.fault_start || t > p.fault_end) return 0;
  double e = std::min(1.0, static_cast<double>(t - p.fault_start + 1) / p.rise_s);
  if (!p.to_end) e = std::min(e, static_cast<double>(p.fault_end - t + 1) / p.rise_s);
  return e;
}

/// The fault's effects, sized in standard deviations of the run's normal part (its readings
/// before the fault) so that every fault is moderate on whatever loop it happens.
FaultEffect MakeFault(uint64_t seed, int64_t run, const RunPlan& p, const Signals& normal) {
  FaultEffect f(p.length);
  Rng rng(StreamSeed(seed, static_cast<uint64_t>(run), kFaultStream));
  std::array<double, kMetricCount> sd{};
  for (int m = 0; m < kMetricCount; ++m) sd[m] = Spread(normal[m], p.fault_start);
  const int64_t start = p.fault_start;
  const int64_t end = p.fault_end;
  switch (p.kind) {
    case PumpFaultKind::kValveClosure: {
      // The loop's resistance that lowers the flow at the run's usual operating point by
      // `magnitude` flow deviations.
      const double q0 = OperatingPoint(1, p.r0, 0).second;
      const double q1 = std::max(q0 - p.magnitude * sd[kFlow] / p.flow_bep_lpm, 0.3);
      const double r1 = (kShutoffHead - kStaticHead) / (q1 * q1) - (kShutoffHead - 1);
      for (int64_t t = start; t <= end; ++t) f.r_factor[t] = 1 + (r1 / p.r0 - 1) * Envelope(p, t);
      // Water hammer: as the valve seats, the column of water is stopped, a surge that rings
      // down in seconds, the stronger the faster the valve closed.
      const double step = OperatingPoint(1, r1, 0).first - OperatingPoint(1, p.r0, 0).first;
      const double surge = step * rng.Uniform(1, 2.5) * std::min(6 / p.rise_s, 2.5);
      const double ring_s = rng.Uniform(2, 4);
      const int64_t shut = start + static_cast<int64_t>(p.rise_s);  // end of the valve's travel
      for (int64_t t = shut; t <= end && t < shut + 30; ++t) {
        const double age = static_cast<double>(t - shut);
        f.head_add[t] += surge * std::exp(-age / 3) * std::cos(2 * std::numbers::pi * age / ring_s);
      }
      break;
    }
    case PumpFaultKind::kCavitation: {
      // Vapour bubbles collapsing: broadband vibration, up and noisier on both bearings; the
      // head oscillates irregularly and drops a little; the flow reading gets noisier.
      const double period = rng.Uniform(4, 9);
      const double amp = rng.Uniform(1.5, 3) * sd[kPressure] / p.pressure_bep_bar;
      const double other = rng.Uniform(0.6, 1);
      double phase = rng.Uniform(0, 2 * std::numbers::pi);
      for (int64_t t = start; t <= end; ++t) {
        const double e = Envelope(p, t);
        f.vib_add[0][t] = e * p.magnitude * sd[kAccel1] * std::exp(0.4 * rng.Gaussian());
        f.vib_add[1][t] = e * p.magnitude * other * sd[kAccel2] * std::exp(0.4 * rng.Gaussian());
        phase += 2 * std::numbers::pi / period * rng.Uniform(0.7, 1.3);
        f.head_add[t] = e * (amp * (0.7 + 0.3 * rng.Uniform()) * std::sin(phase) -
                             0.5 * sd[kPressure] / p.pressure_bep_bar);
        f.flow_add[t] = e * sd[kFlow] * (0.8 * rng.Gaussian() - 0.5);
      }
      break;
    }
    case PumpFaultKind::kImbalance: {
      // Once-per-revolution force: the bearing nearer the rotor's heavy side shakes most; the
      // motor's load ripples a little as the force beats against the supply.
      const double period = rng.Uniform(6, 14);
      const double ripple = rng.Uniform(0.6, 1.2) * sd[kCurrent];
      const double phase = rng.Uniform(0, 2 * std::numbers::pi);
      const int near = p.target;
      for (int64_t t = start; t <= end; ++t) {
        const double e = Envelope(p, t);
        // The once-per-revolution component beats with the others: the RMS wavers.
        f.vib_add[near][t] = e * p.magnitude * sd[near] * (1 + 0.3 * rng.Gaussian());
        f.vib_add[1 - near][t] = e * 0.25 * p.magnitude * sd[1 - near];
        f.current_add[t] =
            e * ripple * std::sin(2 * std::numbers::pi * static_cast<double>(t) / period + phase);
      }
      break;
    }
    case PumpFaultKind::kLeak: {
      // The leak coefficient that lowers the head at the usual operating point by `magnitude`
      // pressure deviations (bisection: more leak, less head).
      const double h0 = OperatingPoint(1, p.r0, 0).first;
      const double target = h0 - p.magnitude * sd[kPressure] / p.pressure_bep_bar;
      double lo = 0;
      double hi = 2;
      for (int i = 0; i < 48; ++i) {
        const double c = 0.5 * (lo + hi);
        (OperatingPoint(1, p.r0, c).first > target ? lo : hi) = c;
      }
      for (int64_t t = start; t <= end; ++t) f.leak[t] = 0.5 * (lo + hi) * Envelope(p, t);
      break;
    }
    case PumpFaultKind::kOverheating: {
      // A bearing running dry: its friction heat grows as it goes, so the motor's steady
      // temperature climbs linearly and the reading, lagging behind, bends upwards (about
      // rate x age^2 / (2 tau)): `magnitude` deviations after 6 minutes. The fluid takes a
      // quarter of the heat.
      const double per_s = p.magnitude * sd[kTemp] * 2 * p.motor_tau_s / (360.0 * 360.0);
      for (int64_t t = start; t <= end; ++t) {
        f.motor_heat_c[t] = per_s * static_cast<double>(t - start + 1);
        f.fluid_heat_c[t] = 0.25 * f.motor_heat_c[t];
      }
      break;
    }
    case PumpFaultKind::kSensorDrift: {
      // The reading walks away linearly, `magnitude` deviations in 5 minutes; recalibrated at
      // the fault's end when that comes before the run's.
      const double per_s = p.sign * p.magnitude * sd[p.target] / 300;
      for (int64_t t = start; t <= end; ++t) {
        f.offset[p.target][t] = per_s * static_cast<double>(t - start + 1);
      }
      break;
    }
  }
  return f;
}

Signals SimulateRun(uint64_t seed, int64_t run, const RunPlan& plan) {
  const RunNoise noise = DrawNoise(seed, run, plan);
  const Signals normal = Simulate(plan, noise, FaultEffect(plan.length));
  return Simulate(plan, noise, MakeFault(seed, run, plan, normal));
}

void FormatRun(std::string& text, const Signals& signals, const std::string& device,
               TimestampUs start_us) {
  text.assign(kPumpCsvHeader);
  text += '\n';
  const size_t n = signals[0].size();
  for (size_t t = 0; t < n; ++t) {
    AppendTimestamp(text, start_us + static_cast<int64_t>(t) * kMicrosPerSecond);
    text += ',';
    text += device;
    for (int m = 0; m < kMetricCount; ++m) {
      // Readings are never negative; -0.00 would print for a tiny negative after rounding.
      fmt::format_to(std::back_inserter(text), ",{:.{}f}", std::max(signals[m][t], 0.0),
                     kDecimals[m]);
    }
    text += '\n';
  }
}

}  // namespace

std::string_view PumpFaultKindName(PumpFaultKind kind) {
  switch (kind) {
    case PumpFaultKind::kValveClosure: return "valve_closure";
    case PumpFaultKind::kCavitation: return "cavitation";
    case PumpFaultKind::kImbalance: return "imbalance";
    case PumpFaultKind::kLeak: return "leak";
    case PumpFaultKind::kOverheating: return "overheating";
    case PumpFaultKind::kSensorDrift: return "sensor_drift";
  }
  return "?";
}

std::optional<PumpFaultKind> ParsePumpFaultKind(std::string_view name) {
  for (PumpFaultKind kind : kAllPumpFaultKinds) {
    if (PumpFaultKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

Status ValidatePumpOptions(const PumpOptions& options) {
  if (options.runs < 1 || options.runs > kPumpMaxRuns) {
    return Error(Errc::kInvalidArgument, "generate: --runs must be between 1 and {}, got {}",
                 kPumpMaxRuns, options.runs);
  }
  return Status::Ok();
}

std::string PumpRunId(int64_t index, int64_t runs) {
  const int width = runs > 99 ? static_cast<int>(std::to_string(runs).size()) : 2;
  return fmt::format("run-{:0{}}", index + 1, width);
}

Result<PumpReport> GeneratePump(const PumpOptions& options, const FleetSink& sink) {
  IOTAD_TRY(ValidatePumpOptions(options));
  const auto began = std::chrono::steady_clock::now();
  PumpReport report;
  std::string text;
  for (int64_t run = 0; run < options.runs; ++run) {
    const RunPlan plan = PlanRun(options.seed, run);
    const Signals signals = SimulateRun(options.seed, run, plan);
    const std::string device = PumpRunId(run, options.runs);
    const TimestampUs start_us = options.start_us + run * kPumpRunSpacingUs;
    FormatRun(text, signals, device, start_us);
    std::string name = "pump-" + device + ".csv";
    IOTAD_TRY(sink(name, text));
    report.file_names.push_back(std::move(name));
    ++report.files;
    report.rows += plan.length;
    if (run == 0) report.first_us = start_us;
    report.last_us = start_us + (plan.length - 1) * kMicrosPerSecond;
    ++report.faults_by_kind[static_cast<size_t>(plan.kind)];
    report.normal_seconds += plan.length - (plan.fault_end - plan.fault_start + 1);
    report.labels.push_back(AnomalyLabel{device, std::string(kDropoutMetric),
                                         std::string(PumpFaultKindName(plan.kind)),
                                         start_us + plan.fault_start * kMicrosPerSecond,
                                         start_us + plan.fault_end * kMicrosPerSecond});
  }
  report.runs = options.runs;
  report.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return report;
}

Result<PumpReport> GeneratePump(const PumpOptions& options, const std::string& out_dir) {
  IOTAD_TRY(ValidatePumpOptions(options));
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Error(Errc::kIo, "generate: cannot create --out folder '{}': {}", out_dir,
                 ec.message());
  }
  IOTAD_ASSIGN_OR_RETURN(PumpReport report,
                         GeneratePump(options, [&](const std::string& name, std::string_view text) {
                           return WriteGeneratedFile((dir / name).string(), text);
                         }));
  report.out_dir = out_dir;
  report.labels_path = options.labels_path.empty()
                           ? (dir / std::string(kDefaultLabelsFileName)).string()
                           : options.labels_path;
  IOTAD_TRY(WriteLabelsCsv(report.labels, report.labels_path));
  return report;
}

std::string FormatPumpSummary(const PumpReport& report) {
  std::string line = fmt::format("wrote {} pump runs ({} files, {} rows, 8 metrics at 1 s) to {}",
                                 report.runs, report.files, report.rows,
                                 report.out_dir.empty() ? "the sink" : report.out_dir);
  if (report.rows > 0) {
    fmt::format_to(std::back_inserter(line), "; {} .. {}", FormatTimestamp(report.first_us),
                   FormatTimestamp(report.last_us));
  }
  line += "; faults:";
  for (PumpFaultKind kind : kAllPumpFaultKinds) {
    fmt::format_to(std::back_inserter(line), " {} {}", PumpFaultKindName(kind),
                   report.faults_by_kind[static_cast<size_t>(kind)]);
  }
  fmt::format_to(std::back_inserter(line), "; {:.2f} h of normal operation",
                 static_cast<double>(report.normal_seconds) / 3600);
  if (!report.labels_path.empty()) {
    fmt::format_to(std::back_inserter(line), "; labels {}", report.labels_path);
  }
  fmt::format_to(std::back_inserter(line), "; {:.2f} s", report.elapsed_s);
  return line;
}

}  // namespace iotad::gen
