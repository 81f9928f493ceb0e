#pragma once

#include <chrono>
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
  // Acquire without waiting: false (nothing reserved) when it would have to wait.
  bool TryAcquire(uint64_t bytes);
  void Release(uint64_t bytes);
  // Waits until something is released, or `timeout`.
  void WaitForRelease(std::chrono::milliseconds timeout);
  uint64_t total() const { return total_; }
  uint64_t in_use() const;

  // The engine's peak RSS per snapshot byte (bench/results/heap-*.md: 1.38x for one file,
  // 2.47x of the largest for a 3-file series): parse + analysis of one snapshot, and a series.
  static uint64_t ParseCost(uint64_t snapshot_bytes);
  static uint64_t SeriesCost(const std::vector<uint64_t>& snapshot_bytes);
  // An earlier snapshot of a series, held as its digest (~0.6x of the file).
  static uint64_t DigestCost(uint64_t snapshot_bytes);

 private:
  uint64_t total_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t used_ = 0;
};

// Holds a reservation until destroyed; movable, so that it can follow what it pays for (a parsed
// upload handed to the analysis queue).
class BudgetLease {
 public:
  BudgetLease() = default;
  // Waits for the reservation (MemoryBudget::Acquire).
  BudgetLease(MemoryBudget& b, uint64_t bytes) : b_(&b), bytes_(bytes) { b_->Acquire(bytes_); }
  // Reserves without waiting, or returns an empty lease (held() false).
  static BudgetLease TryTake(MemoryBudget& b, uint64_t bytes) {
    BudgetLease l;
    if (b.TryAcquire(bytes)) l.b_ = &b, l.bytes_ = bytes;
    return l;
  }
  ~BudgetLease() { Reset(); }
  BudgetLease(BudgetLease&& o) noexcept : b_(o.b_), bytes_(o.bytes_) { o.b_ = nullptr, o.bytes_ = 0; }
  BudgetLease& operator=(BudgetLease&& o) noexcept {
    if (this != &o) {
      Reset();
      b_ = o.b_, bytes_ = o.bytes_;
      o.b_ = nullptr, o.bytes_ = 0;
    }
    return *this;
  }
  BudgetLease(const BudgetLease&) = delete;
  BudgetLease& operator=(const BudgetLease&) = delete;
  bool held() const { return b_ != nullptr; }
  uint64_t bytes() const { return bytes_; }
  void Reset() {
    if (b_) b_->Release(bytes_);
    b_ = nullptr, bytes_ = 0;
  }

 private:
  MemoryBudget* b_ = nullptr;
  uint64_t bytes_ = 0;
};

}  // namespace oomscope::analyzer
