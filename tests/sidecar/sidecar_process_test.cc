// oomscope-sidecar as a process: a real Node app with its inspector, a real HTTP receiver.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "logged_process.h"
#include "node_process.h"
#include "oomscope/heap/analysis.h"
#include "oomscope/heap/parser.h"

using namespace oomscope;
using oomscope::testing::ChildProcess;
using oomscope::testing::LoggedProcess;
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

TEST_CASE("the sidecar ships a timed series from a real Node process, gzip on the wire; ids line up; metadata travels") {
  Setup s("series");
  const fs::path& rx = s.rx;
  REQUIRE(s.receiver.ok());
  NodeProcess node({kSrc + "/tests/cdp/target.js"});
  REQUIRE(node.ok());
  auto args = SidecarArgs(node, s.receiver.ready(), s.spool, s.work / "token");
  args.insert(args.end(), {"--count", "2", "--once", "--gzip"});
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
    CHECK(m["trigger"] == "timed");
    CHECK(m["series_length"] == 2);
    CHECK(m["capture_mode"] == "app-writes");  // the app and the sidecar share the spool's directory
    CHECK(m["received"]["encoding"] == "gzip");  // compressed on the wire, stored as sent before
    CHECK(m["received"]["body_bytes"].get<uint64_t>() < fs::file_size(f));
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
  CHECK(m["trigger"] == "node-diagnostic");
  CHECK(m["series_length"] == 0);
  CHECK(m["file"].get<std::string>().rfind("Heap.", 0) == 0);
  CHECK(heap::ParseSnapshotFile(file).ok());
  CHECK(fs::is_empty(diag));
  fs::remove_all(diag);
}

namespace {

// The app of tests/sidecar/app.js: a Node process with its inspector, whose heap grows and
// whose inspector closes and reopens on command over its control port.
struct App {
  explicit App(const fs::path& work)
      : control(work / "control"), node({kSrc + "/tests/sidecar/app.js", "--control-file", control.string()}) {
    WaitUntil([&] { return fs::exists(control); }, 20);
    std::ifstream(control) >> port;
  }
  std::string Post(const std::string& path) { return Fetch("POST", "http://127.0.0.1:" + std::to_string(port) + path); }
  fs::path control;
  NodeProcess node;
  int port = 0;
};

std::vector<std::string> ThresholdArgs(const Setup& s, const App& app, std::vector<std::string> extra) {
  std::vector<std::string> a = {OOMSCOPE_SIDECAR, "--inspector", app.node.address(),
                                "--analyzer-url", "http://127.0.0.1:" + s.receiver.ready(),
                                "--token-file", (s.work / "token").string(), "--spool-dir", s.spool.string(),
                                "--listen", "127.0.0.1:0", "--count", "0", "--sample-interval", "0.2"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string MetricsOf(const LoggedProcess& p) {
  std::string port = p.WaitForLine("\"port\":\"", 20);
  return Fetch("GET", "http://127.0.0.1:" + port.substr(0, port.find('"')) + "/metrics");
}

std::vector<nlohmann::json> StoredMeta(const fs::path& rx) {
  std::vector<nlohmann::json> out;
  for (const std::string& f : Stored(rx)) out.push_back(nlohmann::json::parse(std::ifstream(f + ".meta.json")));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a["sequence"] < b["sequence"]; });
  return out;
}

}  // namespace

