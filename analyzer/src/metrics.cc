#include "metrics.h"

#include <map>
#include <set>

#include <prometheus/text_serializer.h>

namespace oomscope::analyzer {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  uploads_ = &BuildCounter().Name("oomscope_analyzer_uploads_total").Help("Snapshot uploads, by result.").Register(*registry_);
  for (const char* r : {"stored", "duplicate", "rejected", "unauthorized", "too_large", "store_full"}) uploads_->Add({{"result", r}});
  auto& analyzed = BuildCounter().Name("oomscope_analyzer_snapshots_analyzed_total").Help("Snapshots analyzed, by result.").Register(*registry_);
  analyzed_ok_ = &analyzed.Add({{"result", "ok"}});
  analyzed_failed_ = &analyzed.Add({{"result", "failed"}});
  parses_ = &BuildCounter()
                  .Name("oomscope_analyzer_snapshot_parses_total")
                  .Help("Snapshots parsed, by stage: each is parsed once, while uploaded, unless resumed from the store.")
                  .Register(*registry_);
  for (const char* s : {"upload", "analysis"}) parses_->Add({{"stage", s}});
  duration_ = &BuildHistogram()
                   .Name("oomscope_analyzer_analysis_duration_seconds")
                   .Help("Time to analyze a series after a snapshot joined it.")
                   .Register(*registry_)
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600});
  queue_depth_ = &BuildGauge().Name("oomscope_analyzer_queue_depth").Help("Series waiting for or under analysis.").Register(*registry_).Add({});
  store_bytes_ = &BuildGauge().Name("oomscope_analyzer_store_bytes").Help("Snapshot bytes in the store.").Register(*registry_).Add({});
  series_ = &BuildGauge().Name("oomscope_analyzer_series").Help("Series in the store.").Register(*registry_).Add({});
  heap_ = &BuildGauge().Name("oomscope_analyzer_heap_bytes").Help("Heap size of the workload's latest analyzed snapshot.").Register(*registry_);
  suspect_ = &BuildGauge()
                  .Name("oomscope_analyzer_suspect_retained_bytes")
                  .Help("Bytes retained by the workload's top leak suspects (rank 1..5) in its latest analyzed snapshot.")
                  .Register(*registry_);
  growth_ = &BuildGauge()
                 .Name("oomscope_analyzer_growth_bytes_per_second")
                 .Help("Growth rate of the workload's top leak suspect.")
                 .Register(*registry_);
}

void Metrics::Upload(const std::string& result) {
  std::lock_guard<std::mutex> lock(mu_);
  uploads_->Add({{"result", result}}).Increment();
}

void Metrics::Analyzed(bool ok, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  (ok ? analyzed_ok_ : analyzed_failed_)->Increment();
  duration_->Observe(seconds);
}

void Metrics::Parsed(const std::string& stage) {
  std::lock_guard<std::mutex> lock(mu_);
  parses_->Add({{"stage", stage}}).Increment();
}

void Metrics::SetQueueDepth(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_depth_->Set(static_cast<double>(n));
}

std::string Metrics::Render(const std::vector<SeriesView>& series, uint64_t store_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [family, gauge] : per_workload_) family->Remove(gauge);
  per_workload_.clear();
  store_bytes_->Set(static_cast<double>(store_bytes));
  series_->Set(static_cast<double>(series.size()));
  std::set<std::pair<std::string, std::string>> seen;
  for (const SeriesView& v : series) {  // newest first: the first analyzed series of a workload wins
    if (!v.summary || v.summary->analyzed.empty()) continue;
    if (!seen.insert({v.ns, v.workload}).second) continue;
    std::map<std::string, std::string> labels = {{"namespace", v.ns}, {"workload", v.workload}};
    auto add = [&](prometheus::Family<prometheus::Gauge>* f, const std::map<std::string, std::string>& l, double value) {
      prometheus::Gauge* g = &f->Add(l);
      g->Set(value);
      per_workload_.emplace_back(f, g);
    };
    add(heap_, labels, static_cast<double>(v.summary->heap_bytes));
    const nlohmann::json& top = v.summary->top_suspects;
    if (!top.empty()) add(growth_, labels, top[0].value("growth_bytes_per_second", 0.0));
    for (size_t i = 0; i < top.size() && i < 5; ++i) {
      auto l = labels;
      l["rank"] = std::to_string(i + 1);
      l["constructor"] = top[i].value("constructor", "");
      l["name"] = top[i].value("name", "");
      add(suspect_, l, top[i].value("retained_bytes", 0.0));
    }
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace oomscope::analyzer
