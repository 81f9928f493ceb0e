#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>

#include "oomscope/common/status.h"

namespace oomscope::heap {

// Where snapshot bytes come from: a file, a stream, a socket. The parser pulls; a source that
// is fed by another thread (an upload arriving) simply blocks in Read().
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`. Returns the count read, 0 at the end of input, or an error.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Total size when known in advance (for progress and to size arrays), nullopt otherwise.
  virtual std::optional<uint64_t> SizeHint() const { return std::nullopt; }
  // A name for messages ("a.heapsnapshot", "upload 3f2a...").
  virtual std::string Describe() const = 0;
  // Moves the read position to `offset` from the start, where the source allows it (files);
  // returns false otherwise. Lets the parser read two parts of a file at once.
  virtual bool Seek(uint64_t offset) {
    (void)offset;
    return false;
  }
};

// Opens a regular file. Errors: NotFound, InvalidArgument (a directory, not a regular file).
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

// Wraps a std::istream (not owned; must outlive the source).
std::unique_ptr<ByteSource> MakeStreamSource(std::istream& in, std::string name);

// Wraps a callback with ByteSource::Read's contract.
std::unique_ptr<ByteSource> MakeCallbackSource(
    std::function<Result<size_t>(char*, size_t)> read, std::string name,
    std::optional<uint64_t> size_hint = std::nullopt);

}  // namespace oomscope::heap
