// lib/cdp against real `node --inspect=127.0.0.1:0` processes.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "node_process.h"
#include "oomscope/cdp/heap_profiler.h"
#include "oomscope/cdp/inspector.h"
#include "oomscope/cdp/session.h"
#include "oomscope/heap/analysis.h"
#include "oomscope/heap/parser.h"

using namespace oomscope;
using oomscope::testing::NodeProcess;
namespace fs = std::filesystem;

namespace {

const std::string kTarget = std::string(OOMSCOPE_SOURCE_DIR) + "/tests/cdp/target.js";
constexpr std::chrono::seconds kTimeout{20};

fs::path TempDir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("oomscope-cdp-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::unique_ptr<cdp::Session> Open(const NodeProcess& node) {
  Result<cdp::Endpoint> ep = cdp::ParseEndpoint(node.address());
  REQUIRE(ep.ok());
  Result<std::vector<cdp::Target>> targets = cdp::ListTargets(*ep, kTimeout);
  REQUIRE_MESSAGE(targets.ok(), targets.status().ToString());
  REQUIRE(targets->size() == 1);
  Result<std::unique_ptr<cdp::Session>> s = cdp::Connect(targets->front(), kTimeout);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  // The inspector listens before the main script has run: wait for target.js's leakMore, or a
  // first snapshot could predate the registry (and leakMore calls would throw).
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    Result<nlohmann::json> r = (*s)->Call(
        "Runtime.evaluate", {{"expression", "typeof leakMore"}, {"returnByValue", true}}, kTimeout);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    ready = r->value("/result/value"_json_pointer, std::string()) == "function";
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(ready);
  return std::move(s).value();
}

void Leak(cdp::Session& s, int n) {
  Result<nlohmann::json> r =
      s.Call("Runtime.evaluate", {{"expression", "leakMore(" + std::to_string(n) + ")"}, {"returnByValue", true}}, kTimeout);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  REQUIRE_MESSAGE(!r->contains("exceptionDetails"), r->dump());
}

}  // namespace

TEST_SUITE("cdp") {
TEST_CASE("inspector addresses: loopback only unless allowed") {
  CHECK(cdp::ParseEndpoint("127.0.0.1:9229").ok());
  CHECK(cdp::ParseEndpoint("[::1]:9229").ok());
  CHECK(cdp::ParseEndpoint("localhost:9230")->port == 9230);
  CHECK(cdp::ParseEndpoint("9229")->host == "127.0.0.1");
  CHECK(cdp::ParseEndpoint("10.1.2.3:9229").status().code() == Code::kPermissionDenied);
  CHECK(cdp::ParseEndpoint("0.0.0.0:9229").status().code() == Code::kPermissionDenied);
  CHECK(cdp::ParseEndpoint("127.0.0.1:99999").status().code() == Code::kInvalidArgument);
  CHECK(cdp::ParseEndpoint("10.1.2.3:9229", /*allow_remote=*/true).ok());
  cdp::Target remote{"x", "node", "t", "u", "ws://10.0.0.9:9229/abc"};
  CHECK(cdp::Connect(remote, std::chrono::seconds(1)).status().code() == Code::kPermissionDenied);
}

TEST_CASE("nothing listening: discovery says Unavailable") {
  Result<std::vector<cdp::Target>> r = cdp::ListTargets({"127.0.0.1", 1}, std::chrono::seconds(2));
  CHECK(r.status().code() == Code::kUnavailable);
}

TEST_CASE("a series from a real Node process: snapshots parse, ids line up, the leak is named") {
  NodeProcess node({kTarget});
  REQUIRE(node.ok());
  Result<cdp::VersionInfo> v = cdp::GetVersion(*cdp::ParseEndpoint(node.address()), kTimeout);
  REQUIRE(v.ok());
  CHECK(v->node_version.rfind("v", 0) == 0);
  auto session = Open(node);
  Result<cdp::MemoryFigures> mem = cdp::GetMemoryFigures(*session, kTimeout);
  REQUIRE_MESSAGE(mem.ok(), mem.status().ToString());
  CHECK(mem->heap_used > 0);
  CHECK(mem->rss > mem->heap_used / 2);

  fs::path dir = TempDir("series");
  std::vector<std::string> files;
  uint64_t progress_calls = 0;
  for (int k = 1; k <= 3; ++k) {
    Leak(*session, 20000);
    cdp::CaptureOptions opt;
    opt.on_progress = [&](uint64_t, uint64_t) { ++progress_calls; };
    std::string path = (dir / ("s" + std::to_string(k) + ".heapsnapshot")).string();
    Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(*session, path, opt);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->bytes == fs::file_size(path));
    CHECK_FALSE(fs::exists(path + ".partial"));
    files.push_back(path);
  }
  CHECK(progress_calls > 0);
  Result<heap::Report> report = heap::AnalyzeFiles(files, heap::AnalyzeOptions{});
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->same_process);
  REQUIRE_FALSE(report->suspects.empty());
  CHECK(report->suspects.front().held_under == "sessions");
  CHECK(report->suspects.front().owner_class == "Array");
  fs::remove_all(dir);
}

