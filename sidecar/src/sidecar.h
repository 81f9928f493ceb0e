#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "config.h"
#include "oomscope/cdp/heap_profiler.h"
#include "oomscope/cdp/session.h"
#include "metrics.h"
#include "spool.h"
#include "uploader.h"

namespace oomscope::sidecar {

// The sidecar's work: wait for the app's inspector, take the timed series in one session (and
// extra snapshots on demand), spool them, and upload them. Run() blocks until Stop() (or, with
// Config::once, until the series is uploaded). Thread-safe: RequestCapture() and Stop() may be
// called from the HTTP server's threads.
class Sidecar {
 public:
  Sidecar(Config config, std::unique_ptr<Spool> spool, std::string token);
  int Run();
  void Stop();
  void RequestCapture();
  Metrics& metrics() { return metrics_; }

 private:
  // One series in one inspector session: samples memory, fires the timed, threshold and
  // on-demand triggers, checks headroom, captures. Returns when the session is lost, on Stop(),
  // or with Config::once when the series is done.
  void RunSeries(cdp::Session& session, const std::string& series, const std::string& node_version);
  // Captures one snapshot and spools it; false when the capture failed (the session is likely gone).
  bool CaptureOne(cdp::Session& session, const cdp::CaptureOptions& options, const std::string& series, int sequence,
                  int series_length, const std::string& trigger, const std::string& detail,
                  const std::string& node_version, const Result<cdp::MemoryFigures>& mem);
  // How this session's snapshots are taken (Config::capture_mode; the app writes them into the
  // spool when it shares the spool's directory).
  cdp::CaptureOptions ChooseCaptureMode(cdp::Session& session, const std::string& series);
  // A capture not taken: logged with its reason, counted (captures_total{result="skipped"},
  // capture_skips_total{reason}).
  void RecordSkip(const std::string& series, const std::string& reason, const std::string& trigger,
                  const std::string& detail, const Result<cdp::MemoryFigures>& mem, uint64_t needed);
  void UploadLoop();
  void WatchDiagnosticDir();
  bool WaitFor(std::chrono::milliseconds d);  // false when stopped or a capture was requested
  void WaitForStop(std::chrono::milliseconds d);  // returns early only on Stop()

  Config config_;
  std::unique_ptr<Spool> spool_;
  UploadTarget target_;
  Metrics metrics_;
  std::atomic<bool> stop_{false}, capture_requested_{false}, series_done_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace oomscope::sidecar
