#include "oomscope/heap/passes.h"

namespace oomscope::heap {

void ComputeDistances(const Snapshot& snap, Graph& g) {
  const uint32_t n = snap.node_count();
  g.distance.assign(n, Graph::kUnreachable);
  std::vector<NodeOrdinal> queue;
  queue.reserve(n);
  g.distance[snap.root] = 0;
  queue.push_back(snap.root);
  for (size_t head = 0; head < queue.size(); ++head) {
    NodeOrdinal v = queue[head];
    uint32_t d = g.distance[v] + 1;
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e) {
      if (!g.IsEssential(e)) continue;
      NodeOrdinal to = snap.edge_to[e];
      if (g.distance[to] != Graph::kUnreachable) continue;
      g.distance[to] = d;
      queue.push_back(to);
    }
  }
}

}  // namespace oomscope::heap
