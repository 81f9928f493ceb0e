#pragma once

// Runs a helper process for a test and waits (up to 20 s) for the first line it prints, on
// stdout or stderr, that contains a given prefix (e.g. "listening 43117"). SIGKILLed when
// destroyed, as the OOM killer would.
//
// After the ready line the stream is drained on a thread, so that a chatty child never blocks
// on a full pipe, and its last 64 KiB are kept for a failing test to print (Output()).

#include <sys/types.h>

#include <mutex>
#include <string>
#include <thread>
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
  // The last 64 KiB the child wrote on the watched stream (all of it, ready line included).
  std::string Output() const;
  void Kill();
  pid_t pid() const { return pid_; }

 private:
  void Append(const char* data, size_t n);
  void Drain();

  pid_t pid_ = -1;
  int fd_ = -1;
  int stop_[2] = {-1, -1};  // written once to end Drain() even if a grandchild holds the pipe
  std::string ready_line_;
  mutable std::mutex mu_;
  std::string output_;
  std::thread drain_;
};

}  // namespace oomscope::testing
