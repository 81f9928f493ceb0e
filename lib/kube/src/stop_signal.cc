#include "oomscope/kube/stop_signal.h"

#include <vector>

namespace oomscope::kube {

void StopSignal::Stop() {
  std::map<uint64_t, std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    callbacks.swap(callbacks_);
  }
  cv_.notify_all();
  for (auto& [id, fn] : callbacks) fn();
}

bool StopSignal::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

bool StopSignal::WaitFor(std::chrono::milliseconds d) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stopped_; });
}

uint64_t StopSignal::OnStop(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_) {
      uint64_t id = next_id_++;
      callbacks_.emplace(id, std::move(fn));
      return id;
    }
  }
  fn();
  return 0;
}

void StopSignal::Unregister(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  callbacks_.erase(id);
}

}  // namespace oomscope::kube
