#include "oomscope/common/progress.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "oomscope/common/format.h"

namespace oomscope {
namespace {

using Clock = std::chrono::steady_clock;

// The process's peak resident set so far (VmHWM), 0 where /proc is not there. Printed with each
// step's end so a log shows which pass set the peak. Read with open/read, not a stream: the
// `oomscope` binary is static, and a stream would link in (and fault in) the locale machinery.
uint64_t PeakRssBytes() {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* hwm = std::strstr(buf, "\nVmHWM:");
  return hwm ? std::strtoull(hwm + 7, nullptr, 10) * 1024 : 0;
}

class StreamProgress final : public Progress {
 public:
  explicit StreamProgress(std::FILE* out) : out_(out), tty_(isatty(fileno(out)) == 1) {}

  void Begin(std::string_view step, uint64_t total) override {
    step_ = std::string(step);
    total_ = total;
    done_ = 0;
    last_quarter_ = -1;
    start_ = Clock::now();
    last_draw_ = start_ - std::chrono::seconds(1);
    Draw(true);
  }

  void Advance(uint64_t done) override {
    done_ = done;
    Draw(false);
  }

  void End() override {
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    if (tty_) std::fputs("\r\033[K", out_);
    uint64_t peak = PeakRssBytes();
    std::string memory = peak > 0 ? ", peak RSS " + FormatBytes(peak) : "";
    std::fprintf(out_, "%-14s done in %s%s\n", step_.c_str(), FormatSeconds(secs).c_str(),
                 memory.c_str());
    std::fflush(out_);
  }

 private:
  void Draw(bool first) {
    auto now = Clock::now();
    if (tty_) {
      if (!first && now - last_draw_ < std::chrono::milliseconds(100)) return;
      last_draw_ = now;
      if (total_ == 0) {
        std::fprintf(out_, "\r\033[K%-14s %s", step_.c_str(), first ? "..." : "working");
      } else {
        double f = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
        int width = 30, filled = static_cast<int>(f * width);
        std::string bar(static_cast<size_t>(filled), '#');
        bar.append(static_cast<size_t>(width - filled), '.');
        std::fprintf(out_, "\r\033[K%-14s [%s] %3d%%", step_.c_str(), bar.c_str(),
                     static_cast<int>(f * 100));
      }
      std::fflush(out_);
      return;
    }
    // Plain lines: the start, then each quarter, so logs stay short.
    if (first) {
      std::fprintf(out_, "%-14s started\n", step_.c_str());
      std::fflush(out_);
      return;
    }
    if (total_ == 0) return;
    int quarter = static_cast<int>(4 * std::min(1.0, static_cast<double>(done_) /
                                                         static_cast<double>(total_)));
    if (quarter > last_quarter_ && quarter > 0 && quarter < 4) {
      last_quarter_ = quarter;
      std::fprintf(out_, "%-14s %d%%\n", step_.c_str(), quarter * 25);
      std::fflush(out_);
    }
  }

  std::FILE* out_;
  bool tty_;
  std::string step_;
  uint64_t total_ = 0, done_ = 0;
  int last_quarter_ = -1;
  Clock::time_point start_, last_draw_;
};

}  // namespace

std::unique_ptr<Progress> MakeStreamProgress(std::FILE* out) {
  return std::make_unique<StreamProgress>(out);
}

}  // namespace oomscope
