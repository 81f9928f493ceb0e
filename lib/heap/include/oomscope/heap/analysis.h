#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oomscope/common/progress.h"
#include "oomscope/common/status.h"
#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/digest.h"
#include "oomscope/heap/report.h"
#include "oomscope/heap/snapshot.h"
#include "oomscope/heap/source.h"
#include "oomscope/heap/suspects.h"

namespace oomscope::heap {

struct AnalyzeOptions {
  size_t top = 10;  // rows of classes and largest objects kept in the report
  SuspectOptions suspects;
  Progress* progress = nullptr;
  // Where the digests of a series' earlier snapshots go once made: a file there, unlinked at
  // once, so that memory holds the last snapshot only however long the series (Finish reads
  // the digests back in order of id). Empty: they stay in memory. When the file cannot be
  // written (a full disk, no such directory), they stay in memory and the report says so.
  std::string spill_dir;
  // How many snapshots the caller will add, when it knows (0: it does not). A snapshot with more
  // to come then sorts its nodes by id for its digest during the dominators pass, on the pass's
  // second thread, idle there below kLargeGraphEdges: 3-4 ms less per earlier snapshot of a
  // 30 MB series, for 4 bytes a node more at that snapshot's pass, whose peak is below the
  // series' own (the last snapshot's, which sorts at the end as before).
  size_t expected_snapshots = 0;
};

// Analyzes a series one snapshot at a time, in capture order: the pipeline
//   parse -> edge index -> retainers -> distances -> dominators -> retained sizes
//   -> class summary -> (digest) ... -> diff -> suspects -> report.
// Only the newest snapshot is kept whole; earlier ones are reduced to digests (18 bytes per
// node), in memory or, with AnalyzeOptions::spill_dir, on disk. Not thread-safe.
class SeriesAnalyzer {
 public:
  explicit SeriesAnalyzer(AnalyzeOptions options);
  ~SeriesAnalyzer();

  // Adds the next snapshot of the series. The caller parsed it while the previous one was still
  // whole: prefer AddSource/AddFile, which reduce the previous one to its digest first.
  Status Add(Snapshot snapshot, SnapshotInfo info);
  // Parses the next snapshot from `source` and adds it; only one snapshot is whole at a time.
  Status AddSource(ByteSource& source, SnapshotInfo info);
  // Parses `path` and adds it (captured_at: the file's modification time unless given).
  Status AddFile(const std::string& path, std::optional<double> captured_at = std::nullopt);

  // Adds the next snapshot of the series as its digest (read back from disk, see digest_io.h),
  // with the info it was added with (node_count, edge_count and total_size come from the
  // digest). Its class ids must index classes(): ParseDigest(bytes, classes()) does that. The
  // newest snapshot must still be added whole for Finish.
  Status AddDigest(SnapshotDigest digest, SnapshotInfo info);
  // Reduces the newest snapshot, if it is whole, to its digest (as adding the next one would)
  // and returns that digest, e.g. to keep it on disk (SerializeDigest(*d, classes())). Call
  // it after Finish for the newest; Finish then needs another whole snapshot first. nullptr
  // when nothing was added or the newest was added as a digest.
  const SnapshotDigest* DigestNewest();
  // The class names the digests' class ids index.
  ClassTable& classes() { return classes_; }
  // Bytes of digests in the spill file (AnalyzeOptions::spill_dir); 0 while they are in memory.
  uint64_t spilled_bytes() const { return spill_end_; }
  // Whether the newest snapshot is whole (Finish's precondition).
  bool newest_whole() const { return last_ != nullptr; }

  // Builds the report from what was added. Precondition: at least one snapshot, the newest
  // added whole (Add, AddSource, AddFile) and not reduced by DigestNewest.
  Report Finish();

 private:
  struct Last;
  // Reduces the whole last snapshot to a digest, freeing its graph; `spill`: moves the digest
  // to the spill file when there is one.
  void DigestLast(bool spill = true);
  // The last snapshot's digest, written to the spill file when `spill` and there is one;
  // `by_id`: its OrdinalsById, when at hand.
  SnapshotDigest MakeLastDigest(bool identity_only, bool spill, const std::vector<NodeOrdinal>* by_id = nullptr);
  int SpillFd();  // the spill file, made on first use; -1 without one
  void Spill(SnapshotDigest& d);  // moves an in-memory digest to the spill file
  AnalyzeOptions options_;
  ClassTable classes_;
  std::vector<SnapshotInfo> infos_;
  std::vector<std::unique_ptr<SnapshotDigest>> digests_;  // every snapshot but the last
  std::unique_ptr<Last> last_;
  bool newest_is_digest_ = false;  // the newest was added by AddDigest
  int spill_fd_ = -1;
  uint64_t spill_end_ = 0;
  std::string spill_error_;  // why digests stayed in memory, for the report
};

// Convenience: analyzes files in the given order.
Result<Report> AnalyzeFiles(const std::vector<std::string>& paths, const AnalyzeOptions& options);

}  // namespace oomscope::heap
