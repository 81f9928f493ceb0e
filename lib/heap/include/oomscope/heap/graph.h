#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "oomscope/common/progress.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// Per-node flags computed by the passes.
enum NodeFlag : uint8_t {
  kPageObject = 1,  // reachable from a user root (the root's shortcut edges: JS global objects)
};

// Sizes by node ordinal, 32 bits each: a size of 4 GiB or more (an object that retains most of a
// very large heap) goes to a side table, as the snapshot's self sizes and the digests do.
class SizeColumn {
 public:
  SizeColumn() = default;
  explicit SizeColumn(size_t n);  // n zeros
  uint64_t operator[](size_t i) const {
    const uint32_t v = small_[i];
    return v == kBig ? big_.at(static_cast<uint32_t>(i)) : v;
  }
  void Set(size_t i, uint64_t v) {
    if (small_[i] == kBig) big_.erase(static_cast<uint32_t>(i));
    if (v >= kBig) big_[static_cast<uint32_t>(i)] = v;
    small_[i] = static_cast<uint32_t>(std::min<uint64_t>(v, kBig));
  }
  // Set for a value below 2^32 - 1 into an entry that holds one too (as a new column's zeros
  // do): it only writes the entry, so threads may set distinct entries at once.
  void SetSmall(size_t i, uint32_t v) { small_[i] = v; }
  // Asks for entry i's cache line ahead of a Set or a read (loops that go at random over it).
  void Prefetch(size_t i) const { __builtin_prefetch(&small_[i], 1); }
  size_t size() const { return small_.size(); }
  bool empty() const { return small_.empty(); }

 private:
  static constexpr uint32_t kBig = UINT32_MAX;
  std::vector<uint32_t> small_;
  std::unordered_map<uint32_t, uint64_t> big_;
};

// Derived data for one snapshot, in CSR form, all indexed by node ordinal (or edge ordinal for
// `essential`). Built by the passes in passes.h, in this order:
//   BuildFlags -> BuildEssentialEdges -> ComputeDominators (retained sizes come out of it; it
//   builds its own retainers, by DFS number) -> ComputeDistances.
// Immutable after the passes; safe to read from several threads.
struct Graph {
  std::vector<uint8_t> flags;  // by BuildFlags, for BuildEssentialEdges; BuildGraph frees them then
  std::vector<uint64_t> essential;  // bit per edge ordinal: does this edge retain its target?

  // Retainers over essential edges only: the owners of the essential edges into node n are
  // retainer_node[first_retainer[n] .. first_retainer[n+1]). Built by BuildRetainers for
  // callers that want them; BuildGraph leaves them empty, and ComputeDominators releases them
  // (it builds its own, indexed by DFS number, when it needs them).
  std::vector<uint32_t> first_retainer;
  std::vector<NodeOrdinal> retainer_node;

  // BFS from the root over essential edges: `parent` is the node the BFS reached each node from
  // (kNoNode for the root and for nodes held only weakly): following it gives a shortest
  // retaining path, and its length is the node's distance (Distance()). User roots (the root's
  // shortcut edges to global objects) are expanded first, so among equally short paths one
  // through the program's own objects is preferred, as DevTools does. No array of distances is
  // kept: only the few nodes a report shows need theirs.
  static constexpr uint32_t kUnreachable = UINT32_MAX;
  std::vector<NodeOrdinal> parent;

  std::vector<NodeOrdinal> dominator;  // immediate dominator; the root dominates itself
  SizeColumn retained;                 // retained size in bytes

  bool IsEssential(EdgeOrdinal e) const { return (essential[e >> 6] >> (e & 63)) & 1; }
};

// The BFS distance of `n` from the root (the length of its parent chain); kUnreachable for a
// node held only weakly. Precondition: the distances pass ran.
uint32_t Distance(const Snapshot& snap, const Graph& g, NodeOrdinal n);

// From this many edges the passes split their work with a second thread (the edge index, the
// dominators pass); below it the threads' start and hand-offs cost about what they save.
inline constexpr uint32_t kTwoThreadEdges = 1u << 20;

// Runs every pass above on `snap`. `progress` may be null. With `with_distances` false the
// distances are left to the caller (the series analysis runs them beside the class summary,
// ComputeClassSummaryAndDistances in class_summary.h), except on graphs of kLargeGraphEdges
// or more (and fewer than 2^24 nodes), where they always run beside the dominators pass, at no
// cost in time. `beside`, when given, is more work that reads the snapshot only: it runs on the
// dominators pass's second thread (after the distances there, on those large graphs). From
// `defer_page_rule_min_edges` edges the page rule of the essential edges is applied during the
// dominators pass (ComputeDominators' page_rule); the result is the same either way.
Graph BuildGraph(const Snapshot& snap, Progress* progress, bool with_distances = true,
                 const std::function<void()>& beside = {}, uint32_t defer_page_rule_min_edges = kTwoThreadEdges);

}  // namespace oomscope::heap
