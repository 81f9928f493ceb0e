#include "oomscope/cdp/heap_profiler.h"

#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

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

// Loads a built-in module in the target whatever its module system: process.getBuiltinModule
// (Node >= 20.16), else the console's require (Runtime.evaluate with includeCommandLineAPI).
// getBuiltinModule first: the console's require goes through the CommonJS loader, which throws
// ("testEnabled is not a function") while the app is still starting up, when an inspector
// client that connected at once already asks.
constexpr char kLoadBuiltin[] =
    "(typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule : require)";

// Evaluates `expression` in the target; its value, or an error: the session's (as the session
// reports it), or kFailedPrecondition with the first line of what the target threw (its words,
// bounded; ENOSPC becomes kResourceExhausted as in stream mode).
Result<nlohmann::json> Evaluate(Session& session, const std::string& expression, std::chrono::milliseconds timeout) {
  Result<nlohmann::json> ev = session.Call(
      "Runtime.evaluate",
      {{"expression", expression}, {"includeCommandLineAPI", true}, {"returnByValue", true}, {"silent", true}},
      timeout);
  if (!ev.ok()) return ev.status();
  if (ev->contains("exceptionDetails")) {
    std::string text = ev->value("/exceptionDetails/exception/description"_json_pointer, std::string());
    if (text.empty()) text = ev->value("/exceptionDetails/text"_json_pointer, std::string("an exception"));
    text = text.substr(0, std::min(text.find('\n'), size_t{300}));
    return Status(text.find("ENOSPC") != std::string::npos ? Code::kResourceExhausted : Code::kFailedPrecondition,
                  "the app threw: " + text);
  }
  auto value = ev->find("result");
  if (value == ev->end() || !value->is_object() || !value->contains("value"))
    return Corruption("Runtime.evaluate gave no value (not a Node target?)");
  return (*value)["value"];
}

std::string JsString(const std::string& s) { return nlohmann::json(s).dump(); }

// Moves a partial file out of the way after a failure, and says so in the error.
Status SetAside(const std::string& path, const Status& why) {
  const std::string partial = path + ".partial", failed = path + ".failed";
  struct stat st;
  if (::stat(partial.c_str(), &st) != 0) return why.WithContext("heap snapshot " + path + " not taken");
  std::rename(partial.c_str(), failed.c_str());
  return why.WithContext("heap snapshot " + path + " not taken (partial data set aside as " + failed + ")");
}

