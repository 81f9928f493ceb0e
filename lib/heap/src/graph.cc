#include "oomscope/heap/graph.h"

#include "oomscope/common/allocator.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {

SizeColumn::SizeColumn(size_t n) : small_(HugeVector<uint32_t>(n, 0)) {}

Graph BuildGraph(const Snapshot& snap, Progress* progress, bool with_distances,
                 const std::function<void()>& beside, uint32_t defer_page_rule_min_edges) {
  Graph g;
  if (progress) progress->Begin("edge index", 0);
  // Every rule but the page one is applied here (on two threads from kTwoThreadEdges), and the
  // page's flags, a search through the whole heap, are found on the dominators pass's second
  // thread while its DFS goes through the page's objects (ComputeDominators' page_rule). At
  // 300 MB the search took as long as the rules (45 and 38 ms), beside them.
  std::function<void()> page_rule;
  if (snap.edge_count() >= defer_page_rule_min_edges) {
    MarkEdgesButPageRule(snap, g, snap.edge_count() >= kTwoThreadEdges);
    page_rule = [&] {
      BuildFlags(snap, g);
      ApplyPageRule(snap, g);
      std::vector<uint8_t>().swap(g.flags);  // they only decide which edges retain
    };
  } else {
    BuildEdgeIndex(snap, g);
    std::vector<uint8_t>().swap(g.flags);
  }
  if (progress) progress->End();
  // The retainers are built inside ComputeDominators, by DFS number, after its DFS. On large
  // graphs the BFS runs beside it, on its second thread, idle otherwise from early in the DFS
  // on (at 300 MB: the class summary 40-50 ms shorter, which waited for the BFS, for 0.03 of
  // the file more at the peak). Not from 2^24 nodes, where the pass's columns take 4 bytes an
  // entry, not 3: its peak is then 0.91 of the file, and 0.98 with the BFS beside (2 GB).
  if (snap.edge_count() >= kLargeGraphEdges && snap.node_count() < (1u << 24)) {
    ComputeDominators(
        snap, g, progress,
        [&] {
          ComputeDistances(snap, g);
          if (beside) beside();
        },
        kSharedScanMinRetainers, page_rule);
    return g;
  }
  ComputeDominators(snap, g, progress, beside, kSharedScanMinRetainers, page_rule);
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
