#include "sidecar.h"

#include <ctime>
#include <thread>

#include "oomscope/cdp/heap_profiler.h"
#include "oomscope/cdp/inspector.h"
#include "oomscope/cdp/session.h"
#include "oomscope/common/backoff.h"
#include "oomscope/common/log.h"
#include "diagnostic_dir.h"
#include "triggers.h"

#include <filesystem>

namespace oomscope::sidecar {

using namespace std::chrono_literals;

Sidecar::Sidecar(Config config, std::unique_ptr<Spool> spool, std::string token)
    : config_(std::move(config)), spool_(std::move(spool)) {
  target_.base_url = config_.analyzer_url;
  target_.token = std::move(token);
  target_.gzip = config_.gzip;
}

void Sidecar::Stop() {
  stop_ = true;
  cv_.notify_all();
}

void Sidecar::RequestCapture() {
  capture_requested_ = true;
  cv_.notify_all();
}

void Sidecar::WaitForStop(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load(); });
}

bool Sidecar::WaitFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load() || capture_requested_.load(); });
  return !stop_ && !capture_requested_;
}

void Sidecar::UploadLoop() {
  Backoff backoff(1s, 5min);
  UploadStats stats;
  while (!stop_) {
    if (!config_.analyzer_url.empty()) {
      DrainSpool(*spool_, target_, backoff, stop_, stats, [&](std::chrono::milliseconds d) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, d, [&] { return stop_.load(); });
      });
    }
    metrics_.uploads_uploaded->Increment(static_cast<double>(stats.uploaded.exchange(0)));
    metrics_.uploads_duplicate->Increment(static_cast<double>(stats.duplicates.exchange(0)));
    metrics_.uploads_retry->Increment(static_cast<double>(stats.retries.exchange(0)));
    metrics_.uploads_rejected->Increment(static_cast<double>(stats.rejected.exchange(0)));
    metrics_.spool_bytes->Set(static_cast<double>(spool_->bytes()));
    if (config_.once && series_done_ && spool_->Pending().empty()) {
      Stop();
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 1s, [&] { return stop_.load(); });
  }
}

