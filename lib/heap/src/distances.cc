#include "oomscope/heap/passes.h"

namespace oomscope::heap {

void ComputeDistances(const Snapshot& snap, Graph& g) {
  const uint32_t n = snap.node_count();
  g.distance.assign(n, Graph::kUnreachable);
  g.parent.assign(n, kNoNode);
  std::vector<NodeOrdinal> queue;
  queue.reserve(n);
  const NodeOrdinal root = snap.root;
  g.distance[root] = 0;
  // Level 1 in two passes: user roots (shortcut edges to global objects) first.
  for (int pass = 0; pass < 2; ++pass) {
    for (EdgeOrdinal e = snap.first_edge[root]; e < snap.first_edge[root + 1]; ++e) {
      if (!g.IsEssential(e)) continue;
      if ((snap.edge_type[e] == EdgeType::kShortcut) != (pass == 0)) continue;
      NodeOrdinal to = snap.edge_to[e];
      if (g.distance[to] != Graph::kUnreachable) continue;
      g.distance[to] = 1;
      g.parent[to] = root;
      queue.push_back(to);
    }
  }
  for (size_t head = 0; head < queue.size(); ++head) {
    NodeOrdinal v = queue[head];
    uint32_t d = g.distance[v] + 1;
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e) {
      if (!g.IsEssential(e)) continue;
      NodeOrdinal to = snap.edge_to[e];
      if (g.distance[to] != Graph::kUnreachable) continue;
      g.distance[to] = d;
      g.parent[to] = v;
      queue.push_back(to);
    }
  }
}

}  // namespace oomscope::heap
