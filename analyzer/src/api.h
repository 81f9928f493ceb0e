#pragma once

#include <atomic>
#include <string>

#include "analysis_queue.h"
#include "metrics.h"
#include "oomscope/http/server.h"
#include "store.h"
#include "upload.h"

namespace oomscope::analyzer {

// The HTTP API v1 (docs/api.md), the web UI and the probes, wired onto a server.
struct ApiContext {
  SnapshotStore& store;
  Metrics& metrics;
  UploadHandler& uploads;
  std::string token;        // DELETE (and with read_token, GETs) need it
  bool read_token = false;
  double quiet_seconds = 300;
  std::atomic<bool>* ready;  // recovery done
};

void RegisterApi(http::Server& server, ApiContext ctx);

}  // namespace oomscope::analyzer
