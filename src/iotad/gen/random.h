#pragma once
// The generators' random numbers, shared by fleet.cpp, series.cpp and pump.cpp. The standard
// distributions are implementation-defined, so everything is spelled out: splitmix64 for seeding, xoshiro256**
// for streams, Box-Muller for gaussians.
#include <cmath>
#include <cstdint>

namespace iotad::gen {

inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Seed of one independent stream, from the run seed, a device index and a stream id.
inline uint64_t StreamSeed(uint64_t seed, uint64_t device, uint64_t stream) {
  uint64_t state = seed;
  state = SplitMix64(state) ^ (device * 0xd1342543de82ef95ULL);
  state = SplitMix64(state) ^ (stream * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
  return SplitMix64(state);
}

/// xoshiro256** with a cached second Box-Muller gaussian.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) {
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  /// Uniform integer in [0, n).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  /// Standard normal: Box-Muller in Marsaglia's polar form (no sine or cosine); the second value
  /// of each pair is kept for the next call.
  double Gaussian() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u;
    double v;
    double s;
    do {
      u = 2 * Uniform() - 1;
      v = 2 * Uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double scale = std::sqrt(-2 * std::log(s) / s);
    spare_ = v * scale;
    has_spare_ = true;
    return u * scale;
  }
  /// Roughly normal (sum of four uniforms, mean 0, variance 1) from one draw: for random-walk
  /// steps, where the shape of one step does not matter but the cost does.
  double RoughGaussian() {
    const uint64_t bits = Next();
    const double sum = static_cast<double>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) +
                                           ((bits >> 32) & 0xFFFF) + (bits >> 48));
    return (sum * 0x1.0p-16 - 2) * 1.7320508075688772;  // sqrt(3)
  }
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

/// `Next() < RateThreshold(p)` happens with probability p.
inline uint64_t RateThreshold(double rate) {
  if (!(rate > 0)) return 0;
  if (rate >= 1) return UINT64_MAX;
  return static_cast<uint64_t>(rate * 18446744073709551616.0);
}

}  // namespace iotad::gen
