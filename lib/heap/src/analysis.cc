#include "oomscope/heap/analysis.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "oomscope/common/thread.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/parser.h"

namespace oomscope::heap {

namespace {

// The `keep` user-visible nodes (not the root, synthetic groups or V8 internals) of largest
// retained size, largest first, kept in a bounded heap (worst on top) rather than by sorting
// every node: no array of n words.
std::vector<NodeOrdinal> LargestCandidates(const Snapshot& snap, const Graph& g, size_t keep) {
  auto better = [&](NodeOrdinal a, NodeOrdinal b) {
    return g.retained[a] != g.retained[b] ? g.retained[a] > g.retained[b] : a < b;
  };
  std::vector<NodeOrdinal> order;
  order.reserve(keep + 1);
  for (NodeOrdinal o = 0; o < snap.node_count() && keep > 0; ++o) {
    NodeType t = snap.node_type[o];
    if (o == snap.root || t == NodeType::kSynthetic || t == NodeType::kHidden || t == NodeType::kCode ||
        t == NodeType::kObjectShape)
      continue;
    if (order.size() == keep && !better(o, order.front())) continue;
    if (snap.name(o).starts_with("system / ")) continue;
    order.push_back(o);
    std::push_heap(order.begin(), order.end(), better);
    if (order.size() > keep) {
      std::pop_heap(order.begin(), order.end(), better);
      order.pop_back();
    }
  }
  std::sort(order.begin(), order.end(), better);
  return order;
}

// For each of `candidates`, the position in it of the nearest other candidate that dominates
// it (kNoCandidate if none: only the root above), read while the dominator array is there.
// Following these links gives every candidate that dominates it: the report's largest objects
// leave out one held by another already listed.
constexpr uint32_t kNoCandidate = UINT32_MAX;
std::vector<uint32_t> NearestCandidateAbove(const Snapshot& snap, const Graph& g,
                                            const std::vector<NodeOrdinal>& candidates) {
  std::unordered_map<NodeOrdinal, uint32_t> position;
  for (uint32_t i = 0; i < candidates.size(); ++i) position.emplace(candidates[i], i);
  std::vector<uint32_t> above(candidates.size(), kNoCandidate);
  for (uint32_t i = 0; i < candidates.size(); ++i) {
    for (NodeOrdinal d = g.dominator[candidates[i]]; d != snap.root; d = g.dominator[d]) {
      if (auto it = position.find(d); it != position.end()) {
        above[i] = it->second;
        break;
      }
    }
  }
  return above;
}

}  // namespace

struct SeriesAnalyzer::Last {
  Snapshot snap;
  Graph graph;
  std::vector<uint32_t> node_class;
  std::vector<ClassStats> classes;
  std::vector<NodeOrdinal> largest;  // LargestCandidates, for the report's largest objects
  std::vector<uint32_t> largest_above;  // NearestCandidateAbove(largest)
  // Below kLargeGraphEdges the class summary hands over the dominator tree and leaves
  // graph.dominator empty: a single snapshot's report does not need the array (largest_above
  // was read from it), and a series' earlier snapshots drop it for their digests. Finish reads
  // it back from the tree for a series' suspects, which leave the tree here again at the end.
  DominatorTree tree;
  // OrdinalsById, sorted during the dominators pass when more snapshots follow (see
  // AnalyzeOptions::expected_snapshots), for the digest; empty otherwise.
  std::vector<NodeOrdinal> by_id;
};

SeriesAnalyzer::SeriesAnalyzer(AnalyzeOptions options) : options_(std::move(options)) {}
SeriesAnalyzer::~SeriesAnalyzer() {
  if (spill_fd_ >= 0) ::close(spill_fd_);
}

int SeriesAnalyzer::SpillFd() {
  if (options_.spill_dir.empty() || !spill_error_.empty()) return -1;
  if (spill_fd_ < 0) {
    std::string path = options_.spill_dir + "/oomscope-digests-XXXXXX";
    spill_fd_ = ::mkstemp(path.data());
    if (spill_fd_ < 0) {
      spill_error_ = "cannot create a file in " + options_.spill_dir + ": " + std::strerror(errno);
      return -1;
    }
    ::unlink(path.c_str());  // gone with the process, however it ends
  }
  return spill_fd_;
}

SnapshotDigest SeriesAnalyzer::MakeLastDigest(bool identity_only, bool spill,
                                              const std::vector<NodeOrdinal>* by_id) {
  Last& L = *last_;
  if (L.node_class.empty()) L.node_class = NodeClasses(L.snap, classes_);  // freed by Finish
  const int fd = spill ? SpillFd() : -1;
  if (fd < 0) return MakeDigest(L.snap, L.graph, L.node_class, L.classes, identity_only, by_id);
  Status st;
  SnapshotDigest d = MakeSpilledDigest(L.snap, L.graph, L.node_class, L.classes, identity_only, fd,
                                       &spill_end_, &st, by_id);
  if (!st.ok()) spill_error_ = st.message();
  return d;
}

void SeriesAnalyzer::Spill(SnapshotDigest& d) {
  const int fd = SpillFd();
  if (fd < 0) return;
  if (Status st = SpillDigest(d, fd, &spill_end_); !st.ok()) spill_error_ = st.message();
}

void SeriesAnalyzer::DigestLast(bool spill) {
  if (!last_) return;
  Progress* progress = options_.progress;
  if (progress) progress->Begin("digest", 0);
  // The digest reads the snapshot, the retained sizes and the classes only: release the rest of
  // the graph first, so that the digest is not built beside the whole graph.
  {
    Graph& g = last_->graph;
    std::vector<NodeOrdinal>().swap(g.parent);
    std::vector<NodeOrdinal>().swap(g.dominator);
    std::vector<uint64_t>().swap(g.essential);
    last_->tree = DominatorTree();
  }
  if (spill)
    for (auto& d : digests_) Spill(*d);  // one kept in memory for DigestNewest, or by AddDigest
  const std::vector<NodeOrdinal>* by_id = last_->by_id.empty() ? nullptr : &last_->by_id;
  digests_.push_back(std::make_unique<SnapshotDigest>(MakeLastDigest(/*identity_only=*/false, spill, by_id)));
  last_.reset();
  if (progress) progress->End();
}

Status SeriesAnalyzer::Add(Snapshot snapshot, SnapshotInfo info) {
  Progress* progress = options_.progress;
  // The previous last snapshot becomes a digest before the new one is analyzed, so that two
  // full graphs never live at once.
  DigestLast();
  auto last = std::make_unique<Last>();
  last->snap = std::move(snapshot);
  // A snapshot that is not the last sorts its nodes by id for its digest on the dominators
  // pass's second thread, where it waits otherwise. Not on large graphs, where that thread runs
  // the distances and the order (17 MB at 300 MB) would add to the pass's peak.
  std::function<void()> sort_by_id;
  if (options_.expected_snapshots > infos_.size() + 1 && last->snap.edge_count() < kLargeGraphEdges)
    sort_by_id = [&L = *last] { L.by_id = OrdinalsById(L.snap); };
  last->graph = BuildGraph(last->snap, progress, /*with_distances=*/false, sort_by_id);
  // The dominator tree is built in the class summary; below kLargeGraphEdges it is kept (see
  // Last::tree), above it freed, and the suspects build it again at the end of a series.
  if (progress) progress->Begin("class summary and distances", 0);
  // The largest objects' candidates, and which of them dominate which, are found on the BFS's
  // thread, which would otherwise wait for the summary (13-15 ms at 4.3M nodes, off the critical
  // path there).
  last->classes = ComputeClassSummaryAndDistances(
      last->snap, last->graph, classes_, &last->node_class,
      [&, keep = options_.top * 8] {
        last->largest = LargestCandidates(last->snap, last->graph, keep);
        last->largest_above = NearestCandidateAbove(last->snap, last->graph, last->largest);
      },
      kLargeGraphEdges, &last->tree);
  if (progress) progress->End();
  info.node_count = last->snap.node_count();
  info.edge_count = last->snap.edge_count();
  info.total_size = 0;
  for (NodeOrdinal o = 0; o < last->snap.node_count(); ++o) info.total_size += last->snap.self_size(o);
  infos_.push_back(std::move(info));
  last_ = std::move(last);
  newest_is_digest_ = false;
  return Status::Ok();
}

Status SeriesAnalyzer::AddSource(ByteSource& source, SnapshotInfo info) {
  DigestLast();  // before parsing: a whole snapshot and a whole graph never coexist
  ParseOptions po;
  po.progress = options_.progress;
  Result<Snapshot> snap = ParseSnapshot(source, po);
  if (!snap.ok()) return snap.status();
  return Add(std::move(*snap), std::move(info));
}

Status SeriesAnalyzer::AddFile(const std::string& path, std::optional<double> captured_at) {
  DigestLast();  // before parsing: a whole snapshot and a whole graph never coexist
  ParseOptions po;
  po.progress = options_.progress;
  Result<Snapshot> snap = ParseSnapshotFile(path, po);
  if (!snap.ok()) return snap.status();
  SnapshotInfo info;
  info.source = path;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    info.file_bytes = static_cast<uint64_t>(st.st_size);
    if (!captured_at) {
      captured_at = static_cast<double>(st.st_mtim.tv_sec) +
                    static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
    }
  }
  info.captured_at = captured_at;
  return Add(std::move(*snap), std::move(info));
}

