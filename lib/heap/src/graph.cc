#include "oomscope/heap/graph.h"

#include "oomscope/common/allocator.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {

SizeColumn::SizeColumn(size_t n) : small_(HugeVector<uint32_t>(n, 0)) {}

Graph BuildGraph(const Snapshot& snap, Progress* progress, bool with_distances) {
  Graph g;
  if (progress) progress->Begin("edge index", 0);
  BuildEdgeIndex(snap, g);
  // The flags only decide which edges retain: a byte per node less from here on.
  std::vector<uint8_t>().swap(g.flags);
  if (progress) progress->End();
  // The retainers are built inside ComputeDominators, by DFS number, after its DFS.
  ComputeDominators(snap, g, progress);
  if (with_distances) {
    if (progress) progress->Begin("distances", 0);
    ComputeDistances(snap, g);
    if (progress) progress->End();
  }
  return g;
}

uint32_t Distance(const Snapshot& snap, const Graph& g, NodeOrdinal n) {
  uint32_t d = 0;
  for (; n != snap.root; n = g.parent[n]) {
    if (g.parent[n] == kNoNode) return Graph::kUnreachable;
    ++d;
  }
  return d;
}

}  // namespace oomscope::heap
