#include "spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "oomscope/common/log.h"
#include "oomscope/common/sha256.h"

namespace oomscope::sidecar {
namespace fs = std::filesystem;

namespace {

constexpr const char* kData = ".heapsnapshot";
constexpr const char* kMeta = ".meta.json";

Status WriteFileDurably(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status(Code::kInternal, "cannot create " + tmp + ": " + std::strerror(errno));
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status(e == ENOSPC ? Code::kResourceExhausted : Code::kInternal,
                    "writing " + tmp + ": " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status(Code::kInternal, "fsync " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status(Code::kInternal, "rename " + tmp + ": " + std::strerror(errno));
  return Status::Ok();
}

void SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Result<std::unique_ptr<Spool>> Spool::Open(const std::string& dir, uint64_t max_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(Code::kFailedPrecondition, "cannot create spool " + dir + ": " + ec.message());
  std::unique_ptr<Spool> s(new Spool(dir, max_bytes));
  OOMSCOPE_RETURN_IF_ERROR(s->Recover());
  return s;
}

Status Spool::Recover() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SpoolEntry> found;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    std::string name = de.path().filename().string();
    std::string path = de.path().string();
    // Debris of an interrupted capture, write or capture-mode probe: never a complete entry.
    if (name.ends_with(".partial") || name.ends_with(".tmp") || name.rfind("incoming-", 0) == 0 ||
        name.rfind(".oomscope-probe-", 0) == 0) {
      fs::remove(de.path(), ec);
      continue;
    }
    if (!name.ends_with(kMeta)) continue;
    std::string id = name.substr(0, name.size() - std::strlen(kMeta));
    std::ifstream in(path);
    nlohmann::json m = nlohmann::json::parse(in, nullptr, false);
    std::string data = dir_ + "/" + id + kData;
    if (!m.is_object() || !fs::exists(data)) {
      fs::remove(path, ec);
      continue;
    }
    SpoolEntry e;
    e.id = id;
    e.data_path = data;
    e.sha256 = m.value("sha256", "");
    e.bytes = fs::file_size(data, ec);
    e.meta = m.value("meta", nlohmann::json::object());
    found.push_back(std::move(e));
  }
  // Data files whose metadata never got written are incomplete entries.
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    std::string name = de.path().filename().string();
    if (!name.ends_with(kData)) continue;
    std::string id = name.substr(0, name.size() - std::strlen(kData));
    bool known = std::any_of(found.begin(), found.end(), [&](const SpoolEntry& e) { return e.id == id; });
    if (!known) fs::remove(de.path(), ec);
  }
  std::sort(found.begin(), found.end(), [](const SpoolEntry& a, const SpoolEntry& b) { return a.id < b.id; });
  entries_ = std::move(found);
  bytes_ = 0;
  for (const auto& e : entries_) {
    bytes_ += e.bytes;
    next_seq_ = std::max<uint64_t>(next_seq_, std::strtoull(e.id.c_str(), nullptr, 10) + 1);
  }
  if (!entries_.empty()) {
    log::Info("spool recovered", {{"entries", std::to_string(entries_.size())},
                                  {"bytes", std::to_string(bytes_)}});
  }
  return Status::Ok();
}

std::string Spool::IncomingPath() {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_ + "/incoming-" + std::to_string(::getpid()) + "-" + std::to_string(next_incoming_++) + kData;
}

void Spool::DropOldestLocked(uint64_t incoming) {
  while (!entries_.empty() && bytes_ + incoming > max_bytes_) {
    SpoolEntry old = entries_.front();
    entries_.erase(entries_.begin());
    std::error_code ec;
    fs::remove(dir_ + "/" + old.id + kMeta, ec);
    fs::remove(old.data_path, ec);
    bytes_ -= old.bytes;
    ++dropped_;
    log::Warn("spool full: dropped the oldest snapshot",
              {{"id", old.id}, {"bytes", std::to_string(old.bytes)}, {"max_bytes", std::to_string(max_bytes_)}});
  }
}

Result<SpoolEntry> Spool::Add(const std::string& file, nlohmann::json meta) {
  std::error_code ec;
  uint64_t size = fs::file_size(file, ec);
  if (ec) return NotFound(file + ": " + ec.message());
  if (size > max_bytes_) {
    fs::remove(file, ec);
    std::lock_guard<std::mutex> lock(mu_);
    ++dropped_;
    return ResourceExhausted("snapshot of " + std::to_string(size) + " bytes is larger than the spool bound (" +
                             std::to_string(max_bytes_) + " bytes): dropped");
  }
  Result<std::string> sha = Sha256File(file);
  if (!sha.ok()) return sha.status();
  std::lock_guard<std::mutex> lock(mu_);
  DropOldestLocked(size);
  char seq[32];
  std::snprintf(seq, sizeof seq, "%012llu", static_cast<unsigned long long>(next_seq_++));
  SpoolEntry e;
  e.id = std::string(seq) + "-" + sha->substr(0, 12);
  e.data_path = dir_ + "/" + e.id + kData;
  e.sha256 = *sha;
  e.bytes = size;
  e.meta = std::move(meta);
  if (std::rename(file.c_str(), e.data_path.c_str()) != 0)
    return Status(Code::kInternal, "rename " + file + ": " + std::strerror(errno));
  nlohmann::json m = {{"sha256", e.sha256}, {"bytes", e.bytes}, {"meta", e.meta}};
  Status st = WriteFileDurably(dir_ + "/" + e.id + kMeta, m.dump());
  if (!st.ok()) {
    fs::remove(e.data_path, ec);
    return st;
  }
  SyncDir(dir_);
  bytes_ += size;
  entries_.push_back(e);
  return e;
}

std::vector<SpoolEntry> Spool::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

Status Spool::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const SpoolEntry& e) { return e.id == id; });
  if (it == entries_.end()) return NotFound("no spool entry " + id);
  std::error_code ec;
  // Metadata first: a crash between the two leaves data without metadata, which Open() clears.
  fs::remove(dir_ + "/" + id + kMeta, ec);
  fs::remove(it->data_path, ec);
  bytes_ -= it->bytes;
  entries_.erase(it);
  return Status::Ok();
}

uint64_t Spool::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

uint64_t Spool::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace oomscope::sidecar