TEST_CASE("heap thresholds of the memory limit fire once each, as the heap grows") {
  Setup s("thresholds");
  REQUIRE(s.receiver.ok());
  App app(s.work);
  REQUIRE(app.port > 0);
  // 1 GiB limit: heap thresholds at ~21 and ~43 MB; the app starts with ~4 MB of heap.
  LoggedProcess sidecar(ThresholdArgs(s, app, {"--memory-limit", "1Gi", "--heap-thresholds", "0.02,0.04",
                                                               "--snapshot-cost-factor", "2"}),
                        (s.work / "sidecar.log").string());
  REQUIRE(!sidecar.WaitForLine("a new series", 20).empty());
  CHECK(app.Post("/grow?mb=25").rfind("200", 0) == 0);
  REQUIRE(WaitUntil([&] { return Stored(s.rx).size() == 1; }, 60));
  CHECK(app.Post("/grow?mb=25").rfind("200", 0) == 0);
  REQUIRE(WaitUntil([&] { return Stored(s.rx).size() == 2; }, 60));
  std::vector<nlohmann::json> meta = StoredMeta(s.rx);
  REQUIRE(meta.size() == 2);
  CHECK(meta[0]["trigger"] == "threshold");
  CHECK(meta[0]["trigger_detail"].get<std::string>().find("heap_used>=0.02") != std::string::npos);
  CHECK(meta[1]["trigger_detail"].get<std::string>().find("heap_used>=0.04") != std::string::npos);
  CHECK(meta[0]["series"] == meta[1]["series"]);
  CHECK(meta[1]["series_length"] == 0);  // thresholds make the series open-ended
  CHECK(meta[1]["memory"]["limit"] == (1ull << 30));
  // The figures are sampled again at the capture, after the crossing: V8 may have collected in
  // between and left heap_used a little under the threshold that fired (42.1 MB against 42.9 in
  // one ASan run), never under the one crossed before it.
  CHECK(meta[1]["memory"]["heap_used"].get<uint64_t>() >= (1ull << 30) / 50);
  // More growth crosses nothing new: the next capture is the one asked for.
  CHECK(app.Post("/grow?mb=10").rfind("200", 0) == 0);
  std::string port = sidecar.WaitForLine("\"port\":\"", 5);
  CHECK(Fetch("POST", "http://127.0.0.1:" + port.substr(0, port.find('"')) + "/capture").rfind("202", 0) == 0);
  REQUIRE(WaitUntil([&] { return Stored(s.rx).size() == 3; }, 60));
  CHECK(StoredMeta(s.rx)[2]["trigger"] == "on-demand");
  std::string metrics = MetricsOf(sidecar);
  CHECK(metrics.find("oomscope_sidecar_captures_total{result=\"ok\"} 3") != std::string::npos);
  CHECK(metrics.find("oomscope_sidecar_captures_total{result=\"skipped\"} 0") != std::string::npos);
}

TEST_CASE("a threshold crossed without headroom for the snapshot is skipped, with its reason") {
  Setup s("headroom");
  REQUIRE(s.receiver.ok());
  App app(s.work);
  REQUIRE(app.port > 0);
  // 400 MiB limit, heap threshold at 20 MiB; at 20 peak-RSS bytes per heap byte, a snapshot of
  // that heap needs 400 MiB on top of the app's RSS: never affordable.
  LoggedProcess sidecar(ThresholdArgs(s, app, {"--memory-limit", "400Mi", "--heap-thresholds", "0.05",
                                               "--snapshot-cost-factor", "20"}),
                        (s.work / "sidecar.log").string());
  REQUIRE(!sidecar.WaitForLine("a new series", 20).empty());
  CHECK(app.Post("/grow?mb=25").rfind("200", 0) == 0);
  std::string skipped = sidecar.WaitForLine("capture skipped", 60);
  REQUIRE(!skipped.empty());
  CHECK(skipped.find("\"reason\":\"no_headroom\"") != std::string::npos);
  CHECK(skipped.find("\"trigger\":\"threshold\"") != std::string::npos);
  CHECK(skipped.find("\"limit_bytes\":\"419430400\"") != std::string::npos);
  std::string metrics = MetricsOf(sidecar);
  CHECK(metrics.find("oomscope_sidecar_captures_total{result=\"skipped\"} 1") != std::string::npos);
  CHECK(metrics.find("oomscope_sidecar_capture_skips_total{reason=\"no_headroom\"} 1") != std::string::npos);
  CHECK(metrics.find("oomscope_sidecar_captures_total{result=\"ok\"} 0") != std::string::npos);
  CHECK(Stored(s.rx).empty());
}

TEST_CASE("a capture that cost more than assumed is measured: the next one that would not fit is skipped") {
  Setup s("measured");
  REQUIRE(s.receiver.ok());
  App app(s.work);
  REQUIRE(app.port > 0);
  // The story's leak shape: one array of references to four strings, ~6 MiB more heap. A V8
  // snapshot of it costs ~50 bytes of peak RSS per heap byte (docs/sidecar.md), not the assumed
  // 10: the first capture (~60 MiB RSS + 10 x ~12 MiB) fits under 500 MiB and leaves the app at
  // ~350 MiB; with the default cost a second would still seem to fit (~350 + 10 x ~7 MiB), with
  // the measured one it does not (~350 + 50 x ~7).
  CHECK(app.Post("/grow?mb=6&shape=array").rfind("200", 0) == 0);
  LoggedProcess sidecar(ThresholdArgs(s, app, {"--memory-limit", "500Mi"}), (s.work / "sidecar.log").string());
  REQUIRE(!sidecar.WaitForLine("a new series", 20).empty());
  std::string port = sidecar.WaitForLine("\"port\":\"", 5);
  const std::string capture = "http://127.0.0.1:" + port.substr(0, port.find('"')) + "/capture";
  CHECK(Fetch("POST", capture).rfind("202", 0) == 0);
  std::string measured = sidecar.WaitForLine("costs more than assumed", 60);
  REQUIRE(!measured.empty());
  // The log line's string fields ("key":"value").
  auto field = [&](const std::string& key) {
    size_t at = measured.find("\"" + key + "\":\"");
    REQUIRE(at != std::string::npos);
    at += key.size() + 4;
    return measured.substr(at, measured.find('"', at) - at);
  };
  CHECK(std::stod(field("growth_per_heap_byte")) > 20);
  CHECK(std::stoull(field("peak_rss")) > std::stoull(field("rss_before")));
  REQUIRE(WaitUntil([&] { return Stored(s.rx).size() == 1; }, 60));
  CHECK(Fetch("POST", capture).rfind("202", 0) == 0);
  std::string skipped = sidecar.WaitForLine("capture skipped", 60);
  REQUIRE(!skipped.empty());
  CHECK(skipped.find("\"reason\":\"no_headroom\"") != std::string::npos);
  CHECK(skipped.find("\"trigger\":\"on-demand\"") != std::string::npos);
  std::string metrics = MetricsOf(sidecar);
  CHECK(metrics.find("oomscope_sidecar_capture_skips_total{reason=\"no_headroom\"} 1") != std::string::npos);
  CHECK(metrics.find("oomscope_sidecar_snapshot_cost_ratio 10\n") == std::string::npos);
  CHECK(metrics.find("oomscope_sidecar_snapshot_cost_ratio ") != std::string::npos);
  CHECK(Stored(s.rx).size() == 1);
}

