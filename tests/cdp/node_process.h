#pragma once

// A real `node --inspect=127.0.0.1:0` child process for tests: the port is read from the
// "Debugger listening on ws://127.0.0.1:PORT/..." line Node prints on stderr.

#include <sys/types.h>

#include <string>
#include <vector>

namespace oomscope::testing {

class NodeProcess {
 public:
  // Starts `node --inspect=127.0.0.1:0 <args...>` and waits (up to 20 s) for the inspector.
  explicit NodeProcess(const std::vector<std::string>& args);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  void Kill();  // SIGKILL, as the OOM killer would

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int stderr_fd_ = -1;
};

}  // namespace oomscope::testing