TEST_CASE("the process killed mid-capture: a clear error, the partial set aside, the next capture works") {
  fs::path dir = TempDir("killed");
  std::string path = (dir / "killed.heapsnapshot").string();
  {
    NodeProcess node({kTarget});
    REQUIRE(node.ok());
    auto session = Open(node);
    Leak(*session, 200000);  // a heap big enough to take a while
    std::atomic<bool> killed{false};
    cdp::CaptureOptions opt;
    opt.timeout = std::chrono::seconds(30);
    opt.on_progress = [&](uint64_t done, uint64_t total) {
      if (!killed && total > 0 && done * 4 >= total) {
        killed = true;
        ::kill(node.pid(), SIGKILL);
      }
    };
    Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(*session, path, opt);
    REQUIRE(killed);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnavailable);
    CHECK(r.status().message().find("set aside") != std::string::npos);
    CHECK_FALSE(fs::exists(path));
    CHECK(fs::exists(path + ".failed"));
    CHECK_FALSE(session->Connected());
  }
  NodeProcess again({kTarget});
  REQUIRE(again.ok());
  auto session = Open(again);
  Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(*session, path);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(heap::ParseSnapshotFile(path).ok());
  fs::remove_all(dir);
}

TEST_CASE("app-writes: the app writes its own snapshots into a directory both see; a series lines up across modes") {
  NodeProcess node({kTarget});
  REQUIRE(node.ok());
  auto session = Open(node);
  fs::path dir = TempDir("app-writes");
  std::string why;
  Result<bool> shared = cdp::SharesDirectory(*session, dir.string(), kTimeout, &why);
  REQUIRE_MESSAGE(shared.ok(), shared.status().ToString());
  CHECK_MESSAGE(*shared, why);
  CHECK(fs::is_empty(dir));  // the probe is gone
  // A directory the app cannot write in: not shared, and why.
  shared = cdp::SharesDirectory(*session, (dir / "missing").string(), kTimeout, &why);
  REQUIRE(shared.ok());
  CHECK_FALSE(*shared);
  CHECK(why.find("cannot write") != std::string::npos);
  CHECK(why.find("ENOENT") != std::string::npos);

  // One session, the modes mixed: V8's object ids are the isolate's, so the series lines up.
  std::vector<std::string> files;
  for (int k = 1; k <= 3; ++k) {
    Leak(*session, 20000);
    cdp::CaptureOptions opt;
    opt.mode = k == 2 ? cdp::CaptureMode::kStream : cdp::CaptureMode::kAppWrites;
    // A relative path: the app, whose working directory differs, still writes where we look.
    std::string path = fs::relative(dir / ("s" + std::to_string(k) + ".heapsnapshot")).string();
    Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(*session, path, opt);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->mode == opt.mode);
    CHECK(r->bytes == fs::file_size(path));
    CHECK_FALSE(fs::exists(path + ".partial"));
    CHECK(heap::ParseSnapshotFile(path).ok());
    files.push_back(path);
  }
  Result<heap::Report> report = heap::AnalyzeFiles(files, heap::AnalyzeOptions{});
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->same_process);
  REQUIRE_FALSE(report->suspects.empty());
  std::string seen;
  for (const auto& x : report->suspects) seen += x.kind + " " + x.owner_class + "." + x.held_under + "; ";
  CHECK_MESSAGE(report->suspects.front().held_under == "sessions", seen);

  // What the app throws is the error; nothing is left under the path.
  cdp::CaptureOptions opt;
  opt.mode = cdp::CaptureMode::kAppWrites;
  std::string nowhere = (dir / "missing" / "x.heapsnapshot").string();
  Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(*session, nowhere, opt);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kFailedPrecondition);
  CHECK(r.status().message().find("the app threw: Error: ENOENT") != std::string::npos);
  CHECK_FALSE(fs::exists(nowhere));
  CHECK(session->Connected());
  fs::remove_all(dir);
}

