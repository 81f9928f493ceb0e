#include "analysis_queue.h"

#include <chrono>

#include "oomscope/common/log.h"
#include "oomscope/heap/analysis.h"
#include "oomscope/heap/digest_io.h"
#include "oomscope/heap/parser.h"
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
  std::lock_guard<std::mutex> lock(mu_);
  parsed_.clear();
}

const ParsedSnapshot* AnalysisQueue::Hold(std::unique_ptr<ParsedSnapshot> parsed) {
  std::lock_guard<std::mutex> lock(mu_);
  const ParsedSnapshot* p = parsed.get();
  // One parse per snapshot: a second upload of the same content keeps none (it is a duplicate).
  if (!parsed_.emplace(parsed->id, std::move(parsed)).second) return nullptr;
  return p;
}

void AnalysisQueue::Drop(const std::string& id, const ParsedSnapshot* held) {
  std::unique_ptr<ParsedSnapshot> dropped;  // released outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = parsed_.find(id);
  if (held && it != parsed_.end() && it->second.get() == held) {
    dropped = std::move(it->second);
    parsed_.erase(it);
  }
}

BudgetLease AnalysisQueue::Reserve(uint64_t bytes) {
  for (;;) {
    BudgetLease lease = BudgetLease::TryTake(budget_, bytes);
    if (lease.held()) return lease;
    // Parses kept for queued analyses hold memory that only a worker frees: let them go before
    // waiting (uploads may add more meanwhile, so again each time the budget changes).
    SpillParsed();
    budget_.WaitForRelease(std::chrono::milliseconds(200));
  }
}

