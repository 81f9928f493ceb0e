// oomscope: find what leaks in a Node.js heap.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "commands.h"
#include "oomscope/common/allocator.h"

namespace {

void Usage(std::FILE* out) {
  std::fputs(
      "usage: oomscope <command> [options]\n"
      "\n"
      "commands:\n"
      "  analyze SNAPSHOT...   name the leak in a series of V8 heap snapshots of one process\n"
      "  capture --out DIR     take a snapshot series from a Node process's inspector\n"
      "  demo                  the story on this machine: a leaky API, the sidecar, the analyzer\n"
      "\n"
      "Run 'oomscope <command> --help' for a command's options.\n",
      out);
}

// Runs `oomscope-net` from this binary's directory with the same arguments (capture, demo: the
// commands that need the network libraries, see net_main.cc). Returns only on failure.
int RunNetCommand(char** argv) {
  std::string helper = "oomscope-net";
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string_view path(self, static_cast<size_t>(n));
    const size_t slash = path.rfind('/');
    if (slash != std::string_view::npos) helper = std::string(path.substr(0, slash + 1)) + helper;
  }
  argv[0] = helper.data();
  execv(helper.c_str(), argv);
  std::fprintf(stderr, "oomscope: cannot run %s for '%s': %s (it is installed beside oomscope)\n",
               helper.c_str(), argv[1], std::strerror(errno));
  return oomscope::cli::kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  oomscope::TuneAllocator();
  if (argc < 2) {
    Usage(stderr);
    return oomscope::cli::kExitBadInput;
  }
  std::string_view cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    Usage(stdout);
    return oomscope::cli::kExitOk;
  }
  if (cmd == "--version") {
    std::puts("oomscope 0.1.0");
    return oomscope::cli::kExitOk;
  }
  if (cmd == "analyze") {
    oomscope::UseBlockArena(true);  // one job on a few large arrays
    oomscope::ChooseHugePages();  // unless the host takes free memory back: see UseHugePages
    const int status = oomscope::cli::AnalyzeCommand(argc - 1, argv + 1);
    // Its arrays are all freed, kept by the arena: given back on two threads, where the kernel
    // would free them on one at exit (300 MB: about 10 ms less).
    oomscope::ReleaseKeptBlocks(/*two_threads=*/true);
    return status;
  }
  if (cmd == "capture" || cmd == "demo") return RunNetCommand(argv);
  std::fprintf(stderr, "oomscope: unknown command '%s'\n", argv[1]);
  Usage(stderr);
  return oomscope::cli::kExitBadInput;
}
