#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"

namespace oomscope::sidecar {

// One snapshot waiting for upload: the file and what is known about it.
struct SpoolEntry {
  std::string id;        // "<sequence>-<sha256 prefix>", orders entries oldest first
  std::string data_path;
  std::string sha256;
  uint64_t bytes = 0;
  nlohmann::json meta;   // namespace, pod, series id, sequence, capture time, memory figures...
};

// A directory of snapshots waiting for upload, bounded in bytes. Survives restarts: an entry is
// its data file plus a metadata file written last (temp file, fsync, rename), so a crash at
// any point leaves either a whole entry or debris that Open() clears. When adding would pass
// the bound, the oldest entries are dropped, counted and logged, never the newest.
// Thread-safe.
class Spool {
 public:
  // Opens (creating) `dir`; recovers what a previous run left.
  static Result<std::unique_ptr<Spool>> Open(const std::string& dir, uint64_t max_bytes);

  // Where a capture should write before Add(): a fresh path inside the spool directory, so
  // that Add() is a rename, never a copy.
  std::string IncomingPath();

  // Takes `file` (inside the spool directory) as a new entry: hashes it, writes the metadata,
  // then drops the oldest entries while over the bound. ResourceExhausted if the file alone is
  // larger than the bound (it is removed, and counted as dropped).
  Result<SpoolEntry> Add(const std::string& file, nlohmann::json meta);

  std::vector<SpoolEntry> Pending() const;  // oldest first
  Status Remove(const std::string& id);     // after the analyzer confirmed it
  uint64_t bytes() const;
  uint64_t dropped() const;  // entries dropped to stay within the bound, since Open()
  const std::string& dir() const { return dir_; }

 private:
  Spool(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}
  Status Recover();
  void DropOldestLocked(uint64_t incoming);

  const std::string dir_;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::vector<SpoolEntry> entries_;  // oldest first
  uint64_t bytes_ = 0, dropped_ = 0, next_seq_ = 1, next_incoming_ = 1;
};

}  // namespace oomscope::sidecar
