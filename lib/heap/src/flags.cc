#include "oomscope/common/allocator.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {

void BuildFlags(const Snapshot& snap, Graph& g) {
  const uint32_t n = snap.node_count();
  g.flags = HugeVector<uint8_t>(n, 0);
  std::vector<NodeOrdinal> stack;
  const NodeOrdinal root = snap.root;
  // Entry points: user global objects (shortcut edges from the root) and DOM tree roots.
  for (EdgeOrdinal e = snap.first_edge[root]; e < snap.first_edge[root + 1]; ++e) {
    NodeOrdinal to = snap.edge_to[e];
    EdgeType t = snap.edge_type[e];
    if (t == EdgeType::kElement) {
      if (!(snap.node_type[to] == NodeType::kSynthetic && snap.name(to) == "(Document DOM trees)"))
        continue;
    } else if (t != EdgeType::kShortcut) {
      continue;
    }
    if (g.flags[to] & kPageObject) continue;
    g.flags[to] |= kPageObject;
    stack.push_back(to);
  }
  while (!stack.empty()) {
    NodeOrdinal v = stack.back();
    stack.pop_back();
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e) {
      NodeOrdinal to = snap.edge_to[e];
      if (g.flags[to] & kPageObject) continue;
      if (snap.edge_type[e] == EdgeType::kWeak) continue;
      g.flags[to] |= kPageObject;
      stack.push_back(to);
    }
  }
}

}  // namespace oomscope::heap