// Flushes the finished "<path>.partial" to disk and gives it its name.
Result<CaptureResult> Finish(const std::string& path, CaptureMode mode, std::chrono::steady_clock::time_point start) {
  const std::string partial = path + ".partial";
  int fd = ::open(partial.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SetAside(path, Status(Code::kInternal, "cannot open " + partial + ": " + std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || ::fsync(fd) != 0) {
    Status why(Code::kInternal, std::string("fsync: ") + std::strerror(errno));
    ::close(fd);
    return SetAside(path, why);
  }
  ::close(fd);
  if (st.st_size == 0) return SetAside(path, Unavailable("the snapshot is empty"));
  if (std::rename(partial.c_str(), path.c_str()) != 0)
    return Status(Code::kInternal, "cannot rename " + partial + ": " + std::strerror(errno));
  CaptureResult res;
  res.mode = mode;
  res.path = path;
  res.bytes = static_cast<uint64_t>(st.st_size);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

// The app writes "<path>.partial" itself; this process only waits for it.
Result<CaptureResult> AppWritesSnapshot(Session& session, const std::string& path, const CaptureOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  // The app resolves a relative path against its own working directory, not this one's.
  std::error_code ec;
  const std::string partial = std::filesystem::absolute(path + ".partial", ec).string();
  if (ec) return Status(Code::kInternal, "cannot resolve " + path + ": " + ec.message());
  // Object ids stay those of this session's HeapProfiler, as in stream mode: a series lines up.
  Result<nlohmann::json> r = session.Call("HeapProfiler.enable", nlohmann::json::object(), options.timeout);
  if (r.ok()) {
    // v8.writeHeapSnapshot collects garbage first, as takeHeapSnapshot does; it returns the name.
    r = Evaluate(session, std::string(kLoadBuiltin) + "('v8').writeHeapSnapshot(" + JsString(partial) + ")",
                 options.timeout);
  }
  if (!r.ok()) return SetAside(path, r.status());
  if (!r->is_string() || r->get_ref<const std::string&>() != partial)
    return SetAside(path, Corruption("v8.writeHeapSnapshot wrote somewhere else than asked"));
  return Finish(path, CaptureMode::kAppWrites, start);
}

}  // namespace

const char* CaptureModeName(CaptureMode mode) { return mode == CaptureMode::kAppWrites ? "app-writes" : "stream"; }

Result<bool> SharesDirectory(Session& session, const std::string& dir, std::chrono::milliseconds timeout,
                             std::string* why) {
  auto no = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  // A name and content no one else writes.
  std::random_device random;
  char nonce[48];
  std::snprintf(nonce, sizeof nonce, "%d-%08x%08x", static_cast<int>(::getpid()), random(), random());
  std::error_code ec;
  const std::string probe = std::filesystem::absolute(std::filesystem::path(dir) / (std::string(".oomscope-probe-") + nonce), ec).string();
  if (ec) return no("cannot resolve " + dir + ": " + ec.message());
  const std::string fs = std::string(kLoadBuiltin) + "('fs')";
  Result<nlohmann::json> wrote = Evaluate(
      session, "(" + fs + ".writeFileSync(" + JsString(probe) + ", " + JsString(nonce) + ", { mode: 0o600, flag: 'wx' }), true)",
      timeout);
  if (!wrote.ok()) {
    if (wrote.status().code() != Code::kFailedPrecondition && wrote.status().code() != Code::kResourceExhausted)
      return wrote.status();
    return no("the app cannot write in " + dir + " (" + wrote.status().message() + ")");
  }
  std::ostringstream seen;
  {
    std::ifstream in(probe, std::ios::binary);
    if (in) seen << in.rdbuf();
  }
  if (seen.str() == nonce) {
    ::unlink(probe.c_str());
    return true;
  }
  // Not ours to see: the app removes its probe (best effort; the answer changes nothing).
  (void)Evaluate(session, fs + ".rmSync(" + JsString(probe) + ", { force: true })", timeout);
  return no("what the app wrote in " + dir + " is not readable here (another filesystem, container or user)");
}

Result<CaptureResult> CaptureHeapSnapshot(Session& session, const std::string& path,
                                          const CaptureOptions& options) {
  if (options.mode == CaptureMode::kAppWrites) return AppWritesSnapshot(session, path, options);
  const std::string partial = path + ".partial";
  const auto start = std::chrono::steady_clock::now();
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status(Code::kInternal, "cannot create " + partial + ": " + std::strerror(errno));
  ChunkWriter writer(fd);
  auto set_aside = [&](const Status& why) -> Status {
    ::close(fd);
    return SetAside(path, why);
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
  ::close(fd);
  return Finish(path, CaptureMode::kStream, start);
}

Result<MemoryFigures> GetMemoryFigures(Session& session, std::chrono::milliseconds timeout) {
  MemoryFigures m;
  Result<nlohmann::json> usage = session.Call("Runtime.getHeapUsage", nlohmann::json::object(), timeout);
  if (!usage.ok()) return usage.status();
  m.heap_used = static_cast<uint64_t>(usage->value("usedSize", 0.0));
  m.heap_total = static_cast<uint64_t>(usage->value("totalSize", 0.0));
  Result<nlohmann::json> value = Evaluate(
      session,
      "JSON.stringify(Object.assign(process.memoryUsage(), typeof process.resourceUsage === 'function' ? "
      "{maxRSS: process.resourceUsage().maxRSS * 1024} : {}))",
      timeout);
  if (!value.ok()) return value.status();
  if (!value->is_string()) return Corruption("process.memoryUsage() gave no value (not a Node target?)");
  nlohmann::json mu = nlohmann::json::parse(value->get_ref<const std::string&>(), nullptr, false);
  if (!mu.is_object()) return Corruption("process.memoryUsage() is not JSON");
  m.rss = static_cast<uint64_t>(mu.value("rss", 0.0));
  m.external = static_cast<uint64_t>(mu.value("external", 0.0));
  m.array_buffers = static_cast<uint64_t>(mu.value("arrayBuffers", 0.0));
  m.max_rss = static_cast<uint64_t>(mu.value("maxRSS", 0.0));
  return m;
}

}  // namespace oomscope::cdp
