#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace oomscope {

// Exponential backoff with jitter, for retrying a peer that is down (the inspector while the app
// starts, the analyzer during a rollout). Each Next() is `initial * multiplier^n`, capped at
// `max`, then spread by ±`jitter` (a fraction) so that many clients do not retry in step.
// Not thread-safe.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double multiplier = 2.0,
          double jitter = 0.2, uint64_t seed = std::random_device{}())
      : initial_(initial), max_(max), multiplier_(multiplier), jitter_(jitter), rng_(seed) {}

  std::chrono::milliseconds Next() {
    double base = static_cast<double>(current_ms());
    ++attempts_;
    std::uniform_real_distribution<double> spread(1.0 - jitter_, 1.0 + jitter_);
    double ms = base * spread(rng_);
    double cap = static_cast<double>(max_.count());
    return std::chrono::milliseconds(static_cast<int64_t>(ms < cap ? ms : cap));
  }
  void Reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  int64_t current_ms() const {
    double v = static_cast<double>(initial_.count());
    for (int i = 0; i < attempts_ && v < static_cast<double>(max_.count()); ++i) v *= multiplier_;
    return static_cast<int64_t>(v < static_cast<double>(max_.count()) ? v : static_cast<double>(max_.count()));
  }

  std::chrono::milliseconds initial_, max_;
  double multiplier_, jitter_;
  std::mt19937_64 rng_;
  int attempts_ = 0;
};

}  // namespace oomscope
