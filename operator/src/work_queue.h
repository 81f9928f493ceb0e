#pragma once

// A rate-limited work queue of keys, as client-go's workqueue: a key is queued at most once (a key
// added while it is being processed is queued again after Done), per-key exponential backoff for
// retries (Forget resets it), delayed adds for requeue-after. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace oomscope::op {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  WorkQueue(std::chrono::milliseconds base_delay = std::chrono::milliseconds(5),
            std::chrono::milliseconds max_delay = std::chrono::minutes(5))
      : base_delay_(base_delay), max_delay_(max_delay) {}

  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (an earlier pending add for the key wins).
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Adds after the key's next backoff: base * 2^failures, capped at max.
  void AddRateLimited(const std::string& key);
  // Resets the key's backoff (on success, or on an error that retrying cannot fix).
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready or the queue shuts down (nullopt). Each key returned must be
  // passed to Done(). `waited`: how long the key was queued (since the add that queued it).
  std::optional<std::string> Get(Clock::duration* waited = nullptr);
  void Done(const std::string& key);

  void ShutDown();
  size_t Len() const;  // keys ready now

 private:
  void AddLocked(const std::string& key);
  void PromoteDueLocked(Clock::time_point now);

  const std::chrono::milliseconds base_delay_, max_delay_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued (or to be queued again after Done)
  std::map<std::string, Clock::time_point> queued_at_;  // of the dirty keys
  std::set<std::string> processing_;
  // Delayed adds: key -> when it becomes ready. Scanned whole by Get(): there is one entry per
  // Deployment with a pending requeue, a handful, never the cluster's size.
  std::map<std::string, Clock::time_point> waiting_;
  std::map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace oomscope::op