TEST_CASE("the app killed mid-capture: the capture fails, its partial file leaves the spool") {
  Setup s("killed");
  REQUIRE(s.receiver.ok());
  App app(s.work);
  REQUIRE(app.port > 0);
  CHECK(app.Post("/grow?mb=150").rfind("200", 0) == 0);  // a snapshot that takes a while
  LoggedProcess sidecar(ThresholdArgs(s, app, {"--capture-mode", "stream"}), (s.work / "sidecar.log").string());
  REQUIRE(!sidecar.WaitForLine("a new series", 20).empty());
  std::string port = sidecar.WaitForLine("\"port\":\"", 5);
  CHECK(Fetch("POST", "http://127.0.0.1:" + port.substr(0, port.find('"')) + "/capture").rfind("202", 0) == 0);
  auto partial_bytes = [&] {
    uint64_t n = 0;
    for (const auto& de : fs::directory_iterator(s.spool))
      if (de.path().string().ends_with(".partial")) n += de.file_size();
    return n;
  };
  REQUIRE(WaitUntil([&] { return partial_bytes() > 0; }, 60));
  ::kill(app.node.pid(), SIGKILL);
  std::string failed = sidecar.WaitForLine("capture failed", 30);
  REQUIRE(!failed.empty());
  CHECK(failed.find("\"partial_bytes_deleted\":\"0\"") == std::string::npos);
  for (const auto& de : fs::directory_iterator(s.spool)) {
    CHECK_MESSAGE(!de.path().string().ends_with(".failed"), de.path().string());
    CHECK_MESSAGE(!de.path().string().ends_with(".partial"), de.path().string());
  }
  CHECK(MetricsOf(sidecar).find("oomscope_sidecar_captures_total{result=\"failed\"} 1") != std::string::npos);
  CHECK(Stored(s.rx).empty());
}

TEST_CASE("thresholds without a known memory limit: recorded as a skip, reason no_limit") {
  Setup s("nolimit");
  REQUIRE(s.receiver.ok());
  App app(s.work);
  REQUIRE(app.port > 0);
  LoggedProcess sidecar(ThresholdArgs(s, app, {"--rss-thresholds", "0.8"}), (s.work / "sidecar.log").string());
  std::string skipped = sidecar.WaitForLine("capture skipped", 30);
  CHECK(skipped.find("\"reason\":\"no_limit\"") != std::string::npos);
  CHECK(skipped.find("OOMSCOPE_MEMORY_LIMIT_BYTES") != std::string::npos);
  CHECK(MetricsOf(sidecar).find("oomscope_sidecar_capture_skips_total{reason=\"no_limit\"} 1") != std::string::npos);
}

