#include "oomscope/heap/suspects.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "oomscope/common/format.h"
#include "oomscope/common/thread.h"

namespace oomscope::heap {
namespace {

// Objects that can own a leak: JS objects and closures a program made. V8's own structures
// (maps, code, shapes, the string table, synthetic roots) grow as a program warms up and are
// never what a developer can fix, so they are left out; closure contexts stay in.
bool CanOwnLeak(const Snapshot& snap, NodeOrdinal v) {
  if (v == snap.root) return false;
  NodeType t = snap.node_type[v];
  if (t != NodeType::kObject && t != NodeType::kClosure) return false;
  std::string_view name = snap.name(v);
  if (name.starts_with("system / ")) return name == "system / Context";
  return true;
}

struct Series {
  std::vector<std::optional<uint64_t>> retained, entries;
};

// Each step non-decreasing, at least half of the steps strictly increasing, and a total growth.
bool GrowsMonotonically(const std::vector<std::optional<uint64_t>>& v, uint64_t min_total) {
  if (v.size() < 2 || !v.front() || !v.back()) return false;
  size_t steps = 0, up = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (!v[i] || !v[i - 1]) return false;
    ++steps;
    if (*v[i] < *v[i - 1]) return false;
    if (*v[i] > *v[i - 1]) ++up;
  }
  return up * 2 >= steps && *v.back() >= *v.front() + min_total && up > 0;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct Cluster {
  uint64_t count = 0;
  uint64_t bytes = 0;  // retained by the cluster's top-level objects
  std::vector<NodeOrdinal> samples;  // the largest top-level objects
};

SuspectSample MakeSample(const Snapshot& snap, const Graph& g, NodeOrdinal o) {
  SuspectSample s;
  s.id = snap.node_id[o];
  s.class_name = ClassName(snap, o);
  s.name = DisplayName(snap, o, 60);
  s.self_size = snap.self_size(o);
  s.retained_size = g.retained[o];
  return s;
}

// The last few entries an owner holds: array elements, Map/Set table slots, properties.
std::vector<NodeOrdinal> LastEntries(const Snapshot& snap, NodeOrdinal v, size_t n) {
  std::vector<NodeOrdinal> out;
  NodeOrdinal holder = v;
  std::string_view name = snap.name(v);
  if (name == "Map" || name == "Set") {
    for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e)
      if (snap.edge_type[e] == EdgeType::kInternal && snap.edge_name_string(e) == "table")
        holder = snap.edge_to[e];
  }
  for (EdgeOrdinal e = snap.first_edge[holder + 1]; e > snap.first_edge[holder] && out.size() < n;) {
    --e;
    EdgeType t = snap.edge_type[e];
    bool entry = t == EdgeType::kElement || (holder != v && t == EdgeType::kInternal) ||
                 (t == EdgeType::kProperty && snap.edge_name_string(e) != "__proto__");
    if (!entry) continue;
    NodeOrdinal to = snap.edge_to[e];
    if (snap.node_type[to] == NodeType::kHidden || snap.node_type[to] == NodeType::kObjectShape) continue;
    out.push_back(to);
  }
  return out;
}

// For a closure context: the variable whose value retains the most.
std::optional<EdgeOrdinal> DominantVariable(const Snapshot& snap, const Graph& g, NodeOrdinal v) {
  std::optional<EdgeOrdinal> best;
  for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e) {
    if (snap.edge_type[e] != EdgeType::kContext) continue;
    if (!best || g.retained[snap.edge_to[e]] > g.retained[snap.edge_to[*best]]) best = e;
  }
  return best;
}

std::string Classify(const Snapshot& snap, NodeOrdinal v, const RetainerPath& path,
                     bool entries_grow, std::optional<EdgeOrdinal> variable) {
  std::string_view name = snap.name(v);
  if (name == "system / Context") {
    if (variable) {
      NodeType t = snap.node_type[snap.edge_to[*variable]];
      if (t == NodeType::kConsString || t == NodeType::kString) return "growing-string";
    }
    return "growing-closure-context";
  }
  if (name == "TimersList" || name == "Timeout" || name == "Immediate") return "growing-timers";
  if (name == "Array") {
    bool listeners = path.key.find("_events") != std::string::npos;
    if (!listeners) {
      auto last = LastEntries(snap, v, 3);
      listeners = !last.empty() && std::all_of(last.begin(), last.end(), [&](NodeOrdinal o) {
        return snap.node_type[o] == NodeType::kClosure;
      });
    }
    return listeners ? "growing-listeners" : "growing-array";
  }
  if (name == "Map") return "growing-map";
  if (name == "Set") return "growing-set";
  return entries_grow ? "growing-object" : "growing-retained";
}

}  // namespace

