#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "oomscope/common/status.h"
#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// Number of entries a collection-like node holds: elements of an Array, entries of a Map or Set
// (through its backing table), properties of an object used as a dictionary. 0 for others.
// An EntryCounter answers for every node of one snapshot: it looks at each string once (what
// the names of the node and its edges are), where a node's count would otherwise compare the
// strings of all its edges, read at random.
class EntryCounter {
 public:
  explicit EntryCounter(const Snapshot& snap);
  uint32_t operator()(NodeOrdinal n) const;

 private:
  enum Kind : uint8_t {
    kCountedProperty = 1,  // a property name that is an entry: not __proto__, not a symbol
    kNumeric = 2,          // a table slot of a Map or Set
    kMap = 4,
    kSet = 8,
    kArray = 16,
    kTable = 32,  // the internal edge to a Map's or Set's backing table
  };
  bool Is(StringId s, Kind k) const { return s < kind_.size() && (kind_[s] & k); }
  const Snapshot& snap_;
  std::vector<uint8_t> kind_;  // by string id
};

// What a series keeps of a snapshot once its full graph is released: per node (sorted by id)
// the class, sizes and entry count. About 18 bytes a node, against ~60 for the full graph; in
// memory, or in a spill file (SpillDigest), so that a series needs no more memory than its last
// snapshot. Retained sizes and entry counts are stored narrow, with the few values that do not
// fit in side tables: read them through a DigestCursor (retained(), entries()).
struct SnapshotDigest {
  uint64_t node_count = 0, edge_count = 0, total_size = 0;
  uint32_t max_id = 0;  // the largest odd (V8 heap object) id
  std::vector<uint32_t> ids;  // sorted ascending
  std::vector<uint32_t> cls;  // ClassTable id
  std::vector<uint32_t> self_size;  // saturated at UINT32_MAX
  std::vector<uint32_t> retained;   // UINT32_MAX: the real value is in big_retained
  std::vector<uint16_t> entries;    // UINT16_MAX: the real value is in big_entries
  std::unordered_map<uint32_t, uint64_t> big_retained;  // by position
  std::unordered_map<uint32_t, uint32_t> big_entries;   // by position
  std::vector<ClassStats> classes;
  // Set when the per-object arrays above were moved to a file (SpillDigest): they are then
  // empty, and DigestCursor reads them from there.
  struct Spill {
    int fd = -1;  // not owned: the series' spill file
    uint64_t n = 0;
    uint64_t ids = 0, cls = 0, self_size = 0, retained = 0, entries = 0;  // byte offsets
  };
  std::optional<Spill> spill;

  // Objects listed (the length of the per-object arrays, in memory or spilled).
  size_t size() const { return spill ? static_cast<size_t>(spill->n) : ids.size(); }
};

// Moves a digest's per-object arrays to the file `fd` at byte offset *end (advanced past them)
// and frees them; the rest of the digest (counts, classes, the side tables) stays in memory. On
// a failed write (a full disk) the digest is left whole in memory and the error returned.
Status SpillDigest(SnapshotDigest& d, int fd, uint64_t* end);

// Reads a digest's per-object arrays by position (every position below size()), from memory or
// from its spill file. Reads that move forward, as the merge joins over the sorted ids do, cost
// one pread per window of 4Ki entries and column; reading back costs a pread too. A failed read
// (an I/O error on the spill file) gives zeros from then on and is kept in error(). Not
// thread-safe; cheap to make, one per pass.
class DigestCursor {
 public:
  explicit DigestCursor(const SnapshotDigest& d);
  size_t size() const { return d_.size(); }
  uint32_t id(size_t i) { return ids_.Get(i); }
  uint32_t cls(size_t i) { return cls_.Get(i); }
  uint32_t self_size(size_t i) { return self_.Get(i); }
  // Precondition: not identity_only.
  uint64_t retained(size_t i) {
    const uint32_t r = retained_.Get(i);
    return r == UINT32_MAX ? d_.big_retained.at(static_cast<uint32_t>(i)) : r;
  }
  uint32_t entries(size_t i) {
    const uint16_t e = entries_.Get(i);
    return e == UINT16_MAX ? d_.big_entries.at(static_cast<uint32_t>(i)) : e;
  }
  // The first position at or after `from` whose id is at least `id` (size() when none).
  size_t Seek(size_t from, uint32_t id) {
    while (from < size() && ids_.Get(from) < id) ++from;
    return from;
  }
  // What went wrong reading the spill file; empty when nothing did.
  std::string error() const {
    for (const std::string* e : {&ids_.error(), &cls_.error(), &self_.error(), &retained_.error(), &entries_.error()})
      if (!e->empty()) return *e;
    return {};
  }

