#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "oomscope/common/gzip.h"
#include "oomscope/common/sha256.h"
#include "oomscope/heap/source.h"
#include "oomscope/http/server.h"
#include "store.h"

namespace oomscope::analyzer {

// An upload's body as the snapshot parser pulls it: every piece read from the connection is
// inflated (gzip), hashed and written to the pending store file before the parser sees it, so
// one pass over the bytes stores, hashes and parses them. Errors of the body, the inflater and
// the store are kept (error()) apart from the parser's, so the answer names the real cause.
class UploadSource final : public heap::ByteSource {
 public:
  // `room`: the most (uncompressed) bytes accepted; more is ResourceExhausted("too large").
  UploadSource(http::BodyReader& body, bool gzip, uint64_t room, PendingUpload& file, Sha256& hash,
               std::optional<uint64_t> size_hint);

  Result<size_t> Read(char* buf, size_t n) override;
  std::optional<uint64_t> SizeHint() const override { return size_hint_; }
  std::string Describe() const override { return "the upload"; }

  // Reads the rest of the body through the same path (what the parser left: trailing bytes,
  // or everything after a parse error). Returns error().
  Status Drain();
  // After a parse error: the rest is still hashed and counted, but not written.
  void StopWriting() { writing_ = false; }
  const Status& error() const { return error_; }
  uint64_t bytes() const { return bytes_; }  // uncompressed bytes taken so far

 private:
  Status Take(std::string_view piece);  // room check, hash, write
  Status Fail(Status st);

  http::BodyReader& body_;
  bool gzip_;
  uint64_t room_;
  PendingUpload& file_;
  Sha256& hash_;
  std::optional<uint64_t> size_hint_;
  GzipInflater inflater_;
  std::string inflated_;  // gzip: inflated bytes not yet read by the parser
  size_t inflated_pos_ = 0;
  std::string compressed_;
  bool eof_ = false, writing_ = true;
  uint64_t bytes_ = 0;
  Status error_;
};

}  // namespace oomscope::analyzer
