#include <memory>

#include "oomscope/common/allocator.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {
namespace {

// The BFS queue in blocks of 1 MiB: it holds the frontier only (a quarter of the nodes at most on
// real heaps, 1.1M of 4.3M on bench/data/s300/s2), and a block is set aside as soon as it has
// been read, so the queue costs the frontier and two blocks, never twice the frontier (a ring
// that grows by doubling holds up to 2x, and 3x while it copies). The block set aside is the
// next one filled: fresh memory costs a page fault per 4 KiB, and the BFS goes through a block
// per 256Ki nodes (at 4.3M nodes the class summary and distances step took 5,300-6,100 page
// faults with a fresh block each time, 2,700-3,700 now).
class NodeQueue {
 public:
  bool empty() const { return size_ == 0; }
  void push(NodeOrdinal v) {
    const size_t at = head_ + size_;
    if ((at >> kShift) == blocks_.size())
      blocks_.push_back(spare_ ? std::move(spare_) : std::make_unique_for_overwrite<NodeOrdinal[]>(kBlock));
    blocks_[at >> kShift][at & (kBlock - 1)] = v;
    ++size_;
  }
  size_t size() const { return size_; }
  // The element i places behind the head (i < size()): what pop() gives i pops later.
  NodeOrdinal peek(size_t i) const {
    const size_t at = head_ + i;
    return blocks_[at >> kShift][at & (kBlock - 1)];
  }
  NodeOrdinal pop() {
    NodeOrdinal v = blocks_[0][head_];
    --size_;
    if (++head_ == kBlock) {  // the first block is read: set it aside
      spare_ = std::move(blocks_.front());
      blocks_.erase(blocks_.begin());
      head_ = 0;
    }
    return v;
  }

 private:
  static constexpr size_t kShift = 18, kBlock = size_t{1} << kShift;  // 1 MiB of ordinals
  std::vector<std::unique_ptr<NodeOrdinal[]>> blocks_;
  std::unique_ptr<NodeOrdinal[]> spare_;
  size_t head_ = 0, size_ = 0;  // head_: position in blocks_[0]
};

}  // namespace

void ComputeDistances(const Snapshot& snap, Graph& g) {
  const uint32_t n = snap.node_count();
  g.parent = HugeVector<NodeOrdinal>(n, kNoNode);
  NodeQueue queue;
  const NodeOrdinal root = snap.root;
  g.parent[root] = root;  // reached (kNoNode again at the end)
  auto reached = [&](NodeOrdinal v) { return g.parent[v] != kNoNode; };
  // Level 1 in two passes: user roots (shortcut edges to global objects) first.
  for (int pass = 0; pass < 2; ++pass) {
    for (EdgeOrdinal e = snap.first_edge[root]; e < snap.first_edge[root + 1]; ++e) {
      if (!g.IsEssential(e)) continue;
      if ((snap.edge_type[e] == EdgeType::kShortcut) != (pass == 0)) continue;
      NodeOrdinal to = snap.edge_to[e];
      if (reached(to)) continue;
      g.parent[to] = root;
      queue.push(to);
    }
  }
  // The queue says which nodes come next and the edge arrays which targets: both are
  // prefetched a few steps ahead (the targets' parents are read at random).
  constexpr size_t kAhead = 16;
  const EdgeOrdinal edge_count = snap.edge_count();
  while (!queue.empty()) {
    if (queue.size() > kAhead) {
      const NodeOrdinal next = queue.peek(kAhead);
      __builtin_prefetch(&snap.first_edge[next]);
    }
    if (queue.size() > kAhead / 2) {
      const EdgeOrdinal e = snap.first_edge[queue.peek(kAhead / 2)];
      snap.edge_to.Prefetch(e);
      __builtin_prefetch(&g.essential[e >> 6]);
    }
    NodeOrdinal v = queue.pop();
    const EdgeOrdinal end = snap.first_edge[v + 1];
    for (EdgeOrdinal e = snap.first_edge[v]; e < end; ++e) {
      if (e + kAhead / 2 < edge_count) __builtin_prefetch(&g.parent[snap.edge_to[e + kAhead / 2]]);
      if (!g.IsEssential(e)) continue;
      NodeOrdinal to = snap.edge_to[e];
      if (reached(to)) continue;
      g.parent[to] = v;
      queue.push(to);
    }
  }
  g.parent[root] = kNoNode;
}

}  // namespace oomscope::heap