// Node's own snapshots (written near the heap limit, before an OOM) come with no inspector
// session: each is a series of one, shipped like the others.
void Sidecar::WatchDiagnosticDir() {
  DiagnosticDirWatcher watcher(config_.diagnostic_dir);
  while (!stop_) {
    for (const std::string& path : watcher.Poll()) {
      std::string name = std::filesystem::path(path).filename().string();
      std::string incoming = spool_->IncomingPath();
      std::error_code ec;
      std::filesystem::rename(path, incoming, ec);
      if (ec) {  // another filesystem: copy, then remove
        std::filesystem::copy_file(path, incoming, ec);
        if (!ec) std::filesystem::remove(path, ec);
      }
      if (ec) {
        log::Error("cannot take Node's snapshot", {{"file", path}, {"error", ec.message()}});
        continue;
      }
      nlohmann::json meta = {{"namespace", config_.ns}, {"pod", config_.pod}, {"container", config_.container},
                             {"workload", config_.workload}, {"series", "node-" + name}, {"sequence", 1},
                             {"captured_at", static_cast<double>(std::time(nullptr))},
                             {"trigger", "node-diagnostic"}, {"series_length", 0}, {"file", name}};
      uint64_t dropped_before = spool_->dropped();
      Result<SpoolEntry> e = spool_->Add(incoming, meta);
      metrics_.spool_dropped->Increment(static_cast<double>(spool_->dropped() - dropped_before));
      if (e.ok()) {
        metrics_.captures_ok->Increment();
        log::Info("picked up a snapshot Node wrote", {{"file", name}, {"bytes", std::to_string(e->bytes)}, {"id", e->id}});
        cv_.notify_all();
      } else {
        log::Error("snapshot not spooled", {{"file", name}, {"error", e.status().message()}});
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 1s, [&] { return stop_.load(); });
  }
}

void Sidecar::RecordSkip(const std::string& series, const std::string& reason, const std::string& trigger,
                         const std::string& detail, const Result<cdp::MemoryFigures>& mem, uint64_t needed) {
  metrics_.captures_skipped->Increment();
  (reason == "no_headroom" ? metrics_.skips_no_headroom : metrics_.skips_no_limit)->Increment();
  log::Warn("capture skipped", {{"series", series}, {"reason", reason}, {"trigger", trigger}, {"detail", detail},
                                {"heap_used", mem.ok() ? std::to_string(mem->heap_used) : ""},
                                {"rss", mem.ok() ? std::to_string(mem->rss) : ""},
                                {"needed_bytes", std::to_string(needed)},
                                {"growth_per_heap_byte", std::to_string(metrics_.snapshot_cost->Value())},
                                {"limit_bytes", std::to_string(config_.memory_limit_bytes)}});
}

cdp::CaptureOptions Sidecar::ChooseCaptureMode(cdp::Session& session, const std::string& series) {
  cdp::CaptureOptions options;
  if (config_.capture_mode == "stream") return options;
  std::string why;
  Result<bool> shared = cdp::SharesDirectory(session, spool_->dir(), 10s, &why);
  if (shared.ok() && *shared) {
    options.mode = cdp::CaptureMode::kAppWrites;
    log::Info("capture mode: the app writes its snapshots into the spool", {{"series", series}, {"mode", "app-writes"}});
  } else {
    log::Info("capture mode: over the inspector protocol",
              {{"series", series}, {"mode", "stream"}, {"reason", shared.ok() ? why : shared.status().message()}});
  }
  return options;
}

bool Sidecar::CaptureOne(cdp::Session& session, const cdp::CaptureOptions& options, const std::string& series,
                         int sequence, int series_length, const std::string& trigger, const std::string& detail,
                         const std::string& node_version, const Result<cdp::MemoryFigures>& mem) {
  std::string path = spool_->IncomingPath();
  Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(session, path, options);
  if (!r.ok()) {
    metrics_.captures_failed->Increment();
    // A partial snapshot cannot be analyzed, and the spool's volume is the pod's: an app killed
    // mid-capture again and again must not fill it with what lib/cdp set aside.
    std::error_code ec;
    const uint64_t partial = std::filesystem::exists(path + ".failed", ec) ? std::filesystem::file_size(path + ".failed", ec) : 0;
    std::filesystem::remove(path + ".failed", ec);
    log::Error("capture failed", {{"series", series}, {"trigger", trigger}, {"error", r.status().message()},
                                  {"partial_bytes_deleted", std::to_string(ec ? 0 : partial)}});
    return false;
  }
  metrics_.captures_ok->Increment();
  metrics_.capture_duration->Observe(r->seconds);
  metrics_.snapshot_bytes->Set(static_cast<double>(r->bytes));
  nlohmann::json meta = {{"namespace", config_.ns}, {"pod", config_.pod}, {"container", config_.container},
                         {"workload", config_.workload}, {"series", series}, {"sequence", sequence},
                         {"series_length", series_length},
                         {"captured_at", static_cast<double>(std::time(nullptr))},
                         {"trigger", trigger}, {"node_version", node_version},
                         {"capture_mode", cdp::CaptureModeName(r->mode)}};
  if (!detail.empty()) meta["trigger_detail"] = detail;
  if (mem.ok()) {
    meta["memory"] = {{"heap_used", mem->heap_used}, {"heap_total", mem->heap_total}, {"rss", mem->rss},
                      {"external", mem->external}, {"array_buffers", mem->array_buffers}};
    if (config_.memory_limit_bytes > 0) meta["memory"]["limit"] = config_.memory_limit_bytes;
  }
  uint64_t dropped_before = spool_->dropped();
  Result<SpoolEntry> e = spool_->Add(path, meta);
  metrics_.spool_dropped->Increment(static_cast<double>(spool_->dropped() - dropped_before));
  if (e.ok()) {
    log::Info("snapshot captured", {{"series", series}, {"sequence", std::to_string(sequence)}, {"trigger", trigger},
                                    {"bytes", std::to_string(r->bytes)}, {"seconds", std::to_string(r->seconds)},
                                    {"mode", cdp::CaptureModeName(r->mode)}, {"id", e->id}});
  } else {
    log::Error("snapshot not spooled", {{"error", e.status().message()}});
  }
  cv_.notify_all();
  return true;
}

void Sidecar::RunSeries(cdp::Session& session, const std::string& series, const std::string& node_version) {
  using Clock = std::chrono::steady_clock;
  SnapshotCost cost = kDefaultSnapshotCost;
  if (config_.snapshot_cost_factor > 0) {
    cost.file_bytes_per_heap_byte = 1.0;
    cost.rss_growth_per_file_byte = config_.snapshot_cost_factor;
  }
  metrics_.snapshot_cost->Set(cost.GrowthPerHeapByte());
  const uint64_t limit = config_.memory_limit_bytes;
  ThresholdTriggers thresholds(config_.heap_thresholds, config_.rss_thresholds, limit);
  // The snapshots this series plans: the timed ones, unless thresholds (which may never fire)
  // make it open-ended (0).
  const int series_length = thresholds.configured() ? 0 : config_.series_count;
  if (thresholds.configured() && limit == 0) {
    RecordSkip(series, "no_limit", "threshold",
               "thresholds are configured but no memory limit is known (set OOMSCOPE_MEMORY_LIMIT_BYTES from the "
               "downward API, or --memory-limit)",
               Unavailable("not sampled"), 0);
  }
  // Chosen at the first capture, not at once: the app may still be starting up.
  std::optional<cdp::CaptureOptions> capture;
  int sequence = 0, timed = 0;
  Clock::time_point next_timed = Clock::now() + config_.initial_delay, next_sample = Clock::now();
  if (config_.series_count > 0)
    log::Info("first timed snapshot after the initial delay",
              {{"series", series}, {"delay_ms", std::to_string(config_.initial_delay.count())}});
  Result<cdp::MemoryFigures> mem = Unavailable("not sampled yet");
  auto sample = [&] {
    mem = cdp::GetMemoryFigures(session, 10s);
    next_sample = Clock::now() + config_.sample_interval;
    if (!mem.ok()) return;
    metrics_.heap_used->Set(static_cast<double>(mem->heap_used));
    metrics_.heap_total->Set(static_cast<double>(mem->heap_total));
    metrics_.rss->Set(static_cast<double>(mem->rss));
    metrics_.external->Set(static_cast<double>(mem->external));
  };
  while (!stop_) {
    if (Clock::now() >= next_sample) sample();
    if (!session.Connected()) return;
    std::string trigger, detail;
    if (capture_requested_.exchange(false)) {
      trigger = "on-demand";
    } else if (timed < config_.series_count && Clock::now() >= next_timed) {
      trigger = "timed";
      ++timed;
      next_timed = Clock::now() + config_.series_interval;
    } else if (mem.ok()) {
      if (std::optional<std::string> crossed = thresholds.Check(*mem)) {
        trigger = "threshold";
        detail = *crossed;
      }
    }
    if (trigger.empty()) {
      // Done only once nothing is pending: the uploader (with --once) exits on this flag.
      if (timed >= config_.series_count && (limit == 0 || thresholds.all_fired())) series_done_ = true;
      if (config_.once && series_done_) return;
      Clock::time_point until = next_sample;
      if (timed < config_.series_count) until = std::min(until, next_timed);
      auto d = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (d.count() > 0) WaitFor(d);
      continue;
    }
    sample();  // the figures at the moment of the capture (and for the headroom check)
    if (!session.Connected()) return;
    if (limit > 0 && mem.ok()) {
      Headroom h = CheckHeadroom(*mem, limit, cost);
      if (!h.affordable) {
        RecordSkip(series, "no_headroom", trigger, detail, mem, h.needed);
        continue;
      }
    }
    const Result<cdp::MemoryFigures> before = mem;
    if (!capture) capture = ChooseCaptureMode(session, series);
    if (!CaptureOne(session, *capture, series, ++sequence, series_length, trigger, detail, node_version, mem)) return;
    // What the capture cost this process: the next headroom check counts with it.
    sample();
    if (before.ok() && mem.ok()) {
      if (std::optional<SnapshotCost> measured = MeasuredSnapshotCost(cost, *before, *mem)) {
        cost = *measured;
        metrics_.snapshot_cost->Set(cost.GrowthPerHeapByte());
        log::Info("a snapshot of this heap costs more than assumed: later headroom checks use the measured cost",
                  {{"series", series}, {"heap_used", std::to_string(before->heap_used)},
                   {"rss_before", std::to_string(before->rss)}, {"peak_rss", std::to_string(mem->max_rss)},
                   {"growth_per_heap_byte", std::to_string(cost.GrowthPerHeapByte())}});
      }
    }
  }
}

int Sidecar::Run() {
  Result<cdp::Endpoint> ep = cdp::ParseEndpoint(config_.inspector, config_.allow_remote_inspector);
  if (!ep.ok()) {
    log::Error("bad inspector address", {{"error", ep.status().message()}});
    return 2;
  }
  std::thread uploader([this] { UploadLoop(); });
  std::thread watcher;
  if (!config_.diagnostic_dir.empty()) watcher = std::thread([this] { WatchDiagnosticDir(); });
  Backoff reconnect(500ms, 30s);
  char series[32];
  std::string previous;
  int session_no = 0;
  while (!stop_) {
    // Wait for the app's inspector: it may start slowly, or restart.
    Result<std::vector<cdp::Target>> targets = cdp::ListTargets(*ep, 5s);
    Result<std::unique_ptr<cdp::Session>> session = Unavailable("no target");
    if (targets.ok() && !targets->empty()) session = cdp::Connect(targets->front(), 10s, config_.allow_remote_inspector);
    if (!session.ok()) {
      auto d = reconnect.Next();
      log::Info("waiting for the inspector", {{"inspector", ep->ToString()}, {"error", session.status().message()},
                                             {"retry_in_ms", std::to_string(d.count())}});
      WaitForStop(d);  // a capture request waits for the session: it must not cut the backoff short
      continue;
    }
    metrics_.inspector_connected->Set(1);
    Result<cdp::VersionInfo> version = cdp::GetVersion(*ep, 5s);
    // V8 keeps object ids only within one session: a new session is a new series.
    std::snprintf(series, sizeof series, "%lld-%d", static_cast<long long>(std::time(nullptr)), ++session_no);
    log::Info("inspector session opened: a new series",
              {{"series", series}, {"previous_series", previous.empty() ? "none" : previous}});
    const auto opened = std::chrono::steady_clock::now();
    RunSeries(**session, series, version.ok() ? version->node_version : "");
    metrics_.inspector_connected->Set(0);
    previous = series;
    if (stop_ || (config_.once && series_done_)) break;
    // A session that lasted is not a flapping inspector: start the backoff afresh.
    if (std::chrono::steady_clock::now() - opened > 30s) reconnect.Reset();
    auto d = reconnect.Next();
    log::Warn("inspector session lost: the series ends, the next session starts a new series",
              {{"series", series}, {"retry_in_ms", std::to_string(d.count())}});
    session->reset();
    WaitForStop(d);
  }
  uploader.join();
  if (watcher.joinable()) {
    Stop();
    watcher.join();
  }
  return 0;
}

}  // namespace oomscope::sidecar
