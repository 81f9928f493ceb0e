#include <algorithm>
#include <charconv>

#include "oomscope/common/thread.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {
namespace {

// V8 names the edge from a WeakMap's backing table to a value
//   "<n> / part of key (<Class> @<id>) -> value (<Class> @<id>) pair in WeakMap (table @<id>)".
// Returns the table's node id, or -1 when `name` is not such an edge name.
int64_t WeakMapTableId(std::string_view name) {
  static constexpr std::string_view kTail = ") pair in WeakMap (table @";
  if (name.empty() || name.back() != ')') return -1;
  size_t tail = name.rfind(kTail);
  if (tail == std::string_view::npos) return -1;
  if (name.find(" / part of key (") == std::string_view::npos) return -1;
  std::string_view id = name.substr(tail + kTail.size());
  id.remove_suffix(1);
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (ec != std::errc() || ptr != id.data() + id.size()) return -1;
  size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
  if (digits == 0) return -1;
  return static_cast<int64_t>(v);
}

}  // namespace

namespace {

// Whether internal edge e is the edge from a WeakMap's table (node `from`) to a value. The
// cache's entries are read and written atomically (relaxed): two threads marking edges may work
// out the same name at once, with the same result.
inline bool FromWeakMapTable(const Snapshot& snap, NodeOrdinal from, EdgeOrdinal e,
                             std::vector<int64_t>* table_of_name) {
  int64_t table;
  if (table_of_name) {
    int64_t* cached = &(*table_of_name)[snap.edge_name[e]];
    table = __atomic_load_n(cached, __ATOMIC_RELAXED);
    if (table == -2) [[unlikely]] {
      table = WeakMapTableId(snap.edge_name_string(e));
      __atomic_store_n(cached, table, __ATOMIC_RELAXED);
    }
  } else {
    table = WeakMapTableId(snap.edge_name_string(e));
  }
  return table >= 0 && static_cast<uint64_t>(table) == snap.node_id[from];
}

// IsEssentialEdge's rules but the last, which needs the page-object flags.
bool RetainsRegardlessOfPage(const Snapshot& snap, NodeOrdinal from, EdgeOrdinal e,
                             std::vector<int64_t>* table_of_name) {
  const EdgeType type = snap.edge_type[e];
  if (type == EdgeType::kWeak) return false;
  const NodeOrdinal to = snap.edge_to[e];
  if (to == from) return false;
  if (type == EdgeType::kInternal && FromWeakMapTable(snap, from, e, table_of_name)) return false;
  if (from != snap.root && type == EdgeType::kShortcut) return false;
  return true;
}

// The last rule: a node outside the page (and not the root) does not retain one inside it.
bool RetainsAcrossPage(const Snapshot& snap, const Graph& g, NodeOrdinal from, NodeOrdinal to) {
  return from == snap.root || !(g.flags[to] & kPageObject) || (g.flags[from] & kPageObject);
}

// Sets the bits of g.essential (sized) for the edges [from_e, to_e) that pass `retains(v, e)`.
// Calls on ranges cut at multiples of 64 write distinct words.
template <typename Retains>
void MarkEdgeRange(const Snapshot& snap, Graph& g, EdgeOrdinal from_e, EdgeOrdinal to_e, Retains&& retains) {
  if (from_e >= to_e) return;
  // The node whose edges include from_e: the last one whose first edge is at or before it.
  const auto first = snap.first_edge.begin();
  NodeOrdinal v = static_cast<NodeOrdinal>(std::upper_bound(first, first + snap.node_count(), from_e) - first) - 1;
  for (; v < snap.node_count() && snap.first_edge[v] < to_e; ++v) {
    const EdgeOrdinal end = std::min(snap.first_edge[v + 1], to_e);
    for (EdgeOrdinal e = std::max(snap.first_edge[v], from_e); e < end; ++e)
      if (retains(v, e)) g.essential[e >> 6] |= uint64_t{1} << (e & 63);
  }
}

// Sets g.essential to the edges that pass `retains(v, e)`.
template <typename Retains>
void MarkEdges(const Snapshot& snap, Graph& g, Retains&& retains) {
  g.essential.assign((size_t{snap.edge_count()} + 63) / 64, 0);
  MarkEdgeRange(snap, g, 0, snap.edge_count(), retains);
}

}  // namespace

