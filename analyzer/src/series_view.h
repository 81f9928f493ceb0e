#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store.h"

namespace oomscope::analyzer {

// A series as the API shows it (contracts.md): identity from its snapshots' metadata, state from
// their analysis, top suspect from the summary.
struct SeriesView {
  std::string id, ns, workload, pod, container;
  double created_at = 0, updated_at = 0;
  int snapshots = 0, analyzed = 0, failed = 0;
  int64_t series_length = 0;
  std::string state;  // collecting | analyzing | complete | failed
  // Complete with fewer than series_length snapshots: the next one never came (the sidecar
  // skipped it for lack of headroom, the pod went away), so the series is analyzed as it is.
  bool ended_short = false;
  std::string error;
  std::optional<SeriesSummary> summary;

  nlohmann::json ToJson() const;
};

// nullopt when the series has no snapshot stored.
std::optional<SeriesView> ViewSeries(const SnapshotStore& store, const std::string& id, double now,
                                     double quiet_seconds);
// Every series, newest update first.
std::vector<SeriesView> ViewAllSeries(const SnapshotStore& store, double now, double quiet_seconds);

double Now();  // unix seconds

}  // namespace oomscope::analyzer
