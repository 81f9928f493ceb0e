#pragma once

#include <string>

#include "memory_budget.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::analyzer {

// A snapshot the upload parsed, on its way to the analysis queue with the memory reservation
// that pays for it (its parse, its analysis and the digests of its series' earlier snapshots),
// so that the analysis does not parse it again.
struct ParsedSnapshot {
  std::string id, series;
  heap::Snapshot snapshot;
  BudgetLease lease;
};

}  // namespace oomscope::analyzer
