#pragma once

#include <optional>
#include <vector>

#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/digest.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/report.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

struct SuspectOptions {
  size_t max_suspects = 10;
  // An owner is reported when it grows monotonically across the series by at least one of:
  uint64_t min_growth_bytes = 32 * 1024;  // retained bytes not explained by a growing child
  double min_growth_heap_fraction = 0.0005;  // ... and at least this share of the heap
  uint32_t min_entry_growth = 64;  // or entries added to a collection
};

// Leak suspects from a series: `earlier` are the digests of snapshots 1..n-1, the last snapshot
// comes whole. Two signals, joined by owner:
//  - growing owners: objects present in every snapshot whose retained size or entry count grows
//    monotonically; the deepest such object in the dominator tree is the owner;
//  - accumulating allocations (memlab's baseline/target/final): objects born after the first
//    snapshot and alive in every later one, clustered under their nearest pre-existing dominator.
// An owner must grow to be reported, so a bounded cache that churns is not a leak.
// The last snapshot's dominator tree is built here first, into `tree`, and g.dominator freed
// while the tree stands in for it, so that the tree, the dominator array and the first step's
// per-node arrays never add up at the peak. The tree is left there: a caller that needs the
// array again reads it back (DominatorsFromTree). (With no earlier snapshot, nothing changes.)
// `read_error`, when given, gets what went wrong reading a spilled digest (see DigestCursor):
// the suspects are then incomplete. `last_by_id`: OrdinalsById(last), when the caller has it
// (the series' class diff sorted it); sorted here otherwise. Freed once read.
std::vector<Suspect> FindSuspects(const std::vector<const SnapshotDigest*>& earlier,
                                  const Snapshot& last, Graph& g, DominatorTree& tree,
                                  const std::vector<std::optional<double>>& capture_times,
                                  const SuspectOptions& options, std::string* read_error = nullptr,
                                  std::vector<NodeOrdinal> last_by_id = {});

}  // namespace oomscope::heap
