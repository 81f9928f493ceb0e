// Threshold triggers, the headroom check and their configuration: small cases checked by hand.
#include <doctest/doctest.h>

#include "config.h"
#include "triggers.h"

using namespace oomscope;
using namespace oomscope::sidecar;

namespace {
cdp::MemoryFigures Mem(uint64_t heap_used, uint64_t rss) {
  cdp::MemoryFigures m;
  m.heap_used = heap_used;
  m.rss = rss;
  return m;
}
}  // namespace

TEST_CASE("memory limits and fractions parse as the downward API and operators write them") {
  CHECK(*ParseFractions("0.8,0.6") == std::vector<double>{0.6, 0.8});
  CHECK(!ParseFractions("0.6,").ok());
  CHECK(!ParseFractions("1.5").ok());
  CHECK(!ParseFractions("0").ok());

  const char* argv[] = {"oomscope-sidecar", "--heap-thresholds", "0.5,0.7", "--memory-limit", "256Mi", "--gzip", "--count", "0"};
  Result<Config> c = ParseConfig(8, const_cast<char**>(argv), {{"OOMSCOPE_RSS_THRESHOLDS", "0.9"}});
  REQUIRE(c.ok());
  CHECK(c->memory_limit_bytes == 256ull << 20);
  CHECK(c->heap_thresholds == std::vector<double>{0.5, 0.7});
  CHECK(c->rss_thresholds == std::vector<double>{0.9});
  CHECK(c->capture_mode == "auto");
  const char* stream[] = {"oomscope-sidecar", "--capture-mode", "stream"};
  CHECK(ParseConfig(3, const_cast<char**>(stream), {})->capture_mode == "stream");
  CHECK(ParseConfig(1, const_cast<char**>(stream), {{"OOMSCOPE_CAPTURE_MODE", "stream"}})->capture_mode == "stream");
  const char* bad_mode[] = {"oomscope-sidecar", "--capture-mode", "file"};
  CHECK(ParseConfig(3, const_cast<char**>(bad_mode), {}).status().code() == Code::kInvalidArgument);
  CHECK(c->gzip);
  CHECK(c->series_count == 0);
  Result<Config> env = ParseConfig(1, const_cast<char**>(argv), {{"OOMSCOPE_MEMORY_LIMIT_BYTES", "1073741824"}, {"OOMSCOPE_GZIP", "1"}});
  REQUIRE(env.ok());
  CHECK(env->memory_limit_bytes == 1ull << 30);
  CHECK(env->gzip);
  const char* bad[] = {"oomscope-sidecar", "--rss-thresholds", "2"};
  CHECK(ParseConfig(3, const_cast<char**>(bad), {}).status().message().find("rss-thresholds") != std::string::npos);
}

TEST_CASE("the first timed snapshot waits one interval unless told otherwise") {
  const char* argv[] = {"oomscope-sidecar", "--interval", "5"};
  Result<Config> c = ParseConfig(3, const_cast<char**>(argv), {});
  REQUIRE(c.ok());
  CHECK(c->initial_delay == std::chrono::seconds(5));
  Result<Config> env = ParseConfig(3, const_cast<char**>(argv), {{"OOMSCOPE_SERIES_INITIAL_DELAY_SECONDS", "0"}});
  REQUIRE(env.ok());
  CHECK(env->initial_delay == std::chrono::milliseconds(0));
  const char* bad[] = {"oomscope-sidecar", "--initial-delay", "-1"};
  CHECK_FALSE(ParseConfig(3, const_cast<char**>(bad), {}).ok());
}

