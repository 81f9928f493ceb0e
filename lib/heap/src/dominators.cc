// Immediate dominators and retained sizes.
//
// Semi-NCA: the semidominators of Lengauer and Tarjan ("A fast algorithm for finding
// dominators in a flowgraph", ACM TOPLAS 1(1), 1979) computed with path halving, then each
// immediate dominator as the nearest common ancestor of its DFS parent and its semidominator
// (Georgiadis, "Linear-Time Algorithms for Dominators and Related Problems", PhD thesis,
// Princeton 2005; also Cooper, Harvey and Kennedy's observation that walking up a partial
// dominator tree is cheap in practice). Everything is indexed by DFS preorder number, so the
// hot arrays are walked in order, and four arrays of n entries at a time (plus the retainers
// other than the DFS parent, built here by DFS number, and a bit per vertex) suffice where the
// classic formulation needs ten. Those that are only read in order or written once (each
// vertex and its DFS parent by number, the retainers) take 3 bytes an entry below 2^24 nodes
// (PackedColumn); the two read at random take 4. Iterative throughout: recursion overflows the
// stack on real heaps.
//
// Graph details follow Chrome DevTools so that retained sizes agree with what people see there:
// only essential edges count; unreachable nodes that have only weak retainers hang off the root
// with their own DFS subtree; nodes still unreachable (cliques that retain one another) hang
// off the root one by one.
//
// Time goes to cache misses: an edge's target's number (with its retainer count beside it),
// then par[] and the label/ancestor pair by what that gives, all at random over arrays far
// larger than the cache. The loops that know
// which vertices they will touch next (the edges of a vertex, a vertex's retainers) prefetch
// them a few steps ahead, so that the misses overlap instead of queueing one after another.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>

#include "oomscope/common/allocator.h"
#include "oomscope/common/thread.h"
#include "oomscope/heap/passes.h"

namespace oomscope::heap {
namespace {

// The semidominator search over the retainers of one vertex, shared with a second thread: the
// vertices with many retainers are few (a hidden class's are its instances: at 300 MB, 77
// vertices of 16,384 retainers or more hold 87% of all the entries, and a node's own retainers
// are scanned while the rest of the pass waits). Both threads take chunks of the entries and
// keep the smallest EVAL they find; the helper sleeps between vertices and joins each one when it
// wakes, so a vertex never waits for it to start, only for the chunk it has in hand.
//
// Run(from, to) returns body's minimum over entries [from, to), as body(from, to) would. Not
// reentrant; one caller thread.
class SharedScan {
 public:
  using Body = std::function<uint32_t(uint32_t from, uint32_t to)>;
  explicit SharedScan(Body body) : body_(std::move(body)), thread_([this] { Help(); }) {}
  ~SharedScan() {
    stop_.store(true, std::memory_order_release);
    posted_.fetch_add(1, std::memory_order_release);
    posted_.notify_one();
    thread_.join();
  }
  SharedScan(const SharedScan&) = delete;
  SharedScan& operator=(const SharedScan&) = delete;

  uint32_t Run(uint32_t from, uint32_t to) {
    job_ = job_ % kMaxJob + 1;
    const uint32_t job = job_;
    end_ = to;  // read by the helper only while the job is open and it has said so (busy_)
    helper_min_.store(UINT32_MAX, std::memory_order_relaxed);
    next_.store(Word(job, from));  // open
    posted_.fetch_add(1, std::memory_order_release);
    posted_.notify_one();
    const uint32_t mine = Claim(job, to);
    next_.store(0);  // closed: the helper takes no more chunks of it
    // Either the helper saw the job closed, or it said it was in it before this load (both
    // sequentially consistent), and this waits for the chunk it has in hand.
    for (uint32_t b = busy_.load(); b == job; b = busy_.load()) busy_.wait(b);
    return std::min(mine, helper_min_.load(std::memory_order_acquire));
  }

