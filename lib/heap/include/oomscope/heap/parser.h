#pragma once

#include <cstdint>
#include <optional>

#include "oomscope/common/progress.h"
#include "oomscope/common/status.h"
#include "oomscope/heap/snapshot.h"
#include "oomscope/heap/source.h"

namespace oomscope::heap {

struct ParseOptions {
  Progress* progress = nullptr;  // optional; reports bytes read when the size is known
  // Upper bound on the size of the `snapshot` header object (meta), which is parsed as a whole.
  size_t max_header_bytes = 16 << 20;
  // ParseSnapshotFile reads files at least this large on two threads: the file is cut near its
  // middle, inside the edges array, at the start of a line (where V8 starts each record; at a
  // ',' in a file without lines); one thread reads the header, the nodes and the edges before
  // the cut, the other the edges after it and the strings. Smaller files, streams and anything
  // unusual are read sequentially. From 8 MiB it pays: a 30 MB snapshot parses in ~77 ms
  // instead of 100-150 ms, and the peak RSS of its analysis (the dominators pass) is the same.
  uint64_t split_min_bytes = 8ull << 20;
  // Where the file is cut between the threads (a byte offset; the cut moves to the next line
  // start, or the next ',' in a file without lines);
  // default: the middle. Tests move it to try every record phase. A cut outside the edges
  // array abandons the split (a sequential read, same result).
  std::optional<uint64_t> split_edges_at;
  bool* used_two_threads = nullptr;  // optional out: set to whether the split read was used
};

// Parses a V8 .heapsnapshot from `source` in one streaming pass. The JSON text is never held
// whole: `nodes` and `edges` go straight into flat arrays, strings into one buffer. Field
// offsets come from snapshot.meta. Errors are Corruption (or the source's own error) with a
// message that says what and where: the byte offset, the array and element, the field.
// Validates what the analysis relies on: edge targets inside the node array, string ids inside
// the string table, counts that agree with the header, types inside meta's type lists.
Result<Snapshot> ParseSnapshot(ByteSource& source, const ParseOptions& options = {});

// Opens and parses a file; large files on two threads (see ParseOptions::split_min_bytes), with
// the same result and the same errors as a sequential parse.
Result<Snapshot> ParseSnapshotFile(const std::string& path, const ParseOptions& options = {});

}  // namespace oomscope::heap
