#include "oomscope/heap/class_summary.h"

#include <algorithm>
#include <atomic>
#include <future>

#include "oomscope/common/allocator.h"
#include "oomscope/common/thread.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {

std::string ClassName(const Snapshot& snap, NodeOrdinal n) {
  switch (snap.node_type[n]) {
    case NodeType::kHidden: return "(system)";
    case NodeType::kObject:
    case NodeType::kNative: {
      std::string_view name = snap.name(n);
      std::string detached;
      if (snap.node_type[n] == NodeType::kNative && !snap.node_detachedness.empty() &&
          snap.node_detachedness[n] == 2) {
        detached = "Detached " + std::string(name);
        name = detached;
      }
      if (name.starts_with('<')) {
        size_t sp = name.find(' ');
        if (sp != std::string_view::npos) return std::string(name.substr(0, sp)) + ">";
      } else if (name.starts_with("Detached <")) {
        size_t sp = name.find(' ', 10);
        if (sp != std::string_view::npos) return std::string(name.substr(0, sp)) + ">";
      }
      return std::string(name);
    }
    case NodeType::kCode: return "(compiled code)";
    case NodeType::kClosure: return "Function";
    case NodeType::kRegExp: return "RegExp";
    default: return "(" + std::string(NodeTypeName(snap.node_type[n])) + ")";
  }
}

