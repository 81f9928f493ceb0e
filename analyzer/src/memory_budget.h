#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace oomscope::analyzer {

// Memory the heap engine may use at once, shared by analyses and upload checks. Each caller
// reserves its estimate first; an estimate above the whole budget waits until nothing else holds
// any, then runs alone (it cannot be made smaller by waiting).
class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t total) : total_(total) {}
  void Acquire(uint64_t bytes);
  void Release(uint64_t bytes);
  uint64_t total() const { return total_; }
  uint64_t in_use() const;

  // The engine's peak RSS per snapshot byte (bench/results/heap-*.md: 1.38x for one file,
  // 2.47x of the largest for a 3-file series): parse + analysis of one snapshot, and a series.
  static uint64_t ParseCost(uint64_t snapshot_bytes);
  static uint64_t SeriesCost(const std::vector<uint64_t>& snapshot_bytes);

 private:
  uint64_t total_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t used_ = 0;
};

// Holds a reservation for a scope.
class BudgetLease {
 public:
  BudgetLease(MemoryBudget& b, uint64_t bytes) : b_(b), bytes_(bytes) { b_.Acquire(bytes_); }
  ~BudgetLease() { b_.Release(bytes_); }
  BudgetLease(const BudgetLease&) = delete;
  BudgetLease& operator=(const BudgetLease&) = delete;

 private:
  MemoryBudget& b_;
  uint64_t bytes_;
};

}  // namespace oomscope::analyzer
