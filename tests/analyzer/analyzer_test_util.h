#pragma once
// Shared helpers of the analyzer's process tests: a running oomscope-analyzer, uploads.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "oomscope/common/gzip.h"
#include "oomscope/common/sha256.h"
#include "raw_http.h"

namespace oomscope::testing {

namespace fs = std::filesystem;
inline const std::string kSrc = OOMSCOPE_SOURCE_DIR;
inline const std::string kToken = "s3cret";

inline fs::path Fresh(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("oomscope-analyzer-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string Sha(const std::string& bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.HexDigest();
}

inline std::string Gzip(const std::string& bytes) {
  std::string out;
  GzipDeflater d(1);
  auto sink = [&](std::string_view p) {
    out.append(p);
    return Status::Ok();
  };
  (void)d.Write(bytes, sink);
  (void)d.Finish(sink);
  return out;
}

inline bool WaitUntil(const std::function<bool()>& cond, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

// The small valid snapshot from tests/fixtures, made distinct (another hash) by trailing blanks.
inline std::string TinySnapshot(int variant = 0) {
  return ReadFile(kSrc + "/tests/fixtures/tiny.heapsnapshot") + std::string(static_cast<size_t>(variant), ' ');
}

// oomscope-analyzer on a free port with its store in `store`.
class Analyzer {
 public:
  Analyzer(const fs::path& store, std::vector<std::string> extra = {}) {
    fs::path token = store.parent_path() / (store.filename().string() + ".token");
    std::ofstream(token) << kToken << "\n";
    std::vector<std::string> argv = {OOMSCOPE_ANALYZER, "--listen", "127.0.0.1:0", "--store", store.string(),
                                     "--token-file", token.string(), "--log-format", "text"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<ChildProcess>(argv, "listening port=", ChildProcess::Stream::kStderr);
    if (child_->ok()) port_ = std::stoi(child_->ready());
  }
  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return child_->pid(); }
  void Kill() { child_->Kill(); }

  RawResponse Get(const std::string& path) const { return Send(port_, RawRequest{"GET", path, {}, {}}); }
  nlohmann::json GetJson(const std::string& path) const {
    return nlohmann::json::parse(Get(path).body, nullptr, false);
  }

 private:
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

struct UploadOptions {
  std::string series = "series-a";
  int sequence = 1;
  int series_length = 0;
  std::string token = kToken;  // "" : no Authorization header
  std::string sha;             // "" : the right one
  bool gzip = false;
  size_t send_bytes = static_cast<size_t>(-1);
  std::string ns = "shop", workload = "api", pod = "api-7f9c-x2k";
};

inline RawRequest UploadRequest(const std::string& snapshot, const UploadOptions& o) {
  RawRequest r;
  r.method = "POST";
  r.path = "/v1/snapshots";
  if (!o.token.empty()) r.headers["Authorization"] = "Bearer " + o.token;
  r.headers["Content-Type"] = "application/octet-stream";
  r.headers["X-Oomscope-Sha256"] = o.sha.empty() ? Sha(snapshot) : o.sha;
  r.headers["X-Oomscope-Metadata"] = nlohmann::json({{"namespace", o.ns}, {"workload", o.workload}, {"pod", o.pod},
                                                     {"container", "app"}, {"series", o.series}, {"sequence", o.sequence},
                                                     {"series_length", o.series_length}, {"trigger", "timed"},
                                                     {"captured_at", 1795750000 + o.sequence * 60}})
                                         .dump();
  if (o.gzip) r.headers["Content-Encoding"] = "gzip";
  r.body = o.gzip ? Gzip(snapshot) : snapshot;
  r.send_body_bytes = o.send_bytes;
  return r;
}

inline RawResponse Upload(const Analyzer& a, const std::string& snapshot, const UploadOptions& o = {}) {
  return Send(a.port(), UploadRequest(snapshot, o));
}

// Every snapshot of the series has its analysis recorded (the report is written before the
// records say so: "analyzed" in the series can come first).
inline bool Settled(const Analyzer& a, const std::string& series) {
  nlohmann::json one = a.GetJson("/v1/series/" + series);
  if (!one.is_object()) return false;
  for (const auto& snap : one["snapshot_list"])
    if (snap.value("state", "") == "pending") return false;
  return true;
}

inline std::string ErrorCode(const RawResponse& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("code", "") : "";
}

// Files left in the store's tmp/ (uploads in progress) and temp files anywhere in it.
inline std::vector<std::string> Leftovers(const fs::path& store) {
  std::vector<std::string> out;
  if (!fs::exists(store)) return out;
  for (const auto& de : fs::recursive_directory_iterator(store)) {
    std::string name = de.path().filename().string();
    if (de.is_regular_file() && (de.path().parent_path().filename() == "tmp" || name.rfind(".tmp-", 0) == 0))
      out.push_back(de.path().string());
  }
  return out;
}

// A snapshot of a real Node process holding `objects` small objects (some MB).
inline std::string NodeSnapshot(const fs::path& dir, int objects) {
  fs::path out = dir / ("node-" + std::to_string(objects) + ".heapsnapshot");
  std::string cmd = "node -e \"const a=[];for(let i=0;i<" + std::to_string(objects) +
                    ";i++)a.push({i,s:'x'+i});require('v8').writeHeapSnapshot(process.argv[1])\" " + out.string();
  if (std::system(cmd.c_str()) != 0) return "";
  return ReadFile(out);
}

}  // namespace oomscope::testing
