#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace oomscope::sidecar {

// The sidecar's own metrics (docs/metrics.md). Thread-safe (prometheus-cpp's types are).
struct Metrics {
  Metrics();
  std::string Render() const;  // Prometheus text format

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Gauge* heap_used;
  prometheus::Gauge* heap_total;
  prometheus::Gauge* rss;
  prometheus::Gauge* external;
  prometheus::Counter* captures_ok;
  prometheus::Counter* captures_failed;
  prometheus::Counter* captures_skipped;    // captures_total{result="skipped"}
  prometheus::Counter* skips_no_headroom;   // capture_skips_total{reason="no_headroom"}
  prometheus::Counter* skips_no_limit;      // capture_skips_total{reason="no_limit"}
  prometheus::Histogram* capture_duration;
  prometheus::Gauge* snapshot_bytes;
  prometheus::Gauge* snapshot_cost;  // snapshot_cost_ratio: peak RSS growth per heap byte assumed
  prometheus::Counter* uploads_uploaded;
  prometheus::Counter* uploads_duplicate;
  prometheus::Counter* uploads_retry;
  prometheus::Counter* uploads_rejected;
  prometheus::Gauge* spool_bytes;
  prometheus::Counter* spool_dropped;
  prometheus::Gauge* inspector_connected;
};

}  // namespace oomscope::sidecar
