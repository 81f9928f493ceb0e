#include "memory_budget.h"

#include <algorithm>

namespace oomscope::analyzer {

void MemoryBudget::Acquire(uint64_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return used_ == 0 || used_ + bytes <= total_; });
  used_ += bytes;
}

bool MemoryBudget::TryAcquire(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ != 0 && used_ + bytes > total_) return false;
  used_ += bytes;
  return true;
}

void MemoryBudget::Release(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  used_ -= std::min(used_, bytes);
  cv_.notify_all();
}

void MemoryBudget::WaitForRelease(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout);
}

uint64_t MemoryBudget::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

uint64_t MemoryBudget::ParseCost(uint64_t snapshot_bytes) {
  return snapshot_bytes + snapshot_bytes / 2 + (16ull << 20);  // 1.5x + fixed overhead
}

uint64_t MemoryBudget::SeriesCost(const std::vector<uint64_t>& snapshot_bytes) {
  if (snapshot_bytes.empty()) return 0;
  uint64_t largest = *std::max_element(snapshot_bytes.begin(), snapshot_bytes.end()), rest = 0;
  for (uint64_t b : snapshot_bytes) rest += b;
  rest -= largest;
  // The newest snapshot whole, digests (~0.6x of the file) of the earlier ones.
  return ParseCost(largest) + DigestCost(rest);
}

uint64_t MemoryBudget::DigestCost(uint64_t snapshot_bytes) { return snapshot_bytes / 10 * 6; }

}  // namespace oomscope::analyzer
