#pragma once

#include <string>
#include <string_view>

#include "oomscope/common/status.h"
#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/digest.h"

namespace oomscope::heap {

// A SnapshotDigest on disk, so that a series' earlier snapshots need not be parsed again when a
// new one joins it (the analyzer keeps one next to each stored snapshot).
//
// Format (little-endian, version 1):
//   "OOMDIGST" (8 bytes), u32 version, u32 analysis revision (kDigestRevision),
//   u64 node_count, edge_count, total_size, u32 max_id,
//   u32 class-name count, per name: u32 length + bytes (the ClassTable in id order, so that
//     the ids in the file mean these names),
//   u64 n, then n x u32 ids, n x u32 cls, n x u32 self_size,
//   u64 r, r x u32 retained (r is n, or 0 for an identity-only digest),
//   u64 e, e x u16 entries,
//   u64 k, k x (u32 position, u64 value) big_retained; u64 k, k x (u32, u32) big_entries,
//   u64 c, c x (u32 class_id, u64 count, u64 self_size, u64 retained_size) classes,
//   u64 total length of everything before this field (a truncation check).
inline constexpr uint32_t kDigestFormatVersion = 1;
// Bumped when lib/heap computes digests differently (class names, retained sizes, entry
// counts): a digest of another revision is refused, and the snapshot is parsed again.
inline constexpr uint32_t kDigestRevision = 1;

// Serializes `digest`, whose class ids index `classes`.
std::string SerializeDigest(const SnapshotDigest& digest, const ClassTable& classes);

// Reads a digest written by SerializeDigest, interning its class names into `classes` and
// rewriting its class ids to that table's. Corruption (with what and where) on bytes that are
// not a digest, of another version or revision, truncated, or inconsistent (lengths that
// disagree, class ids outside the name table, positions outside the node arrays, unsorted ids).
// `classes` may gain names even when this fails; they are harmless.
Result<SnapshotDigest> ParseDigest(std::string_view bytes, ClassTable& classes);

}  // namespace oomscope::heap
