// oomscope-net: the `oomscope` commands that talk to live processes over the network (capture,
// demo). Kept out of the `oomscope` binary so that `oomscope analyze` does not load the HTTP,
// WebSocket and TLS libraries (cpprestsdk, OpenSSL: 5.6 MiB resident before the first byte
// of a snapshot is read). `oomscope capture|demo ...` runs this with the same arguments.
#include <cstdio>
#include <string_view>

#include "commands.h"
#include "oomscope/common/allocator.h"

int main(int argc, char** argv) {
  oomscope::TuneAllocator();
  std::string_view cmd = argc >= 2 ? argv[1] : "";
  if (cmd == "capture") return oomscope::cli::CaptureCommand(argc - 1, argv + 1);
  if (cmd == "demo") return oomscope::cli::DemoCommand(argc - 1, argv + 1);
  std::fputs("usage: oomscope-net capture|demo [options]  (run as 'oomscope capture|demo')\n", stderr);
  return oomscope::cli::kExitBadInput;
}