Status SeriesAnalyzer::AddDigest(SnapshotDigest digest, SnapshotInfo info) {
  DigestLast();
  for (uint32_t c : digest.cls)
    if (c >= classes_.size()) return InvalidArgument("the digest's class ids do not index this analyzer's classes");
  info.node_count = digest.node_count;
  info.edge_count = digest.edge_count;
  info.total_size = digest.total_size;
  infos_.push_back(std::move(info));
  digests_.push_back(std::make_unique<SnapshotDigest>(std::move(digest)));
  Spill(*digests_.back());
  newest_is_digest_ = true;
  return Status::Ok();
}

const SnapshotDigest* SeriesAnalyzer::DigestNewest() {
  if (newest_is_digest_ || (!last_ && digests_.empty())) return nullptr;
  DigestLast(/*spill=*/false);  // the caller reads its arrays
  return digests_.back().get();
}

Report SeriesAnalyzer::Finish() {
  Report r;
  r.generator = "oomscope 0.1.0";
  r.snapshots = infos_;
  r.series = infos_.size() >= 2;
  Last& L = *last_;
  const size_t top = options_.top;

  for (size_t i = 0; i < L.classes.size() && i < std::max<size_t>(top, 20); ++i) {
    const ClassStats& c = L.classes[i];
    r.classes.push_back({classes_.name(c.class_id), c.count, c.self_size, c.retained_size});
  }

  // Largest objects by retained size: user-visible ones (not the root, synthetic groups or V8
  // internals), skipping one whose dominator is already listed, so the rows are distinct leaks.
  {
    const std::vector<NodeOrdinal>& order = L.largest;
    std::vector<bool> chosen(order.size(), false);
    size_t chosen_count = 0;
    for (size_t i = 0; i < order.size() && chosen_count < top; ++i) {
      NodeOrdinal o = order[i];
      bool nested = false;
      for (uint32_t j = L.largest_above[i]; j != kNoCandidate && !nested; j = L.largest_above[j]) nested = chosen[j];
      if (nested) continue;
      chosen[i] = true;
      ++chosen_count;
      ObjectRow row;
      row.id = L.snap.node_id[o];
      row.class_name = ClassName(L.snap, o);
      row.name = DisplayName(L.snap, o, 60);
      row.self_size = L.snap.self_size(o);
      row.retained_size = L.graph.retained[o];
      row.path = FindRetainerPath(L.snap, L.graph, o).text;
      r.largest.push_back(std::move(row));
    }
  }

  std::string read_error;  // from reading spilled digests back
  if (r.series) {
    // The suspects walk the dominators: the array back from the tree that stood in for it,
    // first, so that the diff's digests are built beside the array as ever, not the tree (at
    // 30 MB this step is the series' peak).
    if (L.graph.dominator.empty() && !L.tree.first_child.empty())
      L.graph.dominator = DominatorsFromTree(L.snap, std::move(L.tree));
    Progress* progress = options_.progress;
    if (progress) progress->Begin("diff", 0);
    // Needed for the id alignment and the class diff only: released before the suspects (and
    // its room in the spill file given back).
    const uint64_t spill_mark = spill_end_;
    // The last snapshot's order by id, sorted once for its digest here and the suspects after.
    std::vector<NodeOrdinal> by_id = L.by_id.empty() ? OrdinalsById(L.snap) : std::move(L.by_id);
    auto last_digest_owner = std::make_unique<SnapshotDigest>(MakeLastDigest(/*identity_only=*/true, true, &by_id));
    const SnapshotDigest& last_digest = *last_digest_owner;
    // Ids must line up between every pair of neighbours.
    std::vector<const SnapshotDigest*> all;
    for (const auto& d : digests_) all.push_back(d.get());
    all.push_back(&last_digest);
    // Each neighbour pair's alignment, and the class diff of the first and the last as if they
    // line up (the usual case: done again without ids if not), are merge-joins over the
    // digests, each through cursors of its own: two threads take them in turn (300 MB, three
    // snapshots: the step 201-207 -> 159-189 ms). Read errors are kept per join; the first, in
    // this order, is the one reported.
    const size_t joins = all.size();  // pairs 1 .. all.size() - 1, then the diff
    std::vector<IdAlignment> aligned(all.size());
    std::vector<ClassDiff> diff;
    std::vector<std::string> join_error(joins);
    std::atomic<size_t> next_join{1};
    auto run_joins = [&] {
      for (size_t i; (i = next_join.fetch_add(1)) <= joins;) {
        if (i < all.size()) aligned[i] = CheckIdAlignment(*all[i - 1], *all[i], &join_error[i - 1]);
        else diff = DiffClasses(*all.front(), last_digest, true, &join_error[joins - 1]);
      }
    };
    {
      Thread other(run_joins);
      run_joins();
    }
    for (const std::string& e : join_error)
      if (read_error.empty()) read_error = e;
    std::vector<std::string> explanations;
    for (size_t i = 1; i < all.size(); ++i) {
      const IdAlignment& a = aligned[i];
      if (!a.same_process) {
        r.same_process = false;
        explanations.push_back("snapshots " + std::to_string(i) + " and " + std::to_string(i + 1) +
                               ": " + a.explanation);
      } else if (explanations.empty() && i == all.size() - 1) {
        r.id_alignment = a.explanation;
      }
    }
    if (!r.same_process) {
      r.id_alignment = "object ids do not line up, so these snapshots are not one process's "
                       "series (V8 keeps ids only within one process and inspector session): ";
      for (size_t i = 0; i < explanations.size(); ++i)
        r.id_alignment += (i ? "; " : "") + explanations[i];
      r.notes.push_back("The snapshots do not come from one process: only the class totals are "
                        "compared; no leak suspects are derived from object identity.");
    }
    if (!r.same_process) diff = DiffClasses(*all.front(), last_digest, false, &read_error);
    for (const ClassDiff& d : diff) {
      if (r.class_diff.size() >= std::max<size_t>(top, 20)) break;
      r.class_diff.push_back({classes_.name(d.class_id), d.count_before, d.count_after,
                              d.self_before, d.self_after, d.new_count, d.deleted_count,
                              d.alloc_size, d.freed_size});
    }
    last_digest_owner.reset();
    // The classes by node are read by digests only: freed for the suspects (DigestNewest, after
    // Finish, assigns them again).
    std::vector<uint32_t>().swap(L.node_class);
    if (spill_fd_ >= 0 && spill_end_ != spill_mark) {
      spill_end_ = spill_mark;
      (void)::ftruncate(spill_fd_, static_cast<off_t>(spill_mark));
    }
    if (progress) progress->End();
    if (r.same_process) {
      if (progress) progress->Begin("suspects", 0);
      std::vector<const SnapshotDigest*> earlier;
      for (const auto& d : digests_) earlier.push_back(d.get());
      std::vector<std::optional<double>> times;
      for (const auto& i : infos_) times.push_back(i.captured_at);
      SuspectOptions so = options_.suspects;
      // The tree goes where the class summary put it: Finish again reads the array back.
      r.suspects = FindSuspects(earlier, L.snap, L.graph, L.tree, times, so, &read_error, std::move(by_id));
      if (progress) progress->End();
    }
  } else {
    r.notes.push_back("One snapshot shows what is big, not what grows: capture two or more "
                      "snapshots of the same process to find leaks.");
  }
  if (!spill_error_.empty())
    r.notes.push_back("The earlier snapshots' digests stayed in memory (" + spill_error_ + ").");
  if (!read_error.empty())
    r.notes.push_back("The series analysis is incomplete: " + read_error + ".");
  return r;
}

Result<Report> AnalyzeFiles(const std::vector<std::string>& paths, const AnalyzeOptions& options) {
  if (paths.empty()) return InvalidArgument("no snapshot given");
  AnalyzeOptions with_count = options;
  with_count.expected_snapshots = paths.size();
  SeriesAnalyzer a(std::move(with_count));
  for (const auto& p : paths) OOMSCOPE_RETURN_IF_ERROR(a.AddFile(p));
  return a.Finish();
}

}  // namespace oomscope::heap
