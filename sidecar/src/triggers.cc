#include "triggers.h"

#include <cstdio>

#include "oomscope/common/format.h"

namespace oomscope::sidecar {

ThresholdTriggers::ThresholdTriggers(std::vector<double> heap_fractions, std::vector<double> rss_fractions,
                                     uint64_t limit_bytes)
    : heap_(std::move(heap_fractions)), rss_(std::move(rss_fractions)), limit_(limit_bytes) {
  for (double f : heap_) thresholds_.push_back({true, f});
  for (double f : rss_) thresholds_.push_back({false, f});
}

bool ThresholdTriggers::all_fired() const {
  for (const Threshold& t : thresholds_)
    if (!t.fired) return false;
  return true;
}

std::optional<std::string> ThresholdTriggers::Check(const cdp::MemoryFigures& m) {
  if (limit_ == 0) return std::nullopt;
  std::string what;
  for (Threshold& t : thresholds_) {
    const uint64_t value = t.heap ? m.heap_used : m.rss;
    if (t.fired || static_cast<double>(value) < t.fraction * static_cast<double>(limit_)) continue;
    t.fired = true;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s>=%.2f", t.heap ? "heap_used" : "rss", t.fraction);
    what += (what.empty() ? "" : ",") + std::string(buf);
  }
  if (what.empty()) return std::nullopt;
  return what + " of the " + FormatBytes(limit_) + " limit";
}

Headroom CheckHeadroom(const cdp::MemoryFigures& m, uint64_t limit_bytes, const SnapshotCost& cost) {
  Headroom h;
  h.needed = m.rss + cost.PeakGrowthBytes(m.heap_used);
  h.available = limit_bytes;
  h.affordable = limit_bytes == 0 || h.needed <= limit_bytes;
  return h;
}

}  // namespace oomscope::sidecar
