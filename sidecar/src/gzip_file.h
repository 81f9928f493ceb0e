#pragma once

#include <cstdint>
#include <string>

#include "oomscope/common/gzip.h"
#include "oomscope/common/status.h"

namespace oomscope::sidecar {

// Compresses the file at `path` as gzip, read in 1 MiB pieces, output to `sink` in pieces:
// memory stays flat whatever the file's size. zlib is deterministic, so two runs at the same
// level produce the same bytes (the uploader counts them first for Content-Length).
Status GzipFile(const std::string& path, int level, const GzipSink& sink);

// The size GzipFile would produce.
Result<uint64_t> GzippedSize(const std::string& path, int level);

}  // namespace oomscope::sidecar
