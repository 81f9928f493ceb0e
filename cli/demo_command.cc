// oomscope demo: the whole story on one machine. The story's leaky API runs with a loopback
// inspector under bounded real HTTP load; oomscope-sidecar takes a timed series of heap
// snapshots and uploads it to oomscope-analyzer (both real child processes); the analyzer's
// verdict is printed and its HTML report written. Every process it starts is stopped on the
// way out, also on Ctrl-C or an error.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "demo_processes.h"
#include "oomscope/http/client.h"
#include "oomscope/common/format.h"
#include "oomscope/heap/report.h"

namespace oomscope::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kHelp =
    "usage: oomscope demo [options]\n"
    "\n"
    "Runs the story's leaky API (deploy/examples/leaky-api) with a loopback inspector under\n"
    "bounded HTTP load, lets oomscope-sidecar take a series of heap snapshots and ship them to\n"
    "oomscope-analyzer, and prints the analyzer's verdict: the leaking object, its retainer\n"
    "path, its growth. Writes the HTML report and says where. The analyzer's and the sidecar's\n"
    "/metrics are up while it runs. Stops every process it started, also on Ctrl-C.\n"
    "\n"
    "options:\n"
    "  --out DIR        where report.html and report.json go (default ./oomscope-demo)\n"
    "  --count N        snapshots in the series (default 3)\n"
    "  --interval S     seconds between snapshots (default 4)\n"
    "  --timeout S      give up after S seconds (default 110)\n"
    "  --serve          after the verdict, keep everything (and /metrics) up until Ctrl-C\n"
    "  --keep           keep the work directory (store, spool, logs)\n"
    "  --analyzer PATH  oomscope-analyzer (default: next to this program, or the build tree's)\n"
    "  --sidecar PATH   oomscope-sidecar (likewise)\n"
    "  --app DIR        the leaky API's folder (default: found from this program or the cwd)\n"
    "  --node PATH      node (default: node on PATH)\n"
    "  --no-color       no terminal colors\n"
    "\n"
    "exit status: 0 the leak (supportedExtensions) was named, 1 it was not or something\n"
    "failed, 2 bad usage, 130 interrupted.\n";

std::atomic<int> g_signal{0};
void OnSignal(int sig) { g_signal.store(sig); }

struct Options {
  std::string out = "oomscope-demo", analyzer, sidecar, app, node = "node";
  int count = 3;
  double interval = 4, timeout = 110;
  bool serve = false, keep = false, color = isatty(STDOUT_FILENO) == 1;
};

std::string SelfDir() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

// The first existing path among `candidates`, or "".
std::string FirstExisting(const std::vector<fs::path>& candidates) {
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!c.empty() && fs::exists(c, ec)) return fs::weakly_canonical(c, ec).string();
  }
  return "";
}

// A port number from a ready log line: `"port":"N"`, `port=N`, or the last `:N`.
int ExtractPort(const std::string& line) {
  for (const char* key : {"\"port\":\"", "\"port\":", "port="}) {
    size_t at = line.find(key);
    if (at != std::string::npos) {
      int port = std::atoi(line.c_str() + at + std::strlen(key));
      if (port > 0) return port;
    }
  }
  for (size_t at = line.rfind(':'); at != std::string::npos && at > 0; at = line.rfind(':', at - 1)) {
    int port = std::atoi(line.c_str() + at + 1);
    if (port > 0 && port < 65536 && std::isdigit(static_cast<unsigned char>(line[at + 1]))) return port;
  }
  return 0;
}

bool WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 && off == data.size();
}

