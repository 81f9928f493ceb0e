// oomscope capture: a heap-snapshot series from a running Node process's inspector, for a
// developer's machine. The same library as the sidecar.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "commands.h"
#include "oomscope/cdp/heap_profiler.h"
#include "oomscope/cdp/inspector.h"
#include "oomscope/cdp/session.h"
#include "oomscope/common/format.h"

namespace oomscope::cli {
namespace {

constexpr const char* kHelp =
    "usage: oomscope capture --out DIR [options]\n"
    "\n"
    "Takes a series of heap snapshots of a Node.js process through its inspector (start it\n"
    "with --inspect=127.0.0.1:9229), in one inspector session so that object ids line up,\n"
    "and prints the files' paths, one per line (feed them to 'oomscope analyze').\n"
    "\n"
    "options:\n"
    "  --inspector ADDR   host:port of the inspector (default 127.0.0.1:9229; loopback only)\n"
    "  --out DIR          directory for the snapshots (created if missing)\n"
    "  --count N          snapshots in the series (default 3)\n"
    "  --interval S       seconds between snapshots (default 30)\n"
    "  --mode MODE        auto (default): when the process can write into DIR and this\n"
    "                     command can read what it wrote (same machine and user), the process\n"
    "                     writes each snapshot itself (v8.writeHeapSnapshot, as fast as an\n"
    "                     in-process write); otherwise, and with 'stream', the snapshot comes\n"
    "                     over the inspector protocol\n"
    "  --allow-remote     allow a non-loopback inspector (it runs arbitrary code: think twice)\n"
    "  --quiet            no progress on stderr\n";

}  // namespace

int CaptureCommand(int argc, char** argv) {
  std::string inspector = "127.0.0.1:9229", out, mode = "auto";
  long count = 3;
  double interval = 30;
  bool allow_remote = false, quiet = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "-h" || a == "--help") {
      std::fputs(kHelp, stdout);
      return kExitOk;
    } else if (a == "--inspector" && (v = value())) {
      inspector = v;
    } else if (a == "--out" && (v = value())) {
      out = v;
    } else if (a == "--mode" && (v = value())) {
      mode = v;
    } else if (a == "--count" && (v = value())) {
      count = std::strtol(v, nullptr, 10);
    } else if (a == "--interval" && (v = value())) {
      interval = std::strtod(v, nullptr);
    } else if (a == "--allow-remote") {
      allow_remote = true;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else {
      std::fprintf(stderr, "oomscope capture: bad argument '%s'\n%s", argv[i], kHelp);
      return kExitBadInput;
    }
  }
  if (out.empty() || count < 1 || count > 1000 || interval < 0 || (mode != "auto" && mode != "stream")) {
    std::fprintf(stderr, "oomscope capture: --out is required; --count 1..1000; --interval >= 0; --mode auto|stream\n");
    return kExitBadInput;
  }
  Result<cdp::Endpoint> ep = cdp::ParseEndpoint(inspector, allow_remote);
  if (!ep.ok()) {
    std::fprintf(stderr, "oomscope capture: %s\n", ep.status().message().c_str());
    return kExitBadInput;
  }
  ::mkdir(out.c_str(), 0755);
  const auto timeout = std::chrono::seconds(10);
  Result<std::vector<cdp::Target>> targets = cdp::ListTargets(*ep, timeout);
  if (!targets.ok() || targets->empty()) {
    std::fprintf(stderr, "oomscope capture: %s\n",
                 targets.ok() ? "the inspector lists no target" : targets.status().message().c_str());
    return kExitError;
  }
  Result<cdp::VersionInfo> version = cdp::GetVersion(*ep, timeout);
  Result<std::unique_ptr<cdp::Session>> session = cdp::Connect(targets->front(), timeout, allow_remote);
  if (!session.ok()) {
    std::fprintf(stderr, "oomscope capture: %s\n", session.status().message().c_str());
    return kExitError;
  }
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  if (!quiet && version.ok()) {
    std::fprintf(stderr, "connected to %s (%s)\n", ep->ToString().c_str(), version->browser.c_str());
  }
  cdp::CaptureOptions options;
  if (mode == "auto") {
    std::string why;
    Result<bool> shared = cdp::SharesDirectory(**session, out, timeout, &why);
    if (shared.ok() && *shared) options.mode = cdp::CaptureMode::kAppWrites;
    if (!quiet) {
      std::fprintf(stderr, "capture mode: %s%s\n", cdp::CaptureModeName(options.mode),
                   options.mode == cdp::CaptureMode::kAppWrites ? " (the process writes its snapshots into --out)"
                                                               : (" (" + (shared.ok() ? why : shared.status().message()) + ")").c_str());
    }
  }
  std::vector<std::string> paths;
  for (long k = 1; k <= count; ++k) {
    if (k > 1 && interval > 0) std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    Result<cdp::MemoryFigures> mem = cdp::GetMemoryFigures(**session, timeout);
    // Never over an earlier snapshot (another capture into --out within the same second).
    std::string path = out + "/heap-" + stamp + "-" + std::to_string(k) + ".heapsnapshot";
    for (int again = 2; std::filesystem::exists(path) || std::filesystem::exists(path + ".partial"); ++again)
      path = out + "/heap-" + stamp + "-" + std::to_string(k) + "." + std::to_string(again) + ".heapsnapshot";
    Result<cdp::CaptureResult> r = cdp::CaptureHeapSnapshot(**session, path, options);
    if (!r.ok()) {
      std::fprintf(stderr, "oomscope capture: %s\n", r.status().message().c_str());
      return kExitError;
    }
    if (!quiet) {
      std::fprintf(stderr, "snapshot %ld/%ld: %s in %s%s\n", k, count,
                   FormatBytes(static_cast<double>(r->bytes)).c_str(), FormatSeconds(r->seconds).c_str(),
                   mem.ok() ? (", heap used " + FormatBytes(static_cast<double>(mem->heap_used)) + ", rss " +
                               FormatBytes(static_cast<double>(mem->rss)))
                                  .c_str()
                            : "");
    }
    paths.push_back(path);
  }
  for (const auto& p : paths) std::printf("%s\n", p.c_str());
  return kExitOk;
}

}  // namespace oomscope::cli