uint32_t ClassTable::Intern(std::string_view name) {
  auto it = ids_.find(std::string(name));
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

DominatorTree BuildDominatorTree(const Snapshot& snap, const Graph& g) {
  const uint32_t n = snap.node_count();
  DominatorTree t;
  // Counted and filled in place, 3 bytes an entry: no offsets of 4 bytes beside, which the
  // series' suspects would hold at their peak. Counts and cursors go up at random, and often
  // again at once (siblings and chains are mostly adjacent in node order): ReadBack.
  // The columns are written through local copies of their pointers (PackedColumn::Writer):
  // their byte stores may alias anything, and the compiler would load the pointers again.
  t.first_child = PackedColumn(static_cast<size_t>(n) + 1, n + 1);
  const PackedColumn::Writer first = t.first_child.writer();
  const NodeOrdinal* dominator = g.dominator.data();
  for (NodeOrdinal o = 0; o < n; ++o) {
    if (o == snap.root) continue;
    const NodeOrdinal d = dominator[o] + 1;
    first.Set(d, first.ReadBack(d) + 1);
  }
  uint32_t sum = 0;
  for (uint32_t i = 1; i <= n; ++i) {
    sum += first.ReadBack(i);
    first.Set(i, sum);
  }
  t.children = PackedColumn(sum, n);
  const PackedColumn::Writer children = t.children.writer();
  // Fill with first_child[d] as d's cursor (no second array of n words), then shift back.
  for (NodeOrdinal o = 0; o < n; ++o) {
    if (o == snap.root) continue;
    const NodeOrdinal d = dominator[o];
    const uint32_t at = first.ReadBack(d);
    children.Set(at, o);
    first.Set(d, at + 1);
  }
  for (uint32_t i = n; i >= 1; --i) first.Set(i, first.ReadBack(i - 1));
  first.Set(0, 0);
  return t;
}

std::vector<NodeOrdinal> DominatorsFromTree(const Snapshot& snap, DominatorTree&& t) {
  const uint32_t n = snap.node_count();
  // The offsets become two bits per node: whether a node has children, and whether a child
  // starts its dominator's group. (The children are grouped by dominator, in node order.)
  const size_t m = t.children.size();
  std::vector<uint64_t> has_children((size_t{n} + 63) / 64, 0), group_start(m / 64 + 1, 0);
  for (NodeOrdinal d = 0; d < n; ++d) {
    const uint32_t k = t.first_child[d];
    if (t.first_child[d + 1] == k) continue;
    has_children[d >> 6] |= uint64_t{1} << (d & 63);
    group_start[k >> 6] |= uint64_t{1} << (k & 63);
  }
  t.first_child = PackedColumn();
  std::vector<NodeOrdinal> dominator = HugeVector<NodeOrdinal>(n, snap.root);
  size_t k = 0;
  for (NodeOrdinal d = 0; d < n; ++d) {
    if (!((has_children[d >> 6] >> (d & 63)) & 1)) continue;
    do dominator[t.children[k++]] = d;
    while (k < m && !((group_start[k >> 6] >> (k & 63)) & 1));
  }
  t.children = PackedColumn();
  return dominator;
}

namespace {

// Each node's class id, interning the names in `classes`.
void AssignClasses(const Snapshot& snap, ClassTable& classes, std::vector<uint32_t>& cls) {
  const uint32_t n = snap.node_count();
  cls = HugeVector<uint32_t>(n);
  // Build each class name once: for objects and native nodes the class follows the name (and
  // the DOM link state), for every other type it follows the type alone.
  constexpr uint32_t kUnset = UINT32_MAX;
  std::vector<uint32_t> by_name(snap.strings.size(), kUnset);
  std::unordered_map<StringId, uint32_t> by_detached_name;
  uint32_t by_type[32];
  std::fill(std::begin(by_type), std::end(by_type), kUnset);
  for (NodeOrdinal o = 0; o < n; ++o) {
    const NodeType t = snap.node_type[o];
    uint32_t* slot;
    if (t == NodeType::kObject || t == NodeType::kNative) {
      bool detached = t == NodeType::kNative && !snap.node_detachedness.empty() &&
                      snap.node_detachedness[o] == 2;
      slot = detached ? &by_detached_name.try_emplace(snap.node_name[o], kUnset).first->second
                      : &by_name[snap.node_name[o]];
    } else {
      slot = &by_type[static_cast<size_t>(t) & 31];
    }
    if (*slot == kUnset) *slot = classes.Intern(ClassName(snap, o));
    cls[o] = *slot;
  }
}

// Each class's count and shallow size (of the nodes of self size > 0), given the class ids: the
// part of the totals that needs no dominator tree.
std::vector<ClassStats> CountClasses(const Snapshot& snap, const ClassTable& classes,
                                     const std::vector<uint32_t>& cls) {
  const uint32_t n = snap.node_count();
  std::vector<ClassStats> stats(classes.size());
  for (uint32_t c = 0; c < stats.size(); ++c) stats[c].class_id = c;
  for (NodeOrdinal o = 0; o < n; ++o) {
    uint64_t s = snap.self_size(o);
    if (s == 0) continue;
    ClassStats& st = stats[cls[o]];
    ++st.count;
    st.self_size += s;
  }
  return stats;
}

// Adds to by_class[c] the retained size of each instance of c in the subtree of `start` that
// has no dominator of class c in the subtree nor among the classes `open` counts on entry
// (those of the nodes above `start`; it holds the same counts again on return).
void SumOutermostInstances(const Snapshot& snap, const Graph& g, const DominatorTree& tree,
                           const std::vector<uint32_t>& cls, NodeOrdinal start,
                           std::vector<uint32_t>& open, std::vector<uint64_t>& by_class) {
  // Retained size of a class: the instances with no dominator of the same class (DevTools'
  // calculateClassesRetainedSize); `open[c]` counts the instances of c on the current path.
  WalkDominatorSubtree(
      tree, start,
      [&](NodeOrdinal o) {
        if (snap.self_size(o) == 0) return;
        uint32_t c = cls[o];
        if (open[c] == 0) by_class[c] += g.retained[o];
        ++open[c];
      },
      [&](NodeOrdinal o) {
        if (snap.self_size(o) != 0) --open[cls[o]];
      },
      [&](NodeOrdinal o) {
        __builtin_prefetch(&snap.node_self_size[o]);
        __builtin_prefetch(&cls[o]);
        g.retained.Prefetch(o);
      });
}

// The classes with instances, largest retained size first.
void SortStats(std::vector<ClassStats>& stats) {
  std::erase_if(stats, [](const ClassStats& s) { return s.count == 0; });
  std::sort(stats.begin(), stats.end(), [](const ClassStats& a, const ClassStats& b) {
    return a.retained_size != b.retained_size ? a.retained_size > b.retained_size
                                              : a.class_id < b.class_id;
  });
}

// The rest of the totals, given the counts and the dominator tree: each class's retained size,
// then the classes with instances, largest first.
void AddRetainedAndSort(const Snapshot& snap, const Graph& g, const DominatorTree& tree,
                        const std::vector<uint32_t>& cls, std::vector<ClassStats>& stats) {
  std::vector<uint32_t> open(stats.size(), 0);
  std::vector<uint64_t> by_class(stats.size(), 0);
  SumOutermostInstances(snap, g, tree, cls, snap.root, open, by_class);
  for (size_t c = 0; c < stats.size(); ++c) stats[c].retained_size += by_class[c];
  SortStats(stats);
}

// The dominator tree cut for two walkers: the nodes `above` (the root first, each after its
// dominator) and the subtrees hanging from them, the heaviest first. The heaviest subtree, by
// retained size (which the walk's time roughly follows), is cut into its children's while it
// holds more than 1/kParts of the whole, unless it has too many children or there were
// kMaxCut cuts already. A subtree lighter than that is never cut: it goes straight to the list,
// however many there are (a root with a million unreachable children costs a pass, no heap).
struct TreeCut {
  std::vector<NodeOrdinal> above;
  std::vector<NodeOrdinal> subtrees;
};
TreeCut CutDominatorTree(const Snapshot& snap, const Graph& g, const DominatorTree& tree) {
  constexpr uint64_t kParts = 16;
  constexpr uint32_t kMaxCut = 256, kMaxChildren = 1u << 16;
  constexpr size_t kSorted = 256;  // the heaviest subtrees go first; the rest in tree order
  const uint64_t light = g.retained[snap.root] / kParts;
  auto lighter = [&](NodeOrdinal a, NodeOrdinal b) { return g.retained[a] < g.retained[b]; };
  TreeCut cut;
  std::vector<NodeOrdinal> heavy{snap.root};  // a heap, heaviest on top
  while (!heavy.empty()) {
    const NodeOrdinal top = heavy.front();
    const uint32_t first = tree.first_child[top], end = tree.first_child[top + 1];
    if (top != snap.root && (cut.above.size() >= kMaxCut || end - first > kMaxChildren)) break;
    std::pop_heap(heavy.begin(), heavy.end(), lighter);
    heavy.pop_back();
    cut.above.push_back(top);
    for (uint32_t k = first; k < end; ++k) {
      const NodeOrdinal c = tree.children[k];
      if (g.retained[c] <= light) {
        cut.subtrees.push_back(c);
      } else {
        heavy.push_back(c);
        std::push_heap(heavy.begin(), heavy.end(), lighter);
      }
    }
  }
  cut.subtrees.insert(cut.subtrees.end(), heavy.begin(), heavy.end());
  const size_t sorted = std::min(kSorted, cut.subtrees.size());
  std::partial_sort(cut.subtrees.begin(), cut.subtrees.begin() + static_cast<std::ptrdiff_t>(sorted),
                    cut.subtrees.end(), [&](NodeOrdinal a, NodeOrdinal b) { return lighter(b, a); });
  return cut;
}

// A walker of a TreeCut's subtrees: takes the next ones not taken (`next` counts batches,
// shared by the walkers: one subtree each for the heaviest, then kBatch at a time, so that a
// million small ones are not a million atomic steps) until none is left, with its own open
// counts set for the nodes above each subtree (from g.dominator), and adds to its own sums.
void WalkCutSubtrees(const Snapshot& snap, const Graph& g, const DominatorTree& tree,
                     const std::vector<uint32_t>& cls, const TreeCut& cut, std::atomic<size_t>& next,
                     std::vector<uint64_t>& by_class) {
  constexpr size_t kSingles = 256, kBatch = 256;
  const size_t n = cut.subtrees.size();
  std::vector<uint32_t> open(by_class.size(), 0);
  std::vector<uint32_t> path_classes;
  for (;;) {
    const size_t b = next.fetch_add(1, std::memory_order_relaxed);
    const size_t lo = b < kSingles ? b : kSingles + (b - kSingles) * kBatch;
    if (lo >= n) break;
    const size_t hi = b < kSingles ? lo + 1 : std::min(n, lo + kBatch);
    for (size_t i = lo; i < hi; ++i) {
      const NodeOrdinal start = cut.subtrees[i];
      path_classes.clear();
      for (NodeOrdinal a = g.dominator[start];; a = g.dominator[a]) {
        if (snap.self_size(a) != 0) path_classes.push_back(cls[a]);
        if (a == snap.root) break;
      }
      for (uint32_t c : path_classes) ++open[c];
      SumOutermostInstances(snap, g, tree, cls, start, open, by_class);
      for (uint32_t c : path_classes) --open[c];
    }
  }
}

// The nodes above a TreeCut's subtrees: each counts unless a node above it has its class.
void SumCutAbove(const Snapshot& snap, const Graph& g, const std::vector<uint32_t>& cls, const TreeCut& cut,
                 std::vector<uint64_t>& by_class) {
  for (NodeOrdinal u : cut.above) {
    if (snap.self_size(u) == 0) continue;
    bool outermost = true;
    for (NodeOrdinal a = u; a != snap.root && outermost;) {
      a = g.dominator[a];
      outermost = snap.self_size(a) == 0 || cls[a] != cls[u];
    }
    if (outermost) by_class[cls[u]] += g.retained[u];
  }
}

}  // namespace

std::vector<uint32_t> NodeClasses(const Snapshot& snap, ClassTable& classes) {
  std::vector<uint32_t> cls;
  AssignClasses(snap, classes, cls);
  return cls;
}

std::vector<ClassStats> ComputeClassSummary(const Snapshot& snap, const Graph& g,
                                            const DominatorTree& tree, ClassTable& classes,
                                            std::vector<uint32_t>* node_class) {
  std::vector<uint32_t> local;
  std::vector<uint32_t>& cls = node_class ? *node_class : local;
  AssignClasses(snap, classes, cls);
  std::vector<ClassStats> stats = CountClasses(snap, classes, cls);
  AddRetainedAndSort(snap, g, tree, cls, stats);
  return stats;
}

std::vector<ClassStats> ComputeClassSummaryAndDistances(const Snapshot& snap, Graph& g, ClassTable& classes,
                                                        std::vector<uint32_t>* node_class,
                                                        const std::function<void()>& then,
                                                        uint32_t keep_dominators_min_edges,
                                                        DominatorTree* tree_out) {
  std::vector<uint32_t> local;
  std::vector<uint32_t>& cls = node_class ? *node_class : local;
  // Small graphs free the dominator array while the tree stands in for it, so that this step
  // stays below the dominators pass's own peak (at 30 MB the peak has no room to spare), and
  // read it back after, or hand the tree over (tree_out: a single snapshot's analysis never
  // reads the array again, 2 ms of 30 MB's 83). Larger ones keep it: reading it back took
  // 18-27 ms at 300 MB, at the end of the step, and keeping it costs 0.04 of the file in peak
  // RSS (0.84 -> 0.88 at 300 MB, 0.82 -> 0.86 at 1 GB; at 2 GB the peak is elsewhere).
  const bool keep_dominators = snap.edge_count() >= keep_dominators_min_edges;
  std::vector<ClassStats> stats;
  if (keep_dominators && !g.parent.empty()) {
    // The BFS ran beside the dominators (BuildGraph): a second thread assigns and counts the
    // classes while this one builds the tree (13 and 35 ms at 300 MB), then picks the largest
    // objects while this one walks it. The classes by node, allocated first, then live beside
    // the tree and the dominator array, as they do in the walk.
    // Both then walk the tree for the retained sizes, cut in subtrees (CutDominatorTree).
    std::promise<void> counted, cut_made;
    std::future<void> counted_f = counted.get_future(), cut_made_f = cut_made.get_future();
    DominatorTree tree;
    TreeCut cut;
    std::atomic<size_t> next{0};
    std::vector<uint64_t> mine, theirs;
    {
      Thread other([&] {
        AssignClasses(snap, classes, cls);
        stats = CountClasses(snap, classes, cls);
        theirs.assign(stats.size(), 0);
        counted.set_value();
        if (then) then();
        cut_made_f.wait();
        WalkCutSubtrees(snap, g, tree, cls, cut, next, theirs);
      });
      tree = BuildDominatorTree(snap, g);
      cut = CutDominatorTree(snap, g, tree);
      cut_made.set_value();
      counted_f.wait();
      mine.assign(stats.size(), 0);
      WalkCutSubtrees(snap, g, tree, cls, cut, next, mine);
    }
    SumCutAbove(snap, g, cls, cut, mine);
    for (size_t c = 0; c < stats.size(); ++c) stats[c].retained_size += mine[c] + theirs[c];
    SortStats(stats);
    return stats;
  }
  {
    // The BFS reads the snapshot and the essential edges and writes g.parent only: it runs
    // beside the tree's build as well as the summary (9 ms less at 300 MB than beside the
    // summary alone). Joined before the dominators are read back, so that its queue is gone
    // when they are allocated. `then` runs first on its thread, while the tree is built, so
    // that it can still read the dominator array.
    std::promise<void> then_done;
    std::future<void> then_done_f = then_done.get_future();
    Thread distances([&] {
      if (then) then();
      then_done.set_value();
      if (g.parent.empty()) ComputeDistances(snap, g);
    });
    DominatorTree tree = BuildDominatorTree(snap, g);
    then_done_f.wait();
    if (!keep_dominators) std::vector<NodeOrdinal>().swap(g.dominator);
    stats = ComputeClassSummary(snap, g, tree, classes, node_class);
    distances.join();
    if (!keep_dominators) {
      if (tree_out) *tree_out = std::move(tree);
      else g.dominator = DominatorsFromTree(snap, std::move(tree));
    }
  }
  return stats;
}

}  // namespace oomscope::heap
