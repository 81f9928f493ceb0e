#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "series_view.h"

namespace oomscope::analyzer {

// The analyzer's Prometheus metrics (docs/metrics.md). Per-workload gauges are rebuilt from the
// series at each scrape: one set per (namespace, workload), from its newest analyzed series, so
// a deleted series takes its gauges with it. Label values are bounded: workloads stored, rank <= 5.
class Metrics {
 public:
  Metrics();
  // result: stored, duplicate, rejected, unauthorized, too_large, store_full
  void Upload(const std::string& result);
  void Analyzed(bool ok, double seconds);
  // stage: upload (parsed while received, or right after when stored first), analysis (parsed
  // from the store: resumed after a restart, or let go under memory pressure)
  void Parsed(const std::string& stage);
  void SetQueueDepth(size_t n);
  // Renders the text exposition, with per-workload gauges from `series` and store totals.
  std::string Render(const std::vector<SeriesView>& series, uint64_t store_bytes);

 private:
  std::mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* uploads_;
  prometheus::Counter *analyzed_ok_, *analyzed_failed_;
  prometheus::Family<prometheus::Counter>* parses_;
  prometheus::Histogram* duration_;
  prometheus::Gauge *queue_depth_, *store_bytes_, *series_;
  prometheus::Family<prometheus::Gauge>*heap_, *suspect_, *growth_;
  std::vector<std::pair<prometheus::Family<prometheus::Gauge>*, prometheus::Gauge*>> per_workload_;
};

}  // namespace oomscope::analyzer
