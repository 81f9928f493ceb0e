#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "oomscope/cdp/session.h"
#include "oomscope/common/status.h"

namespace oomscope::cdp {

// How a snapshot's bytes reach the file.
enum class CaptureMode {
  // HeapProfiler.takeHeapSnapshot: V8 turns the snapshot into ~100 KB JSON events on the app's
  // main thread, sent over the inspector's socket and written here. Works wherever the
  // inspector is reachable; costs the app 10-30% more time than writing the file itself.
  kStream,
  // The app writes the file itself (v8.writeHeapSnapshot, asked through Runtime.evaluate) at
  // the path given, which this process must see too: a directory both share (SharesDirectory),
  // as the sidecar and the app do in the recipe's pod. The time of an in-process write; the same
  // peak memory in the app (docs/sidecar.md).
  kAppWrites,
};
const char* CaptureModeName(CaptureMode mode);  // "stream", "app-writes"

struct CaptureOptions {
  CaptureMode mode = CaptureMode::kStream;
  bool collect_garbage = true;  // stream mode: HeapProfiler.collectGarbage first, as DevTools does
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  // Progress as V8 reports it (objects done, objects total).
  std::function<void(uint64_t done, uint64_t total)> on_progress;
};

struct CaptureResult {
  CaptureMode mode = CaptureMode::kStream;
  std::string path;
  uint64_t bytes = 0;
  double seconds = 0;
};

// Takes one heap snapshot through `session` into `path`. Stream mode writes its chunks to
// "<path>.partial" as they arrive (memory stays flat whatever the heap size); in app-writes mode
// the app writes "<path>.partial" itself. Either way the file is fsync'ed and renamed to `path`
// once complete. On failure (the process died, the connection dropped, a full disk) the partial
// file is set aside as "<path>.failed" and the error says what happened; nothing is left under
// `path`.
Result<CaptureResult> CaptureHeapSnapshot(Session& session, const std::string& path,
                                          const CaptureOptions& options = {});

// Whether the target process sees `dir` as this process does, so that it can write snapshots
// there for this process to read (CaptureMode::kAppWrites): the target writes a probe file in
// `dir` through Runtime.evaluate (mode 0600, as it writes its snapshots), this process reads it
// back and removes it. false, with the reason in `why`, when the target cannot write there or
// this process cannot read what it wrote (another host or container filesystem, another user);
// an error only when the session fails.
Result<bool> SharesDirectory(Session& session, const std::string& dir, std::chrono::milliseconds timeout,
                             std::string* why = nullptr);

// The target's memory as V8 and Node report it.
struct MemoryFigures {
  uint64_t heap_used = 0, heap_total = 0;            // Runtime.getHeapUsage
  uint64_t rss = 0, external = 0, array_buffers = 0;  // process.memoryUsage()
  uint64_t max_rss = 0;  // the process's peak RSS so far (process.resourceUsage().maxRSS); 0 if unknown
};
Result<MemoryFigures> GetMemoryFigures(Session& session, std::chrono::milliseconds timeout);

}  // namespace oomscope::cdp