void AnalysisQueue::SpillParsed() {
  std::map<std::string, std::unique_ptr<ParsedSnapshot>> spilled;
  {
    std::lock_guard<std::mutex> lock(mu_);
    spilled.swap(parsed_);
  }
  if (!spilled.empty())
    log::Info("memory budget: queued parses let go, parsed again from the store when analyzed",
              {{"snapshots", std::to_string(spilled.size())}});
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

// Recomputes the series' report from its snapshots in capture order: the earlier ones from their
// stored digests, the newest whole, from the upload's parse when it is still at hand. Whatever has
// neither (resumed after a crash, a parse let go under memory pressure, a damaged digest) is
// parsed from the store, and its digest kept for the next time.
void AnalysisQueue::Analyze(const std::string& series) {
  std::vector<SnapshotRecord> recs = store_.SeriesSnapshots(series);
  std::map<std::string, std::unique_ptr<ParsedSnapshot>> mine;  // this series' parses
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Only parses of snapshots committed when `recs` was read: an upload holds its parse here
    // just before it commits.
    std::set<std::string> ids;
    for (const SnapshotRecord& r : recs) ids.insert(r.id);
    for (auto it = parsed_.begin(); it != parsed_.end();) {
      if (it->second->series == series && ids.count(it->first)) {
        mine.emplace(it->first, std::move(it->second));
        it = parsed_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::vector<SnapshotRecord*> todo;
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
  }
  // Nothing joined since the last report (a series queued again while it was analyzed, the
  // snapshot already covered): the report stands.
  bool joined = false;
  for (SnapshotRecord* r : todo) joined = joined || r->state == "pending";
  if (!joined) return;
  auto start = std::chrono::steady_clock::now();

  // What each snapshot comes from: the upload's parse, its stored digest (not for the newest,
  // which the report needs whole), or a parse of the stored file.
  // Declared before the analyzer: the memory is given back to the budget after it is freed.
  std::vector<BudgetLease> leases;  // of the parses in the analyzer
  BudgetLease extra;
  heap::SeriesAnalyzer analyzer(heap::AnalyzeOptions{});
  std::map<std::string, heap::SnapshotDigest> digests;
  std::vector<uint64_t> from_disk;
  for (SnapshotRecord* r : todo) {
    if (mine.count(r->id)) continue;
    if (r != todo.back()) {
      if (std::optional<std::string> bytes = store_.ReadDigest(r->id)) {
        Result<heap::SnapshotDigest> d = heap::ParseDigest(*bytes, analyzer.classes());
        if (d.ok()) {
          digests.emplace(r->id, std::move(*d));
          continue;
        }
        log::Warn("stored digest unreadable: parsing the snapshot again",
                  {{"snapshot", r->id}, {"error", d.status().message()}});
      }
    }
    from_disk.push_back(r->bytes);
  }
  // Memory: an upload's parse holds what its analysis needs. Parsing from the store needs more;
  // waiting for it while holding memory could wait forever (on another worker doing the same, or
  // on parses queued behind this one), so a worker that cannot have it at once lets go of every
  // parse first, its own included, and then waits holding nothing.
  if (!from_disk.empty()) {
    uint64_t digest_bytes = 0;
    for (SnapshotRecord* r : todo)
      if (digests.count(r->id)) digest_bytes += r->bytes;
    uint64_t cost = MemoryBudget::SeriesCost(from_disk) + MemoryBudget::DigestCost(digest_bytes);
    extra = BudgetLease::TryTake(budget_, cost);
    if (!extra.held()) {
      mine.clear();  // its own parses too: parsed from the store instead
      std::vector<uint64_t> all;
      for (SnapshotRecord* r : todo) all.push_back(r->bytes);
      extra = Reserve(MemoryBudget::SeriesCost(all));
    }
  }

  std::vector<SnapshotRecord*> added;
  SnapshotRecord* whole = nullptr;  // the newest added, when it was added whole
  auto keep_digest = [&] {  // the newest added goes to its digest; keep that for next time
    if (!whole) return;
    if (const heap::SnapshotDigest* d = analyzer.DigestNewest())
      (void)store_.PutDigest(whole->id, heap::SerializeDigest(*d, analyzer.classes()));
    whole = nullptr;
  };
  for (SnapshotRecord* r : todo) {
    heap::SnapshotInfo info;
    info.source = r->id;
    info.file_bytes = r->bytes;
    info.captured_at = r->captured_at().value_or(r->received_at);
    if (auto d = digests.find(r->id); d != digests.end()) {
      keep_digest();
      (void)analyzer.AddDigest(std::move(d->second), info);
      added.push_back(r);
      continue;
    }
    heap::Snapshot snap;
    if (auto p = mine.find(r->id); p != mine.end()) {
      snap = std::move(p->second->snapshot);
      leases.push_back(std::move(p->second->lease));
    } else {
      heap::ParseOptions po;
      po.split_min_bytes = ~0ull;  // one thread: uploads and analyses share the cores
      Result<heap::Snapshot> parsed = heap::ParseSnapshotFile(store_.DataPath(r->id), po);
      metrics_.Parsed("analysis");
      if (!parsed.ok()) {
        if (!store_.Get(r->id)) return;  // the series was deleted while analyzed
        r->state = "failed";
        r->error = parsed.status().ToString();
        (void)store_.UpdateRecord(*r);
        metrics_.Analyzed(false, 0);
        log::Warn("snapshot failed", {{"series", series}, {"snapshot", r->id}, {"error", r->error}});
        continue;
      }
      snap = std::move(*parsed);
    }
    keep_digest();
    (void)analyzer.Add(std::move(snap), info);
    whole = r;
    added.push_back(r);
  }
  if (!added.empty() && !analyzer.newest_whole()) {
    // The newest snapshot failed and the one before it came as a digest: the report needs that
    // one whole. Rare (a snapshot that parsed on upload does not fail here): from the files.
    heap::SeriesAnalyzer again(heap::AnalyzeOptions{});
    std::vector<SnapshotRecord*> kept;
    for (SnapshotRecord* r : added) {
      Status st = again.AddFile(store_.DataPath(r->id), r->captured_at().value_or(r->received_at));
      metrics_.Parsed("analysis");
      if (st.ok()) kept.push_back(r);
    }
    added = kept;
    if (!added.empty() && !again.newest_whole()) added.clear();
    if (!added.empty()) {
      heap::Report report = again.Finish();
      for (size_t i = 0; i < report.snapshots.size() && i < added.size(); ++i) report.snapshots[i].source = added[i]->id;
      return Finish(series, std::move(report), added, start);
    }
  }
  if (!added.empty()) {
    heap::Report report = analyzer.Finish();
    keep_digest();
    return Finish(series, std::move(report), added, start);
  }
  SeriesSummary summary;
  summary.error = "none of its snapshots could be analyzed";
  (void)store_.PutSummary(series, summary, "");
}

void AnalysisQueue::Finish(const std::string& series, heap::Report report, std::vector<SnapshotRecord*>& added,
                           std::chrono::steady_clock::time_point start) {
  SeriesSummary summary;
  for (SnapshotRecord* r : added) summary.analyzed.push_back(r->id);
  summary.top_suspects = TopSuspects(report);
  if (!report.snapshots.empty()) summary.heap_bytes = report.snapshots.back().total_size;
  if (!store_.PutSummary(series, summary, heap::ReportToJson(report).dump()).ok()) return;
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
