#pragma once

// Collects strings from other threads (watch events, handler calls) and waits for a condition
// on them, woken by each new entry rather than by sleeping.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace oomscope::kube::testing {

class Recorder {
 public:
  void Add(std::string s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      entries_.push_back(std::move(s));
    }
    cv_.notify_all();
  }
  std::vector<std::string> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }
  bool Contains(const std::string& s) const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(entries_.begin(), entries_.end(), s) != entries_.end();
  }
  // Waits until `pred(entries)` holds; false after `timeout`.
  bool WaitFor(const std::function<bool(const std::vector<std::string>&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(15)) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(entries_); });
  }
  bool WaitForEntry(const std::string& s, std::chrono::milliseconds timeout = std::chrono::seconds(15)) const {
    return WaitFor([&](const std::vector<std::string>& e) {
      return std::find(e.begin(), e.end(), s) != e.end();
    }, timeout);
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> entries_;
};

}  // namespace oomscope::kube::testing
