#pragma once

// A one-shot, thread-safe "please stop" flag that long-running loops (watches, informers, leader
// election) wait on instead of sleeping, so that Stop() ends them promptly.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace oomscope::kube {

class StopSignal {
 public:
  StopSignal() = default;
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Sets the flag, wakes waiters and runs the registered callbacks (once).
  void Stop();
  bool stopped() const;
  // Waits up to `d`; returns true when stopped (at once if it already was).
  bool WaitFor(std::chrono::milliseconds d) const;
  // Runs `fn` on Stop(), or right away if already stopped. Returns an id for Unregister().
  // `fn` must not call back into this StopSignal.
  uint64_t OnStop(std::function<void()> fn);
  void Unregister(uint64_t id);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> callbacks_;
};

}  // namespace oomscope::kube
