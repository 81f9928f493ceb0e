#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace oomscope::op {

// The operator's metrics (contracts.md, docs/metrics.md). Thread-safe (prometheus-cpp's types are).
struct Metrics {
  Metrics();
  std::string Render() const;  // Prometheus text format

  prometheus::Counter& RestoresTotal(const std::string& reason) { return restores->Add({{"reason", reason}}); }
  prometheus::Counter& DiagnosesTotal(const std::string& phase) { return diagnoses->Add({{"phase", phase}}); }
  prometheus::Counter& ReconcileTotal(const std::string& result) { return reconciles->Add({{"result", result}}); }
  prometheus::Counter& WatchRestarts(const std::string& resource, const std::string& reason) {
    return watch_restarts->Add({{"resource", resource}, {"reason", reason}});
  }
  prometheus::Counter& ApiErrors(int code) { return api_errors->Add({{"code", std::to_string(code)}}); }

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Counter* ooms_seen;
  prometheus::Counter* recipes_applied;
  prometheus::Family<prometheus::Counter>* restores;
  prometheus::Gauge* in_progress;
  prometheus::Family<prometheus::Counter>* diagnoses;
  prometheus::Family<prometheus::Counter>* reconciles;
  prometheus::Histogram* reconcile_duration;
  prometheus::Family<prometheus::Counter>* watch_restarts;
  prometheus::Family<prometheus::Counter>* api_errors;
  prometheus::Gauge* leader;
};

}  // namespace oomscope::op
