#include "diagnostic_dir.h"

#include <filesystem>
#include <fstream>

namespace oomscope::sidecar {
namespace fs = std::filesystem;

namespace {

// A complete snapshot's JSON ends with '}' (then perhaps whitespace).
bool EndsLikeSnapshot(const std::string& path, uint64_t size) {
  if (size < 2) return false;
  std::ifstream in(path, std::ios::binary);
  uint64_t tail = size < 64 ? size : 64;
  in.seekg(static_cast<std::streamoff>(size - tail));
  std::string buf(tail, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(tail));
  for (size_t i = buf.size(); i-- > 0;) {
    char c = buf[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '}';
  }
  return false;
}

}  // namespace

std::vector<std::string> DiagnosticDirWatcher::Poll() {
  std::vector<std::string> ready;
  std::map<std::string, uint64_t> now;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    if (!de.is_regular_file(ec) || de.path().extension() != ".heapsnapshot") continue;
    std::string path = de.path().string();
    uint64_t size = de.file_size(ec);
    if (ec) continue;
    auto it = last_size_.find(path);
    if (it != last_size_.end() && it->second == size && EndsLikeSnapshot(path, size)) {
      ready.push_back(path);  // handed over: the caller moves it away
      continue;
    }
    now[path] = size;
  }
  last_size_ = std::move(now);
  return ready;
}

}  // namespace oomscope::sidecar
