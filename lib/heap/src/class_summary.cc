#include "oomscope/heap/class_summary.h"

#include <algorithm>
#include <future>
#include <thread>

#include "oomscope/common/allocator.h"
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
  PackedColumn& first = t.first_child;
  first = PackedColumn(static_cast<size_t>(n) + 1, n + 1);
  for (NodeOrdinal o = 0; o < n; ++o) {
    if (o == snap.root) continue;
    const NodeOrdinal d = g.dominator[o] + 1;
    first.Set(d, first.ReadBack(d) + 1);
  }
  uint32_t sum = 0;
  for (uint32_t i = 1; i <= n; ++i) {
    sum += first[i];
    first.Set(i, sum);
  }
  t.children = PackedColumn(first[n], n);
  // Fill with first_child[d] as d's cursor (no second array of n words), then shift back.
  for (NodeOrdinal o = 0; o < n; ++o) {
    if (o == snap.root) continue;
    const NodeOrdinal d = g.dominator[o];
    const uint32_t at = first.ReadBack(d);
    t.children.Set(at, o);
    first.Set(d, at + 1);
  }
  for (uint32_t i = n; i >= 1; --i) first.Set(i, first[i - 1]);
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

// The rest of the totals, given the counts and the dominator tree: each class's retained size,
// then the classes with instances, largest first.
void AddRetainedAndSort(const Snapshot& snap, const Graph& g, const DominatorTree& tree,
                        const std::vector<uint32_t>& cls, std::vector<ClassStats>& stats) {
  // Retained size of a class: the instances with no dominator of the same class (DevTools'
  // calculateClassesRetainedSize); `open[c]` counts the instances of c on the current path.
  std::vector<uint32_t> open(stats.size(), 0);
  WalkDominatorTree(
      snap, tree,
      [&](NodeOrdinal o) {
        if (snap.self_size(o) == 0) return;
        uint32_t c = cls[o];
        if (open[c] == 0) stats[c].retained_size += g.retained[o];
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
  std::erase_if(stats, [](const ClassStats& s) { return s.count == 0; });
  std::sort(stats.begin(), stats.end(), [](const ClassStats& a, const ClassStats& b) {
    return a.retained_size != b.retained_size ? a.retained_size > b.retained_size
                                              : a.class_id < b.class_id;
  });
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
                                                        uint32_t keep_dominators_min_edges) {
  std::vector<uint32_t> local;
  std::vector<uint32_t>& cls = node_class ? *node_class : local;
  // Small graphs free the dominator array while the tree stands in for it and read it back
  // after, so that this step stays below the dominators pass's own peak (at 30 MB the peak has
  // no room to spare). Larger ones keep it: reading it back took 18-27 ms at 300 MB, at the end
  // of the step, and keeping it costs 0.04 of the file in peak RSS (0.84 -> 0.88 at 300 MB,
  // 0.82 -> 0.86 at 1 GB; at 2 GB the peak is elsewhere).
  const bool keep_dominators = snap.edge_count() >= keep_dominators_min_edges;
  std::vector<ClassStats> stats;
  if (keep_dominators && !g.parent.empty()) {
    // The BFS ran beside the dominators (BuildGraph): a second thread assigns and counts the
    // classes while this one builds the tree (13 and 35 ms at 300 MB), then picks the largest
    // objects while this one walks it. The classes by node, allocated first, then live beside
    // the tree and the dominator array, as they do in the walk.
    std::promise<void> counted;
    std::future<void> counted_f = counted.get_future();
    std::jthread other([&] {
      AssignClasses(snap, classes, cls);
      stats = CountClasses(snap, classes, cls);
      counted.set_value();
      if (then) then();
    });
    const DominatorTree tree = BuildDominatorTree(snap, g);
    counted_f.wait();
    AddRetainedAndSort(snap, g, tree, cls, stats);
    return stats;
  }
  {
    // The BFS reads the snapshot and the essential edges and writes g.parent only: it runs
    // beside the tree's build as well as the summary (9 ms less at 300 MB than beside the
    // summary alone). Joined before the dominators are read back, so that its queue is gone
    // when they are allocated.
    std::jthread distances([&] {
      if (g.parent.empty()) ComputeDistances(snap, g);
      if (then) then();
    });
    DominatorTree tree = BuildDominatorTree(snap, g);
    if (!keep_dominators) std::vector<NodeOrdinal>().swap(g.dominator);
    stats = ComputeClassSummary(snap, g, tree, classes, node_class);
    distances.join();
    if (!keep_dominators) g.dominator = DominatorsFromTree(snap, std::move(tree));
  }
  return stats;
}

}  // namespace oomscope::heap
