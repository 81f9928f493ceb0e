#pragma once

// A real `node --inspect=127.0.0.1:0` child process for tests: the port is read from the
// "Debugger listening on ws://127.0.0.1:PORT/..." line Node prints on stderr.

#include <string>
#include <vector>

#include "child_process.h"

namespace oomscope::testing {

class NodeProcess {
 public:
  explicit NodeProcess(const std::vector<std::string>& args) : child_(Argv(args), kMarker, ChildProcess::Stream::kStderr) {
    if (child_.ok()) port_ = std::stoi(child_.ready().substr(0, child_.ready().find('/')));
  }
  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return child_.pid(); }
  void Kill() { child_.Kill(); }

 private:
  static constexpr const char* kMarker = "Debugger listening on ws://127.0.0.1:";
  static std::vector<std::string> Argv(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"node", "--inspect=127.0.0.1:0"};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }
  ChildProcess child_;
  int port_ = 0;
};

}  // namespace oomscope::testing
