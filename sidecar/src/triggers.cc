#include "triggers.h"

#include <algorithm>
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

std::optional<SnapshotCost> MeasuredSnapshotCost(const SnapshotCost& cost, const cdp::MemoryFigures& before,
                                                 const cdp::MemoryFigures& after) {
  // A peak older than the capture says nothing about it: only a new one counts.
  if (after.max_rss <= before.max_rss || after.max_rss <= before.rss) return std::nullopt;
  // The snapshot saw the live heap: the capture collects garbage first, so the heap sampled
  // after it (soon after) is the closer figure; the one before may hold garbage.
  const uint64_t live = std::min(before.heap_used, after.heap_used);
  if (live == 0) return std::nullopt;
  const double per_heap_byte = static_cast<double>(after.max_rss - before.rss) / static_cast<double>(live);
  if (per_heap_byte <= cost.GrowthPerHeapByte()) return std::nullopt;
  SnapshotCost measured = cost;
  measured.rss_growth_per_file_byte = per_heap_byte / cost.file_bytes_per_heap_byte;
  return measured;
}

}  // namespace oomscope::sidecar
