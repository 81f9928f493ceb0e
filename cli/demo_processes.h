#pragma once

// The demo's child processes: each started in its own process group with its output in a log
// file, killed with the demo if the demo dies (PR_SET_PDEATHSIG), and stopped in reverse start
// order (SIGTERM, then SIGKILL after a grace period) by StopAll() or the destructor. Not
// thread-safe: one thread drives the demo.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oomscope/common/status.h"

namespace oomscope::cli {

class DemoProcesses {
 public:
  struct Spec {
    std::string name;                          // for messages: "leaky-api", "analyzer", ...
    std::vector<std::string> argv;             // argv[0] searched on PATH when it has no '/'
    std::map<std::string, std::string> env;    // added to (or replacing in) the demo's environment
    std::string cwd;                           // empty: the demo's
    std::string log_path;                      // stdout and stderr, appended
  };

  DemoProcesses() = default;
  ~DemoProcesses() { StopAll(std::chrono::milliseconds(2000)); }
  DemoProcesses(const DemoProcesses&) = delete;
  DemoProcesses& operator=(const DemoProcesses&) = delete;

  // Starts one; returns its index.
  Result<size_t> Start(const Spec& spec);

  // Waits until a line of child `i`'s log satisfies `match` (returns that line), the child
  // exits (FailedPrecondition, with the log's tail), `deadline` passes (DeadlineExceeded), or
  // `cancelled()` turns true (Cancelled).
  Result<std::string> WaitForLine(size_t i, const std::function<bool(const std::string&)>& match,
                                  std::chrono::steady_clock::time_point deadline,
                                  const std::function<bool()>& cancelled);

  // Whether child `i` still runs (reaps it if it ended); `exit_status` says how it ended.
  bool Running(size_t i);
  std::string ExitDescription(size_t i) const;
  std::string LogTail(size_t i, size_t max_bytes = 2000) const;
  pid_t pid(size_t i) const { return children_[i].pid; }
  const std::string& name(size_t i) const { return children_[i].spec.name; }
  size_t size() const { return children_.size(); }

  // SIGTERM to each running child's group (last started first), SIGKILL after `grace`.
  void Stop(size_t i, std::chrono::milliseconds grace);
  void StopAll(std::chrono::milliseconds grace);

 private:
  struct Child {
    Spec spec;
    pid_t pid = -1;
    bool reaped = false;
    int wait_status = 0;
  };
  std::vector<Child> children_;
};

}  // namespace oomscope::cli
