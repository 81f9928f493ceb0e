#pragma once

// The graph passes, one per file, each a free function over flat arrays. BuildGraph() in
// graph.h runs them in order; tests call them one by one.

#include <functional>
#include <vector>

#include "oomscope/common/progress.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// flags.cc: marks kPageObject on everything reachable over non-weak edges from the root's
// shortcut edges (V8 adds one from the root to each user global object) and from
// "(Document DOM trees)" roots, as DevTools' markPageOwnedNodes.
void BuildFlags(const Snapshot& snap, Graph& g);

// essential.cc: decides, once, which edges retain their target (DevTools' isEssentialEdge).
// `table_of_name` (optional, one entry per string, initialized to -2) caches a per-name test.
bool IsEssentialEdge(const Snapshot& snap, const Graph& g, NodeOrdinal from, EdgeOrdinal e,
                     std::vector<int64_t>* table_of_name = nullptr);
// Marks g.essential by IsEssentialEdge, the flags built.
void BuildEssentialEdges(const Snapshot& snap, Graph& g);
// The flags and the essential edges together, as BuildFlags then BuildEssentialEdges; with
// `parallel_min_edges` edges or more the flags' search runs on a second thread beside the
// rules that do not need the flags.
void BuildEdgeIndex(const Snapshot& snap, Graph& g, uint32_t parallel_min_edges = kTwoThreadEdges);
// BuildEdgeIndex in two steps, for a caller that runs the flags' search later: g.essential by
// every rule but the page one (on two threads, cut at a word, when `two_threads`), then
// ApplyPageRule, the flags built, which clears the edges out of objects outside the page into
// it. It clears with atomic operations: another thread may read the bits meanwhile, as long as
// it reads them atomically too and needs only those of edges out of the page's objects (which
// it never clears).
void MarkEdgesButPageRule(const Snapshot& snap, Graph& g, bool two_threads);
void ApplyPageRule(const Snapshot& snap, Graph& g);

// retainers.cc: reverse CSR over essential edges.
void BuildRetainers(const Snapshot& snap, Graph& g);

// distances.cc: BFS from the root over essential edges.
void ComputeDistances(const Snapshot& snap, Graph& g);

// dominators.cc: immediate dominators (Lengauer–Tarjan) and retained sizes. `beside`, when
// given, runs on a second thread, on graphs of 2^20 edges or more as soon as that thread has
// found which nodes have an essential retainer (early in the DFS: from there to the end of the
// pass one thread is busy and the other idle), otherwise from the end of the DFS; it must
// read only the snapshot and the essential edges, and leave g.dominator and g.retained alone
// (the distances pass does). On the same graphs, the semidominator search over the retainers
// of a node with `shared_min_retainers` or more of them (a hidden class's instances) is shared
// with a second thread once the first is done; the result does not depend on it.
inline constexpr uint32_t kSharedScanMinRetainers = 1u << 14;
// `page_rule`, when given, completes the essential edges (BuildFlags, then ApplyPageRule): the
// caller marked them without the page rule (MarkEdgesButPageRule). On graphs of kTwoThreadEdges
// or more it runs first on the second thread, while the DFS goes through the page's objects, which
// it reaches from the root's shortcut edges first; otherwise on this thread, at that point.
void ComputeDominators(const Snapshot& snap, Graph& g, Progress* progress,
                       const std::function<void()>& beside = {},
                       uint32_t shared_min_retainers = kSharedScanMinRetainers,
                       const std::function<void()>& page_rule = {});

// From this many edges (a 150 MB snapshot) the passes spend memory on speed where the peak RSS
// has room: below it, at 30 MB, the peak is within 1% of the file and nothing gains much.
inline constexpr uint32_t kLargeGraphEdges = 1u << 22;

}  // namespace oomscope::heap
