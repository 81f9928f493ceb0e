#pragma once

#include <memory>
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

// Where an upload's parse goes: the analysis queue.
class ParseHandoff {
 public:
  virtual ~ParseHandoff() = default;
  // Keeps the parse for the analysis of its snapshot. Called BEFORE the snapshot is committed,
  // so that an analysis that sees it stored also finds its parse (and does not parse it again).
  // Returns what Drop takes.
  virtual const ParsedSnapshot* Hold(std::unique_ptr<ParsedSnapshot> parsed) = 0;
  // The snapshot was not committed after all: lets the parse go, unless taken meanwhile.
  virtual void Drop(const std::string& id, const ParsedSnapshot* held) = 0;
  // The snapshot is committed: queues its series.
  virtual void Stored(const std::string& series) = 0;
};

}  // namespace oomscope::analyzer
