// The filesystem SnapshotStore: tmp/ (uploads being received), snapshots/<id>.heapsnapshot +
// <id>.json (record) + <id>.digest (lib/heap's digest, once analyzed), series/<id>.json (analysis summary) + <id>.report.json.
// Every file appears by rename after an fsync, and the directory is fsync'ed after it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "oomscope/common/log.h"
#include "store.h"

namespace oomscope::analyzer {
namespace fs = std::filesystem;

int64_t SnapshotRecord::sequence() const {
  auto it = metadata.find("sequence");
  return it != metadata.end() && it->is_number() ? it->get<int64_t>() : 0;
}

std::optional<double> SnapshotRecord::captured_at() const {
  auto it = metadata.find("captured_at");
  if (it != metadata.end() && it->is_number()) return it->get<double>();
  return std::nullopt;
}

std::string SnapshotRecord::meta(const char* key) const {
  auto it = metadata.find(key);
  return it != metadata.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

namespace {

Status IoError(const std::string& what, int err) {
  std::string m = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted("the store is full: " + m);
  return Internal(m);
}

Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : IoError("cannot fsync " + path, err);
}

std::string RandomSuffix() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rd());
}

// Writes `content` to dir/name through a temp file: write, fsync, rename, fsync dir.
Status WriteAtomic(const fs::path& dir, const std::string& name, const std::string& content) {
  fs::path tmp = dir / (".tmp-" + RandomSuffix());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + tmp.string(), errno);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoError("cannot write " + tmp.string(), err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return IoError("cannot fsync " + tmp.string(), err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), (dir / name).c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot rename into " + (dir / name).string(), err);
  }
  return FsyncPath(dir.string(), true);
}

nlohmann::json RecordToJson(const SnapshotRecord& r) {
  return {{"id", r.id},       {"series", r.series},   {"bytes", r.bytes}, {"received_at", r.received_at},
          {"metadata", r.metadata}, {"state", r.state}, {"error", r.error}, {"attempts", r.attempts}};
}

bool RecordFromJson(const nlohmann::json& j, SnapshotRecord* r) {
  try {
    r->id = j.at("id").get<std::string>();
    r->series = j.at("series").get<std::string>();
    r->bytes = j.at("bytes").get<uint64_t>();
    r->received_at = j.at("received_at").get<double>();
    r->metadata = j.value("metadata", nlohmann::json::object());
    r->state = j.value("state", "pending");
    r->error = j.value("error", "");
    r->attempts = j.value("attempts", 0);
    return ValidId(r->id) && ValidId(r->series);
  } catch (const std::exception&) {
    return false;
  }
}

nlohmann::json SummaryToJson(const SeriesSummary& s) {
  return {{"analyzed", s.analyzed}, {"top_suspects", s.top_suspects}, {"heap_bytes", s.heap_bytes}, {"error", s.error}};
}

