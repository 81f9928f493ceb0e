#pragma once

#include <cstdint>
#include <vector>

#include "oomscope/common/progress.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// Per-node flags computed by the passes.
enum NodeFlag : uint8_t {
  kPageObject = 1,  // reachable from a user root (the root's shortcut edges: JS global objects)
};

// Derived data for one snapshot, in CSR form, all indexed by node ordinal (or edge ordinal for
// `essential`). Built by the passes in passes.h, in this order:
//   BuildFlags -> BuildEssentialEdges -> ComputeDominators (retained sizes come out of it; it
//   builds its own retainers, by DFS number) -> ComputeDistances.
// Immutable after the passes; safe to read from several threads.
struct Graph {
  std::vector<uint8_t> flags;  // by BuildFlags, for BuildEssentialEdges; BuildGraph frees them then
  std::vector<uint64_t> essential;  // bit per edge ordinal: does this edge retain its target?

  // Retainers over essential edges only: the owners of the essential edges into node n are
  // retainer_node[first_retainer[n] .. first_retainer[n+1]). Built by BuildRetainers for
  // callers that want them; BuildGraph leaves them empty, and ComputeDominators releases them
  // (it builds its own, indexed by DFS number, when it needs them).
  std::vector<uint32_t> first_retainer;
  std::vector<NodeOrdinal> retainer_node;

  // BFS distance from the root over essential edges; kUnreachable for nodes held only weakly.
  // `parent` is the node the BFS reached each node from (kNoNode for the root and unreachable
  // nodes): following it gives a shortest retaining path. User roots (the root's shortcut edges
  // to global objects) are expanded first, so among equally short paths one through the
  // program's own objects is preferred, as DevTools does.
  static constexpr uint32_t kUnreachable = UINT32_MAX;
  std::vector<uint32_t> distance;
  std::vector<NodeOrdinal> parent;

  std::vector<NodeOrdinal> dominator;  // immediate dominator; the root dominates itself
  std::vector<uint64_t> retained;      // retained size in bytes

  bool IsEssential(EdgeOrdinal e) const { return (essential[e >> 6] >> (e & 63)) & 1; }
  uint64_t MemoryBytes() const;
};

// Runs every pass above on `snap`. `progress` may be null. With `with_distances` false the
// distances are left for the caller to compute (RunDistances) when it has freed other arrays:
// the series analysis does so after the class summary, so that distances and the dominator
// tree are never held at once.
Graph BuildGraph(const Snapshot& snap, Progress* progress, bool with_distances = true);
void RunDistances(const Snapshot& snap, Graph& g, Progress* progress);

}  // namespace oomscope::heap
