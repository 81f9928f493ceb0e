#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "oomscope/common/backoff.h"
#include "oomscope/common/status.h"
#include "spool.h"

namespace oomscope::sidecar {

struct UploadTarget {
  std::string base_url;  // "http://oomscope-analyzer.oomscope:8080"
  std::string token;     // bearer token (from the mounted Secret file)
  std::chrono::seconds timeout{300};
  // Content-Encoding: gzip, compressed while the body is sent (docs/api.md); the hash header
  // stays the SHA-256 of the uncompressed snapshot. Level 1: snapshots shrink ~5x at little CPU.
  bool gzip = false;
  int gzip_level = 1;
};

struct UploadResult {
  int http_status = 0;
  bool duplicate = false;  // the analyzer had it already (same content hash)
  std::string snapshot_id, series_id;
};

// One attempt: streams the entry's file as the body of POST /v1/snapshots (docs/api.md), never
// reading it whole, with its content hash and metadata in headers. With `gzip`, a producer
// thread compresses the file into a bounded buffer (a few MiB) that the HTTP client drains;
// the compressed length is counted in a first pass, so the request carries a Content-Length. The status tells the caller
// what to do: OK (201 stored, or 200 already stored), retryable (the analyzer is down, 5xx,
// 429, 507), or permanent (400, 401, 403, 413).
Result<UploadResult> UploadOnce(const UploadTarget& target, const SpoolEntry& entry);

// Counters for the sidecar's metrics.
struct UploadStats {
  std::atomic<uint64_t> uploaded{0}, duplicates{0}, retries{0}, rejected{0};
};

// Uploads every pending spool entry, oldest first, removing each once the analyzer confirmed it.
// Retryable failures wait `backoff` (reset after a success) and try again until `stop` is set;
// an entry the analyzer rejects for good (e.g. too large) is removed, logged and counted in
// `rejected`. Returns when the spool is empty or `stop` is set. `sleep` waits (tests pass a fake).
void DrainSpool(Spool& spool, const UploadTarget& target, Backoff& backoff, const std::atomic<bool>& stop,
                UploadStats& stats,
                const std::function<void(std::chrono::milliseconds)>& sleep);

}  // namespace oomscope::sidecar
