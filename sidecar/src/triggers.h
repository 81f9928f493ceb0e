#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oomscope/cdp/heap_profiler.h"
#include "oomscope/common/snapshot_cost.h"

namespace oomscope::sidecar {

// Memory-threshold triggers for one series: heap used or RSS crossing fractions of the app
// container's memory limit. Each threshold fires once per series (a new series, after a
// reconnect, starts afresh). Pure: the caller samples, this decides.
class ThresholdTriggers {
 public:
  ThresholdTriggers(std::vector<double> heap_fractions, std::vector<double> rss_fractions, uint64_t limit_bytes);

  bool configured() const { return !heap_.empty() || !rss_.empty(); }
  // Every threshold has fired (true when none is configured).
  bool all_fired() const;

  // The thresholds `m` newly crosses are marked fired; returns a description of them
  // ("heap_used>=0.60 of 512Mi limit") or nullopt when none newly fired. Never fires
  // without a limit.
  std::optional<std::string> Check(const cdp::MemoryFigures& m);

 private:
  struct Threshold {
    bool heap;  // heap used, else RSS
    double fraction;
    bool fired = false;
  };
  std::vector<Threshold> thresholds_;
  std::vector<double> heap_, rss_;
  uint64_t limit_;
};

// Whether the app can afford a snapshot now: writing one grows its RSS by about
// cost.PeakGrowthBytes(heap used) (docs/sidecar.md, "What a snapshot costs"), which must fit under
// the container's limit, or the capture itself would get the pod OOM-killed.
struct Headroom {
  bool affordable = true;
  uint64_t needed = 0;     // rss + peak growth
  uint64_t available = 0;  // the limit
};
Headroom CheckHeadroom(const cdp::MemoryFigures& m, uint64_t limit_bytes, const SnapshotCost& cost);

// What a snapshot of this process's heap cost, as measured on a capture: `before` sampled just
// ahead of it, `after` just behind it. The cost depends on the heap's shape: ~10 bytes of peak
// RSS growth per byte of heap used for a mixed heap, ~50 for a heap that is mostly one huge array
// of references (the typical leak; docs/sidecar.md, "What a snapshot costs"), so the defaults can
// be short by 5x. The process's peak RSS (maxRSS) tells: when the capture set a new peak, the
// growth is that peak minus the RSS before, per byte of live heap (the smaller of the two heap
// figures: the capture collects garbage first). Returns `cost` raised to the measured growth per heap
// byte when that is higher (never lowered: the next heap may be worse), else nullopt.
std::optional<SnapshotCost> MeasuredSnapshotCost(const SnapshotCost& cost, const cdp::MemoryFigures& before,
                                                 const cdp::MemoryFigures& after);

}  // namespace oomscope::sidecar
