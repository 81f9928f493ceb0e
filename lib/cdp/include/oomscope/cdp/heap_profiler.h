#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "oomscope/cdp/session.h"
#include "oomscope/common/status.h"

namespace oomscope::cdp {

struct CaptureOptions {
  bool collect_garbage = true;  // HeapProfiler.collectGarbage first, as DevTools does
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  // Progress as V8 reports it (objects done, objects total).
  std::function<void(uint64_t done, uint64_t total)> on_progress;
};

struct CaptureResult {
  std::string path;
  uint64_t bytes = 0;
  double seconds = 0;
};

// Takes one heap snapshot through `session` and streams its chunks straight to `path`: they go
// to "<path>.partial" as they arrive (memory stays flat whatever the heap size), which is
// fsync'ed and renamed to `path` once V8 says the snapshot is complete. On failure (the process
// died, the connection dropped, a full disk) the partial file is set aside as
// "<path>.failed" and the error says what happened; nothing is left under `path`.
Result<CaptureResult> CaptureHeapSnapshot(Session& session, const std::string& path,
                                          const CaptureOptions& options = {});

// The target's memory as V8 and Node report it.
struct MemoryFigures {
  uint64_t heap_used = 0, heap_total = 0;            // Runtime.getHeapUsage
  uint64_t rss = 0, external = 0, array_buffers = 0;  // process.memoryUsage()
  uint64_t max_rss = 0;  // the process's peak RSS so far (process.resourceUsage().maxRSS); 0 if unknown
};
Result<MemoryFigures> GetMemoryFigures(Session& session, std::chrono::milliseconds timeout);

}  // namespace oomscope::cdp
