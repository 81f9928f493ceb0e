#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "oomscope/heap/graph.h"
#include "oomscope/heap/passes.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// The class of a node as DevTools' Summary names it: the constructor name for objects and
// native nodes ("Array", "Map", "Foo"; "<div>" for "<div id=a>"), "Function" for closures,
// "(system)" for hidden nodes, "(compiled code)", "RegExp", and "(string)", "(array)", ...
// for the other types.
std::string ClassName(const Snapshot& snap, NodeOrdinal n);

// Interns class names: one small integer per distinct name, shared across the snapshots of a
// series so that classes compare by id. Not thread-safe.
class ClassTable {
 public:
  uint32_t Intern(std::string_view name);
  const std::string& name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
};

// The dominator tree as CSR: the nodes immediately dominated by n are
// children[first_child[n] .. first_child[n+1]). Both in 3 bytes an entry below 2^24 nodes
// (PackedColumn): the tree lives beside the snapshot, the retained sizes and the distances, at
// the analysis's peak.
struct DominatorTree {
  PackedColumn first_child;
  PackedColumn children;
};
DominatorTree BuildDominatorTree(const Snapshot& snap, const Graph& g);
// The immediate dominator of every node, read back from the tree (the root dominates itself):
// equal to the Graph::dominator the tree was built from, which may be freed meanwhile. Consumes
// the tree, freeing its offsets before the result is allocated: the two never coexist whole.
std::vector<NodeOrdinal> DominatorsFromTree(const Snapshot& snap, DominatorTree&& t);

// Visits every node reachable in the dominator tree from the root in preorder (a dominator
// before the nodes it dominates), iteratively. on_enter(n) runs when n is reached, on_exit(n)
// after its whole subtree. ahead(n) is called for a node a few siblings before it is entered,
// to prefetch what on_enter will read of it (most nodes are leaves, so the next siblings come
// soon); the walk prefetches its own reads (the node's children) with it.
// WalkDominatorSubtree visits the subtree of `start` the same way.
template <typename Enter, typename Exit, typename Ahead>
void WalkDominatorSubtree(const DominatorTree& t, NodeOrdinal start, Enter&& on_enter, Exit&& on_exit,
                          Ahead&& ahead) {
  struct Frame {
    NodeOrdinal node;
    uint32_t next;
  };
  constexpr uint32_t kAhead = 4;
  std::vector<Frame> stack;
  stack.push_back({start, t.first_child[start]});
  on_enter(start);
  while (!stack.empty()) {
    Frame& f = stack.back();
    const uint32_t end = t.first_child[f.node + 1];
    if (f.next < end) {
      if (f.next + kAhead < end) {
        const NodeOrdinal later = t.children[f.next + kAhead];
        t.first_child.Prefetch(later);
        ahead(later);
      }
      NodeOrdinal c = t.children[f.next++];
      on_enter(c);
      const uint32_t first = t.first_child[c];
      t.children.Prefetch(first);
      stack.push_back({c, first});
    } else {
      on_exit(f.node);
      stack.pop_back();
    }
  }
}

template <typename Enter, typename Exit, typename Ahead>
void WalkDominatorTree(const Snapshot& snap, const DominatorTree& t, Enter&& on_enter, Exit&& on_exit,
                       Ahead&& ahead) {
  WalkDominatorSubtree(t, snap.root, on_enter, on_exit, ahead);
}

template <typename Enter, typename Exit>
void WalkDominatorTree(const Snapshot& snap, const DominatorTree& t, Enter&& on_enter, Exit&& on_exit) {
  WalkDominatorTree(snap, t, on_enter, on_exit, [](NodeOrdinal) {});
}

struct ClassStats {
  uint32_t class_id = 0;
  uint64_t count = 0;
  uint64_t self_size = 0;
  uint64_t retained_size = 0;  // of the instances not dominated by another instance of the class
};

// Each node's class id, interning the names in `classes` (what ComputeClassSummary gives in
// `node_class`; the same ids again once the names are interned).
std::vector<uint32_t> NodeClasses(const Snapshot& snap, ClassTable& classes);

// Per-class totals as DevTools' Summary view computes them (nodes of self size 0 are left out).
// `node_class` receives each node's class id. Sorted by retained size, largest first.
std::vector<ClassStats> ComputeClassSummary(const Snapshot& snap, const Graph& g,
                                            const DominatorTree& tree, ClassTable& classes,
                                            std::vector<uint32_t>* node_class);
// The same, and the distances pass (ComputeDistances) unless it ran already (g.parent filled:
// BuildGraph runs it beside the dominators on large graphs), the way an analysis runs them: the
// BFS on a second thread while this one builds the dominator tree and the summary walks it. Below
// `keep_dominators_min_edges` edges the dominator array is freed meanwhile (the tree stands in
// for it), so that this step stays below the dominators pass's own peak, and read back from the
// tree after; or, with `tree_out`, the tree is handed over instead and g.dominator stays empty
// (DominatorsFromTree reads it back when it is wanted). Larger graphs keep the array, and the
// tree is freed before this returns. `then`, when given, runs on the second thread (the summary
// takes longer) while the dominator array is still there: it may read the snapshot, the
// retained sizes and the dominators.
std::vector<ClassStats> ComputeClassSummaryAndDistances(const Snapshot& snap, Graph& g, ClassTable& classes,
                                                        std::vector<uint32_t>* node_class,
                                                        const std::function<void()>& then = {},
                                                        uint32_t keep_dominators_min_edges = kLargeGraphEdges,
                                                        DominatorTree* tree_out = nullptr);

}  // namespace oomscope::heap