std::string RandomToken() {
  unsigned char buf[24] = {};
  std::ifstream in("/dev/urandom", std::ios::binary);
  in.read(reinterpret_cast<char*>(buf), sizeof buf);
  std::string hex;
  for (unsigned char b : buf) {
    const char* digits = "0123456789abcdef";
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

bool ParseOptions(int argc, char** argv, Options* o, int* exit_code) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "-h" || a == "--help") {
      std::fputs(kHelp, stdout);
      *exit_code = kExitOk;
      return false;
    } else if (a == "--out" && (v = value())) {
      o->out = v;
    } else if (a == "--count" && (v = value())) {
      o->count = std::atoi(v);
    } else if (a == "--interval" && (v = value())) {
      o->interval = std::strtod(v, nullptr);
    } else if (a == "--timeout" && (v = value())) {
      o->timeout = std::strtod(v, nullptr);
    } else if (a == "--analyzer" && (v = value())) {
      o->analyzer = v;
    } else if (a == "--sidecar" && (v = value())) {
      o->sidecar = v;
    } else if (a == "--app" && (v = value())) {
      o->app = v;
    } else if (a == "--node" && (v = value())) {
      o->node = v;
    } else if (a == "--serve") {
      o->serve = true;
    } else if (a == "--keep") {
      o->keep = true;
    } else if (a == "--no-color") {
      o->color = false;
    } else {
      std::fprintf(stderr, "oomscope demo: bad argument '%s'\n%s", argv[i], kHelp);
      *exit_code = kExitBadInput;
      return false;
    }
  }
  if (o->count < 2 || o->count > 20 || o->interval < 0 || o->interval > 600 || o->timeout <= 0) {
    std::fprintf(stderr, "oomscope demo: --count 2..20, --interval 0..600, --timeout > 0\n");
    *exit_code = kExitBadInput;
    return false;
  }
  return true;
}