 private:
  static constexpr unsigned kIndexBits = 40;  // next_: the job above, the next entry below
  static constexpr uint32_t kMaxJob = (1u << (64 - kIndexBits)) - 1;
  static constexpr uint32_t kChunk = 1024;    // entries: about 10 us of EVALs
  static uint64_t Word(uint32_t job, uint32_t entry) { return (uint64_t{job} << kIndexBits) | entry; }

  // Chunks of `job`'s entries, below `end`, until none is left or the job is closed. (A claim on
  // a closed word only moves its index: the job part stays 0, closed, until the next job.)
  uint32_t Claim(uint32_t job, uint32_t end) {
    uint32_t best = UINT32_MAX;
    for (;;) {
      const uint64_t word = next_.fetch_add(kChunk);
      const uint64_t at = word & ((uint64_t{1} << kIndexBits) - 1);
      if ((word >> kIndexBits) != job || at >= end) return best;
      const auto to = static_cast<uint32_t>(std::min<uint64_t>(end, at + kChunk));
      best = std::min(best, body_(static_cast<uint32_t>(at), to));
    }
  }

  void Help() {
    uint32_t seen = 0, last = 0;
    for (;;) {
      posted_.wait(seen, std::memory_order_acquire);
      seen = posted_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) return;
      const uint32_t job = static_cast<uint32_t>(next_.load() >> kIndexBits);
      // Closed before this thread woke, or the one it has just helped with: a job is opened
      // before it is posted, so this thread can take part in it, then wake for its post.
      if (job == 0 || job == last) continue;
      busy_.store(job);
      if ((next_.load() >> kIndexBits) == job) {
        last = job;
        // Only this thread writes it while the job is open (the caller resets it before).
        const uint32_t mine = Claim(job, end_);
        helper_min_.store(std::min(mine, helper_min_.load(std::memory_order_relaxed)), std::memory_order_relaxed);
      }
      busy_.store(0, std::memory_order_release);
      busy_.notify_one();
    }
  }

  Body body_;
  uint32_t job_ = 0, end_ = 0;
  std::atomic<uint64_t> next_{0};  // Word(open job, next entry), or 0: none open
  std::atomic<uint32_t> posted_{0};  // counts the jobs opened (and the stop): the helper waits on it
  std::atomic<uint32_t> busy_{0};    // the job the helper is taking chunks of, or 0
  std::atomic<uint32_t> helper_min_{UINT32_MAX};
  std::atomic<bool> stop_{false};
  Thread thread_;  // last: starts once the members it reads are made
};

}  // namespace

