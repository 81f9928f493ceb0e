#include "oomscope/common/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <string>

namespace oomscope {
namespace {

constexpr size_t kOutChunk = 64 * 1024;
constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header and trailer

std::string ZMessage(const z_stream& z, int rc) {
  if (z.msg != nullptr) return z.msg;
  return "zlib error " + std::to_string(rc);
}

}  // namespace

struct GzipDeflater::Impl {
  z_stream z{};
  bool initialised = false;
  unsigned char out[kOutChunk];
};

GzipDeflater::GzipDeflater(int level) : impl_(std::make_unique<Impl>()) {
  if (level < 1 || level > 9) level = Z_DEFAULT_COMPRESSION;
  // memLevel 8 is zlib's default: ~256 KiB of state.
  impl_->initialised =
      deflateInit2(&impl_->z, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipDeflater::~GzipDeflater() {
  if (impl_->initialised) deflateEnd(&impl_->z);
}

Status GzipDeflater::Run(std::string_view data, int flush, const GzipSink& sink) {
  if (!impl_->initialised) return Internal("gzip: deflateInit2 failed");
  if (finished_) return FailedPrecondition("gzip: write after finish");
  z_stream& z = impl_->z;
  // zlib counts in uInt: feed very large views in slices.
  while (true) {
    size_t slice = std::min<size_t>(data.size(), 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(slice);
    const int f = slice == data.size() ? flush : Z_NO_FLUSH;
    int rc;
    do {
      z.next_out = impl_->out;
      z.avail_out = kOutChunk;
      rc = deflate(&z, f);
      if (rc == Z_STREAM_ERROR) return Internal("gzip: " + ZMessage(z, rc));
      size_t have = kOutChunk - z.avail_out;
      if (have > 0) {
        bytes_out_ += have;
        OOMSCOPE_RETURN_IF_ERROR(sink(std::string_view(reinterpret_cast<char*>(impl_->out), have)));
      }
    } while (z.avail_out == 0 || (f == Z_FINISH && rc != Z_STREAM_END));
    bytes_in_ += slice;
    data.remove_prefix(slice);
    if (data.empty()) break;
  }
  return Status::Ok();
}

Status GzipDeflater::Write(std::string_view data, const GzipSink& sink) {
  if (data.empty()) return Status::Ok();
  return Run(data, Z_NO_FLUSH, sink);
}

Status GzipDeflater::Finish(const GzipSink& sink) {
  Status st = Run({}, Z_FINISH, sink);
  finished_ = true;
  return st;
}

struct GzipInflater::Impl {
  z_stream z{};
  bool initialised = false;
  unsigned char out[kOutChunk];
};

GzipInflater::GzipInflater(uint64_t max_output_bytes)
    : impl_(std::make_unique<Impl>()), max_output_(max_output_bytes) {
  impl_->initialised = inflateInit2(&impl_->z, kGzipWindowBits) == Z_OK;
}

GzipInflater::~GzipInflater() {
  if (impl_->initialised) inflateEnd(&impl_->z);
}

Status GzipInflater::Write(std::string_view data, const GzipSink& sink) {
  if (!impl_->initialised) return Internal("gunzip: inflateInit2 failed");
  if (!error_.ok()) return error_;
  if (data.empty()) return Status::Ok();
  if (done_) {
    error_ = Corruption("gunzip: " + std::to_string(data.size()) + " bytes after the end of the gzip stream at byte " +
                        std::to_string(bytes_in_));
    return error_;
  }
  z_stream& z = impl_->z;
  while (!data.empty()) {
    size_t slice = std::min<size_t>(data.size(), 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(slice);
    while (z.avail_in > 0 && !done_) {
      z.next_out = impl_->out;
      z.avail_out = kOutChunk;
      const uInt avail_before = z.avail_in;
      int rc = inflate(&z, Z_NO_FLUSH);
      bytes_in_ += avail_before - z.avail_in;
      if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR || rc == Z_MEM_ERROR) {
        error_ = Corruption("gunzip: " + ZMessage(z, rc) + " at compressed byte " + std::to_string(bytes_in_));
        return error_;
      }
      size_t have = kOutChunk - z.avail_out;
      if (have > 0) {
        if (bytes_out_ + have > max_output_) {
          error_ = ResourceExhausted("gunzip: output exceeds the limit of " + std::to_string(max_output_) + " bytes");
          return error_;
        }
        bytes_out_ += have;
        Status st = sink(std::string_view(reinterpret_cast<char*>(impl_->out), have));
        if (!st.ok()) {
          error_ = st;
          return st;
        }
      }
      if (rc == Z_STREAM_END) done_ = true;
      if (have == 0 && avail_before == z.avail_in && !done_) {  // no progress: never spin
        error_ = Internal("gunzip: inflate made no progress at compressed byte " + std::to_string(bytes_in_));
        return error_;
      }
    }
    if (z.avail_in > 0) {  // stream ended inside this piece
      error_ = Corruption("gunzip: " + std::to_string(z.avail_in + data.size() - slice) +
                          " bytes after the end of the gzip stream at byte " + std::to_string(bytes_in_));
      return error_;
    }
    data.remove_prefix(slice);
  }
  return Status::Ok();
}

Status GzipInflater::Finish() {
  if (!error_.ok()) return error_;
  if (!done_) {
    return Corruption("gunzip: truncated gzip stream (ended after " + std::to_string(bytes_in_) +
                      " compressed bytes without a trailer)");
  }
  return Status::Ok();
}

}  // namespace oomscope