TEST_CASE("the inspector gone mid-series and back: a reconnect with backoff starts a new series") {
  Setup s("reconnect");
  REQUIRE(s.receiver.ok());
  App app(s.work);
  REQUIRE(app.port > 0);
  // Two timed snapshots an hour apart: the first is taken at once, the second never comes in
  // this session, which ends when the app closes its inspector.
  LoggedProcess sidecar({OOMSCOPE_SIDECAR, "--inspector", app.node.address(), "--analyzer-url",
                         "http://127.0.0.1:" + s.receiver.ready(), "--token-file", (s.work / "token").string(),
                         "--spool-dir", s.spool.string(), "--listen", "127.0.0.1:0", "--count", "2",
                         "--interval", "3600", "--initial-delay", "0", "--sample-interval", "0.2"},
                        (s.work / "sidecar.log").string());
  REQUIRE(WaitUntil([&] { return Stored(s.rx).size() == 1; }, 60));
  CHECK(app.Post("/inspector/cycle?down_ms=2000").rfind("200", 0) == 0);
  REQUIRE(!sidecar.WaitForLine("inspector session lost", 30).empty());
  REQUIRE(WaitUntil([&] { return Stored(s.rx).size() == 2; }, 60));
  std::vector<nlohmann::json> meta;
  for (const std::string& f : Stored(s.rx)) meta.push_back(nlohmann::json::parse(std::ifstream(f + ".meta.json")));
  CHECK(meta[0]["series"] != meta[1]["series"]);  // a new session is a new series
  CHECK(meta[0]["sequence"] == 1);
  CHECK(meta[1]["sequence"] == 1);
  std::string second = sidecar.Log().substr(sidecar.Log().rfind("a new series"));
  CHECK(second.find("\"previous_series\":\"") != std::string::npos);
  CHECK(second.find("\"previous_series\":\"none\"") == std::string::npos);
  // Two seconds down with a 0.5 s backoff that doubles: a handful of attempts, no busy loop.
  CHECK(sidecar.Count("waiting for the inspector") <= 6);
  CHECK(sidecar.Count("inspector session opened") >= 2);  // a reconnect may race the closing inspector once
  CHECK(sidecar.Count("inspector session lost") == sidecar.Count("inspector session opened") - 1);
  CHECK(MetricsOf(sidecar).find("oomscope_sidecar_inspector_connected 1") != std::string::npos);
}

namespace {

// A /proc/PID/status field in KiB ("VmHWM": peak resident set size), or -1.
long StatusKib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

}  // namespace

// Its own ctest entry (sidecar.large), left out of the sanitizer run: ASan's quarantine and
// shadow memory would be measured instead of the sidecar's.
TEST_CASE("a heap of 500 MiB+: the sidecar streams its snapshot with a flat RSS" * doctest::test_suite("large")) {
  Setup s("large");
  REQUIRE(s.receiver.ok());
  // 280,000 distinct flat 2,000-character strings, all live: a heap of over 500 MiB. A snapshot keeps
  // the first 1,024 characters of each, so the file is about 300 MB, streamed through the sidecar.
  const fs::path ready = s.work / "ready";
  std::ofstream(s.work / "big.js") << "const keep = [];\n"
                                      "const b = Buffer.alloc(2000, 'y');\n"
                                      "for (let i = 0; i < 280000; i++) { b.write(String(i).padStart(8, '0')); keep.push(b.toString('latin1')); }\n"
                                      "globalThis.keep = keep;\n"
                                      "require('fs').writeFileSync(process.argv[2], String(process.memoryUsage().heapUsed));\n"
                                      "setInterval(() => {}, 1000);\n";
  NodeProcess node({"--max-old-space-size=4096", (s.work / "big.js").string(), ready.string()});
  REQUIRE(node.ok());
  REQUIRE(WaitUntil([&] { return fs::exists(ready) && fs::file_size(ready) > 0; }, 120));
  auto args = SidecarArgs(node, s.receiver.ready(), s.spool, s.work / "token");
  // Over the protocol: the mode where every byte passes through the sidecar.
  args.insert(args.end(), {"--count", "1", "--capture-mode", "stream"});
  ChildProcess sidecar(args, "\"port\":\"", ChildProcess::Stream::kStderr);
  REQUIRE(sidecar.ok());
  REQUIRE(WaitUntil([&] { return Stored(s.rx).size() == 1; }, 280));
  const std::string file = Stored(s.rx)[0];
  std::ifstream in(file + ".meta.json");
  nlohmann::json m = nlohmann::json::parse(in);
  CHECK(m["capture_mode"] == "stream");
  const uint64_t heap_used = m["memory"]["heap_used"].get<uint64_t>();
  const uint64_t snapshot_bytes = fs::file_size(file);
  const long hwm_kib = StatusKib(sidecar.pid(), "VmHWM");
  MESSAGE("heap used ", heap_used >> 20, " MiB, snapshot ", snapshot_bytes >> 20, " MiB, sidecar peak RSS ",
          hwm_kib >> 10, " MiB");
  CHECK(heap_used > (500ull << 20));
  CHECK(snapshot_bytes > (250ull << 20));
  REQUIRE(hwm_kib > 0);
  // Flat: what the sidecar holds does not grow with the snapshot (the bound is 32 MiB).
  CHECK(static_cast<uint64_t>(hwm_kib) * 1024 < (32ull << 20));
  CHECK(heap::ParseSnapshotFile(file).ok());
}