bool SummaryFromJson(const nlohmann::json& j, SeriesSummary* s) {
  try {
    s->analyzed = j.at("analyzed").get<std::vector<std::string>>();
    s->top_suspects = j.value("top_suspects", nlohmann::json::array());
    s->heap_bytes = j.value("heap_bytes", uint64_t{0});
    s->error = j.value("error", "");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

class FsUpload final : public PendingUpload {
 public:
  FsUpload(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~FsUpload() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  Status Write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("cannot write the upload", errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      bytes_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }
  uint64_t bytes() const override { return bytes_; }

  // fsync and close; the caller renames.
  Status Seal() {
    if (::fsync(fd_) != 0) return IoError("cannot fsync the upload", errno);
    ::close(fd_);
    fd_ = -1;
    return Status::Ok();
  }
  std::string path() const override { return path_; }
  void committed() { committed_ = true; }

 private:
  std::string path_;
  int fd_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

class FsStore final : public SnapshotStore {
 public:
  explicit FsStore(fs::path dir) : dir_(std::move(dir)) {}

  Status Recover() {
    std::error_code ec;
    for (const char* sub : {"tmp", "snapshots", "series"}) {
      fs::create_directories(dir_ / sub, ec);
      if (ec) return Internal("cannot create " + (dir_ / sub).string() + ": " + ec.message());
    }
    size_t removed = 0;
    for (const auto& de : fs::directory_iterator(dir_ / "tmp", ec)) {
      fs::remove(de.path(), ec);
      ++removed;
    }
    std::map<std::string, bool> data;  // id -> has record
    for (const auto& de : fs::directory_iterator(dir_ / "snapshots", ec)) {
      std::string name = de.path().filename().string();
      if (name.rfind(".tmp-", 0) == 0) {
        fs::remove(de.path(), ec);
        ++removed;
      } else if (de.path().extension() == ".heapsnapshot") {
        data.emplace(de.path().stem().string(), false);
      }
    }
    for (const auto& de : fs::directory_iterator(dir_ / "snapshots", ec)) {
      if (de.path().extension() != ".json") continue;
      SnapshotRecord r;
      std::ifstream in(de.path());
      nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_discarded() || !RecordFromJson(j, &r) || !data.count(r.id)) {
        // A record without its data (a delete interrupted) or unreadable: not a stored snapshot.
        log::Warn("removing an incomplete store entry", {{"path", de.path().string()}});
        fs::remove(de.path(), ec);
        ++removed;
        continue;
      }
      data[r.id] = true;
      records_[r.id] = std::move(r);
    }
    for (const auto& de : fs::directory_iterator(dir_ / "snapshots", ec)) {
      if (de.path().extension() != ".digest" || records_.count(de.path().stem().string())) continue;
      fs::remove(de.path(), ec);  // its snapshot was deleted
      ++removed;
    }
    for (const auto& [id, has_record] : data) {
      if (has_record) continue;
      // Data renamed into place but the record never written: the upload was not acknowledged.
      fs::remove(dir_ / "snapshots" / (id + ".heapsnapshot"), ec);
      ++removed;
    }
    for (const auto& de : fs::directory_iterator(dir_ / "series", ec)) {
      std::string name = de.path().filename().string();
      if (name.rfind(".tmp-", 0) == 0) {
        fs::remove(de.path(), ec);
        ++removed;
      }
    }
    for (const auto& [id, r] : records_) total_ += r.bytes;
    if (removed) log::Info("store recovered", {{"removed_leftovers", std::to_string(removed)}});
    return FsyncPath((dir_ / "snapshots").string(), true);
  }

  Result<std::unique_ptr<PendingUpload>> Begin() override {
    std::string path = (dir_ / "tmp" / ("upload-" + RandomSuffix())).string();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot create " + path, errno);
    return std::unique_ptr<PendingUpload>(std::make_unique<FsUpload>(path, fd));
  }

  Status Commit(std::unique_ptr<PendingUpload> upload, const SnapshotRecord& record) override {
    auto* up = static_cast<FsUpload*>(upload.get());
    OOMSCOPE_RETURN_IF_ERROR(up->Seal());
    std::lock_guard<std::mutex> lock(mu_);
    if (records_.count(record.id)) return {Code::kAlreadyExists, "snapshot " + record.id + " is stored"};
    fs::path data = dir_ / "snapshots" / (record.id + ".heapsnapshot");
    if (::rename(up->path().c_str(), data.c_str()) != 0) return IoError("cannot rename into " + data.string(), errno);
    up->committed();
    Status st = WriteAtomic(dir_ / "snapshots", record.id + ".json", RecordToJson(record).dump());
    if (!st.ok()) {
      ::unlink(data.c_str());
      return st;
    }
    records_[record.id] = record;
    total_ += record.bytes;
    return Status::Ok();
  }

  Status UpdateRecord(const SnapshotRecord& record) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!records_.count(record.id)) return NotFound("snapshot " + record.id + " is not stored");
    OOMSCOPE_RETURN_IF_ERROR(WriteAtomic(dir_ / "snapshots", record.id + ".json", RecordToJson(record).dump()));
    records_[record.id] = record;
    return Status::Ok();
  }

  std::optional<SnapshotRecord> Get(const std::string& id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = records_.find(id);
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<SnapshotRecord> SeriesSnapshots(const std::string& series) const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<SnapshotRecord> out;
    for (const auto& [id, r] : records_)
      if (r.series == series) out.push_back(r);
    std::sort(out.begin(), out.end(), [](const SnapshotRecord& a, const SnapshotRecord& b) {
      if (a.sequence() != b.sequence()) return a.sequence() < b.sequence();
      if (a.captured_at() != b.captured_at()) return a.captured_at() < b.captured_at();
      return a.received_at < b.received_at;
    });
    return out;
  }

  std::vector<std::string> SeriesIds() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [id, r] : records_)
      if (out.empty() || std::find(out.begin(), out.end(), r.series) == out.end()) out.push_back(r.series);
    return out;
  }

  std::string DataPath(const std::string& id) const override {
    return (dir_ / "snapshots" / (id + ".heapsnapshot")).string();
  }

  Status PutDigest(const std::string& id, const std::string& bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!records_.count(id)) return NotFound("snapshot " + id + " is not stored");
    return WriteAtomic(dir_ / "snapshots", id + ".digest", bytes);
  }

  std::optional<std::string> ReadDigest(const std::string& id) const override {
    std::ifstream in(dir_ / "snapshots" / (id + ".digest"), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    if (!in.good() && !in.eof()) return std::nullopt;
    return std::move(out).str();
  }

  Status PutSummary(const std::string& series, const SeriesSummary& summary, const std::string& report_json) override {
    std::lock_guard<std::mutex> lock(mu_);
    bool exists = false;
    for (const auto& [id, r] : records_) exists = exists || r.series == series;
    if (!exists) return NotFound("series " + series + " was deleted");
    if (!report_json.empty()) OOMSCOPE_RETURN_IF_ERROR(WriteAtomic(dir_ / "series", series + ".report.json", report_json));
    return WriteAtomic(dir_ / "series", series + ".json", SummaryToJson(summary).dump());
  }

  std::optional<SeriesSummary> Summary(const std::string& series) const override {
    std::ifstream in(dir_ / "series" / (series + ".json"));
    if (!in) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    SeriesSummary s;
    if (j.is_discarded() || !SummaryFromJson(j, &s)) return std::nullopt;
    return s;
  }

  std::string ReportPath(const std::string& series) const override {
    return (dir_ / "series" / (series + ".report.json")).string();
  }

  Status DeleteSeries(const std::string& series) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::error_code ec;
    bool found = false;
    for (auto it = records_.begin(); it != records_.end();) {
      if (it->second.series != series) {
        ++it;
        continue;
      }
      found = true;
      // Record first: a crash in between leaves data without a record, which recovery removes.
      fs::remove(dir_ / "snapshots" / (it->first + ".json"), ec);
      fs::remove(dir_ / "snapshots" / (it->first + ".heapsnapshot"), ec);
      fs::remove(dir_ / "snapshots" / (it->first + ".digest"), ec);
      total_ -= it->second.bytes;
      it = records_.erase(it);
    }
    fs::remove(dir_ / "series" / (series + ".json"), ec);
    fs::remove(dir_ / "series" / (series + ".report.json"), ec);
    if (!found) return NotFound("no series " + series);
    return FsyncPath((dir_ / "snapshots").string(), true);
  }

  uint64_t TotalBytes() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return total_;
  }

  bool Writable() const override {
    return WriteAtomic(dir_ / "tmp", "probe-" + RandomSuffix(), "ok").ok() && [&] {
      std::error_code ec;
      for (const auto& de : fs::directory_iterator(dir_ / "tmp", ec))
        if (de.path().filename().string().rfind("probe-", 0) == 0) fs::remove(de.path(), ec);
      return true;
    }();
  }

 private:
  fs::path dir_;
  mutable std::mutex mu_;
  std::map<std::string, SnapshotRecord> records_;
  uint64_t total_ = 0;
};

}  // namespace

Result<std::unique_ptr<SnapshotStore>> OpenFsStore(const std::string& dir) {
  auto store = std::make_unique<FsStore>(dir);
  OOMSCOPE_RETURN_IF_ERROR(store->Recover());
  return std::unique_ptr<SnapshotStore>(std::move(store));
}

}  // namespace oomscope::analyzer