std::vector<Suspect> FindSuspects(const std::vector<const SnapshotDigest*>& earlier,
                                  const Snapshot& last, Graph& g, DominatorTree& tree,
                                  const std::vector<std::optional<double>>& capture_times,
                                  const SuspectOptions& options, std::string* read_error,
                                  std::vector<NodeOrdinal> last_by_id) {
  std::vector<Suspect> out;
  const size_t k = earlier.size();  // snapshots before the last one
  if (k == 0) return out;
  const uint32_t n = last.node_count();
  // The digests are read in order of id only, through cursors: they may be on disk.
  std::vector<DigestCursor> cursors;
  for (const SnapshotDigest* d : earlier) cursors.emplace_back(*d);
  // The tree first, standing in for the dominator array until the candidates are chosen. On
  // large graphs a second thread builds it while this one finds the births below (41 and 68 ms
  // at 4.3M nodes), and later walks it for the clusters while this one picks the candidates
  // (61 and 48 ms). The dominator array then lives beside the births' arrays until the tree
  // stands, and this step becomes the series' peak: 0.92 -> 0.93 of the largest file at 300 MB,
  // 0.89 -> 0.90 at 1 GB. Below kLargeGraphEdges, one thread: at 30 MB the series' peak, in
  // the diff step, is within 1% of the file.
  const bool two_threads = last.edge_count() >= kLargeGraphEdges;
  auto build_tree = [&] {
    tree = BuildDominatorTree(last, g);
    std::vector<NodeOrdinal>().swap(g.dominator);
  };
  Thread tree_thread;
  if (two_threads) tree_thread = Thread(build_tree);
  else build_tree();

  // 1. Birth: the first snapshot of the unbroken run of presence that ends in the last one.
  // The last snapshot's nodes are visited by ascending id, so that each digest (sorted by id)
  // is walked once with a cursor instead of searched for every node. What the first snapshot
  // says of the retained size of nodes present throughout (birth 0) is kept by ordinal for the
  // growth tests.
  std::vector<uint8_t> birth;
  SizeColumn first_retained;
  {
    // Allocated once the sort has freed its work arrays, so that the two never add up. A series
    // hands over the order its class diff sorted (the classes by node, as large, were freed in
    // between), so this step's peak is the order, the tree and these arrays: 14 bytes a node,
    // where the dominator array and the tree built after this step took 15.
    std::vector<NodeOrdinal> by_id = std::move(last_by_id);
    if (by_id.size() != n) by_id = OrdinalsById(last);
    birth.assign(n, 0);
    first_retained = SizeColumn(n);
    std::vector<size_t> at(k, 0);
    for (NodeOrdinal o : by_id) {
      const uint32_t id = last.node_id[o];
      size_t b = k;
      for (size_t j = k; j-- > 0;) {
        DigestCursor& d = cursors[j];
        at[j] = d.Seek(at[j], id);
        if (at[j] == d.size() || d.id(at[j]) != id) break;
        b = j;
        if (j == 0) first_retained.Set(o, d.retained(at[j]));
      }
      birth[o] = static_cast<uint8_t>(std::min<size_t>(b, 255));
    }
  }
  if (tree_thread.joinable()) tree_thread.join();
  // 2. Growth not explained by a growing child: delta(v) minus the growth of v's dominator
  // children that existed from the start. What is left came from objects that are new under v.
  // Both are computed where they are read (each node is one node's child: all the sums together
  // read each node once) rather than kept in arrays of n.
  auto delta = [&](NodeOrdinal o) -> int64_t {
    return static_cast<int64_t>(g.retained[o]) - static_cast<int64_t>(first_retained[o]);
  };
  auto child_growth = [&](NodeOrdinal v) {
    int64_t sum = 0;
    for (uint32_t i = tree.first_child[v]; i < tree.first_child[v + 1]; ++i) {
      const NodeOrdinal c = tree.children[i];
      if (birth[c] != 0 || c == last.root) continue;
      if (const int64_t d = delta(c); d > 0) sum += d;
    }
    return sum;
  };

  // 3. Accumulating allocations (needs a baseline, a target and a final snapshot).
  std::unordered_map<NodeOrdinal, Cluster> clusters;
  auto find_clusters = [&] {
    if (k < 2) return;
    // The nearest node on the path from the root (itself included) that existed from the
    // first snapshot, and the path itself: stacks along the walk, not arrays of n.
    std::vector<NodeOrdinal> anchors, path;
    auto accumulated = [&](NodeOrdinal o) { return birth[o] >= 1 && birth[o] <= k - 1; };
    WalkDominatorTree(
        last, tree,
        [&](NodeOrdinal o) {
          anchors.push_back((birth[o] == 0 || o == last.root) ? o : anchors.back());
          path.push_back(o);
          if (!accumulated(o)) return;
          Cluster& c = clusters[anchors.back()];
          ++c.count;
          // Counted in its top-level object when its dominator (the one before it on the path;
          // the root is never accumulated) is accumulated too.
          if (accumulated(path[path.size() - 2])) return;
          c.bytes += g.retained[o];
          c.samples.push_back(o);
          if (c.samples.size() > 16) {
            std::sort(c.samples.begin(), c.samples.end(),
                      [&](NodeOrdinal a, NodeOrdinal b) { return g.retained[a] > g.retained[b]; });
            c.samples.resize(5);
          }
        },
        [&](NodeOrdinal) {
          anchors.pop_back();
          path.pop_back();
        });
  };
  // Reads the tree, the births and the retained sizes only, as the candidates below do.
  Thread cluster_thread;
  if (two_threads) cluster_thread = Thread(find_clusters);
  else find_clusters();

  const uint64_t total = std::max<uint64_t>(1, [&] {
    uint64_t t = 0;
    for (NodeOrdinal o = 0; o < n; ++o) t += last.self_size(o);
    return t;
  }());
  const uint64_t min_bytes = std::max<uint64_t>(
      options.min_growth_bytes,
      static_cast<uint64_t>(options.min_growth_heap_fraction * static_cast<double>(total)));

  // Candidates: owners present throughout whose retained size grew enough from the first
  // snapshot to the last, or that hold enough entries to have gained min_entry_growth of them
  // (checked once the first snapshot's count is read). Their values in every snapshot are then
  // read in one pass over each digest, in order of id.
  struct Candidate {
    NodeOrdinal v;
    uint32_t entries_last;
    bool maybe_bytes;
  };
  std::vector<Candidate> candidates;
  const EntryCounter entry_count(last);
  for (NodeOrdinal v = 0; v < n; ++v) {
    if (birth[v] != 0 || !CanOwnLeak(last, v)) continue;
    int64_t residual = delta(v) - child_growth(v);
    uint32_t entries_last = entry_count(v);
    bool maybe_bytes = residual >= static_cast<int64_t>(min_bytes);
    if (!maybe_bytes && entries_last < options.min_entry_growth) continue;
    candidates.push_back({v, entries_last, maybe_bytes});
  }
  if (cluster_thread.joinable()) cluster_thread.join();
  // Done with the per-node arrays. The tree stays the caller's: at the end of a series nothing
  // reads the dominator array again (reading it back took 1.9 ms at 30 MB).
  std::vector<uint8_t>().swap(birth);
  first_retained = SizeColumn();
  // series_values[c * k + j]: candidate c's retained size and entry count in snapshot j.
  std::vector<std::pair<uint64_t, uint32_t>> series_values(candidates.size() * k);
  {
    std::vector<size_t> by_id(candidates.size());
    std::iota(by_id.begin(), by_id.end(), size_t{0});
    std::sort(by_id.begin(), by_id.end(), [&](size_t a, size_t b) {
      return last.node_id[candidates[a].v] < last.node_id[candidates[b].v];
    });
    for (size_t j = 0; j < k; ++j) {
      DigestCursor& d = cursors[j];
      size_t at = 0;
      for (size_t c : by_id) {
        // Present in every snapshot (birth 0), so the id is found.
        at = d.Seek(at, last.node_id[candidates[c].v]);
        if (at < d.size()) series_values[c * k + j] = {d.retained(at), d.entries(at)};
      }
    }
  }

  for (size_t ci = 0; ci < candidates.size(); ++ci) {
    const Candidate& cand = candidates[ci];
    const NodeOrdinal v = cand.v;
    const uint32_t entries_last = cand.entries_last, entries_first = series_values[ci * k].second;
    const bool maybe_bytes = cand.maybe_bytes;
    const bool maybe_entries = entries_last >= entries_first + options.min_entry_growth;
    if (!maybe_bytes && !maybe_entries) continue;
    Series s;
    for (size_t j = 0; j < k; ++j) {
      s.retained.push_back(series_values[ci * k + j].first);
      s.entries.push_back(series_values[ci * k + j].second);
    }
    s.retained.push_back(g.retained[v]);
    s.entries.push_back(entries_last);
    bool bytes_grow = maybe_bytes && GrowsMonotonically(s.retained, min_bytes);
    bool entries_grow = maybe_entries && GrowsMonotonically(s.entries, options.min_entry_growth);
    if (!bytes_grow && !entries_grow) continue;

    Suspect x;
    x.owner_id = last.node_id[v];
    x.owner_class = ClassName(last, v);
    x.owner_name = DisplayName(last, v, 60);
    x.path = FindRetainerPath(last, g, v);
    if (!x.path.steps.empty()) {
      const PathStep& in = x.path.steps.back();
      if (in.edge_type == EdgeType::kProperty || in.edge_type == EdgeType::kContext ||
          in.edge_type == EdgeType::kElement)
        x.held_under = in.edge;
    }
    std::optional<EdgeOrdinal> variable;
    if (last.name(v) == "system / Context") {
      variable = DominantVariable(last, g, v);
      if (variable) {
        NodeOrdinal to = last.edge_to[*variable];
        std::string var(last.edge_name_string(*variable));
        // The context itself reads as "(closure scope)"; its variable names the leak.
        for (std::string* text : {&x.path.text, &x.path.key}) {
          static const std::string kCls = " (system / Context)";
          if (text->ends_with(kCls)) text->resize(text->size() - kCls.size());
        }
        std::string tail = " \xE2\x86\x92 " + var + " (" + ClassName(last, to) + ")";
        x.path.text += tail;
        x.path.key += tail;
        x.held_under = var;
      }
    }
    x.kind = Classify(last, v, x.path, entries_grow, variable);
    x.retained_by_snapshot = s.retained;
    x.entries_by_snapshot = s.entries;
    const double grown = static_cast<double>(*s.retained.back()) - static_cast<double>(*s.retained.front());
    x.growth_bytes_per_snapshot = grown / static_cast<double>(k);
    if (capture_times.size() == k + 1 && capture_times.front() && capture_times.back() &&
        *capture_times.back() > *capture_times.front()) {
      x.growth_bytes_per_hour = grown * 3600.0 / (*capture_times.back() - *capture_times.front());
    }
    auto cit = clusters.find(v);
    if (cit != clusters.end()) {
      x.leaked_objects = cit->second.count;
      x.leaked_bytes = cit->second.bytes;
      auto& smp = cit->second.samples;
      std::sort(smp.begin(), smp.end(),
                [&](NodeOrdinal a, NodeOrdinal b) { return g.retained[a] > g.retained[b]; });
      for (size_t i = 0; i < smp.size() && i < 5; ++i) x.samples.push_back(MakeSample(last, g, smp[i]));
    } else {
      x.leaked_objects = entries_last > entries_first ? entries_last - entries_first : 0;
      x.leaked_bytes = grown > 0 ? static_cast<uint64_t>(grown) : 0;
    }
    if (x.samples.empty()) {
      for (NodeOrdinal o : LastEntries(last, variable ? last.edge_to[*variable] : v, 3))
        x.samples.push_back(MakeSample(last, g, o));
    }

    // Confidence: how many independent signals agree.
    double c = 0.45;
    size_t steps = k;
    if (steps >= 2) c += 0.15;  // three or more snapshots, every step checked
    if (bytes_grow && entries_grow) c += 0.1;
    if (x.leaked_objects >= 100 || (entries_grow && *s.entries.back() - *s.entries.front() >= 1000)) c += 0.1;
    if (cit != clusters.end() && cit->second.count >= 10) c += 0.1;
    if (grown >= 0.01 * static_cast<double>(total)) c += 0.05;
    x.confidence = std::min(0.99, c);

    char buf[256];
    if (entries_grow) {
      std::snprintf(buf, sizeof buf, "entries grew in every step: %llu -> %llu",
                    static_cast<unsigned long long>(*s.entries.front()),
                    static_cast<unsigned long long>(*s.entries.back()));
      x.evidence.emplace_back(buf);
    }
    if (bytes_grow || grown > 0) {
      x.evidence.push_back("retained size grew " + FormatBytesDelta(grown) + " over " +
                           std::to_string(k) + (k == 1 ? " interval" : " intervals") +
                           (bytes_grow ? ", never shrinking" : ""));
    }
    if (cit != clusters.end()) {
      x.evidence.push_back(std::to_string(cit->second.count) +
                           " objects allocated after the first snapshot are still alive in the last, "
                           "held under this owner");
    }
    if (k == 1) x.evidence.emplace_back("only two snapshots: take a third to confirm");
    out.push_back(std::move(x));
  }

  // Rank: bytes grown, then confidence; keep a stable id from the collapsed path.
  std::sort(out.begin(), out.end(), [](const Suspect& a, const Suspect& b) {
    double ga = a.growth_bytes_per_snapshot, gb = b.growth_bytes_per_snapshot;
    if (ga != gb) return ga > gb;
    return a.confidence > b.confidence;
  });
  if (out.size() > options.max_suspects) out.resize(options.max_suspects);
  if (read_error) {
    for (const DigestCursor& c : cursors)
      if (!c.error().empty() && read_error->empty()) *read_error = c.error();
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].rank = static_cast<int>(i + 1);
    char id[32];
    std::snprintf(id, sizeof id, "%016llx",
                  static_cast<unsigned long long>(Fnv1a(out[i].owner_class + "|" + out[i].path.key)));
    out[i].id = id;
  }
  return out;
}

}  // namespace oomscope::heap
