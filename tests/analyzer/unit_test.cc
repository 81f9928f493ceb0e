// The analyzer's parts in-process: route patterns, flags, token check, HTML escaping, store
// recovery, memory budget, series states.
#include <doctest/doctest.h>

#include "analyzer_test_util.h"
#include "config.h"
#include "memory_budget.h"
#include "series_view.h"
#include "oomscope/common/html.h"
#include "oomscope/http/server.h"
#include "store.h"
#include "ui.h"
#include "upload.h"

using namespace oomscope;
using namespace oomscope::analyzer;
using oomscope::testing::Fresh;
namespace fs = std::filesystem;

TEST_SUITE("unit") {
TEST_CASE("route patterns match one segment per {name}") {
  std::map<std::string, std::string> p;
  CHECK(http::MatchPattern("/v1/series/{id}", "/v1/series/abc", &p));
  CHECK(p["id"] == "abc");
  CHECK(!http::MatchPattern("/v1/series/{id}", "/v1/series/abc/report", nullptr));
  CHECK(!http::MatchPattern("/v1/series/{id}/report", "/v1/series/abc/report.html", nullptr));
  CHECK(http::MatchPattern("/v1/series/{id}/report.html", "/v1/series/a.b/report.html", &p));
  CHECK(p["id"] == "a.b");
  CHECK(!http::MatchPattern("/v1/series/{id}", "/v1/series/", nullptr));
}

TEST_CASE("flags: sizes, durations, environment under flags") {
  CHECK(*ParseBytes("4Gi") == 4ull << 30);
  CHECK(*ParseBytes("512Mi") == 512ull << 20);
  CHECK(*ParseBytes("1000") == 1000);
  CHECK(!ParseBytes("lots").ok());
  CHECK(*ParseDuration("168h") == 168 * 3600.0);
  CHECK(*ParseDuration("1h30m") == 5400.0);
  CHECK(*ParseDuration("2s") == 2.0);
  CHECK(!ParseDuration("soon").ok());
  std::vector<std::string> args = {"oomscope-analyzer", "--retention-bytes", "1Gi", "--concurrency=2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  Result<Config> c = ParseConfig(static_cast<int>(argv.size()), argv.data(),
                                 {{"OOMSCOPE_RETENTION_BYTES", "5"}, {"OOMSCOPE_STORE", "/data"}});
  REQUIRE(c.ok());
  CHECK(c->retention_bytes == 1ull << 30);
  CHECK(c->store == "/data");
  CHECK(c->concurrency == 2);
  CHECK(c->max_upload_bytes == 4ull << 30);
  args = {"oomscope-analyzer", "--bogus", "1"};
  argv.clear();
  for (auto& a : args) argv.push_back(a.data());
  CHECK(!ParseConfig(static_cast<int>(argv.size()), argv.data(), {}).ok());
}

TEST_CASE("bearer token check") {
  CHECK(TokenMatches("Bearer s3cret", "s3cret"));
  CHECK(!TokenMatches("Bearer s3cre", "s3cret"));
  CHECK(!TokenMatches("Bearer s3cretX", "s3cret"));
  CHECK(!TokenMatches("s3cret", "s3cret"));
  CHECK(!TokenMatches("", "s3cret"));
  CHECK(TokenMatches("", ""));
}

TEST_CASE("the web UI escapes everything that comes from uploads and snapshots") {
  SeriesView v;
  v.id = "s1";
  v.ns = "<script>alert(1)</script>";
  v.workload = "w\"onmouseover=\"x";
  v.state = "complete";
  v.summary = SeriesSummary{};
  v.summary->analyzed = {"x"};
  v.summary->top_suspects = nlohmann::json::array({{{"name", "<img src=x onerror=alert(2)>"}, {"constructor", "A&B"}, {"kind", "growing-array"}}});
  std::string page = RenderIndexPage({v});
  CHECK(page.find("<script>") == std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("&lt;img src=x onerror=alert(2)&gt;") != std::string::npos);
  CHECK(page.find("w&quot;onmouseover=&quot;x") != std::string::npos);
  CHECK(page.find("A&amp;B") != std::string::npos);
  CHECK(HtmlEscape("a\x1b[31m<") == "a\\x1B[31m&lt;");  // lib/common's, shared with the HTML report
}

TEST_CASE("the store removes what a crash left half-done when it opens") {
  fs::path dir = Fresh("unit-store");
  {
    auto store = OpenFsStore(dir.string());
    REQUIRE(store.ok());
    auto up = (*store)->Begin();
    REQUIRE(up.ok());
    REQUIRE((*up)->Write("{}").ok());
    SnapshotRecord rec;
    rec.id = std::string(64, 'a');
    rec.series = "s";
    rec.bytes = 2;
    REQUIRE((*store)->Commit(std::move(*up), rec).ok());
    auto again = (*store)->Begin();
    REQUIRE(again.ok());
    REQUIRE((*again)->Write("{}").ok());
    CHECK((*store)->Commit(std::move(*again), rec).code() == Code::kAlreadyExists);
    // Left behind as by a crash: an upload in progress, data renamed without its record, a temp record.
    std::ofstream(dir / "tmp" / "upload-crashed") << "half";
    std::ofstream(dir / "snapshots" / (std::string(64, 'b') + ".heapsnapshot")) << "{}";
    std::ofstream(dir / "snapshots" / ".tmp-123") << "{";
  }
  auto store = OpenFsStore(dir.string());
  REQUIRE(store.ok());
  CHECK((*store)->Get(std::string(64, 'a')).has_value());
  CHECK(!(*store)->Get(std::string(64, 'b')).has_value());
  CHECK(fs::is_empty(dir / "tmp"));
  CHECK(!fs::exists(dir / "snapshots" / (std::string(64, 'b') + ".heapsnapshot")));
  CHECK(!fs::exists(dir / "snapshots" / ".tmp-123"));
  CHECK((*store)->TotalBytes() == 2);
  CHECK((*store)->DeleteSeries("s").ok());
  CHECK((*store)->DeleteSeries("s").code() == Code::kNotFound);
  CHECK((*store)->TotalBytes() == 0);
  fs::remove_all(dir);
}

TEST_CASE("a timed series whose next snapshot is overdue ends short; one snapshot alone never does") {
  fs::path dir = Fresh("unit-short");
  auto store = OpenFsStore(dir.string());
  REQUIRE(store.ok());
  // A series of 3 planned, snapshots received at t=1000 and t=1020 (a 20 s gap), then nothing:
  // the sidecar skipped the third (no headroom).
  auto add = [&](char c, double at) {
    auto up = (*store)->Begin();
    REQUIRE(up.ok());
    REQUIRE((*up)->Write("{}").ok());
    SnapshotRecord rec;
    rec.id = std::string(64, c);
    rec.series = "s";
    rec.bytes = 2;
    rec.received_at = at;
    rec.state = "ok";
    rec.metadata = {{"series_length", 3}};
    REQUIRE((*store)->Commit(std::move(*up), rec).ok());
  };
  const double quiet = 300;
  add('a', 1000);
  // One snapshot names no growth: it waits, overdue or not.
  CHECK(ViewSeries(**store, "s", 1000 + quiet + 1, quiet)->state == "collecting");
  add('b', 1020);
  auto at = [&](double now) { return *ViewSeries(**store, "s", now, quiet); };
  CHECK(at(1021).state == "collecting");
  CHECK(at(1079).state == "collecting");  // 3 gaps would be 60 s; a minute at least
  SeriesView v = at(1081);
  CHECK(v.state == "complete");
  CHECK(v.ended_short);
  CHECK(v.ToJson()["ended_short"] == true);
  CHECK(v.series_length == 3);
  // At most --series-quiet, whatever the gap.
  CHECK(ViewSeries(**store, "s", 1081, /*quiet_seconds=*/30)->state == "complete");
  // The third arrives after all: complete, not short.
  add('c', 1200);
  v = at(1201);
  CHECK(v.state == "complete");
  CHECK(!v.ended_short);
  CHECK(!v.ToJson().contains("ended_short"));
  fs::remove_all(dir);
}

TEST_CASE("memory budget: reservations wait for room; one larger than the budget runs alone") {
  MemoryBudget b(100);
  b.Acquire(60);
  std::atomic<bool> got{false};
  std::thread t([&] {
    b.Acquire(50);
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(!got);  // 60 + 50 > 100
  b.Release(60);
  t.join();
  CHECK(got);
  b.Release(50);
  b.Acquire(500);  // alone
  CHECK(b.in_use() == 500);
  b.Release(500);
  CHECK(MemoryBudget::SeriesCost({100 << 20, 200 << 20}) > MemoryBudget::ParseCost(200 << 20));
}

TEST_CASE("memory budget: a lease taken without waiting, moved along with what it pays for") {
  MemoryBudget b(100);
  BudgetLease first = BudgetLease::TryTake(b, 70);
  CHECK(first.held());
  BudgetLease none = BudgetLease::TryTake(b, 40);  // would wait: not taken
  CHECK_FALSE(none.held());
  CHECK(b.in_use() == 70);
  BudgetLease moved = std::move(first);  // e.g. a parsed upload handed to the analysis queue
  CHECK(b.in_use() == 70);
  CHECK(moved.bytes() == 70);
  {
    std::vector<BudgetLease> held;
    held.push_back(std::move(moved));
    CHECK(b.in_use() == 70);
  }
  CHECK(b.in_use() == 0);
  BudgetLease alone = BudgetLease::TryTake(b, 500);  // above the budget, nothing else holds any
  CHECK(alone.held());
  alone.Reset();
  CHECK(b.in_use() == 0);
}
}
