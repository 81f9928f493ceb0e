#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"

namespace oomscope::analyzer {

// One stored snapshot. `id` is the SHA-256 of its (uncompressed) bytes.
struct SnapshotRecord {
  std::string id, series;
  uint64_t bytes = 0;
  double received_at = 0;    // unix seconds
  nlohmann::json metadata;   // X-Oomscope-Metadata as the sidecar sent it
  std::string state = "pending";  // pending (analysis owed) | ok | failed
  std::string error;              // why it failed
  int attempts = 0;               // analyses started (a crash during one leaves it pending)

  int64_t sequence() const;
  std::optional<double> captured_at() const;
  std::string meta(const char* key) const;  // a string field of metadata, or ""
};

// What the analysis of a series left: its summary (state comes from the records).
struct SeriesSummary {
  std::vector<std::string> analyzed;  // snapshot ids the report covers
  nlohmann::json top_suspects = nlohmann::json::array();  // up to 5: kind,name,constructor,path,retained_bytes,growth_bytes_per_second
  uint64_t heap_bytes = 0;  // the last snapshot's heap
  std::string error;        // the series' report could not be made
};

// A snapshot being received: bytes go to a temp file in the store, committed or discarded.
class PendingUpload {
 public:
  virtual ~PendingUpload() = default;  // discards the temp file unless committed
  // ResourceExhausted on ENOSPC (the store is full), Internal on other I/O errors.
  virtual Status Write(std::string_view data) = 0;
  virtual uint64_t bytes() const = 0;
  // Where the bytes written so far are, for reading them back (the snapshot check).
  virtual std::string path() const = 0;
};

// The analyzer's persistent state (leveldb's Env idea: the side effects behind one interface).
// Thread-safe.
class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  virtual Result<std::unique_ptr<PendingUpload>> Begin() = 0;
  // Makes `upload` the snapshot `record` describes: data and record on disk and fsync'ed (file
  // and directory) when this returns OK. AlreadyExists when `record.id` is stored (nothing kept).
  // ResourceExhausted when the store is full.
  virtual Status Commit(std::unique_ptr<PendingUpload> upload, const SnapshotRecord& record) = 0;
  virtual Status UpdateRecord(const SnapshotRecord& record) = 0;

  virtual std::optional<SnapshotRecord> Get(const std::string& id) const = 0;
  virtual std::vector<SnapshotRecord> SeriesSnapshots(const std::string& series) const = 0;
  virtual std::vector<std::string> SeriesIds() const = 0;
  virtual std::string DataPath(const std::string& id) const = 0;

  // The snapshot's digest (lib/heap digest_io.h), kept next to it so that a series' report is
  // recomputed without parsing its earlier snapshots again. Written atomically (tmp, fsync,
  // rename); NotFound when the snapshot is not stored (deleted meanwhile). ReadDigest: nullopt
  // when there is none.
  virtual Status PutDigest(const std::string& id, const std::string& bytes) = 0;
  virtual std::optional<std::string> ReadDigest(const std::string& id) const = 0;

  virtual Status PutSummary(const std::string& series, const SeriesSummary& summary, const std::string& report_json) = 0;
  virtual std::optional<SeriesSummary> Summary(const std::string& series) const = 0;
  virtual std::string ReportPath(const std::string& series) const = 0;  // may not exist yet

  // Removes the series, its snapshots and report. NotFound when unknown.
  virtual Status DeleteSeries(const std::string& series) = 0;
  virtual uint64_t TotalBytes() const = 0;  // snapshot bytes stored
  virtual bool Writable() const = 0;        // a probe file can be written and removed
};

// A filesystem store under `dir` (tmp/, snapshots/, series/). Opening recovers from a crash:
// temp files and half-committed entries (data without its record, digests without their
// snapshot) are removed.
Result<std::unique_ptr<SnapshotStore>> OpenFsStore(const std::string& dir);

// Valid ids for series (from sidecars) and snapshots: [A-Za-z0-9._-]{1,128}, not "." or "..".
bool ValidId(std::string_view id);

}  // namespace oomscope::analyzer
