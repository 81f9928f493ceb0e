#include <algorithm>
#include <vector>

#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

void PropagateDetachedness(Snapshot& snap) {
  if (snap.node_detachedness.empty()) return;
  // Node.js has no DOM: every state is 0 (unknown). The column then goes, as if V8 had not
  // written it (a byte per node of a snapshot held for the whole analysis).
  if (std::all_of(snap.node_detachedness.begin(), snap.node_detachedness.end(), [](uint8_t d) { return d == 0; })) {
    std::vector<uint8_t>().swap(snap.node_detachedness);
    return;
  }
  const uint32_t n = snap.node_count();
  std::vector<uint8_t> visited(n, 0);
  std::vector<NodeOrdinal> attached, detached;
  // Only embedder nodes take a state; JavaScript objects stop the propagation.
  auto process = [&](NodeOrdinal o, uint8_t state) {
    if (visited[o]) return;
    visited[o] = 1;
    if (snap.node_type[o] != NodeType::kNative) return;
    snap.node_detachedness[o] = state;
    if (state == 1) attached.push_back(o);
    else if (state == 2) detached.push_back(o);
  };
  auto children = [&](NodeOrdinal o, uint8_t state) {
    for (EdgeOrdinal e = snap.first_edge[o]; e < snap.first_edge[o + 1]; ++e) {
      EdgeType t = snap.edge_type[e];
      if (t == EdgeType::kHidden || t == EdgeType::kWeak || t == EdgeType::kUnknownEdge) continue;
      process(snap.edge_to[e], state);
    }
  };
  for (NodeOrdinal o = 0; o < n; ++o)
    if (snap.node_detachedness[o] != 0) process(o, snap.node_detachedness[o]);
  while (!attached.empty()) {
    NodeOrdinal o = attached.back();
    attached.pop_back();
    children(o, 1);
  }
  while (!detached.empty()) {
    NodeOrdinal o = detached.back();
    detached.pop_back();
    if (snap.node_detachedness[o] == 1) continue;
    children(o, 2);
  }
}

}  // namespace oomscope::heap