void ComputeDominators(const Snapshot& snap, Graph& g, Progress* progress, const std::function<void()>& beside,
                       uint32_t shared_min_retainers, const std::function<void()>& page_rule) {
  const uint32_t count = snap.node_count();
  const size_t len = static_cast<size_t>(count) + 1;
  // Retainers by ordinal (BuildRetainers) are not used: they are rebuilt below, by DFS number,
  // once the numbers are known, so that they never coexist with the DFS's own arrays.
  std::vector<uint32_t>().swap(g.first_retainer);
  std::vector<NodeOrdinal>().swap(g.retainer_node);
  if (progress) progress->Begin("dominators", 2ull * count);

  const EdgeOrdinal edge_count = snap.edge_count();
  // Large graphs apply the page rule on a second thread while the DFS runs (below), which then
  // runs `beside` (the BFS, BuildGraph) beside the rest of the DFS and of the pass, and the
  // BFS's queue is gone before the pass's peak (274 MiB instead of 276 at 300 MB). (Filling the
  // retainers on two threads, with an atomic slot counter, gained nothing: locked increments
  // stop the misses from overlapping; nor did two threads each filling the retainers of half
  // of the nodes, 52 -> 65 ms, each reading all the edges; nor one filling those of the nodes
  // with 1,024 retainers or more, whose cursors stay in the cache, and the other the rest: 38
  // and 47 ms against 36 on one thread. The loop is bound by reading the edges.)
  const bool two_threads = edge_count >= kTwoThreadEdges;

  // Whether every retained size fits 32 bits (all of them together do): the sizes are then
  // added up by DFS number at the end, in the block the semidominators used.
  bool sizes_fit = false;
  auto find_sizes_fit = [&] {
    uint64_t total = 0;
    for (uint32_t size : snap.node_self_size) total += size;
    sizes_fit = snap.big_self_sizes.empty() && total < UINT32_MAX;
  };
  // The retainers other than the DFS parent (filled in below) are the essential edges but the
  // DFS tree's, at most one per node: at least essential - (count - 1) of them. On large graphs
  // the second thread, idle once the bits are found, faults in that many entries for them
  // while the DFS runs (24 MB at 4.3M nodes, where the pass reaches its peak anyway), with room
  // for as many as the essential edges; `ret` below takes them over. (Not below
  // kLargeGraphEdges: the pages saved are few, and the column's last huge page, faulted whole,
  // would then count against a peak that has no room to spare.)
  PackedColumn ret_ahead;

  // By vertex (ordinal), side by side: its DFS number (0 while unvisited) and its count of
  // retainers other than its DFS parent, which then becomes the cursor where the next of them
  // is filled in. An edge's target is looked up by ordinal, and its number and count (or
  // cursor) are then one cache miss, not two. The block then becomes the semidominator loop's
  // label/ancestor pairs (2 * len words too), so that loop does not map fresh memory.
  // By DFS number 1..n: the vertex and its DFS parent's number, in 3 bytes each below 2^24
  // nodes (PackedColumn): they live through the whole pass, beside its largest arrays.
  // The DFS tree's edges, a bit per edge ordinal: set where the DFS descends, so that the loops
  // below tell a tree edge by a bit read in edge order, not by the target's parent slot (a
  // random read per edge).
  // All four are placed here, in this order (the same layout in every run), and zeroed next, on
  // two threads on large graphs: 61 MB at 300 MB, the pages mostly fresh, whose faults are the
  // most of the time before the DFS (10 ms alone; 100 ms in a run whose memory the host has
  // taken back, bench/README.md).
  RawVector<uint32_t> work;
  ReserveHuge(work, 2 * len);
  work.resize(2 * len);  // written below
  PackedColumn vert(0, count, len), par(0, len, len);
  const size_t tree_words = (static_cast<size_t>(edge_count) + 63) / 64;
  std::vector<uint64_t> tree_bit;
  ReserveHuge(tree_bit, tree_words);
  auto zero_upper = [&] {
    std::memset(work.data() + len, 0, len * sizeof(uint32_t));
    par.Resize(len);
    GrowPrefaulted(tree_bit, tree_words);
  };
  std::latch arrays_ready(1), sized(1), page_ruled(1);
  std::atomic<bool> helper_done{false};  // its work all done: the CPU is free for SharedScan
  Thread helper;  // joined when the pass returns
  if (two_threads) {
    helper = Thread([&] {
      zero_upper();
      arrays_ready.count_down();
      if (page_rule) {
        page_rule();
        page_ruled.count_down();
      }
      find_sizes_fit();
      if (edge_count >= kLargeGraphEdges) {
        uint64_t essential = 0;
        for (uint64_t word : g.essential) essential += static_cast<uint64_t>(__builtin_popcountll(word));
        const uint64_t at_least = essential > count - 1 ? essential - (count - 1) : 0;
        ret_ahead = PackedColumn(at_least, len, essential);
      }
      sized.count_down();
      if (beside) beside();
      helper_done.store(true, std::memory_order_release);
    });
  } else {
    zero_upper();
    arrays_ready.count_down();
  }
  std::memset(work.data(), 0, len * sizeof(uint32_t));
  vert.Resize(len);
  arrays_ready.wait();
  auto num = [&](NodeOrdinal v) -> uint32_t& { return work[2 * size_t{v}]; };
  auto cnt = [&](NodeOrdinal v) -> uint32_t& { return work[2 * size_t{v} + 1]; };
  uint32_t n = 0;
  // Retainers over essential edges by DFS number, without the DFS tree's own edges (the parent
  // is a predecessor of every vertex, and the semidominator search starts from it): in a heap
  // most objects have one owner, so most vertices keep no entries at all. The DFS looks at
  // every essential edge of the vertices it reaches once, so it counts them (cnt); the edges
  // of vertices it does not reach are counted after it.
  auto is_tree_edge = [&](EdgeOrdinal e) { return (tree_bit[e >> 6] >> (e & 63)) & 1; };
  // The DFS reads the essential bits atomically: with `page_rule`, the second thread clears
  // some meanwhile (ApplyPageRule), in words the DFS may read, of edges it reaches only after.
  auto essential = [&](EdgeOrdinal e) {
    return (__atomic_load_n(&g.essential[e >> 6], __ATOMIC_RELAXED) >> (e & 63)) & 1;
  };
  // How far ahead the edge loops prefetch the target's number.
  constexpr EdgeOrdinal kAhead = 16;
  // Calls f(w) for the target w of each essential edge of vertex v other than a tree edge.
  // The callers go through the edges in order, so the prefetches run on past v's last edge.
  auto each_retained = [&](NodeOrdinal v, auto&& f) {
    const EdgeOrdinal end = snap.first_edge[v + 1];
    for (EdgeOrdinal e = snap.first_edge[v]; e < end; ++e) {
      if (e + kAhead < edge_count) __builtin_prefetch(&num(snap.edge_to[e + kAhead]), 1);
      if (!g.IsEssential(e) || is_tree_edge(e)) continue;
      f(snap.edge_to[e]);
    }
  };

  struct Frame {
    NodeOrdinal v;
    EdgeOrdinal next;
  };
  std::vector<Frame> stack;
  // Gives v the next DFS number, under its parent's.
  // Through local copies of the columns' pointers (PackedColumn::Writer): the byte stores may
  // alias anything, and the compiler would load every array's pointer again after each vertex.
  const PackedColumn::Writer vert_out = vert.writer(), par_out = par.writer();
  auto number = [&](NodeOrdinal v, uint32_t parent_number) {
    num(v) = ++n;
    vert_out.Set(n, v);
    par_out.Set(n, parent_number);
  };
  // An essential edge e seen from a numbered vertex: true when it reaches a vertex not numbered
  // yet, and becomes the DFS tree's edge into it; otherwise it counts among the target's other
  // retainers (never a tree edge: the one that reached the target was taken earlier).
  auto tree_edge_to = [&](EdgeOrdinal e, NodeOrdinal w) {
    if (num(w) != 0) {
      ++cnt(w);
      return false;
    }
    tree_bit[e >> 6] |= uint64_t{1} << (e & 63);
    return true;
  };
  auto visit = [&](NodeOrdinal v, uint32_t parent_number) {
    number(v, parent_number);
    const EdgeOrdinal first_edge = snap.first_edge[v];
    const EdgeOrdinal end = std::min(snap.first_edge[v + 1], first_edge + kAhead / 4);
    for (EdgeOrdinal e = first_edge; e < end; ++e) __builtin_prefetch(&num(snap.edge_to[e]), 1);
    stack.push_back({v, first_edge});
  };
  auto dfs = [&](NodeOrdinal start, uint32_t parent_number) {
    visit(start, parent_number);
    while (!stack.empty()) {
      Frame& f = stack.back();
      const EdgeOrdinal end = snap.first_edge[f.v + 1];
      bool descended = false;
      while (f.next < end) {
        EdgeOrdinal e = f.next++;
        if (e + kAhead / 4 < end) {
          // Its edges' offset too, which a descent reads first (DFS 109 -> 106 ms at 300 MB).
          const NodeOrdinal ahead = snap.edge_to[e + kAhead / 4];
          __builtin_prefetch(&num(ahead), 1);
          __builtin_prefetch(&snap.first_edge[ahead]);
        }
        if (e + 2 < end) {
          // And, for a target nearer still, the line of its first edges, which the descent
          // reads next: its offset was asked for two edges ago (DFS at 300 MB: the pass's
          // fastest of 9 runs 220 -> 215 ms).
          const NodeOrdinal nearer = snap.edge_to[e + 2];
          snap.edge_to.Prefetch(snap.first_edge[nearer]);
        }
        if (!essential(e)) continue;
        const NodeOrdinal w = snap.edge_to[e];
        if (!tree_edge_to(e, w)) continue;
        visit(w, num(f.v));  // may reallocate: `f` is not used after this
        descended = true;
        break;
      }
      if (!descended) stack.pop_back();
    }
  };

  if (page_rule) {
    // The page's objects first. From the root's shortcut edges (V8's, to the user global
    // objects) the DFS reaches objects of the page only (over edges that are not weak), whose
    // edges the page rule leaves as they are, while the second thread finds the page and
    // applies the rule; then the root's other edges, into V8's own roots.
    number(snap.root, 0);
    for (const bool shortcuts : {true, false}) {
      if (!shortcuts) {
        if (two_threads) page_ruled.wait();
        else page_rule();
      }
      for (EdgeOrdinal e = snap.first_edge[snap.root]; e < snap.first_edge[snap.root + 1]; ++e) {
        if ((snap.edge_type[e] == EdgeType::kShortcut) != shortcuts || !essential(e)) continue;
        const NodeOrdinal w = snap.edge_to[e];
        if (tree_edge_to(e, w)) dfs(w, 1);
      }
    }
  } else {
    dfs(snap.root, 0);
  }
  if (!two_threads) {
    find_sizes_fit();
    sized.count_down();
  }
  sized.wait();  // ret_ahead is read below
  // With nothing beside, the helper is done: joined now, as before it ran `beside`, so that the
  // thread made later in the pass can reuse its stack (glibc keeps those of joined threads).
  if (!beside) {
    helper.join();
  } else if (!two_threads) {
    helper = Thread(beside);
  }
  // Orphans: nodes with only weak retainers start their own subtree under the root. An essential
  // edge out of a vertex the DFS reached led it to the edge's target, so a vertex it did not
  // reach can only be retained by another it did not reach: only their edges are read, not all
  // of them (a pass over every edge, 20 ms at 300 MB, on the second thread while the DFS waited
  // for it), and the essential bits are final by now (page_ruled).
  if (n < count) {
    std::vector<NodeOrdinal> unreached;
    std::vector<uint64_t> retained_bit((len + 63) / 64, 0);
    for (NodeOrdinal v = 0; v < count; ++v) {
      if (num(v) != 0) continue;
      unreached.push_back(v);
      for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e) {
        if (!g.IsEssential(e)) continue;
        const NodeOrdinal to = snap.edge_to[e];
        retained_bit[to >> 6] |= uint64_t{1} << (to & 63);
      }
    }
    for (NodeOrdinal v : unreached)
      if (num(v) == 0 && !((retained_bit[v >> 6] >> (v & 63)) & 1)) dfs(v, 1);
  }
  // What is left retains itself in cycles: each hangs off the root, which becomes its
  // predecessor (its semidominator is then the root, the smallest number).
  const uint32_t first_fiat = n + 1;
  if (n < count) {
    for (NodeOrdinal v = 0; v < count; ++v) {
      if (num(v) == 0) number(v, 1);
    }
  }
  std::vector<Frame>().swap(stack);
  for (uint32_t from = first_fiat; from <= n; ++from)
    each_retained(vert[from], [&](NodeOrdinal w) { ++cnt(w); });
  if (progress) progress->Advance(count);

  // The retainers of number w follow those of w - 1, 3 bytes each below 2^24 nodes. No offset
  // array of n words is kept for them: a bit per entry marks the first of each vertex's group,
  // and a bit per vertex says whether it has a group at all; the loops below walk the groups
  // with a cursor, down for the semidominators and up for the dominators. Each count becomes
  // its vertex's cursor, at the start of its group, in number order.
  std::vector<uint64_t> has_group((len + 63) / 64, 0);
  auto has_retainers = [&](uint32_t w) { return (has_group[w >> 6] >> (w & 63)) & 1; };
  // Room for a bit per entry: there are fewer entries than edges.
  std::vector<uint64_t> group_start(size_t{edge_count} / 64 + 1, 0);
  uint32_t ret_size = 0;
  for (uint32_t w = 1; w <= n; ++w) {
    if (w + kAhead <= n) __builtin_prefetch(&cnt(vert[w + kAhead]), 1);
    uint32_t& c = cnt(vert[w]);
    if (c == 0) continue;
    has_group[w >> 6] |= uint64_t{1} << (w & 63);
    group_start[ret_size >> 6] |= uint64_t{1} << (ret_size & 63);
    const uint32_t k = c;
    c = ret_size;
    ret_size += k;
  }
  group_start.resize(size_t{ret_size} / 64 + 1);
  PackedColumn ret;
  if (!ret_ahead.empty()) {
    ret = std::move(ret_ahead);
    ret.Resize(ret_size);
  } else {
    ret = PackedColumn(ret_size, len);
  }
  for (NodeOrdinal v = 0; v < count; ++v) {
    const uint32_t from = num(v);
    each_retained(v, [&](NodeOrdinal w) { ret.Set(cnt(w)++, from); });
  }
  std::vector<uint64_t>().swap(tree_bit);
  // The group start at or before entry k, and the one after entry k (ret_size past the last).
  auto start_at_or_before = [&](uint32_t k) {
    size_t word = k >> 6;
    uint64_t bits = group_start[word] & (~uint64_t{0} >> (63 - (k & 63)));
    while (bits == 0) bits = group_start[--word];
    return static_cast<uint32_t>(64 * word + 63 - static_cast<size_t>(__builtin_clzll(bits)));
  };
  auto start_after = [&](uint32_t k) {
    size_t word = k >> 6;
    uint64_t bits = (k & 63) == 63 ? 0 : group_start[word] & (~uint64_t{0} << ((k & 63) + 1));
    const size_t words = group_start.size();
    while (bits == 0) {
      if (++word == words) return ret_size;
      bits = group_start[word];
    }
    return std::min(ret_size, static_cast<uint32_t>(64 * word + static_cast<size_t>(__builtin_ctzll(bits))));
  };
  // From here on vertices are named by number: `num` and the offsets are done with.

  // The smallest semidominator on a vertex's compressed path (label) and its forest ancestor.
  // The semidominator itself is not kept in an array of its own: once w is processed its
  // retainers are not read again, so semi(w) goes into its first retainer slot; a vertex
  // without retainers other than its DFS parent has that parent as its semidominator (the
  // root, for an orphan's start or a node in an unreachable cycle).
  // Side by side (la[2v], la[2v + 1]): EVAL reads both of a vertex at each step (one cache
  // line, not two).
  RawVector<uint32_t> la = std::move(work);
  std::fill(la.begin(), la.end(), 0);
  auto label = [&](uint32_t v) -> uint32_t& { return la[2 * size_t{v}]; };
  auto anc = [&](uint32_t v) -> uint32_t& { return la[2 * size_t{v} + 1]; };
  // EVAL reads and writes a pair whole, in one 8-byte access, so that two threads may run EVALs
  // at once (SharedScan): a pair read is always one a thread wrote whole, whose label is the
  // smallest on the path up to its ancestor, and compressing a path keeps that so. (Relaxed
  // atomics: plain loads and stores on x86.) Elsewhere one thread reads and writes the halves.
  using PairWord [[gnu::may_alias]] = uint64_t;
  constexpr int kLabelShift = std::endian::native == std::endian::little ? 0 : 32;
  // The pairs through a local copy of the block's pointer: a may_alias store may change
  // anything, and the compiler would read the vector's pointer again after each one (so too
  // the retainers' column, through `retainers`, and the vertex being processed, `limit`).
  PairWord* const pairs = reinterpret_cast<PairWord*>(la.data());
  auto pair_of = [pairs](uint32_t v) { return __atomic_load_n(&pairs[v], __ATOMIC_RELAXED); };
  auto pair_label = [&](uint64_t p) { return static_cast<uint32_t>(p >> kLabelShift); };
  auto pair_anc = [&](uint64_t p) { return static_cast<uint32_t>(p >> (32 - kLabelShift)); };
  auto set_pair = [pairs](uint32_t v, uint32_t lv, uint32_t av) {
    const uint64_t p = (uint64_t{lv} << kLabelShift) | (uint64_t{av} << (32 - kLabelShift));
    __atomic_store_n(&pairs[v], p, __ATOMIC_RELAXED);
  };

  // EVAL for a processed vertex v (number > the current w): the smallest semidominator on the
  // path from v up to, not including, the root of its tree in the forest of processed vertices.
  // One pass with path halving: each vertex passed takes its ancestor's label into its own and
  // skips it (the label then covers both). Full compression, up the path onto a stack and back
  // down, took 13-16 ms more of the pass's 300 at 300 MB.
  auto eval = [&](uint32_t v) -> uint32_t {
    uint32_t best = UINT32_MAX;
    for (;;) {
      const uint64_t pv = pair_of(v);
      const uint32_t a = pair_anc(pv);
      if (a == 0) return best;  // v is a root of the forest: not on the path
      const uint32_t lv = pair_label(pv);
      best = std::min(best, lv);
      const uint64_t pa = pair_of(a);
      const uint32_t aa = pair_anc(pa);
      if (aa == 0) return best;  // a is the root
      const uint32_t la_ = pair_label(pa);
      best = std::min(best, la_);
      set_pair(v, std::min(lv, la_), aa);
      v = aa;
    }
  };
  // The smallest of the retainers' candidates for the semidominator of the vertex being
  // processed (`scanned`), over its entries [from, to).
  uint32_t scanned = 0;
  auto semi_over = [&](uint32_t from, uint32_t to) {
    const PackedColumn::Reader retainers = ret.reader();
    const uint32_t limit = scanned;
    uint32_t s = UINT32_MAX;
    for (uint32_t k = from; k < to; ++k) {
      // A retainer's pair, and the pair of its forest ancestor, which EVAL reads next.
      if (k + kAhead < to) __builtin_prefetch(&pairs[retainers[k + kAhead]]);
      if (k + kAhead / 2 < to) __builtin_prefetch(&pairs[pair_anc(pair_of(retainers[k + kAhead / 2]))]);
      const uint32_t v = retainers[k];
      const uint32_t c = v < limit ? v : eval(v);
      if (c < s) s = c;
    }
    return s;
  };
  // Vertices with `shared_min_retainers` retainers or more share them with a second thread on
  // large graphs, once the helper above is done (not to take turns with it on one CPU).
  std::unique_ptr<SharedScan> shared;

  uint32_t cursor = ret_size;  // just past the retainers of w
  for (uint32_t w = n; w >= 2; --w) {
    uint32_t s = par[w];  // the DFS tree edge is a predecessor too
    const uint32_t b = has_retainers(w) ? start_at_or_before(cursor - 1) : cursor;
    const uint32_t e = cursor;
    cursor = b;
    if (w < first_fiat) {
      scanned = w;
      if (two_threads && e - b >= shared_min_retainers && helper_done.load(std::memory_order_acquire)) {
        if (!shared) shared = std::make_unique<SharedScan>(semi_over);
        s = std::min(s, shared->Run(b, e));
      } else {
        s = std::min(s, semi_over(b, e));
      }
    } else {
      s = 1;
    }
    if (b < e) ret.Set(b, s);  // semi(w), read back by the NCA loop below
    label(w) = s;  // LINK
    anc(w) = par[w];
    if (progress && (w & 0xFFFF) == 0) progress->Advance(count + (n - w));
  }
  shared.reset();

  // NCA: walk up from the DFS parent until at or above the semidominator. The forest is done
  // with: each vertex's `anc` slot takes its immediate dominator.
  auto idom = [&](uint32_t w) -> uint32_t& { return anc(w); };
  idom(1) = 1;
  cursor = has_retainers(1) ? start_after(0) : 0;  // the retainers of 2 follow those of the root
  // When the sizes fit 32 bits, the label slots (free now) take each vertex's self size here,
  // read at random by ordinal as the loop goes, then its retained size.
  auto size = [&](uint32_t w) -> uint32_t& { return label(w); };
  if (sizes_fit) size(1) = snap.node_self_size[vert[1]];
  for (uint32_t w = 2; w <= n; ++w) {
    uint32_t d = par[w];
    uint32_t s = w >= first_fiat ? 1 : par[w];
    if (has_retainers(w)) {
      s = ret[cursor];
      cursor = start_after(cursor);
    }
    while (d > s) d = idom(d);
    idom(w) = d;
    if (sizes_fit) {
      if (w + kAhead <= n) __builtin_prefetch(&snap.node_self_size[vert[w + kAhead]]);
      size(w) = snap.node_self_size[vert[w]];
    }
  }

  par = PackedColumn();
  ret = PackedColumn();
  std::vector<uint64_t>().swap(has_group);
  std::vector<uint64_t>().swap(group_start);
  g.dominator = HugeVector<NodeOrdinal>(count);
  g.retained = SizeColumn(count);
  if (sizes_fit) {
    // A dominator precedes what it dominates in preorder: accumulate in reverse, by number,
    // where a vertex's dominator is most often a few slots back (not by ordinal, at random).
    for (uint32_t w = n; w >= 2; --w) size(idom(w)) += size(w);
    // Then each vertex's dominator and retained size go to its ordinal: writes at random, to
    // distinct entries, split between two threads on large graphs.
    auto scatter = [&](uint32_t from, uint32_t to) {
      for (uint32_t w = from; w < to; ++w) {
        if (w + kAhead < to) {
          const NodeOrdinal ahead = vert[w + kAhead];
          vert.Prefetch(idom(w + kAhead));
          __builtin_prefetch(&g.dominator[ahead], 1);
          g.retained.Prefetch(ahead);
        }
        const NodeOrdinal o = vert[w];
        g.dominator[o] = vert[idom(w)];
        g.retained.SetSmall(o, size(w));
      }
    };
    if (two_threads) {
      Thread other([&] { scatter(n / 2 + 1, n + 1); });
      scatter(1, n / 2 + 1);
    } else {
      scatter(1, n + 1);
    }
  } else {
    for (uint32_t w = 1; w <= n; ++w) {
      if (w + kAhead <= n) {
        const NodeOrdinal ahead = vert[w + kAhead];
        vert.Prefetch(idom(w + kAhead));
        __builtin_prefetch(&g.dominator[ahead], 1);
        __builtin_prefetch(&snap.node_self_size[ahead]);
        g.retained.Prefetch(ahead);
      }
      const NodeOrdinal o = vert[w];
      g.dominator[o] = vert[idom(w)];
      g.retained.Set(o, snap.self_size(o));
    }
    // A dominator precedes what it dominates in preorder: accumulate in reverse.
    for (uint32_t w = n; w >= 2; --w) {
      if (w >= kAhead + 2) {
        vert.Prefetch(idom(w - kAhead));
        g.retained.Prefetch(vert[w - kAhead / 2]);
        g.retained.Prefetch(vert[idom(w - kAhead / 2)]);
      }
      const NodeOrdinal d = vert[idom(w)];
      g.retained.Set(d, g.retained[d] + g.retained[vert[w]]);
    }
  }
  if (progress) progress->End();
}

}  // namespace oomscope::heap
