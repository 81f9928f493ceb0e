#pragma once

// What a V8 heap snapshot costs the process that writes it. The sidecar uses it to decide whether
// the pod can afford a capture (and records a reason when it cannot); the operator uses the same
// figures to raise the memory limit in the debugging recipe. One place, so the two never disagree.
//
// The figures are measured, not guessed: bench/snapshot_cost.sh writes real snapshots of heaps
// of several sizes with Node's own writer and records the file size per byte of used heap and the
// peak RSS growth per byte of file (docs/sidecar.md, "What a snapshot costs").

#include <cstdint>

namespace oomscope {

struct SnapshotCost {
  // Snapshot file bytes per byte of V8 heap used (measured on Node 20).
  double file_bytes_per_heap_byte = 1.0;
  // Peak RSS growth of the writing process per byte of snapshot file (the 6.5–7x).
  double rss_growth_per_file_byte = 7.0;

  // Bytes of extra resident memory the process needs to write a snapshot of a heap that uses
  // `heap_used` bytes.
  uint64_t PeakGrowthBytes(uint64_t heap_used) const {
    return static_cast<uint64_t>(static_cast<double>(heap_used) * file_bytes_per_heap_byte *
                                 rss_growth_per_file_byte);
  }
};

// The measured defaults; both programs accept an override factor on their command line.
inline constexpr SnapshotCost kDefaultSnapshotCost{};

}  // namespace oomscope
