#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "oomscope/common/allocator.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {

namespace {

// Two threads share the search: each walks depth first from its own stack; one that runs out
// asks (`hungry`), and the other hands it the older half of its stack (shallow vertices, whose
// subgraphs are the large ones). A vertex is claimed by the thread that sets its flag.
// The search is over when both are out of work.
class SharedSearch {
 public:
  SharedSearch(const Snapshot& snap, std::vector<uint8_t>& flags) : snap_(snap), flags_(flags) {}

  void Run(std::vector<NodeOrdinal> seeds) {
    std::thread second([this] { Work({}); });
    Work(std::move(seeds));
    second.join();
  }

 private:
  // A load and a store, not an atomic read-modify-write: a locked instruction per vertex would
  // stop the cache misses of the search from overlapping (it took twice the CPU time). Both
  // threads may claim a vertex found at the same moment; it is then searched twice, which
  // marks nothing new.
  bool Claim(NodeOrdinal v) {
    std::atomic_ref<uint8_t> f(flags_[v]);
    const uint8_t old = f.load(std::memory_order_relaxed);
    if (old & kPageObject) return false;
    f.store(old | kPageObject, std::memory_order_relaxed);
    return true;
  }

  void Work(std::vector<NodeOrdinal> stack) {
    for (;;) {
      while (!stack.empty()) {
        const NodeOrdinal v = stack.back();
        stack.pop_back();
        for (EdgeOrdinal e = snap_.first_edge[v]; e < snap_.first_edge[v + 1]; ++e) {
          if (snap_.edge_type[e] == EdgeType::kWeak) continue;
          const NodeOrdinal to = snap_.edge_to[e];
          if (Claim(to)) stack.push_back(to);
        }
        if (hungry_.load(std::memory_order_relaxed) && stack.size() >= 64) Give(stack);
      }
      std::unique_lock lock(mu_);
      if (pool_.empty()) {
        if (++idle_ == 2) {
          done_ = true;
          cv_.notify_all();
          return;
        }
        hungry_.store(true, std::memory_order_relaxed);
        cv_.wait(lock, [this] { return !pool_.empty() || done_; });
        if (done_) return;
        --idle_;
      }
      stack.swap(pool_);
    }
  }

  void Give(std::vector<NodeOrdinal>& stack) {
    std::lock_guard lock(mu_);
    hungry_.store(false, std::memory_order_relaxed);
    if (!pool_.empty() || done_) return;
    const size_t half = stack.size() / 2;
    pool_.assign(stack.begin(), stack.begin() + static_cast<std::ptrdiff_t>(half));
    stack.erase(stack.begin(), stack.begin() + static_cast<std::ptrdiff_t>(half));
    cv_.notify_one();
  }

  const Snapshot& snap_;
  std::vector<uint8_t>& flags_;
  std::atomic<bool> hungry_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<NodeOrdinal> pool_;
  int idle_ = 0;
  bool done_ = false;
};

}  // namespace

void BuildFlags(const Snapshot& snap, Graph& g, uint32_t parallel_min_edges) {
  const uint32_t n = snap.node_count();
  g.flags = HugeVector<uint8_t>(n, 0);
  std::vector<NodeOrdinal> stack;
  const NodeOrdinal root = snap.root;
  // Entry points: user global objects (shortcut edges from the root) and DOM tree roots.
  for (EdgeOrdinal e = snap.first_edge[root]; e < snap.first_edge[root + 1]; ++e) {
    NodeOrdinal to = snap.edge_to[e];
    EdgeType t = snap.edge_type[e];
    if (t == EdgeType::kElement) {
      if (!(snap.node_type[to] == NodeType::kSynthetic && snap.name(to) == "(Document DOM trees)"))
        continue;
    } else if (t != EdgeType::kShortcut) {
      continue;
    }
    if (g.flags[to] & kPageObject) continue;
    g.flags[to] |= kPageObject;
    stack.push_back(to);
  }
  if (snap.edge_count() >= parallel_min_edges) {
    SharedSearch(snap, g.flags).Run(std::move(stack));
    return;
  }
  // The same search on one thread, with plain loads and stores: SharedSearch run on one thread
  // took a third longer (measured), which small snapshots would pay for nothing.
  while (!stack.empty()) {
    NodeOrdinal v = stack.back();
    stack.pop_back();
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e) {
      NodeOrdinal to = snap.edge_to[e];
      if (g.flags[to] & kPageObject) continue;
      if (snap.edge_type[e] == EdgeType::kWeak) continue;
      g.flags[to] |= kPageObject;
      stack.push_back(to);
    }
  }
}

}  // namespace oomscope::heap
