#include "series_view.h"

#include <algorithm>
#include <chrono>

namespace oomscope::analyzer {

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

nlohmann::json SeriesView::ToJson() const {
  nlohmann::json j = {{"id", id},
                      {"namespace", ns},
                      {"workload", workload},
                      {"pod", pod},
                      {"container", container},
                      {"created_at", created_at},
                      {"updated_at", updated_at},
                      {"snapshots", snapshots},
                      {"analyzed", analyzed},
                      {"failed", failed},
                      {"series_length", series_length},
                      {"state", state},
                      {"report_url", "/v1/series/" + id + "/report.html"}};
  if (ended_short) j["ended_short"] = true;
  if (!error.empty()) j["error"] = error;
  if (summary && !summary->top_suspects.empty()) j["top_suspect"] = summary->top_suspects.at(0);
  if (summary) j["heap_bytes"] = summary->heap_bytes;
  return j;
}

std::optional<SeriesView> ViewSeries(const SnapshotStore& store, const std::string& id, double now,
                                     double quiet_seconds) {
  std::vector<SnapshotRecord> recs = store.SeriesSnapshots(id);
  if (recs.empty()) return std::nullopt;
  SeriesView v;
  v.id = id;
  v.created_at = recs.front().received_at;
  int pending = 0;
  std::string last_error;
  for (const SnapshotRecord& r : recs) {
    v.created_at = std::min(v.created_at, r.received_at);
    v.updated_at = std::max(v.updated_at, r.received_at);
    // The newest snapshot's metadata names the series (a pod restarts under a new name).
    if (v.ns.empty() || r.received_at >= v.updated_at) {
      v.ns = r.meta("namespace");
      v.workload = r.meta("workload");
      v.pod = r.meta("pod");
      v.container = r.meta("container");
    }
    auto len = r.metadata.find("series_length");
    if (len != r.metadata.end() && len->is_number_integer()) v.series_length = std::max(v.series_length, len->get<int64_t>());
    if (r.state == "pending") ++pending;
    if (r.state == "failed") {
      ++v.failed;
      last_error = "snapshot " + r.id + ": " + r.error;
    }
  }
  v.snapshots = static_cast<int>(recs.size());
  v.summary = store.Summary(id);
  if (v.summary) v.analyzed = static_cast<int>(v.summary->analyzed.size());
  if (pending > 0) {
    v.state = "analyzing";
  } else if (v.failed == v.snapshots || (v.summary && !v.summary->error.empty())) {
    v.state = "failed";
    v.error = v.summary && !v.summary->error.empty() ? v.summary->error : last_error;
  } else if (v.series_length > 0) {
    // A timed series whose next snapshot is overdue ends as it is: 3 of its usual gaps (capture
    // and upload included) with nothing new, at least a minute and at most --series-quiet. It
    // needs two snapshots: one names no growth.
    const double gap = v.snapshots > 1 ? (v.updated_at - v.created_at) / (v.snapshots - 1) : 0;
    const bool overdue = v.snapshots >= 2 && now - v.updated_at >= std::min(quiet_seconds, std::max(60.0, 3 * gap));
    v.ended_short = v.snapshots < v.series_length && overdue;
    v.state = v.snapshots >= v.series_length || v.ended_short ? "complete" : "collecting";
  } else {
    v.state = now - v.updated_at >= quiet_seconds ? "complete" : "collecting";
  }
  if (v.error.empty() && v.failed > 0) v.error = last_error;
  return v;
}

std::vector<SeriesView> ViewAllSeries(const SnapshotStore& store, double now, double quiet_seconds) {
  std::vector<SeriesView> out;
  for (const std::string& id : store.SeriesIds())
    if (auto v = ViewSeries(store, id, now, quiet_seconds)) out.push_back(std::move(*v));
  std::sort(out.begin(), out.end(), [](const SeriesView& a, const SeriesView& b) { return a.updated_at > b.updated_at; });
  return out;
}

}  // namespace oomscope::analyzer
