#include "gzip_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace oomscope::sidecar {

Status GzipFile(const std::string& path, int level, const GzipSink& sink) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFound("cannot open " + path + ": " + std::strerror(errno));
  GzipDeflater deflater(level);
  std::vector<char> buf(1 << 20);
  Status st;
  while (st.ok()) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Internal("reading " + path + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) {
      st = deflater.Finish(sink);
      break;
    }
    st = deflater.Write(std::string_view(buf.data(), static_cast<size_t>(n)), sink);
  }
  ::close(fd);
  return st;
}

Result<uint64_t> GzippedSize(const std::string& path, int level) {
  uint64_t total = 0;
  Status st = GzipFile(path, level, [&](std::string_view piece) {
    total += piece.size();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return total;
}

}  // namespace oomscope::sidecar
