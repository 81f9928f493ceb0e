#include "demo_processes.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace oomscope::cli {

Result<size_t> DemoProcesses::Start(const Spec& spec) {
  if (spec.argv.empty()) return InvalidArgument("no command for " + spec.name);
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    std::string key = kv.substr(0, kv.find('='));
    if (!spec.env.count(key)) env_strings.push_back(std::move(kv));
  }
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Internal("cannot open " + spec.log_path + ": " + std::strerror(errno));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the demo died before prctl
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) ::_exit(126);
    ::execvpe(argv[0], argv.data(), envp.data());
    const char msg[] = "exec failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with Stop()
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  children_.push_back(Child{spec, pid, false, 0});
  return children_.size() - 1;
}

bool DemoProcesses::Running(size_t i) {
  Child& c = children_[i];
  if (c.reaped) return false;
  int st = 0;
  pid_t r = ::waitpid(c.pid, &st, WNOHANG);
  if (r == c.pid) {
    c.reaped = true;
    c.wait_status = st;
    return false;
  }
  return r == 0;
}

std::string DemoProcesses::ExitDescription(size_t i) const {
  const Child& c = children_[i];
  if (!c.reaped) return "running";
  if (WIFEXITED(c.wait_status)) return "exited with status " + std::to_string(WEXITSTATUS(c.wait_status));
  if (WIFSIGNALED(c.wait_status)) return std::string("killed by ") + strsignal(WTERMSIG(c.wait_status));
  return "ended";
}

std::string DemoProcesses::LogTail(size_t i, size_t max_bytes) const {
  std::ifstream in(children_[i].spec.log_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

Result<std::string> DemoProcesses::WaitForLine(size_t i, const std::function<bool(const std::string&)>& match,
                                               std::chrono::steady_clock::time_point deadline,
                                               const std::function<bool()>& cancelled) {
  std::ifstream in;
  std::string partial;
  for (;;) {
    if (!in.is_open()) in.open(children_[i].spec.log_path, std::ios::binary);
    if (in.is_open()) {
      char buf[4096];
      for (;;) {
        in.read(buf, sizeof buf);
        std::streamsize n = in.gcount();
        if (n <= 0) break;
        partial.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
          std::string line = partial.substr(0, nl);
          partial.erase(0, nl + 1);
          if (match(line)) return line;
        }
      }
      in.clear();  // at EOF: keep the position, read more later
    }
    if (!Running(i)) {
      return FailedPrecondition(children_[i].spec.name + " " + ExitDescription(i) + "; its log ends:\n" + LogTail(i));
    }
    if (cancelled()) return Cancelled("interrupted");
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Code::kDeadlineExceeded, children_[i].spec.name + " did not get ready in time; its log ends:\n" + LogTail(i));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void DemoProcesses::Stop(size_t i, std::chrono::milliseconds grace) {
  if (!Running(i)) return;
  Child& c = children_[i];
  ::kill(-c.pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (Running(i) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-c.pid, SIGKILL);  // the leader if it lingered, and anything it left in its group
  if (!c.reaped) {
    int st = 0;
    if (::waitpid(c.pid, &st, 0) == c.pid) {
      c.reaped = true;
      c.wait_status = st;
    }
  }
}

void DemoProcesses::StopAll(std::chrono::milliseconds grace) {
  for (size_t i = children_.size(); i-- > 0;) Stop(i, grace);
}

}  // namespace oomscope::cli