bool NamesTheLeak(const heap::Report& r) {
  for (const auto& s : r.suspects) {
    if (s.held_under == "supportedExtensions" || s.owner_name == "supportedExtensions" ||
        s.path.text.find("supportedExtensions") != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The demo proper. Children are stopped by `procs`' owner whatever this returns.
class Demo {
 public:
  Demo(Options o, DemoProcesses* procs) : o_(std::move(o)), procs_(*procs) {}

  int Run() {
    deadline_ = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.timeout * 1000));
    if (!Locate()) return kExitError;
    char tmpl[] = "/tmp/oomscope-demo-XXXXXX";
    if (!::mkdtemp(tmpl)) return Fail(std::string("cannot create a work directory: ") + std::strerror(errno));
    work_ = tmpl;
    std::printf("work dir       %s  (%s)\n", work_.c_str(), o_.keep ? "kept" : "removed at the end; --keep keeps it");
    int code = Steps();
    if (!o_.keep) {
      procs_.StopAll(std::chrono::milliseconds(3000));
      std::error_code ec;
      fs::remove_all(work_, ec);
    } else {
      std::printf("work directory (store, spool, logs) kept: %s\n", work_.c_str());
    }
    return code;
  }

 private:
  int Fail(const std::string& message) {
    if (g_signal.load()) {
      std::fprintf(stderr, "oomscope demo: interrupted; stopping what it started\n");
      return 130;
    }
    std::fprintf(stderr, "oomscope demo: %s\n", message.c_str());
    return kExitError;
  }

  bool Interrupted() const { return g_signal.load() != 0; }

  bool Locate() {
    std::string self = SelfDir();
    if (o_.analyzer.empty())
      o_.analyzer = FirstExisting({fs::path(self) / "oomscope-analyzer", fs::path(self) / ".." / "analyzer" / "oomscope-analyzer"});
    if (o_.sidecar.empty())
      o_.sidecar = FirstExisting({fs::path(self) / "oomscope-sidecar", fs::path(self) / ".." / "sidecar" / "oomscope-sidecar"});
    if (o_.app.empty()) {
      const char* env = std::getenv("OOMSCOPE_DEMO_APP");
      o_.app = FirstExisting({env ? fs::path(env) : fs::path(), fs::path(self) / ".." / ".." / ".." / "deploy" / "examples" / "leaky-api",
                              fs::path(self) / ".." / "share" / "oomscope" / "leaky-api", fs::current_path() / "deploy" / "examples" / "leaky-api"});
    }
    std::string missing;
    if (o_.analyzer.empty()) missing += " oomscope-analyzer (--analyzer)";
    if (o_.sidecar.empty()) missing += " oomscope-sidecar (--sidecar)";
    if (o_.app.empty() || !fs::exists(fs::path(o_.app) / "server.js")) missing += " the leaky API's folder (--app)";
    if (!missing.empty()) {
      std::fprintf(stderr, "oomscope demo: cannot find%s\n", missing.c_str());
      return false;
    }
    return true;
  }

  Result<size_t> Start(const std::string& name, std::vector<std::string> argv,
                       std::map<std::string, std::string> env = {}, const std::string& cwd = "") {
    DemoProcesses::Spec spec{name, std::move(argv), std::move(env), cwd, work_ + "/" + name + ".log"};
    return procs_.Start(spec);
  }

  Result<int> WaitForPort(size_t i, const std::string& marker) {
    Result<std::string> line = procs_.WaitForLine(
        i, [&](const std::string& l) { return l.find(marker) != std::string::npos && ExtractPort(l.substr(l.find(marker))) > 0; },
        deadline_, [this] { return Interrupted(); });
    if (!line.ok()) return line.status();
    return ExtractPort(line->substr(line->find(marker)));
  }

  Status CheckAlive() {
    for (size_t i = 0; i < procs_.size(); ++i) {
      if (i == load_ || i == warmup_) continue;  // load generators end by themselves
      if (!procs_.Running(i))
        return FailedPrecondition(procs_.name(i) + " " + procs_.ExitDescription(i) + "; its log ends:\n" + procs_.LogTail(i));
    }
    return Status::Ok();
  }

  int Steps() {
    // 1. The leaky API, its inspector on loopback only, an ephemeral port for both.
    Result<size_t> app = Start("leaky-api", {o_.node, "--inspect=127.0.0.1:0", "server.js"},
                               {{"PORT", "0"}, {"HOST", "127.0.0.1"}, {"NODE_OPTIONS", ""}}, o_.app);
    if (!app.ok()) return Fail(app.status().message());
    Result<int> inspector = WaitForPort(*app, "Debugger listening on ws://127.0.0.1:");
    if (!inspector.ok()) return Fail(inspector.status().message());
    Result<int> app_port = WaitForPort(*app, "listening on http://127.0.0.1:");
    if (!app_port.ok()) return Fail(app_port.status().message());
    std::printf("leaky API      http://127.0.0.1:%d  (pid %d, inspector 127.0.0.1:%d)\n", *app_port,
                static_cast<int>(procs_.pid(*app)), *inspector);

    // 2. The analyzer: temp store, a generated upload token.
    std::string token_file = work_ + "/upload-token";
    if (!WriteFile(token_file, RandomToken() + "\n", 0600)) return Fail("cannot write " + token_file);
    fs::create_directories(work_ + "/store");
    Result<size_t> analyzer = Start("analyzer", {o_.analyzer, "--listen", "127.0.0.1:0", "--store", work_ + "/store",
                                                 "--token-file", token_file, "--log-format", "json"});
    if (!analyzer.ok()) return Fail(analyzer.status().message());
    Result<int> analyzer_port = WaitForPort(*analyzer, "listening");
    if (!analyzer_port.ok()) return Fail(analyzer_port.status().message());
    analyzer_url_ = "http://127.0.0.1:" + std::to_string(*analyzer_port);

    // 3. Bounded load. First a warm-up of 3000 requests, so that the leaking array exists and
    // holds thousands of entries before the first snapshot; then steady load (at most 2M
    // requests, 8 in flight, for at most the demo's time) while the sidecar takes the series.
    const std::string target = "http://127.0.0.1:" + std::to_string(*app_port) + "/validate?field=name&value=Ada";
    auto load_argv = [&](const std::string& requests) {
      auto remaining_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      return std::vector<std::string>{o_.node, "loadgen.js", target, "--requests", requests, "--concurrency", "8",
                                      "--timeout-ms", std::to_string(std::max<int64_t>(remaining_ms, 1000))};
    };
    auto warm_start = Clock::now();
    Result<size_t> warmup = Start("warmup", load_argv("3000"), {{"NODE_OPTIONS", ""}}, o_.app);
    if (!warmup.ok()) return Fail(warmup.status().message());
    while (procs_.Running(*warmup)) {
      if (Interrupted() || Clock::now() > deadline_) return Fail("the warm-up load did not finish in time");
      if (!procs_.Running(*app)) return Fail("leaky-api " + procs_.ExitDescription(*app) + "; its log ends:\n" + procs_.LogTail(*app));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("warm-up        3000 requests in %s\n",
                FormatSeconds(std::chrono::duration<double>(Clock::now() - warm_start).count()).c_str());
    Result<size_t> load = Start("loadgen", load_argv("2000000"), {{"NODE_OPTIONS", ""}}, o_.app);
    if (!load.ok()) return Fail(load.status().message());
    load_ = *load;
    warmup_ = *warmup;

    // 4. The sidecar: a timed series in one inspector session, uploaded to the analyzer.
    fs::create_directories(work_ + "/spool");
    Result<size_t> sidecar = Start("sidecar", {o_.sidecar, "--inspector", "127.0.0.1:" + std::to_string(*inspector),
                                               "--analyzer-url", analyzer_url_, "--token-file", token_file,
                                               "--spool-dir", work_ + "/spool", "--count", std::to_string(o_.count),
                                               "--interval", FormatNumber(o_.interval), "--listen", "127.0.0.1:0",
                                               "--log-format", "json"},
                                   {{"POD_NAME", "leaky-api-demo"}, {"POD_NAMESPACE", kNamespace},
                                    {"CONTAINER_NAME", "api"}, {"WORKLOAD_NAME", kWorkload}});
    if (!sidecar.ok()) return Fail(sidecar.status().message());
    Result<int> sidecar_port = WaitForPort(*sidecar, "oomscope-sidecar started");
    if (!sidecar_port.ok()) return Fail(sidecar_port.status().message());
    std::printf("analyzer       %s  (pid %d)   metrics: %s/metrics\n", analyzer_url_.c_str(),
                static_cast<int>(procs_.pid(*analyzer)), analyzer_url_.c_str());
    std::printf("sidecar        %d snapshots, %gs apart  (pid %d)   metrics: http://127.0.0.1:%d/metrics\n", o_.count,
                o_.interval, static_cast<int>(procs_.pid(*sidecar)), *sidecar_port);
    std::printf("load           8 requests in flight against /validate  (pid %d)\n", static_cast<int>(procs_.pid(load_)));
    std::fflush(stdout);

    // 5. Wait for the analyzer's series to be complete.
    Result<nlohmann::json> series = WaitForSeries();
    procs_.Stop(load_, std::chrono::milliseconds(1000));
    if (!series.ok()) return Fail(series.status().message());

    // 6. The verdict, from the analyzer's JSON report, rendered by lib/heap.
    std::string id = series->value("id", "");
    Result<http::ClientResponse> rep = http::Get(analyzer_url_ + "/v1/series/" + id + "/report", std::chrono::seconds(30));
    if (!rep.ok()) return Fail(rep.status().message());
    if (rep->status != 200) return Fail("GET /v1/series/" + id + "/report answered " + std::to_string(rep->status) + ": " + rep->body);
    nlohmann::json j = nlohmann::json::parse(rep->body, nullptr, false);
    heap::Report report;
    if (j.is_discarded() || !heap::ReportFromJson(j, &report)) return Fail("the analyzer's report is not a report: " + rep->body.substr(0, 200));
    std::printf("\n");
    std::string text = heap::RenderText(report, 5, o_.color);
    std::fwrite(text.data(), 1, text.size(), stdout);

    std::error_code ec;
    fs::create_directories(o_.out, ec);
    std::string html_path = fs::absolute(fs::path(o_.out) / "report.html").string();
    std::string json_path = fs::absolute(fs::path(o_.out) / "report.json").string();
    if (!WriteFile(html_path, heap::RenderHtml(report)) || !WriteFile(json_path, rep->body))
      return Fail("cannot write the report into " + o_.out);
    PrintMetrics();
    bool found = NamesTheLeak(report);
    if (found) {
      const heap::Suspect& s = report.suspects.front();
      std::printf("\nverdict: %s (%s) leaks: %s\n         held by: %s\n", s.held_under.empty() ? s.owner_name.c_str() : s.held_under.c_str(),
                  s.owner_class.c_str(), GrowthText(s).c_str(), s.path.text.c_str());
    } else {
      std::printf("\nverdict: the analyzer did not name supportedExtensions (%zu suspects)\n", report.suspects.size());
    }
    std::printf("HTML report: %s\n", html_path.c_str());
    std::fflush(stdout);
    if (o_.serve) Serve();
    return found ? kExitOk : kExitError;
  }

  static std::string FormatNumber(double d) {
    std::ostringstream s;
    s << d;
    return s.str();
  }

  static std::string GrowthText(const heap::Suspect& s) {
    std::string t = FormatBytesDelta(s.growth_bytes_per_snapshot) + " per snapshot";
    if (s.growth_bytes_per_hour) t += ", " + FormatBytesDelta(*s.growth_bytes_per_hour) + " per hour";
    if (!s.retained_by_snapshot.empty() && s.retained_by_snapshot.back())
      t += "; retains " + FormatBytes(static_cast<double>(*s.retained_by_snapshot.back())) + " now";
    return t;
  }

  Result<nlohmann::json> WaitForSeries() {
    std::string url = analyzer_url_ + "/v1/series?namespace=" + kNamespace + "&workload=" + kWorkload;
    std::string last;
    for (;;) {
      if (Interrupted()) return oomscope::Cancelled("interrupted");
      OOMSCOPE_RETURN_IF_ERROR(CheckAlive());
      if (Clock::now() > deadline_) return Status(Code::kDeadlineExceeded, "the series was not complete in time (--timeout)");
      Result<http::ClientResponse> r = http::Get(url, std::chrono::seconds(10));
      if (r.ok() && r->status == 200) {
        nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
        const nlohmann::json* found = nullptr;
        if (!j.is_discarded() && j.contains("series") && j["series"].is_array()) {
          for (const auto& s : j["series"])
            if (s.is_object()) found = &s;  // one sidecar session: one series
        }
        if (found) {
          std::string state = found->value("state", "");
          std::string line = "series " + found->value("id", "") + ": " + std::to_string(found->value("snapshots", 0)) + "/" +
                             std::to_string(found->value("series_length", o_.count)) + " snapshots, " + state;
          if (line != last) {
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
            last = line;
          }
          if (state == "complete") return *found;
          if (state == "failed") return Internal("the analyzer failed the series: " + found->value("error", std::string("(no error given)")));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }

  void PrintMetrics() {
    Result<http::ClientResponse> m = http::Get(analyzer_url_ + "/metrics", std::chrono::seconds(10));
    if (!m.ok() || m->status != 200) return;
    std::printf("\nanalyzer metrics (%s/metrics):\n", analyzer_url_.c_str());
    std::istringstream in(m->body);
    for (std::string line; std::getline(in, line);) {
      bool ours = line.rfind("oomscope_analyzer_suspect_retained_bytes{", 0) == 0 ||
                  line.rfind("oomscope_analyzer_growth_bytes_per_second{", 0) == 0 ||
                  line.rfind("oomscope_analyzer_heap_bytes{", 0) == 0;
      if (ours && line.find(std::string("workload=\"") + kWorkload + "\"") != std::string::npos) std::printf("  %s\n", line.c_str());
    }
  }

  void Serve() {
    std::printf("serving: %s (and the sidecar's /metrics) until Ctrl-C\n", analyzer_url_.c_str());
    std::fflush(stdout);
    while (!Interrupted() && CheckAlive().ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  static constexpr const char* kNamespace = "demo";
  static constexpr const char* kWorkload = "leaky-api";
  Options o_;
  DemoProcesses& procs_;
  Clock::time_point deadline_;
  std::string work_, analyzer_url_;
  size_t load_ = static_cast<size_t>(-1), warmup_ = static_cast<size_t>(-1);
};

}  // namespace

int DemoCommand(int argc, char** argv) {
  Options o;
  int code = kExitOk;
  if (!ParseOptions(argc, argv, &o, &code)) return code;
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  DemoProcesses procs;  // its destructor stops whatever is still running
  code = Demo(std::move(o), &procs).Run();
  procs.StopAll(std::chrono::milliseconds(3000));
  if (g_signal.load() && code != kExitOk) return 130;
  return code;
}

}  // namespace oomscope::cli
