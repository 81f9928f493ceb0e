#include "metrics.h"

#include <prometheus/text_serializer.h>

namespace oomscope::sidecar {

Metrics::Metrics() : registry(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  auto gauge = [&](const char* name, const char* help) -> Gauge* {
    return &BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  heap_used = gauge("oomscope_sidecar_target_heap_used_bytes", "V8 heap used by the app, sampled (Runtime.getHeapUsage).");
  heap_total = gauge("oomscope_sidecar_target_heap_total_bytes", "V8 heap size of the app, sampled.");
  rss = gauge("oomscope_sidecar_target_rss_bytes", "Resident set size of the app (process.memoryUsage), sampled.");
  external = gauge("oomscope_sidecar_target_external_bytes", "Memory of C++ objects bound to JS objects in the app, sampled.");
  auto& captures = BuildCounter().Name("oomscope_sidecar_captures_total").Help("Heap snapshots attempted, by result.").Register(*registry);
  captures_ok = &captures.Add({{"result", "ok"}});
  captures_failed = &captures.Add({{"result", "failed"}});
  captures_skipped = &captures.Add({{"result", "skipped"}});
  auto& skips = BuildCounter()
                    .Name("oomscope_sidecar_capture_skips_total")
                    .Help("Captures not taken, by reason: no_headroom (the snapshot would not fit under the memory limit), "
                          "no_limit (thresholds configured but no memory limit known).")
                    .Register(*registry);
  skips_no_headroom = &skips.Add({{"reason", "no_headroom"}});
  skips_no_limit = &skips.Add({{"reason", "no_limit"}});
  capture_duration = &BuildHistogram()
                          .Name("oomscope_sidecar_capture_duration_seconds")
                          .Help("Time to take and store one heap snapshot.")
                          .Register(*registry)
                          .Add({}, Histogram::BucketBoundaries{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600});
  snapshot_bytes = gauge("oomscope_sidecar_last_snapshot_bytes", "Size of the last snapshot taken.");
  snapshot_cost = gauge("oomscope_sidecar_snapshot_cost_ratio",
                        "Peak RSS growth per byte of V8 heap used that the headroom check assumes for a capture: the "
                        "default until a capture of this process measured more.");
  auto& uploads = BuildCounter().Name("oomscope_sidecar_uploads_total").Help("Snapshot uploads, by result.").Register(*registry);
  uploads_uploaded = &uploads.Add({{"result", "uploaded"}});
  uploads_duplicate = &uploads.Add({{"result", "duplicate"}});
  uploads_retry = &uploads.Add({{"result", "retry"}});
  uploads_rejected = &uploads.Add({{"result", "rejected"}});
  spool_bytes = gauge("oomscope_sidecar_spool_bytes", "Bytes of snapshots waiting for upload.");
  spool_dropped = &BuildCounter().Name("oomscope_sidecar_spool_dropped_total").Help("Snapshots dropped to keep the spool within its bound.").Register(*registry).Add({});
  inspector_connected = gauge("oomscope_sidecar_inspector_connected", "1 while an inspector session is open.");
}

std::string Metrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry->Collect());
}

}  // namespace oomscope::sidecar
