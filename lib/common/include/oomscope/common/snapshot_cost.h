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
  // Measured with bench/snapshot_cost.sh on Node v20.20.2 (2026-11-27, this repository's build
  // machine; docs/sidecar.md "What a snapshot costs"), one fresh process per size, mixed heap:
  //   heap used   how                       file/heap  peak RSS growth/file  growth/heap
  //    34 MiB     v8.writeHeapSnapshot()      1.84         5.00                 9.2
  //    34 MiB     inspector (oomscope capture) 1.87        5.01                 9.4
  //   299 MiB     v8.writeHeapSnapshot()      2.01         4.83                 9.7
  //   299 MiB     inspector (oomscope capture) 2.00        4.86                 9.7
  //  ~1 GiB       v8.writeHeapSnapshot(): OOM-killed at 10.4 GiB RSS (growth >= 9x heap)
  // The defaults round up: 2 bytes of file per heap byte, 5 bytes of peak RSS growth per file
  // byte, i.e. 10 bytes of headroom per byte of heap used.
  // A heap that is mostly one huge array of references (the typical leak) costs far more:
  // 22-26 bytes of growth per file byte, 58-85 per heap byte (SHAPE=array bench/snapshot_cost.sh,
  // docs/sidecar.md). The sidecar therefore measures each capture's real cost and raises these
  // for the process when it was higher (sidecar/src/triggers.h, MeasuredSnapshotCost).
  //
  // Snapshot file bytes per byte of V8 heap used.
  double file_bytes_per_heap_byte = 2.0;
  // Peak RSS growth of the writing process per byte of snapshot file.
  double rss_growth_per_file_byte = 5.0;

  // Peak RSS growth per byte of heap used.
  double GrowthPerHeapByte() const { return file_bytes_per_heap_byte * rss_growth_per_file_byte; }
  // Bytes of extra resident memory the process needs to write a snapshot of a heap that uses
  // `heap_used` bytes.
  uint64_t PeakGrowthBytes(uint64_t heap_used) const {
    return static_cast<uint64_t>(static_cast<double>(heap_used) * GrowthPerHeapByte());
  }
};

// The measured defaults; both programs accept an override factor on their command line.
inline constexpr SnapshotCost kDefaultSnapshotCost{};

}  // namespace oomscope
