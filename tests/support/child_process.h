#pragma once

// Runs a helper process for a test and waits (up to 20 s) for the first line it prints, on
// stdout or stderr, that contains a given prefix (e.g. "listening 43117"). SIGKILLed when
// destroyed, as the OOM killer would.

#include <sys/types.h>

#include <string>
#include <vector>

namespace oomscope::testing {

class ChildProcess {
 public:
  enum class Stream { kStdout, kStderr };
  ChildProcess(const std::vector<std::string>& argv, const std::string& ready_prefix,
               Stream stream = Stream::kStdout);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool ok() const { return !ready_line_.empty(); }
  // The rest of the ready line after the prefix.
  const std::string& ready() const { return ready_line_; }
  void Kill();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string ready_line_;
};

}  // namespace oomscope::testing
