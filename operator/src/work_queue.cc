#include "work_queue.h"

#include <algorithm>

namespace oomscope::op {

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  queued_at_[key] = Clock::now();
  if (processing_.count(key)) return;  // re-queued by Done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay.count() <= 0) return Add(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  const Clock::time_point at = Clock::now() + delay;
  auto [it, inserted] = waiting_.try_emplace(key, at);
  if (!inserted && it->second <= at) return;  // an earlier pending add wins
  it->second = at;
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int n = failures_[key]++;
    double ms = static_cast<double>(base_delay_.count());
    for (int i = 0; i < n && ms < static_cast<double>(max_delay_.count()); ++i) ms *= 2;
    delay = std::min(max_delay_, std::chrono::milliseconds(static_cast<int64_t>(ms)));
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    const std::string key = it->first;
    it = waiting_.erase(it);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get(Clock::duration* waited) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    PromoteDueLocked(Clock::now());
    if (!queue_.empty()) break;
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      // A copy: wait_until reads its deadline again after waking, when the entry may be gone.
      Clock::time_point next = Clock::time_point::max();
      for (const auto& [key, at] : waiting_) next = std::min(next, at);
      cv_.wait_until(lock, next);
    }
  }
  std::string key = queue_.front();
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  if (auto it = queued_at_.find(key); it != queued_at_.end()) {
    if (waited != nullptr) *waited = Clock::now() - it->second;
    queued_at_.erase(it);
  }
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace oomscope::op