 private:
  template <typename T>
  class Column {
   public:
    void Init(const std::vector<T>& mem, int fd, uint64_t offset, size_t n) {
      mem_ = mem.data();
      fd_ = fd;
      offset_ = offset;
      n_ = n;
    }
    T Get(size_t i) {
      if (fd_ < 0) return mem_[i];
      if (i - start_ >= window_.size()) Load(i);
      return window_[i - start_];
    }
    const std::string& error() const { return error_; }

   private:
    void Load(size_t i);
    const T* mem_ = nullptr;
    int fd_ = -1;
    uint64_t offset_ = 0;
    size_t n_ = 0, start_ = 0;
    std::vector<T> window_;
    std::string error_;
  };
  const SnapshotDigest& d_;
  Column<uint32_t> ids_, cls_, self_, retained_;
  Column<uint16_t> entries_;
};

// The node ordinals of `snap` by ascending object id; nodes with equal ids (not in V8's
// snapshots) keep their order. A radix sort in place (no second array of n entries: it runs
// at a series' peak), most significant digit first, parts of up to 8Ki entries sorted in a
// small buffer; large snapshots sort the parts on two threads.
std::vector<NodeOrdinal> OrdinalsById(const Snapshot& snap);

// `identity_only`: keep ids, classes and self sizes (what the class diff and the id alignment
// read) and leave `retained` and `entries` empty: for the last snapshot of a series, whose full
// graph is still at hand, at half the memory. `by_id`: OrdinalsById(snap), when the caller has
// it (sorted here otherwise).
SnapshotDigest MakeDigest(const Snapshot& snap, const Graph& g,
                          const std::vector<uint32_t>& node_class, std::vector<ClassStats> classes,
                          bool identity_only = false, const std::vector<NodeOrdinal>* by_id = nullptr);
// MakeDigest with the per-object arrays written straight to the spill file `fd` at byte offset
// *end (advanced past them), never whole in memory. When a write fails (a full disk), *status
// says why and the digest comes back whole in memory instead.
SnapshotDigest MakeSpilledDigest(const Snapshot& snap, const Graph& g,
                                 const std::vector<uint32_t>& node_class, std::vector<ClassStats> classes,
                                 bool identity_only, int fd, uint64_t* end, Status* status,
                                 const std::vector<NodeOrdinal>* by_id = nullptr);

// DevTools' "Comparison" view between two snapshots of one process, by class.
struct ClassDiff {
  uint32_t class_id = 0;
  uint64_t count_before = 0, count_after = 0;
  uint64_t self_before = 0, self_after = 0;
  uint64_t new_count = 0, deleted_count = 0;  // by object id
  uint64_t alloc_size = 0, freed_size = 0;
};
// Sorted by size delta, largest growth first; classes without any change are left out.
// `read_error`, here and below, when given, gets what went wrong reading a spilled digest.
std::vector<ClassDiff> DiffClasses(const SnapshotDigest& before, const SnapshotDigest& after,
                                   bool ids_comparable, std::string* read_error = nullptr);

// Whether two snapshots come from one process (and one inspector session), judged by their
// object ids: ids are stable within a session, so objects present in both must agree on their
// class, and ids the later one gives to objects that are not new must have been seen before.
struct IdAlignment {
  bool same_process = false;
  double shared_fraction = 0;    // of the earlier snapshot's ids found again
  double class_agreement = 0;    // of the shared ids whose class matches
  std::string explanation;
};
IdAlignment CheckIdAlignment(const SnapshotDigest& before, const SnapshotDigest& after,
                             std::string* read_error = nullptr);

}  // namespace oomscope::heap
