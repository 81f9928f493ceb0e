#pragma once

// Streaming gzip (RFC 1952) over zlib, both directions, in bounded memory: feed input in pieces,
// receive output in pieces through a sink. Neither side ever holds a whole stream. The sidecar
// compresses snapshots while it uploads them; the analyzer inflates uploads while it stores them.
//
//   GzipDeflater d;
//   d.Write(piece, sink);  ...  d.Finish(sink);
//
//   GzipInflater in(/*max_output_bytes=*/4ull << 30);
//   in.Write(piece, sink);  ...  in.Finish();   // Corruption on a truncated or bad stream
//
// A sink returning a non-OK Status stops the stream; that Status is returned unchanged.
// Not thread-safe; one object per stream. zlib's state is ~256 KiB (deflate) or ~44 KiB (inflate)
// plus a 64 KiB output buffer, whatever the stream's size.

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "oomscope/common/status.h"

namespace oomscope {

// Receives output in pieces of at most 64 KiB; the view is valid only during the call.
using GzipSink = std::function<Status(std::string_view)>;

class GzipDeflater {
 public:
  // level: 1 (fast) .. 9 (small); 6 is zlib's default. Snapshots are very redundant JSON, so the
  // fast levels already shrink them ~5-10x; the sidecar uses 1 to keep the upload CPU-light.
  explicit GzipDeflater(int level = 6);
  ~GzipDeflater();
  GzipDeflater(const GzipDeflater&) = delete;
  GzipDeflater& operator=(const GzipDeflater&) = delete;

  Status Write(std::string_view data, const GzipSink& sink);
  // Flushes what is buffered and writes the gzip trailer. Write() after Finish() is an error.
  Status Finish(const GzipSink& sink);

  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  Status Run(std::string_view data, int flush, const GzipSink& sink);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  bool finished_ = false;
};

class GzipInflater {
 public:
  // Output beyond `max_output_bytes` fails with ResourceExhausted (a decompression bomb, or a
  // snapshot larger than the reader accepts) before the excess reaches the sink.
  explicit GzipInflater(uint64_t max_output_bytes);
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Corruption (with the compressed byte offset) on data that is not gzip or fails its checks;
  // Corruption also on data after the end of the gzip stream (one member only).
  Status Write(std::string_view data, const GzipSink& sink);
  // Corruption when the stream ended early (truncated: no trailer yet).
  Status Finish();

  bool done() const { return done_; }  // the trailer was read and its CRC and length checked
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t max_output_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  bool done_ = false;
  Status error_;  // sticky: a failed stream stays failed
};

}  // namespace oomscope
