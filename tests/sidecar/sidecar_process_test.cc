// oomscope-sidecar as a process: a real Node app with its inspector, a real HTTP receiver.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "node_process.h"
#include "oomscope/heap/analysis.h"
#include "oomscope/heap/parser.h"

using namespace oomscope;
using oomscope::testing::ChildProcess;
using oomscope::testing::NodeProcess;
namespace fs = std::filesystem;

namespace {

const std::string kSrc = OOMSCOPE_SOURCE_DIR;

fs::path Fresh(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("oomscope-sidecar-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::string> Stored(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& de : fs::directory_iterator(dir))
    if (de.path().extension() == ".heapsnapshot") out.push_back(de.path().string());
  return out;
}

// An HTTP request through Node's fetch: "STATUS\nBODY".
std::string Fetch(const std::string& method, const std::string& url) {
  std::string cmd = "node -e 'fetch(process.argv[1],{method:process.argv[2]}).then(async r=>console.log(r.status+\"\\n\"+await r.text())).catch(e=>console.log(\"0\\n\"+e))' '" +
                    url + "' " + method;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

bool WaitUntil(const std::function<bool()>& cond, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

std::vector<std::string> SidecarArgs(const NodeProcess& node, const std::string& receiver_port,
                                     const fs::path& spool, const fs::path& token) {
  return {OOMSCOPE_SIDECAR, "--inspector", node.address(), "--analyzer-url", "http://127.0.0.1:" + receiver_port,
          "--token-file", token.string(), "--spool-dir", spool.string(), "--listen", "127.0.0.1:0",
          "--interval", "0"};
}

// Per test: a receiver with its store, a spool, a token file, and the Node app to watch.
struct Setup {
  explicit Setup(const std::string& name)
      : rx(Fresh("rx-" + name)), spool(Fresh("spool-" + name)), work(Fresh("work-" + name)),
        receiver({"node", kSrc + "/tests/sidecar/receiver.js", "--dir", rx.string(), "--token", "s3cret"}, "listening ") {
    std::ofstream(work / "token") << "s3cret\n";
  }
  ~Setup() {
    for (const auto& d : {rx, spool, work}) fs::remove_all(d);
  }
  fs::path rx, spool, work;
  ChildProcess receiver;
};

}  // namespace

TEST_CASE("the sidecar ships a timed series from a real Node process; ids line up; metadata travels") {
  Setup s("series");
  const fs::path& rx = s.rx;
  REQUIRE(s.receiver.ok());
  NodeProcess node({kSrc + "/tests/cdp/target.js"});
  REQUIRE(node.ok());
  auto args = SidecarArgs(node, s.receiver.ready(), s.spool, s.work / "token");
  args.insert(args.end(), {"--count", "2", "--once"});
  ChildProcess sidecar(args, "\"port\":\"", ChildProcess::Stream::kStderr);
  REQUIRE(sidecar.ok());
  REQUIRE(WaitUntil([&] { return Stored(rx).size() == 2; }, 60));
  std::vector<std::string> files = Stored(rx);
  std::set<int> sequences;
  std::set<std::string> series;
  for (const auto& f : files) {
    std::ifstream in(f + ".meta.json");
    nlohmann::json m = nlohmann::json::parse(in);
    sequences.insert(m["sequence"].get<int>());
    series.insert(m["series"].get<std::string>());
    CHECK(m["memory"]["rss"].get<uint64_t>() > 0);
    CHECK(m["node_version"].get<std::string>().rfind("v", 0) == 0);
  }
  CHECK(sequences == std::set<int>{1, 2});
  CHECK(series.size() == 1);
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return fs::last_write_time(a) < fs::last_write_time(b);
  });
  Result<heap::Report> report = heap::AnalyzeFiles(files, heap::AnalyzeOptions{});
  REQUIRE(report.ok());
  CHECK(report->same_process);
  // --once: it exits by itself once the spool is empty.
  CHECK(WaitUntil([&] { return ::waitpid(sidecar.pid(), nullptr, WNOHANG) == sidecar.pid(); }, 30));
}

TEST_CASE("the sidecar's endpoints: /healthz, /metrics, POST /capture") {
  Setup s("endpoints");
  const fs::path& rx = s.rx;
  REQUIRE(s.receiver.ok());
  NodeProcess node({kSrc + "/tests/cdp/target.js"});
  REQUIRE(node.ok());
  auto args = SidecarArgs(node, s.receiver.ready(), s.spool, s.work / "token");
  args.insert(args.end(), {"--count", "1"});
  ChildProcess sidecar(args, "\"port\":\"", ChildProcess::Stream::kStderr);
  REQUIRE(sidecar.ok());
  std::string base = "http://127.0.0.1:" + sidecar.ready().substr(0, sidecar.ready().find('"'));
  REQUIRE(WaitUntil([&] { return Fetch("GET", base + "/healthz").rfind("200", 0) == 0; }, 20));
  REQUIRE(WaitUntil([&] { return Stored(rx).size() == 1; }, 60));
  CHECK(Fetch("POST", base + "/capture").rfind("202", 0) == 0);
  REQUIRE(WaitUntil([&] { return Stored(rx).size() == 2; }, 60));
  std::string metrics;
  REQUIRE(WaitUntil([&] {
    metrics = Fetch("GET", base + "/metrics");
    return metrics.find("oomscope_sidecar_uploads_total{result=\"uploaded\"} 2") != std::string::npos;
  }, 20));
  CHECK(metrics.find("oomscope_sidecar_captures_total{result=\"ok\"} 2") != std::string::npos);
  CHECK(metrics.find("oomscope_sidecar_target_heap_used_bytes") != std::string::npos);
  CHECK(metrics.find("oomscope_sidecar_inspector_connected 1") != std::string::npos);
  CHECK(Fetch("GET", base + "/nope").rfind("404", 0) == 0);
  CHECK(Fetch("DELETE", base + "/capture").rfind("405", 0) == 0);
}

TEST_CASE("a snapshot Node writes itself near its heap limit is picked up and shipped, though Node dies") {
  Setup s("diag");
  const fs::path &rx = s.rx, &work = s.work, &spool = s.spool;
  fs::path diag = Fresh("diag");
  std::ofstream(work / "leak.js") << "const keep = [];\n"
                                     "setInterval(() => { for (let i = 0; i < 20000; i++) keep.push({ i, s: 'x'.repeat(20) + i }); }, 5);\n";
  REQUIRE(s.receiver.ok());
  ChildProcess sidecar({OOMSCOPE_SIDECAR, "--inspector", "127.0.0.1:1", "--analyzer-url", "http://127.0.0.1:" + s.receiver.ready(),
                        "--token-file", (work / "token").string(), "--spool-dir", spool.string(), "--listen", "127.0.0.1:0",
                        "--diagnostic-dir", diag.string()},
                       "\"port\":\"", ChildProcess::Stream::kStderr);
  REQUIRE(sidecar.ok());
  std::string cmd = "node --heapsnapshot-near-heap-limit=1 --max-old-space-size=40 --diagnostic-dir=" + diag.string() + " " +
                    (work / "leak.js").string() + " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  CHECK(status != 0);  // Node ran out of heap and died, after writing its snapshot
  REQUIRE(WaitUntil([&] { return Stored(rx).size() == 1; }, 60));
  std::string file = Stored(rx)[0];
  std::ifstream in(file + ".meta.json");
  nlohmann::json m = nlohmann::json::parse(in);
  CHECK(m["trigger"] == "node-wrote-it");
  CHECK(m["file"].get<std::string>().rfind("Heap.", 0) == 0);
  CHECK(heap::ParseSnapshotFile(file).ok());
  CHECK(fs::is_empty(diag));
  fs::remove_all(diag);
}
