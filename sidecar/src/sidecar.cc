#include "sidecar.h"

#include <ctime>
#include <thread>

#include "oomscope/cdp/heap_profiler.h"
#include "oomscope/cdp/inspector.h"
#include "oomscope/cdp/session.h"
#include "oomscope/common/backoff.h"
#include "oomscope/common/log.h"
#include "diagnostic_dir.h"

#include <filesystem>

namespace oomscope::sidecar {

using namespace std::chrono_literals;

Sidecar::Sidecar(Config config, std::unique_ptr<Spool> spool, std::string token)
    : config_(std::move(config)), spool_(std::move(spool)) {
  target_.base_url = config_.analyzer_url;
  target_.token = std::move(token);
}

void Sidecar::Stop() {
  stop_ = true;
  cv_.notify_all();
}

void Sidecar::RequestCapture() {
  capture_requested_ = true;
  cv_.notify_all();
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
                             {"trigger", "node-wrote-it"}, {"file", name}};
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
      WaitFor(d);
      continue;
    }
    reconnect.Reset();
    metrics_.inspector_connected->Set(1);
    Result<cdp::VersionInfo> version = cdp::GetVersion(*ep, 5s);
    // V8 keeps object ids only within one session: a new session is a new series.
    std::snprintf(series, sizeof series, "%lld-%d", static_cast<long long>(std::time(nullptr)), ++session_no);
    log::Info("inspector session opened: a new series", {{"series", series}});
    int taken = 0;
    while (!stop_ && (*session)->Connected()) {
      bool on_demand = capture_requested_.exchange(false);
      if (!on_demand && taken >= config_.series_count) {
        series_done_ = true;
        if (config_.once) break;
        WaitFor(1h);
        continue;
      }
      Result<cdp::MemoryFigures> mem = cdp::GetMemoryFigures(**session, 10s);
      if (mem.ok()) {
        metrics_.heap_used->Set(static_cast<double>(mem->heap_used));
        metrics_.heap_total->Set(static_cast<double>(mem->heap_total));
        metrics_.rss->Set(static_cast<double>(mem->rss));
        metrics_.external->Set(static_cast<double>(mem->external));
      }
      std::string path = spool_->IncomingPath();
      Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(**session, path);
      if (!r.ok()) {
        metrics_.captures_failed->Increment();
        log::Error("capture failed", {{"series", series}, {"error", r.status().message()}});
        break;  // the session is likely gone: reconnect, which starts a new series
      }
      metrics_.captures_ok->Increment();
      metrics_.capture_duration->Observe(r->seconds);
      metrics_.snapshot_bytes->Set(static_cast<double>(r->bytes));
      ++taken;
      nlohmann::json meta = {{"namespace", config_.ns}, {"pod", config_.pod}, {"container", config_.container},
                             {"workload", config_.workload}, {"series", series}, {"sequence", taken},
                             {"captured_at", static_cast<double>(std::time(nullptr))},
                             {"trigger", on_demand ? "on-demand" : "timed"},
                             {"node_version", version.ok() ? version->node_version : ""}};
      if (mem.ok()) {
        meta["memory"] = {{"heap_used", mem->heap_used}, {"heap_total", mem->heap_total}, {"rss", mem->rss},
                          {"external", mem->external}, {"array_buffers", mem->array_buffers}};
      }
      uint64_t dropped_before = spool_->dropped();
      Result<SpoolEntry> e = spool_->Add(path, meta);
      metrics_.spool_dropped->Increment(static_cast<double>(spool_->dropped() - dropped_before));
      if (e.ok()) {
        log::Info("snapshot captured", {{"series", series}, {"sequence", std::to_string(taken)},
                                        {"bytes", std::to_string(r->bytes)}, {"id", e->id}});
      } else {
        log::Error("snapshot not spooled", {{"error", e.status().message()}});
      }
      cv_.notify_all();
      if (taken < config_.series_count && !capture_requested_) WaitFor(config_.series_interval);
    }
    metrics_.inspector_connected->Set(0);
    if (config_.once && series_done_) break;
  }
  uploader.join();
  if (watcher.joinable()) {
    Stop();
    watcher.join();
  }
  return 0;
}

}  // namespace oomscope::sidecar
