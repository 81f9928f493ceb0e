#include "oomscope/cdp/heap_profiler.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace oomscope::cdp {
namespace {

// Receives snapshot chunks on the session's thread and appends them to the partial file.
class ChunkWriter {
 public:
  explicit ChunkWriter(int fd) : fd_(fd) {}

  void Write(const std::string& chunk) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return;
    const char* p = chunk.data();
    size_t left = chunk.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = Status(errno == ENOSPC ? Code::kResourceExhausted : Code::kInternal,
                        std::string("writing the snapshot: ") + std::strerror(errno));
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
      bytes_ += static_cast<uint64_t>(n);
    }
  }
  Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  uint64_t bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }

 private:
  int fd_;
  std::mutex mu_;
  Status error_;
  uint64_t bytes_ = 0;
};

}  // namespace

Result<CaptureResult> CaptureHeapSnapshot(Session& session, const std::string& path,
                                          const CaptureOptions& options) {
  const std::string partial = path + ".partial";
  const auto start = std::chrono::steady_clock::now();
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status(Code::kInternal, "cannot create " + partial + ": " + std::strerror(errno));
  ChunkWriter writer(fd);
  auto set_aside = [&](const Status& why) -> Status {
    ::close(fd);
    std::string failed = path + ".failed";
    std::rename(partial.c_str(), failed.c_str());
    return why.WithContext("heap snapshot " + path + " not taken (partial data set aside as " +
                           failed + ")");
  };
  session.SetEventHandler([&](const std::string& method, const nlohmann::json& params) {
    if (method == "HeapProfiler.addHeapSnapshotChunk") {
      auto c = params.find("chunk");
      if (c != params.end() && c->is_string()) writer.Write(c->get_ref<const std::string&>());
    } else if (method == "HeapProfiler.reportHeapSnapshotProgress" && options.on_progress) {
      options.on_progress(params.value("done", uint64_t{0}), params.value("total", uint64_t{0}));
    }
  });
  auto call = [&](const char* method, nlohmann::json params) {
    return session.Call(method, std::move(params), options.timeout);
  };
  Result<nlohmann::json> r = call("HeapProfiler.enable", nlohmann::json::object());
  if (r.ok() && options.collect_garbage) r = call("HeapProfiler.collectGarbage", nlohmann::json::object());
  if (r.ok()) {
    r = call("HeapProfiler.takeHeapSnapshot",
             {{"reportProgress", static_cast<bool>(options.on_progress)},
              {"treatGlobalObjectsAsRoots", true},
              {"captureNumericValue", false}});
  }
  // All chunks arrive before the response; stop listening before the writer goes away.
  session.SetEventHandler(nullptr);
  if (!r.ok()) return set_aside(r.status());
  if (Status st = writer.error(); !st.ok()) return set_aside(st);
  if (writer.bytes() == 0) return set_aside(Unavailable("the inspector sent no snapshot data"));
  if (::fsync(fd) != 0) return set_aside(Status(Code::kInternal, std::string("fsync: ") + std::strerror(errno)));
  ::close(fd);
  if (std::rename(partial.c_str(), path.c_str()) != 0)
    return Status(Code::kInternal, "cannot rename " + partial + ": " + std::strerror(errno));
  CaptureResult res;
  res.path = path;
  res.bytes = writer.bytes();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

Result<MemoryFigures> GetMemoryFigures(Session& session, std::chrono::milliseconds timeout) {
  MemoryFigures m;
  Result<nlohmann::json> usage = session.Call("Runtime.getHeapUsage", nlohmann::json::object(), timeout);
  if (!usage.ok()) return usage.status();
  m.heap_used = static_cast<uint64_t>(usage->value("usedSize", 0.0));
  m.heap_total = static_cast<uint64_t>(usage->value("totalSize", 0.0));
  Result<nlohmann::json> ev = session.Call(
      "Runtime.evaluate",
      {{"expression",
        "JSON.stringify(Object.assign(process.memoryUsage(), typeof process.resourceUsage === 'function' ? "
        "{maxRSS: process.resourceUsage().maxRSS * 1024} : {}))"},
       {"returnByValue", true}},
      timeout);
  if (!ev.ok()) return ev.status();
  const auto& result = (*ev)["result"];
  if (!result.is_object() || !result.contains("value") || !result["value"].is_string())
    return Corruption("process.memoryUsage() gave no value (not a Node target?)");
  nlohmann::json mu = nlohmann::json::parse(result["value"].get<std::string>(), nullptr, false);
  if (!mu.is_object()) return Corruption("process.memoryUsage() is not JSON");
  m.rss = static_cast<uint64_t>(mu.value("rss", 0.0));
  m.external = static_cast<uint64_t>(mu.value("external", 0.0));
  m.array_buffers = static_cast<uint64_t>(mu.value("arrayBuffers", 0.0));
  m.max_rss = static_cast<uint64_t>(mu.value("maxRSS", 0.0));
  return m;
}

}  // namespace oomscope::cdp
