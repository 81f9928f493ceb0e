#pragma once

#include <cstdint>
#include <string>

#include "oomscope/common/status.h"
#include "store.h"

namespace oomscope::analyzer {

// Keeps the store within its bounds: series not updated for `max_age_seconds` go, and when an
// upload needs room under `max_bytes`, the oldest series (least recently updated) go first.
class Retention {
 public:
  Retention(SnapshotStore& store, double max_age_seconds, uint64_t max_bytes)
      : store_(store), max_age_(max_age_seconds), max_bytes_(max_bytes) {}

  // Deletes series older than the age bound; returns how many.
  int EnforceAge(double now);
  // Frees room for `bytes` more under the byte bound, never deleting `keep` (the series the
  // upload joins). ResourceExhausted when it cannot: the store is full.
  Status MakeRoom(uint64_t bytes, const std::string& keep);
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  SnapshotStore& store_;
  double max_age_;
  uint64_t max_bytes_;
};

}  // namespace oomscope::analyzer
