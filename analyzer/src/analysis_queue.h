#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "memory_budget.h"
#include "metrics.h"
#include "store.h"

namespace oomscope::analyzer {

// Series waiting for analysis, worked by `concurrency` threads within a memory budget. A series
// is queued once however many snapshots join it meanwhile; its report is recomputed from all its
// snapshots (see Analyze). Snapshots still pending after a crash are re-queued by Recover().
class AnalysisQueue {
 public:
  // A snapshot whose analysis was started this many times without finishing (the analyzer was
  // killed, e.g. by the OOM killer, while on it) is marked failed instead of tried again.
  static constexpr int kMaxAttempts = 3;

  AnalysisQueue(SnapshotStore& store, MemoryBudget& budget, Metrics& metrics, int concurrency);
  ~AnalysisQueue();
  void Start();
  void Stop();
  void Enqueue(const std::string& series);
  // Queues every series with a snapshot still pending analysis.
  void Recover();
  size_t depth() const;

 private:
  void Work();
  void Analyze(const std::string& series);

  SnapshotStore& store_;
  MemoryBudget& budget_;
  Metrics& metrics_;
  int concurrency_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_, running_, again_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace oomscope::analyzer
