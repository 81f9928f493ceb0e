#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace oomscope::sidecar {

// Finds the heap snapshots Node writes by itself (`--heapsnapshot-near-heap-limit`,
// `--heapsnapshot-signal`, `v8.writeHeapSnapshot()` into `--diagnostic-dir`): files named
// *.heapsnapshot in one directory, reported once they are complete. Node gives no signal when a
// file is done, so a file counts as complete when its size has not changed since the previous
// Poll() and it ends like a snapshot ('}'). Not thread-safe: one poller.
class DiagnosticDirWatcher {
 public:
  explicit DiagnosticDirWatcher(std::string dir) : dir_(std::move(dir)) {}
  // The paths that became complete since the last call (each reported once).
  std::vector<std::string> Poll();

 private:
  std::string dir_;
  std::map<std::string, uint64_t> last_size_;
};

}  // namespace oomscope::sidecar
