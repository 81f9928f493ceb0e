#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

extern char** environ;

namespace oomscope::testing {
namespace {

constexpr size_t kKeep = 64 * 1024;

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& args, const std::string& prefix,
                           Stream stream) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], stream == Stream::kStdout ? 1 : 2);
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[1]);
  fd_ = p[0];
  if (rc != 0) {
    pid_ = -1;
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pf{fd_, POLLIN, 0};
    if (::poll(&pf, 1, 200) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    Append(buf, static_cast<size_t>(n));
    std::lock_guard<std::mutex> lock(mu_);
    size_t at = output_.find(prefix);
    size_t eol = at == std::string::npos ? std::string::npos : output_.find('\n', at);
    if (eol != std::string::npos) {
      ready_line_ = output_.substr(at + prefix.size(), eol - at - prefix.size());
      break;
    }
  }
  if (::pipe2(stop_, O_CLOEXEC) == 0) drain_ = std::thread([this] { Drain(); });
}

ChildProcess::~ChildProcess() {
  Kill();
  if (drain_.joinable()) {
    (void)!::write(stop_[1], "x", 1);
    drain_.join();
  }
  for (int fd : {fd_, stop_[0], stop_[1]})
    if (fd >= 0) ::close(fd);
}

void ChildProcess::Append(const char* data, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  output_.append(data, n);
  // Trimmed in large steps, so that appending stays linear.
  if (output_.size() > 2 * kKeep) output_.erase(0, output_.size() - kKeep);
}

void ChildProcess::Drain() {
  char buf[4096];
  for (;;) {
    pollfd pf[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    if (::poll(pf, 2, -1) < 0) continue;
    if (pf[1].revents != 0) return;
    if (pf[0].revents == 0) continue;
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return;
    Append(buf, static_cast<size_t>(n));
  }
}

std::string ChildProcess::Output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return output_.size() > kKeep ? output_.substr(output_.size() - kKeep) : output_;
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace oomscope::testing
