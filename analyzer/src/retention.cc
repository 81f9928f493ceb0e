#include "retention.h"

#include <algorithm>
#include <vector>

#include "oomscope/common/log.h"

namespace oomscope::analyzer {

namespace {
struct Age {
  std::string id;
  double updated_at = 0;
};
std::vector<Age> OldestFirst(const SnapshotStore& store) {
  std::vector<Age> out;
  for (const std::string& id : store.SeriesIds()) {
    Age a{id, 0};
    for (const SnapshotRecord& r : store.SeriesSnapshots(id)) a.updated_at = std::max(a.updated_at, r.received_at);
    out.push_back(a);
  }
  std::sort(out.begin(), out.end(), [](const Age& a, const Age& b) { return a.updated_at < b.updated_at; });
  return out;
}
}  // namespace

int Retention::EnforceAge(double now) {
  int removed = 0;
  for (const Age& a : OldestFirst(store_)) {
    if (now - a.updated_at < max_age_) break;
    if (store_.DeleteSeries(a.id).ok()) {
      ++removed;
      log::Info("series deleted by retention", {{"series", a.id}, {"reason", "age"}});
    }
  }
  return removed;
}

Status Retention::MakeRoom(uint64_t bytes, const std::string& keep) {
  if (max_bytes_ == 0) return Status::Ok();
  if (bytes > max_bytes_)
    return ResourceExhausted("the snapshot (" + std::to_string(bytes) + " bytes) is larger than the store's bound (--retention-bytes " +
                             std::to_string(max_bytes_) + ")");
  for (const Age& a : OldestFirst(store_)) {
    if (store_.TotalBytes() + bytes <= max_bytes_) break;
    if (a.id == keep) continue;
    if (store_.DeleteSeries(a.id).ok())
      log::Info("series deleted by retention", {{"series", a.id}, {"reason", "bytes"}});
  }
  if (store_.TotalBytes() + bytes > max_bytes_)
    return ResourceExhausted("the store is full: " + std::to_string(store_.TotalBytes()) + " of " + std::to_string(max_bytes_) +
                             " bytes (--retention-bytes) are held by the series this snapshot joins; raise the bound or delete series");
  return Status::Ok();
}

}  // namespace oomscope::analyzer
