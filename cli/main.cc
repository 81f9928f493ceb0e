// oomscope: find what leaks in a Node.js heap.
#include <cstdio>
#include <cstring>
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
    oomscope::KeepFreedBlocks(true);  // one job: its passes reuse each other's arrays
    return oomscope::cli::AnalyzeCommand(argc - 1, argv + 1);
  }
  if (cmd == "capture") return oomscope::cli::CaptureCommand(argc - 1, argv + 1);
  if (cmd == "demo") return oomscope::cli::DemoCommand(argc - 1, argv + 1);
  std::fprintf(stderr, "oomscope: unknown command '%s'\n", argv[1]);
  Usage(stderr);
  return oomscope::cli::kExitBadInput;
}