TEST_CASE("thresholds fire once each per series, the highest crossed together, never without a limit") {
  const uint64_t limit = 1000;
  ThresholdTriggers t({0.5, 0.7}, {0.9}, limit);
  CHECK(t.configured());
  CHECK(!t.Check(Mem(400, 600)));
  std::optional<std::string> a = t.Check(Mem(550, 600));
  REQUIRE(a);
  CHECK(a->find("heap_used>=0.50") != std::string::npos);
  CHECK(!t.Check(Mem(560, 600)));  // 0.5 fired already
  std::optional<std::string> b = t.Check(Mem(800, 950));  // 0.7 heap and 0.9 rss at once: one capture
  REQUIRE(b);
  CHECK(b->find("heap_used>=0.70") != std::string::npos);
  CHECK(b->find("rss>=0.90") != std::string::npos);
  CHECK(t.all_fired());
  CHECK(!t.Check(Mem(990, 999)));
  ThresholdTriggers fresh({0.5}, {}, limit);  // a new series starts afresh
  CHECK(fresh.Check(Mem(600, 0)));
  ThresholdTriggers no_limit({0.5}, {0.5}, 0);
  CHECK(!no_limit.Check(Mem(1ull << 40, 1ull << 40)));
  CHECK(!ThresholdTriggers({}, {}, limit).configured());
}

TEST_CASE("headroom: rss plus the snapshot's peak growth must fit under the limit") {
  SnapshotCost cost;
  cost.file_bytes_per_heap_byte = 2.0;
  cost.rss_growth_per_file_byte = 1.5;  // 3 bytes of growth per heap byte
  Headroom ok = CheckHeadroom(Mem(100, 500), 800, cost);
  CHECK(ok.affordable);
  CHECK(ok.needed == 800);
  Headroom tight = CheckHeadroom(Mem(101, 500), 800, cost);
  CHECK(!tight.affordable);
  CHECK(tight.needed == 803);
  CHECK(CheckHeadroom(Mem(1ull << 40, 1ull << 40), 0, cost).affordable);  // no limit known: no check here
}

TEST_CASE("a capture's measured cost raises the headroom check's, never lowers it") {
  SnapshotCost cost;  // the defaults: 10 bytes of peak growth per heap byte
  auto fig = [](uint64_t heap_used, uint64_t rss, uint64_t max_rss) {
    cdp::MemoryFigures m = Mem(heap_used, rss);
    m.max_rss = max_rss;
    return m;
  };
  // A 10 MiB heap (after the capture's GC; 12 MiB with garbage before it) whose snapshot took
  // the process from 60 MiB to a new peak of 560 MiB: 50 bytes per live heap byte.
  const uint64_t MiB = 1 << 20;
  std::optional<SnapshotCost> measured = MeasuredSnapshotCost(cost, fig(12 * MiB, 60 * MiB, 70 * MiB), fig(10 * MiB, 400 * MiB, 560 * MiB));
  REQUIRE(measured);
  CHECK(measured->GrowthPerHeapByte() == doctest::Approx(50.0));
  CHECK(measured->PeakGrowthBytes(10 * MiB) == 500 * MiB);
  // With it the same heap no longer fits under a 600 MiB limit at 400 MiB of RSS; with the
  // defaults it did.
  CHECK(CheckHeadroom(Mem(10 * MiB, 400 * MiB), 600 * MiB, cost).affordable);
  CHECK(!CheckHeadroom(Mem(10 * MiB, 400 * MiB), 600 * MiB, *measured).affordable);
  // A cheaper capture than assumed changes nothing.
  CHECK(!MeasuredSnapshotCost(*measured, fig(10 * MiB, 60 * MiB, 70 * MiB), fig(10 * MiB, 100 * MiB, 150 * MiB)));
  CHECK(!MeasuredSnapshotCost(cost, fig(10 * MiB, 60 * MiB, 70 * MiB), fig(10 * MiB, 100 * MiB, 150 * MiB)));
  // No new peak (an older one was higher), no figure, or no heap: nothing learned.
  CHECK(!MeasuredSnapshotCost(cost, fig(10 * MiB, 60 * MiB, 900 * MiB), fig(10 * MiB, 400 * MiB, 900 * MiB)));
  CHECK(!MeasuredSnapshotCost(cost, fig(10 * MiB, 60 * MiB, 0), fig(10 * MiB, 400 * MiB, 0)));
  CHECK(!MeasuredSnapshotCost(cost, fig(0, 60 * MiB, 70 * MiB), fig(0, 400 * MiB, 560 * MiB)));
}
