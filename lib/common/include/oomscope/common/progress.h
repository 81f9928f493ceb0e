#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace oomscope {

// Reports the progress of long passes (parse, dominators, ...). One pass at a time.
// Begin() a step with the total amount of work (0 when unknown), Advance() with the amount done
// so far, End() when it finishes. Implementations rate-limit their own output, so callers may
// call Advance() often. Not thread-safe: one reporter per pipeline.
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void Begin(std::string_view step, uint64_t total) = 0;
  virtual void Advance(uint64_t done) = 0;
  virtual void End() = 0;
};

// Discards everything.
class NullProgress final : public Progress {
 public:
  void Begin(std::string_view, uint64_t) override {}
  void Advance(uint64_t) override {}
  void End() override {}
};

// Writes to `out` (stderr by default): a live bar redrawn in place when `out` is a terminal,
// plain lines ("parse 25%") otherwise, and the time each step took at its end.
std::unique_ptr<Progress> MakeStreamProgress(std::FILE* out = stderr);

}  // namespace oomscope
