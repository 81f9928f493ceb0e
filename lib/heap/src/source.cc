#include "oomscope/heap/source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace oomscope::heap {
namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      return Unavailable("reading " + path_ + ": " + std::strerror(errno));
    }
  }
  std::optional<uint64_t> SizeHint() const override { return size_; }
  std::string Describe() const override { return path_; }
  bool Seek(uint64_t offset) override {
    return ::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) == static_cast<off_t>(offset);
  }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
};

class StreamSource final : public ByteSource {
 public:
  StreamSource(std::istream& in, std::string name) : in_(in), name_(std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    in_.read(buf, static_cast<std::streamsize>(n));
    if (in_.bad()) return Unavailable("reading " + name_ + ": stream error");
    return static_cast<size_t>(in_.gcount());
  }
  std::string Describe() const override { return name_; }

 private:
  std::istream& in_;
  std::string name_;
};

class CallbackSource final : public ByteSource {
 public:
  CallbackSource(std::function<Result<size_t>(char*, size_t)> read, std::string name,
                 std::optional<uint64_t> size)
      : read_(std::move(read)), name_(std::move(name)), size_(size) {}
  Result<size_t> Read(char* buf, size_t n) override { return read_(buf, n); }
  std::optional<uint64_t> SizeHint() const override { return size_; }
  std::string Describe() const override { return name_; }

 private:
  std::function<Result<size_t>(char*, size_t)> read_;
  std::string name_;
  std::optional<uint64_t> size_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return NotFound(path + ": no such file");
    return InvalidArgument(path + ": " + std::strerror(e));
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + ": not a regular file");
  }
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return std::unique_ptr<ByteSource>(
      std::make_unique<FileSource>(fd, path, static_cast<uint64_t>(st.st_size)));
}

std::unique_ptr<ByteSource> MakeStreamSource(std::istream& in, std::string name) {
  return std::make_unique<StreamSource>(in, std::move(name));
}

std::unique_ptr<ByteSource> MakeCallbackSource(std::function<Result<size_t>(char*, size_t)> read,
                                               std::string name,
                                               std::optional<uint64_t> size_hint) {
  return std::make_unique<CallbackSource>(std::move(read), std::move(name), size_hint);
}

}  // namespace oomscope::heap
