#include "analysis_queue.h"

#include <chrono>

#include "oomscope/common/log.h"
#include "oomscope/heap/analysis.h"
#include "oomscope/heap/report.h"

namespace oomscope::analyzer {

namespace {

std::string Capped(std::string s) {
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

nlohmann::json TopSuspects(const heap::Report& report) {
  nlohmann::json out = nlohmann::json::array();
  for (const heap::Suspect& s : report.suspects) {
    if (out.size() >= 5) break;
    uint64_t retained = 0;
    if (!s.retained_by_snapshot.empty() && s.retained_by_snapshot.back()) retained = *s.retained_by_snapshot.back();
    out.push_back({{"kind", s.kind},
                   {"name", Capped(!s.held_under.empty() ? s.held_under : s.owner_name)},
                   {"constructor", Capped(s.owner_class)},
                   {"path", s.path.text},
                   {"retained_bytes", retained},
                   {"growth_bytes_per_second", s.growth_bytes_per_hour ? *s.growth_bytes_per_hour / 3600.0 : 0.0}});
  }
  return out;
}

}  // namespace

AnalysisQueue::AnalysisQueue(SnapshotStore& store, MemoryBudget& budget, Metrics& metrics, int concurrency)
    : store_(store), budget_(budget), metrics_(metrics), concurrency_(concurrency) {}

AnalysisQueue::~AnalysisQueue() { Stop(); }

void AnalysisQueue::Start() {
  for (int i = 0; i < concurrency_; ++i) workers_.emplace_back([this] { Work(); });
}

void AnalysisQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void AnalysisQueue::Enqueue(const std::string& series) {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_.count(series)) {
    again_.insert(series);  // a snapshot joined while it was analyzed: once more afterwards
  } else if (queued_.insert(series).second) {
    queue_.push_back(series);
  }
  metrics_.SetQueueDepth(queued_.size() + running_.size());
  cv_.notify_one();
}

void AnalysisQueue::Recover() {
  for (const std::string& series : store_.SeriesIds())
    for (const SnapshotRecord& r : store_.SeriesSnapshots(series))
      if (r.state == "pending") {
        Enqueue(series);
        break;
      }
}

size_t AnalysisQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_.size() + running_.size();
}

void AnalysisQueue::Work() {
  for (;;) {
    std::string series;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A series is worked by one thread at a time (the set `running_`).
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      series = queue_.front();
      queue_.pop_front();
      queued_.erase(series);
      running_.insert(series);
    }
    Analyze(series);
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(series);
    if (again_.erase(series) && queued_.insert(series).second) queue_.push_back(series);
    metrics_.SetQueueDepth(queued_.size() + running_.size());
    cv_.notify_all();
  }
}

// Recomputes the series' report from its snapshots in capture order. lib/heap keeps digests of
// earlier snapshots only in memory (SeriesAnalyzer), so the earlier files are parsed again here.
void AnalysisQueue::Analyze(const std::string& series) {
  std::vector<SnapshotRecord> recs = store_.SeriesSnapshots(series);
  std::vector<SnapshotRecord*> todo;
  std::vector<uint64_t> sizes;
  for (SnapshotRecord& r : recs) {
    if (r.state == "failed") continue;
    if (r.state == "pending") {
      if (r.attempts >= kMaxAttempts) {
        r.state = "failed";
        r.error = "its analysis was interrupted " + std::to_string(r.attempts) +
                  " times (the analyzer was killed while on it, e.g. out of memory); not tried again";
        (void)store_.UpdateRecord(r);
        metrics_.Analyzed(false, 0);
        log::Warn("snapshot failed", {{"series", series}, {"snapshot", r.id}, {"error", r.error}});
        continue;
      }
      ++r.attempts;
      if (!store_.UpdateRecord(r).ok()) return;  // deleted meanwhile
    }
    todo.push_back(&r);
    sizes.push_back(r.bytes);
  }
  if (todo.empty()) return;
  auto start = std::chrono::steady_clock::now();
  BudgetLease lease(budget_, MemoryBudget::SeriesCost(sizes));
  heap::SeriesAnalyzer analyzer(heap::AnalyzeOptions{});
  SeriesSummary summary;
  std::vector<SnapshotRecord*> added;
  for (SnapshotRecord* r : todo) {
    Status st = analyzer.AddFile(store_.DataPath(r->id), r->captured_at().value_or(r->received_at));
    if (!st.ok()) {
      if (!store_.Get(r->id)) return;  // the series was deleted while analyzed
      r->state = "failed";
      r->error = st.ToString();
      (void)store_.UpdateRecord(*r);
      metrics_.Analyzed(false, 0);
      log::Warn("snapshot failed", {{"series", series}, {"snapshot", r->id}, {"error", r->error}});
      continue;
    }
    added.push_back(r);
    summary.analyzed.push_back(r->id);
  }
  std::string report_json;
  if (!added.empty()) {
    heap::Report report = analyzer.Finish();
    for (size_t i = 0; i < report.snapshots.size() && i < added.size(); ++i) report.snapshots[i].source = added[i]->id;
    summary.top_suspects = TopSuspects(report);
    if (!report.snapshots.empty()) summary.heap_bytes = report.snapshots.back().total_size;
    report_json = heap::ReportToJson(report).dump();
  } else {
    summary.error = "none of its snapshots could be analyzed";
  }
  if (!store_.PutSummary(series, summary, report_json).ok()) return;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (SnapshotRecord* r : added) {
    bool was_pending = r->state == "pending";
    r->state = "ok";
    if (was_pending) {
      (void)store_.UpdateRecord(*r);
      metrics_.Analyzed(true, seconds);
    }
  }
  log::Info("series analyzed", {{"series", series}, {"snapshots", std::to_string(added.size())},
                                {"seconds", std::to_string(seconds)}});
}

}  // namespace oomscope::analyzer
