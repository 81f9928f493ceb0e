#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "memory_budget.h"
#include "metrics.h"
#include "parsed_snapshot.h"
#include "oomscope/http/server.h"
#include "retention.h"
#include "store.h"

namespace oomscope::analyzer {

// Bearer-token check in constant time (for equal lengths). An empty `token` accepts anything.
bool TokenMatches(const std::string& authorization_header, const std::string& token);

// POST /v1/snapshots (docs/api.md): checks what the headers tell before reading the body
// (token, size, metadata), then reads the body once (inflating gzip), hashing it, writing it
// into a temp file in the store and parsing it as it arrives (UploadSource); checks the hash and
// the parse, hands the parsed snapshot to the analysis (ParseHandoff) so that it is not parsed
// again, and commits.
class UploadHandler {
 public:
  struct Options {
    std::string token;
    uint64_t max_upload_bytes = 4ull << 30;
  };
  UploadHandler(Options options, SnapshotStore& store, Retention& retention, MemoryBudget& budget, Metrics& metrics,
                ParseHandoff& handoff)
      : options_(std::move(options)), store_(store), retention_(retention), budget_(budget), metrics_(metrics),
        handoff_(handoff) {}

  http::Response Handle(const http::Request& req, http::BodyReader& body);

 private:
  http::Response Fail(const std::string& result, int status, const std::string& code, const std::string& message);

  Options options_;
  SnapshotStore& store_;
  Retention& retention_;
  MemoryBudget& budget_;
  Metrics& metrics_;
  ParseHandoff& handoff_;
  std::mutex commit_mu_;  // making room and committing are one step
};

}  // namespace oomscope::analyzer
