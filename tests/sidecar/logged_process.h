#pragma once

// A helper process whose stderr goes to a file, so a test can wait for any line it logs (not
// only the first) and the process never blocks on a full pipe. SIGKILLed when destroyed.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace oomscope::testing {

class LoggedProcess {
 public:
  LoggedProcess(const std::vector<std::string>& args, std::string log_path) : log_(std::move(log_path)) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~LoggedProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  LoggedProcess(const LoggedProcess&) = delete;
  LoggedProcess& operator=(const LoggedProcess&) = delete;

  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // How many lines of the log contain `text`.
  int Count(const std::string& text) const {
    std::istringstream in(Log());
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(text) != std::string::npos;
    return n;
  }
  // Waits (polling the log, up to `seconds`) for a line containing `text`; returns what follows
  // it on that line, or "" if it never came.
  std::string WaitForLine(const std::string& text, int seconds) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    do {
      std::istringstream in(Log());
      for (std::string line; std::getline(in, line);) {
        size_t at = line.find(text);
        if (at != std::string::npos) return line.substr(at + text.size()) + " ";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    return "";
  }
  pid_t pid() const { return pid_; }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

}  // namespace oomscope::testing
