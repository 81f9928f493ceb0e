// Immediate dominators and retained sizes.
//
// The algorithm is from Thomas Lengauer and Robert Endre Tarjan, "A fast algorithm for finding
// dominators in a flowgraph", ACM TOPLAS 1(1), 1979, in its simple form (path compression
// without balancing, O(m log n)), written iteratively: a recursive DFS or EVAL overflows the
// stack on real heaps. Graph details follow Chrome DevTools so that retained sizes agree with
// what people see there: only essential edges count; nodes that are unreachable but have only
// weak retainers hang off the root with their own subtree; nodes still unreachable (cliques that
// retain one another) hang off the root one by one.
#include "oomscope/heap/passes.h"

namespace oomscope::heap {

void ComputeDominators(const Snapshot& snap, Graph& g, Progress* progress) {
  const uint32_t count = snap.node_count();
  // Vertices are numbered 1..count (ordinal + 1); 0 means "none", as in the paper.
  const size_t len = static_cast<size_t>(count) + 1;
  std::vector<uint32_t> parent(len, 0), ancestor(len, 0), vertex(len, 0), label(len, 0), semi(len, 0);
  std::vector<uint32_t> scratch(len, 0);  // DFS: next edge per vertex; later: the compress stack
  uint32_t n = 0;
  if (progress) progress->Begin("dominators", 2ull * count);

  auto dfs = [&](uint32_t root) {
    scratch[root] = snap.first_edge[root - 1];
    uint32_t v = root;
    while (v != 0) {
      if (semi[v] == 0) {
        semi[v] = ++n;
        vertex[n] = label[v] = v;
      }
      uint32_t next = parent[v];
      const uint32_t vo = v - 1;
      const EdgeOrdinal end = snap.first_edge[vo + 1];
      for (; scratch[v] < end; ++scratch[v]) {
        EdgeOrdinal e = scratch[v];
        if (!g.IsEssential(e)) continue;
        uint32_t w = snap.edge_to[e] + 1;
        if (semi[w] == 0) {
          parent[w] = v;
          scratch[w] = snap.first_edge[w - 1];
          next = w;
          break;
        }
      }
      v = next;
    }
  };

  const uint32_t r = snap.root + 1;
  dfs(r);
  if (n < count) {
    // Orphans: nodes with only weak retainers; each starts its own subtree under the root.
    for (uint32_t v = 1; v <= count; ++v) {
      if (semi[v] == 0 && g.first_retainer[v] == g.first_retainer[v - 1]) {
        parent[v] = r;
        dfs(v);
      }
    }
  }
  // Nodes still unvisited (cliques retaining one another) hang off the root one by one. The
  // root becomes a real predecessor of each (DevTools leaves their dominator unset here).
  std::vector<bool> rooted_by_fiat(len, false);
  if (n < count) {
    for (uint32_t v = 1; v <= count; ++v) {
      if (semi[v] == 0) {
        rooted_by_fiat[v] = true;
        parent[v] = r;
        semi[v] = ++n;
        vertex[n] = label[v] = v;
      }
    }
  }
  if (progress) progress->Advance(count);

  std::vector<uint32_t>& stack = scratch;
  auto compress = [&](uint32_t v) {
    uint32_t sp = 0;
    while (ancestor[ancestor[v]] != 0) {
      stack[++sp] = v;
      v = ancestor[v];
    }
    while (sp > 0) {
      uint32_t w = stack[sp--];
      if (semi[label[ancestor[w]]] < semi[label[w]]) label[w] = label[ancestor[w]];
      ancestor[w] = ancestor[ancestor[w]];
    }
  };
  auto eval = [&](uint32_t v) -> uint32_t {
    if (ancestor[v] == 0) return v;
    compress(v);
    return label[v];
  };

  std::vector<uint32_t> dom(len, 0), bucket_head(len, 0), bucket_next(len, 0);
  for (uint32_t i = n; i >= 2; --i) {
    const uint32_t w = vertex[i];
    const uint32_t wo = w - 1;
    const uint32_t rb = g.first_retainer[wo], re = g.first_retainer[wo + 1];
    if (rb == re || rooted_by_fiat[w]) {
      semi[w] = semi[r];  // an orphan: the root is its predecessor, and the smallest number
    } else {
      for (uint32_t k = rb; k < re; ++k) {
        uint32_t u = eval(g.retainer_node[k] + 1);
        if (semi[u] < semi[w]) semi[w] = semi[u];
      }
    }
    const uint32_t sv = vertex[semi[w]];
    bucket_next[w] = bucket_head[sv];
    bucket_head[sv] = w;
    ancestor[w] = parent[w];  // LINK(parent(w), w)
    const uint32_t p = parent[w];
    for (uint32_t v = bucket_head[p]; v != 0; v = bucket_next[v]) {
      uint32_t u = eval(v);
      dom[v] = semi[u] < semi[v] ? u : p;
    }
    bucket_head[p] = 0;
    if (progress && (i & 0xFFFF) == 0) progress->Advance(count + (n - i));
  }
  dom[r] = r;
  for (uint32_t i = 2; i <= n; ++i) {
    const uint32_t w = vertex[i];
    if (dom[w] != vertex[semi[w]]) dom[w] = dom[dom[w]];
  }
  // Free the working arrays before allocating the results.
  std::vector<uint32_t>().swap(parent);
  std::vector<uint32_t>().swap(ancestor);
  std::vector<uint32_t>().swap(label);
  std::vector<uint32_t>().swap(semi);
  std::vector<uint32_t>().swap(scratch);
  std::vector<uint32_t>().swap(bucket_head);
  std::vector<uint32_t>().swap(bucket_next);

  g.dominator.resize(count);
  g.retained.resize(count);
  for (uint32_t o = 0; o < count; ++o) {
    g.dominator[o] = dom[o + 1] - 1;
    g.retained[o] = snap.self_size(o);
  }
  // Children come after their dominator in DFS order: accumulate in reverse.
  for (uint32_t i = n; i > 1; --i) {
    const uint32_t o = vertex[i] - 1;
    g.retained[g.dominator[o]] += g.retained[o];
  }
  if (progress) progress->End();
}

}  // namespace oomscope::heap