TEST_CASE("app-writes: the process killed mid-write: a clear error, the partial set aside") {
  fs::path dir = TempDir("app-killed");
  std::string path = (dir / "killed.heapsnapshot").string();
  NodeProcess node({kTarget});
  REQUIRE(node.ok());
  auto session = Open(node);
  Leak(*session, 300000);  // a heap big enough to take a while
  std::thread killer([&] {
    // Once the app has started writing, kill it.
    for (int i = 0; i < 600 && !(fs::exists(path + ".partial") && fs::file_size(path + ".partial") > 0); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(node.pid(), SIGKILL);
  });
  cdp::CaptureOptions opt;
  opt.mode = cdp::CaptureMode::kAppWrites;
  opt.timeout = std::chrono::seconds(30);
  Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(*session, path, opt);
  killer.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("set aside") != std::string::npos);
  CHECK_FALSE(fs::exists(path));
  CHECK(fs::exists(path + ".failed"));
  fs::remove_all(dir);
}

TEST_CASE("oomscope capture, then oomscope analyze on what it wrote") {
  NodeProcess node({kTarget});
  REQUIRE(node.ok());
  Open(node).reset();  // the target has run its script (a snapshot of a process starting up is no series)
  fs::path dir = TempDir("cli");
  // The default mode (the process writes into --out: same machine, same user), then stream.
  std::string cmd = std::string(OOMSCOPE_CLI) + " capture --inspector " + node.address() + " --out " +
                    dir.string() + " --count 2 --interval 0 > " + (dir / "list").string() + " 2> " +
                    (dir / "log").string() + " && " + OOMSCOPE_CLI + " capture --quiet --mode stream --inspector " +
                    node.address() + " --out " + dir.string() + " --count 1 --interval 0 >> " + (dir / "list").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ostringstream log;
  log << std::ifstream(dir / "log").rdbuf();
  CHECK(log.str().find("capture mode: app-writes") != std::string::npos);
  std::ifstream list(dir / "list");
  std::vector<std::string> files;
  for (std::string line; std::getline(list, line);) files.push_back(line);
  REQUIRE(files.size() == 3);
  // Within one second the stream run could have taken the first run's names: it did not.
  CHECK(std::set<std::string>(files.begin(), files.end()).size() == 3);
  files.pop_back();  // another session: other object ids
  Result<heap::Report> report = heap::AnalyzeFiles(files, heap::AnalyzeOptions{});
  REQUIRE(report.ok());
  CHECK(report->same_process);
  std::string bad = std::string(OOMSCOPE_CLI) + " capture --quiet --inspector 10.0.0.1:9229 --out " +
                    dir.string() + " 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(bad.c_str())) == 2);
  fs::remove_all(dir);
}
}
