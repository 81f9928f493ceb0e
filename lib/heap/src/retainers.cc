#include "oomscope/heap/passes.h"

namespace oomscope::heap {

void BuildRetainers(const Snapshot& snap, Graph& g) {
  const uint32_t n = snap.node_count();
  g.first_retainer.assign(static_cast<size_t>(n) + 1, 0);
  // Count, prefix-sum, fill: two passes over the edges, no per-node allocations.
  for (NodeOrdinal v = 0; v < n; ++v)
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e)
      if (g.IsEssential(e)) ++g.first_retainer[snap.edge_to[e] + 1];
  for (uint32_t i = 1; i <= n; ++i) g.first_retainer[i] += g.first_retainer[i - 1];
  g.retainer_node.assign(g.first_retainer[n], 0);
  std::vector<uint32_t> fill(g.first_retainer.begin(), g.first_retainer.end() - 1);
  for (NodeOrdinal v = 0; v < n; ++v)
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e)
      if (g.IsEssential(e)) g.retainer_node[fill[snap.edge_to[e]]++] = v;
}

}  // namespace oomscope::heap
