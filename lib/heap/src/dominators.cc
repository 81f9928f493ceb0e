// Immediate dominators and retained sizes.
//
// Semi-NCA: the semidominators of Lengauer and Tarjan ("A fast algorithm for finding
// dominators in a flowgraph", ACM TOPLAS 1(1), 1979) computed with path compression, then each
// immediate dominator as the nearest common ancestor of its DFS parent and its semidominator
// (Georgiadis, "Linear-Time Algorithms for Dominators and Related Problems", PhD thesis,
// Princeton 2005; also Cooper, Harvey and Kennedy's observation that walking up a partial
// dominator tree is cheap in practice). Everything is indexed by DFS preorder number, so the
// hot arrays are walked in order, and six arrays of n words suffice where the classic
// formulation needs ten. Iterative throughout: recursion overflows the stack on real heaps.
//
// Graph details follow Chrome DevTools so that retained sizes agree with what people see there:
// only essential edges count; unreachable nodes that have only weak retainers hang off the root
// with their own DFS subtree; nodes still unreachable (cliques that retain one another) hang
// off the root one by one.
#include "oomscope/heap/passes.h"

namespace oomscope::heap {

void ComputeDominators(const Snapshot& snap, Graph& g, Progress* progress) {
  const uint32_t count = snap.node_count();
  const size_t len = static_cast<size_t>(count) + 1;
  // By vertex (ordinal): its DFS number, 0 while unvisited.
  std::vector<uint32_t> num(count, 0);
  // By DFS number 1..n: the vertex, its DFS parent's number, its semidominator's number, the
  // smallest semidominator on its compressed path (label), and its forest ancestor.
  std::vector<uint32_t> vert(len, 0), par(len, 0), semi(len, 0), label(len, 0), anc(len, 0);
  uint32_t n = 0;
  if (progress) progress->Begin("dominators", 2ull * count);

  struct Frame {
    NodeOrdinal v;
    EdgeOrdinal next;
  };
  std::vector<Frame> stack;
  auto visit = [&](NodeOrdinal v, uint32_t parent_number) {
    num[v] = ++n;
    vert[n] = v;
    par[n] = parent_number;
    stack.push_back({v, snap.first_edge[v]});
  };
  auto dfs = [&](NodeOrdinal start, uint32_t parent_number) {
    visit(start, parent_number);
    while (!stack.empty()) {
      Frame& f = stack.back();
      const EdgeOrdinal end = snap.first_edge[f.v + 1];
      bool descended = false;
      while (f.next < end) {
        EdgeOrdinal e = f.next++;
        if (!g.IsEssential(e)) continue;
        NodeOrdinal w = snap.edge_to[e];
        if (num[w] != 0) continue;
        visit(w, num[f.v]);  // may reallocate: `f` is not used after this
        descended = true;
        break;
      }
      if (!descended) stack.pop_back();
    }
  };

  dfs(snap.root, 0);
  // Orphans: nodes with only weak retainers start their own subtree under the root.
  if (n < count) {
    for (NodeOrdinal v = 0; v < count; ++v)
      if (num[v] == 0 && g.first_retainer[v] == g.first_retainer[v + 1]) dfs(v, 1);
  }
  // What is left retains itself in cycles: each hangs off the root, which becomes its
  // predecessor (its semidominator is then the root, the smallest number).
  const uint32_t first_fiat = n + 1;
  if (n < count) {
    for (NodeOrdinal v = 0; v < count; ++v) {
      if (num[v] == 0) {
        num[v] = ++n;
        vert[n] = v;
        par[n] = 1;
      }
    }
  }
  std::vector<Frame>().swap(stack);
  if (progress) progress->Advance(count);
  // From here on vertices are named by number: rewrite the retainers so, and drop `num`.
  for (uint32_t& r : g.retainer_node) r = num[r];
  std::vector<uint32_t>().swap(num);

  // EVAL for a processed vertex v (number > the current w): the smallest semidominator on the
  // path from v up to, not including, the root of its tree in the forest of processed vertices,
  // with path compression done iteratively.
  std::vector<uint32_t> compress_stack;
  auto eval = [&](uint32_t v0) -> uint32_t {
    uint32_t v = v0;
    while (anc[anc[v]] != 0) {
      compress_stack.push_back(v);
      v = anc[v];
    }
    while (!compress_stack.empty()) {
      uint32_t x = compress_stack.back();
      compress_stack.pop_back();
      if (label[anc[x]] < label[x]) label[x] = label[anc[x]];
      anc[x] = anc[anc[x]];
    }
    return label[v0];
  };

  for (uint32_t w = n; w >= 2; --w) {
    uint32_t s = par[w];  // the DFS tree edge is a predecessor too
    if (w < first_fiat) {
      const NodeOrdinal wv = vert[w];
      for (uint32_t k = g.first_retainer[wv]; k < g.first_retainer[wv + 1]; ++k) {
        uint32_t v = g.retainer_node[k];
        uint32_t c = v < w ? v : eval(v);
        if (c < s) s = c;
      }
    } else {
      s = 1;
    }
    semi[w] = s;
    label[w] = s;
    anc[w] = par[w];  // LINK
    if (progress && (w & 0xFFFF) == 0) progress->Advance(count + (n - w));
  }

  // NCA: walk up from the DFS parent until at or above the semidominator. `anc` is free now.
  std::vector<uint32_t>& idom = anc;
  idom[1] = 1;
  for (uint32_t w = 2; w <= n; ++w) {
    uint32_t d = par[w];
    while (d > semi[w]) d = idom[d];
    idom[w] = d;
  }

  std::vector<uint32_t>().swap(label);
  std::vector<uint32_t>().swap(semi);
  std::vector<uint32_t>().swap(par);
  std::vector<uint32_t>().swap(g.first_retainer);
  std::vector<NodeOrdinal>().swap(g.retainer_node);
  g.dominator.resize(count);
  g.retained.resize(count);
  for (uint32_t w = 1; w <= n; ++w) {
    const NodeOrdinal o = vert[w];
    g.dominator[o] = vert[idom[w]];
    g.retained[o] = snap.self_size(o);
  }
  // A dominator precedes what it dominates in preorder: accumulate in reverse.
  for (uint32_t w = n; w >= 2; --w) g.retained[vert[idom[w]]] += g.retained[vert[w]];
  if (progress) progress->End();
}

}  // namespace oomscope::heap
