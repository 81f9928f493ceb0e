#include "upload_source.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace oomscope::analyzer {

namespace {
// Compressed pieces are small: a piece of gzip inflates to at most ~1000x its size, and the
// inflated bytes wait in memory until the parser reads them.
constexpr size_t kCompressedPiece = 16 << 10;
constexpr size_t kRawPiece = 1 << 20;
}  // namespace

UploadSource::UploadSource(http::BodyReader& body, bool gzip, uint64_t room, PendingUpload& file, Sha256& hash,
                           std::optional<uint64_t> size_hint)
    : body_(body), gzip_(gzip), room_(room), file_(file), hash_(hash), size_hint_(size_hint), inflater_(room) {}

Status UploadSource::Fail(Status st) {
  if (error_.ok()) error_ = st;
  return error_;
}

Status UploadSource::Take(std::string_view piece) {
  if (bytes_ + piece.size() > room_) return ResourceExhausted("too large");
  bytes_ += piece.size();
  hash_.Update(piece);
  return writing_ ? file_.Write(piece) : Status::Ok();
}

Result<size_t> UploadSource::Read(char* buf, size_t n) {
  if (!error_.ok()) return error_;
  if (!gzip_) {
    if (eof_) return size_t{0};
    Result<size_t> got = body_.Read(buf, std::min(n, kRawPiece));
    if (!got.ok()) return Fail(got.status());
    if (*got == 0) {
      eof_ = true;
      return size_t{0};
    }
    if (Status st = Take(std::string_view(buf, *got)); !st.ok()) return Fail(st);
    return *got;
  }
  while (inflated_pos_ == inflated_.size()) {
    if (eof_) return size_t{0};
    inflated_.clear();
    inflated_pos_ = 0;
    compressed_.resize(kCompressedPiece);
    Result<size_t> got = body_.Read(compressed_.data(), compressed_.size());
    if (!got.ok()) return Fail(got.status());
    if (*got == 0) {
      eof_ = true;
      if (Status st = inflater_.Finish(); !st.ok()) return Fail(st);
      continue;
    }
    Status st = inflater_.Write(std::string_view(compressed_.data(), *got), [&](std::string_view out) -> Status {
      OOMSCOPE_RETURN_IF_ERROR(Take(out));
      inflated_.append(out);
      return Status::Ok();
    });
    if (!st.ok()) return Fail(st);
  }
  size_t k = std::min(n, inflated_.size() - inflated_pos_);
  std::memcpy(buf, inflated_.data() + inflated_pos_, k);
  inflated_pos_ += k;
  return k;
}

Status UploadSource::Drain() {
  std::vector<char> scratch(kRawPiece);
  for (;;) {
    Result<size_t> n = Read(scratch.data(), scratch.size());
    if (!n.ok() || *n == 0) break;
  }
  return error_;
}

}  // namespace oomscope::analyzer
