#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "config.h"
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
  void UploadLoop();
  void WatchDiagnosticDir();
  bool WaitFor(std::chrono::milliseconds d);  // false when stopped or a capture was requested

  Config config_;
  std::unique_ptr<Spool> spool_;
  UploadTarget target_;
  Metrics metrics_;
  std::atomic<bool> stop_{false}, capture_requested_{false}, series_done_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace oomscope::sidecar
