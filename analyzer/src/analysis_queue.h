#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "memory_budget.h"
#include "metrics.h"
#include "oomscope/heap/report.h"
#include "parsed_snapshot.h"
#include "store.h"

namespace oomscope::analyzer {

// Series waiting for analysis, worked by `concurrency` threads within a memory budget. A series
// is queued once however many snapshots join it meanwhile; its report is recomputed when one
// joins (see Analyze), from the earlier snapshots' stored digests and the new one whole, as the
// upload parsed it (Enqueue with the parse). Snapshots still pending after a crash are re-queued
// by Recover() and parsed from the store.
class AnalysisQueue final : public ParseHandoff {
 public:
  // A snapshot whose analysis was started this many times without finishing (the analyzer was
  // killed, e.g. by the OOM killer, while on it) is marked failed instead of tried again.
  static constexpr int kMaxAttempts = 3;

  AnalysisQueue(SnapshotStore& store, MemoryBudget& budget, Metrics& metrics, int concurrency);
  ~AnalysisQueue() override;
  void Start();
  void Stop();
  void Enqueue(const std::string& series);
  // ParseHandoff: an upload's parse (and its memory reservation), kept for the analysis.
  const ParsedSnapshot* Hold(std::unique_ptr<ParsedSnapshot> parsed) override;
  void Drop(const std::string& id, const ParsedSnapshot* held) override;
  void Stored(const std::string& series) override { Enqueue(series); }
  // Queues every series with a snapshot still pending analysis.
  void Recover();
  size_t depth() const;

 private:
  void Work();
  void Analyze(const std::string& series);
  // Lets go of every parse waiting in the queue (their snapshots are parsed from the store when
  // their turn comes): a worker that must wait for memory never waits on memory held by work
  // that is waiting for a worker.
  void SpillParsed();
  // Reserves `bytes`, letting go of queued parses while it has to wait (see SpillParsed).
  BudgetLease Reserve(uint64_t bytes);
  // Stores the report and summary of `added` (in order) and marks them analyzed.
  void Finish(const std::string& series, heap::Report report, std::vector<SnapshotRecord*>& added,
              std::chrono::steady_clock::time_point start);

  SnapshotStore& store_;
  MemoryBudget& budget_;
  Metrics& metrics_;
  int concurrency_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_, running_, again_;
  std::map<std::string, std::unique_ptr<ParsedSnapshot>> parsed_;  // by snapshot id
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace oomscope::analyzer
