#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// Number of entries a collection-like node holds: elements of an Array, entries of a Map or Set
// (through its backing table), properties of an object used as a dictionary. 0 for others.
uint32_t EntryCount(const Snapshot& snap, NodeOrdinal n);

// What a series keeps of a snapshot once its full graph is released: per node (sorted by id)
// the class, sizes and entry count. About 18 bytes a node, against ~60 for the full graph, so a
// long series costs little more memory than its last snapshot. Retained sizes and entry counts
// are stored narrow, with the few values that do not fit in side tables: read them through
// Retained() and Entries().
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

  // Position of `id` in ids, or -1.
  int64_t Find(uint32_t id) const;
  // Precondition: the digest was not made identity_only, i < ids.size().
  uint64_t Retained(size_t i) const {
    uint32_t r = retained[i];
    return r == UINT32_MAX ? big_retained.at(static_cast<uint32_t>(i)) : r;
  }
  uint32_t Entries(size_t i) const {
    uint16_t e = entries[i];
    return e == UINT16_MAX ? big_entries.at(static_cast<uint32_t>(i)) : e;
  }
};

// The node ordinals of `snap` by ascending object id; nodes with equal ids (not in V8's
// snapshots) keep their order. A radix sort, 11 bits at a time.
std::vector<NodeOrdinal> OrdinalsById(const Snapshot& snap);

// `identity_only`: keep ids, classes and self sizes (what the class diff and the id alignment
// read) and leave `retained` and `entries` empty: for the last snapshot of a series, whose full
// graph is still at hand, at half the memory.
SnapshotDigest MakeDigest(const Snapshot& snap, const Graph& g,
                          const std::vector<uint32_t>& node_class, std::vector<ClassStats> classes,
                          bool identity_only = false);

// DevTools' "Comparison" view between two snapshots of one process, by class.
struct ClassDiff {
  uint32_t class_id = 0;
  uint64_t count_before = 0, count_after = 0;
  uint64_t self_before = 0, self_after = 0;
  uint64_t new_count = 0, deleted_count = 0;  // by object id
  uint64_t alloc_size = 0, freed_size = 0;
};
// Sorted by size delta, largest growth first; classes without any change are left out.
std::vector<ClassDiff> DiffClasses(const SnapshotDigest& before, const SnapshotDigest& after,
                                   bool ids_comparable);

// Whether two snapshots come from one process (and one inspector session), judged by their
// object ids: ids are stable within a session, so objects present in both must agree on their
// class, and ids the later one gives to objects that are not new must have been seen before.
struct IdAlignment {
  bool same_process = false;
  double shared_fraction = 0;    // of the earlier snapshot's ids found again
  double class_agreement = 0;    // of the shared ids whose class matches
  std::string explanation;
};
IdAlignment CheckIdAlignment(const SnapshotDigest& before, const SnapshotDigest& after);

}  // namespace oomscope::heap
