#include "metrics.h"

#include <prometheus/text_serializer.h>

namespace oomscope::op {

Metrics::Metrics() : registry(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  ooms_seen = &BuildCounter()
                   .Name("oomscope_operator_ooms_seen_total")
                   .Help("OOMKilled containers seen in opted-in Deployments (each pod restart once).")
                   .Register(*registry)
                   .Add({});
  recipes_applied = &BuildCounter()
                         .Name("oomscope_operator_recipes_applied_total")
                         .Help("Debugging recipes applied to a Deployment.")
                         .Register(*registry)
                         .Add({});
  restores = &BuildCounter()
                  .Name("oomscope_operator_restores_total")
                  .Help("Deployments restored, by reason: completed, ttl, opted_out, deleted.")
                  .Register(*registry);
  for (const char* r : {"completed", "ttl", "opted_out", "deleted"}) restores->Add({{"reason", r}});
  in_progress = &BuildGauge()
                     .Name("oomscope_operator_diagnoses_in_progress")
                     .Help("HeapDiagnoses neither Completed nor Failed.")
                     .Register(*registry)
                     .Add({});
  diagnoses = &BuildCounter()
                   .Name("oomscope_operator_diagnoses_total")
                   .Help("HeapDiagnoses finished, by phase: Completed, Failed.")
                   .Register(*registry);
  for (const char* p : {"Completed", "Failed"}) diagnoses->Add({{"phase", p}});
  reconciles = &BuildCounter()
                    .Name("oomscope_reconcile_total")
                    .Help("Reconciles, by result: success, error, requeue.")
                    .Register(*registry);
  for (const char* r : {"success", "error", "requeue"}) reconciles->Add({{"result", r}});
  reconcile_duration = &BuildHistogram()
                            .Name("oomscope_reconcile_duration_seconds")
                            .Help("Time to observe, plan and apply one reconcile.")
                            .Register(*registry)
                            .Add({}, Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                 0.5, 1, 2.5, 5, 10});
  watch_restarts = &BuildCounter()
                        .Name("oomscope_operator_watch_restarts_total")
                        .Help("Watches restarted, by resource and reason: dropped (resumed), gone (410: relisted).")
                        .Register(*registry);
  api_errors = &BuildCounter()
                    .Name("oomscope_operator_api_errors_total")
                    .Help("Kubernetes API calls that failed, by HTTP code (0: no answer).")
                    .Register(*registry);
  leader = &BuildGauge()
                .Name("oomscope_operator_leader")
                .Help("1 while this replica leads (or leader election is off).")
                .Register(*registry)
                .Add({});
}

std::string Metrics::Render() const { return prometheus::TextSerializer().Serialize(registry->Collect()); }

}  // namespace oomscope::op