// The one place that decides whether an edge retains its target (DevTools' isEssentialEdge):
//  - weak edges never retain;
//  - a WeakMap's table does not retain its values: the key does (both are needed to keep the
//    value, so counting the key's edge alone gives the more useful dominator);
//  - self edges do not;
//  - shortcut edges retain only from the root, where they mark user global objects;
//  - an object owned by the page (reachable from a global) is not retained by one that is not
//    (e.g. the debugger), so that tooling references do not steal the dominator.
// `table_of_name`, when given, caches the WeakMap name test per string id (-2: not yet known).
bool IsEssentialEdge(const Snapshot& snap, const Graph& g, NodeOrdinal from, EdgeOrdinal e,
                     std::vector<int64_t>* table_of_name) {
  return RetainsRegardlessOfPage(snap, from, e, table_of_name) &&
         RetainsAcrossPage(snap, g, from, snap.edge_to[e]);
}

void BuildEssentialEdges(const Snapshot& snap, Graph& g) {
  std::vector<int64_t> table_of_name(snap.strings.size(), -2);
  MarkEdges(snap, g, [&](NodeOrdinal v, EdgeOrdinal e) { return IsEssentialEdge(snap, g, v, e, &table_of_name); });
}

namespace {

// MarkEdgeRange with RetainsRegardlessOfPage, for every edge of a graph: the edges in order, the
// node whose edges they are followed alongside, and each word of 64 bits made in a register and
// stored once. The rules but the WeakMap one are a few compares without a branch; that one,
// for internal edges only, reads the name's cached table id. (MarkEdgeRange's loop, a call and
// a read-modify-write of the word per edge, took 20 ms of each thread at 300 MB.) from_e is a
// multiple of 64, and so is to_e unless it is the last edge's end: each word is this call's.
void MarkRangeButPageRule(const Snapshot& snap, Graph& g, EdgeOrdinal from_e, EdgeOrdinal to_e,
                          std::vector<int64_t>& table_of_name) {
  if (from_e >= to_e) return;
  const auto first = snap.first_edge.begin();
  NodeOrdinal v = static_cast<NodeOrdinal>(std::upper_bound(first, first + snap.node_count(), from_e) - first) - 1;
  EdgeOrdinal v_end = snap.first_edge[v + 1];
  const NodeOrdinal root = snap.root;
  const EdgeType* types = snap.edge_type.data();
  uint64_t* words = g.essential.data();
  uint64_t word = 0;
  for (EdgeOrdinal e = from_e; e < to_e; ++e) {
    while (e >= v_end) v_end = snap.first_edge[++v + 1];
    const EdgeType type = types[e];
    bool retains = type != EdgeType::kWeak && snap.edge_to[e] != v && (type != EdgeType::kShortcut || v == root);
    if (type == EdgeType::kInternal && retains) retains = !FromWeakMapTable(snap, v, e, &table_of_name);
    word |= uint64_t{retains} << (e & 63);
    if ((e & 63) == 63) {
      words[e >> 6] = word;
      word = 0;
    }
  }
  if ((to_e & 63) != 0) words[(to_e - 1) >> 6] |= word;
}

}  // namespace

void MarkEdgesButPageRule(const Snapshot& snap, Graph& g, bool two_threads) {
  g.essential.assign((size_t{snap.edge_count()} + 63) / 64, 0);
  std::vector<int64_t> table_of_name(snap.strings.size(), -2);
  auto mark = [&](EdgeOrdinal from_e, EdgeOrdinal to_e) { MarkRangeButPageRule(snap, g, from_e, to_e, table_of_name); };
  const EdgeOrdinal edges = snap.edge_count();
  if (!two_threads) {
    mark(0, edges);
    return;
  }
  const EdgeOrdinal cut = edges / 2 & ~EdgeOrdinal{63};  // a word boundary
  Thread other([&] { mark(cut, edges); });
  mark(0, cut);
}

void ApplyPageRule(const Snapshot& snap, Graph& g) {
  for (NodeOrdinal v = 0; v < snap.node_count(); ++v) {
    if (g.flags[v] & kPageObject) continue;
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e)
      if (!RetainsAcrossPage(snap, g, v, snap.edge_to[e]))
        __atomic_fetch_and(&g.essential[e >> 6], ~(uint64_t{1} << (e & 63)), __ATOMIC_RELAXED);
  }
}

void BuildEdgeIndex(const Snapshot& snap, Graph& g, uint32_t parallel_min_edges) {
  if (snap.edge_count() < parallel_min_edges) {
    BuildFlags(snap, g);
    BuildEssentialEdges(snap, g);
    return;
  }
  // The flags' search on a second thread while this one applies every rule but the page one to
  // all edges (they take about as long; the search, shared by two threads, scaled badly). The
  // page rule can then only clear edges out of nodes outside the page: a few thousand nodes in
  // a Node.js heap of millions.
  {
    Thread flags([&] { BuildFlags(snap, g); });
    MarkEdgesButPageRule(snap, g, /*two_threads=*/false);
  }
  ApplyPageRule(snap, g);
}

}  // namespace oomscope::heap
