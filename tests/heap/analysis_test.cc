// Whole-pipeline tests on real snapshots written by V8 (tests/fixtures/gen_series.js, run by
// ctest's fixture step into OOMSCOPE_FIXTURE_DIR).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "oomscope/heap/analysis.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/parser.h"

using namespace oomscope;
using namespace oomscope::heap;

namespace {
std::vector<std::string> Series(const std::string& scenario, int n = 3) {
  std::vector<std::string> files;
  for (int i = 1; i <= n; ++i)
    files.push_back(std::string(OOMSCOPE_FIXTURE_DIR) + "/" + scenario + "-" + std::to_string(i) + ".heapsnapshot");
  return files;
}
Report Analyze(const std::vector<std::string>& files) {
  Result<Report> r = AnalyzeFiles(files, AnalyzeOptions{});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(r).value();
}
std::string Describe(const Report& r) {
  std::string s;
  for (const auto& x : r.suspects) s += "#" + std::to_string(x.rank) + " " + x.kind + " " + x.owner_class + " " + x.held_under + " :: " + x.path.text + "\n";
  return s;
}
}  // namespace

TEST_SUITE("real") {
TEST_CASE("the story's leak: supportedExtensions on the cached validators/name.js module") {
  Report r = Analyze(Series("story"));
  INFO(Describe(r));
  REQUIRE(r.same_process);
  REQUIRE_FALSE(r.suspects.empty());
  const Suspect& top = r.suspects.front();
  CHECK(top.owner_class == "Array");
  CHECK(top.held_under == "supportedExtensions");
  CHECK(top.kind == "growing-array");
  CHECK(top.path.text.find("Module \"\xE2\x80\xA6/validators/name.js\"") != std::string::npos);
  CHECK(top.path.text.find("supportedExtensions (Array)") != std::string::npos);
  REQUIRE(top.entries_by_snapshot.size() == 3);
  CHECK(*top.entries_by_snapshot[0] < *top.entries_by_snapshot[1]);
  CHECK(*top.entries_by_snapshot[1] < *top.entries_by_snapshot[2]);
  CHECK(top.growth_bytes_per_hour.has_value());
  CHECK(top.confidence >= 0.6);
  CHECK(top.id.size() == 16);
  // The id is stable: analyzing the series again names the same suspect.
  CHECK(Analyze(Series("story")).suspects.front().id == top.id);
}

TEST_CASE("a series fed from streams (as uploads arrive) names the same leak as from files") {
  SeriesAnalyzer a{AnalyzeOptions{}};
  double t = 1000;
  for (const std::string& path : Series("story")) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    auto source = MakeStreamSource(in, path);
    SnapshotInfo info;
    info.source = path;
    info.captured_at = t += 60;
    Status st = a.AddSource(*source, info);
    REQUIRE_MESSAGE(st.ok(), st.ToString());
  }
  Report streamed = a.Finish();
  Report from_files = Analyze(Series("story"));
  REQUIRE_FALSE(streamed.suspects.empty());
  CHECK(streamed.suspects.front().id == from_files.suspects.front().id);
  CHECK(streamed.suspects.front().held_under == "supportedExtensions");
}

TEST_CASE("an unbounded Map cache") {
  Report r = Analyze(Series("map-cache"));
  INFO(Describe(r));
  REQUIRE_FALSE(r.suspects.empty());
  CHECK(r.suspects.front().owner_class == "Map");
  CHECK(r.suspects.front().kind == "growing-map");
  CHECK(r.suspects.front().held_under == "requestCache");
  CHECK(r.suspects.front().leaked_objects >= 100);
  CHECK_FALSE(r.suspects.front().samples.empty());
}

TEST_CASE("listeners added per request and never removed") {
  Report r = Analyze(Series("listeners"));
  INFO(Describe(r));
  REQUIRE_FALSE(r.suspects.empty());
  CHECK(r.suspects.front().kind == "growing-listeners");
  CHECK(r.suspects.front().path.text.find("_events") != std::string::npos);
}

TEST_CASE("a string grown by concatenation") {
  Report r = Analyze(Series("string-concat"));
  INFO(Describe(r));
  REQUIRE_FALSE(r.suspects.empty());
  CHECK(r.suspects.front().kind == "growing-string");
  CHECK(r.suspects.front().held_under == "auditLog");
}

TEST_CASE("timers that are never cleared, and a growing closure chain") {
  Report timers = Analyze(Series("timers"));
  INFO(Describe(timers));
  REQUIRE_FALSE(timers.suspects.empty());
  CHECK(timers.suspects.front().kind == "growing-timers");
  CHECK(timers.suspects.front().leaked_objects >= 1000);
  Report chain = Analyze(Series("closure-chain"));
  INFO(Describe(chain));
  REQUIRE_FALSE(chain.suspects.empty());
  CHECK(chain.suspects.front().kind == "growing-closure-context");
  CHECK(chain.suspects.front().held_under == "pipeline");
}

TEST_CASE("controls: a bounded LRU cache that churns, and a steady server, report nothing") {
  for (const char* scenario : {"bounded-cache", "steady"}) {
    CAPTURE(scenario);
    Report r = Analyze(Series(scenario));
    INFO(Describe(r));
    CHECK(r.same_process);
    CHECK(r.suspects.empty());
  }
}

TEST_CASE("snapshots of different processes are detected; the class diff still works") {
  Report r = Analyze({Series("story")[0], Series("map-cache")[2]});
  CHECK_FALSE(r.same_process);
  CHECK(r.suspects.empty());
  CHECK_FALSE(r.class_diff.empty());
  CHECK(r.id_alignment.find("do not line up") != std::string::npos);
  // Totals only: ids of two processes say nothing about which objects are new.
  for (const auto& row : r.class_diff) {
    CAPTURE(row.name);
    CHECK(row.new_count == 0);
    CHECK(row.deleted_count == 0);
    CHECK(row.alloc_size == 0);
    CHECK(row.freed_size == 0);
  }
}

TEST_CASE("one snapshot: summary and largest retainers, no suspects") {
  const std::string file = Series("story")[2];
  Report r = Analyze({file});
  CHECK_FALSE(r.series);
  CHECK(r.suspects.empty());
  CHECK_FALSE(r.classes.empty());
  CHECK_FALSE(r.largest.empty());
  for (const auto& o : r.largest) CHECK(o.retained_size >= o.self_size);
  // Each row is a distinct leak: none is dominated by another row. (The story's array is held
  // by its module's exports, held by the module: of those, only the outermost is listed.)
  Result<Snapshot> snap = ParseSnapshotFile(file);
  REQUIRE(snap.ok());
  Graph g = BuildGraph(*snap, nullptr);
  std::unordered_map<uint32_t, NodeOrdinal> by_id;
  for (NodeOrdinal o = 0; o < snap->node_count(); ++o) by_id.emplace(snap->node_id[o], o);
  std::unordered_set<NodeOrdinal> listed;
  for (const auto& row : r.largest) listed.insert(by_id.at(row.id));
  size_t held_by_another = 0;
  for (NodeOrdinal o : listed)
    for (NodeOrdinal d = g.dominator[o]; d != snap->root; d = g.dominator[d]) held_by_another += listed.count(d);
  CHECK(held_by_another == 0);
}

TEST_CASE("a series told how many snapshots come reports as one that is not") {
  // Told, each snapshot but the last sorts its nodes by id during its dominators pass, on the
  // pass's second thread, for its digest (AnalyzeOptions::expected_snapshots).
  for (const char* scenario : {"story", "map-cache"}) {
    CAPTURE(scenario);
    auto run = [&](size_t expected) {
      AnalyzeOptions o;
      o.expected_snapshots = expected;
      SeriesAnalyzer a(o);
      for (const std::string& path : Series(scenario)) REQUIRE(a.AddFile(path).ok());
      return ReportToJson(a.Finish());
    };
    const nlohmann::json told = run(3), untold = run(0);
    CHECK_FALSE(told["suspects"].empty());
    CHECK(told == untold);
    // More than were added: the last one's order was sorted early too, and used as it is.
    CHECK(run(4) == untold);
  }
}

TEST_CASE("Finish again, and the newest digest after it, see the last snapshot as it was") {
  // The suspects leave the last snapshot's dominators as a tree (Last::tree), not the array:
  // a second Finish reads the array back from it, and the digest after Finish frees it.
  for (const char* scenario : {"story", "timers"}) {
    CAPTURE(scenario);
    SeriesAnalyzer a{AnalyzeOptions{}};
    for (const std::string& path : Series(scenario)) REQUIRE(a.AddFile(path).ok());
    const nlohmann::json first = ReportToJson(a.Finish());
    CHECK_FALSE(first["suspects"].empty());
    CHECK(ReportToJson(a.Finish()) == first);
    const SnapshotDigest* d = a.DigestNewest();
    REQUIRE(d != nullptr);
    CHECK(d->node_count == first["snapshots"].back()["node_count"].get<uint32_t>());
  }
}

TEST_CASE("the JSON report round-trips and names its schema") {
  Report r = Analyze(Series("story"));
  nlohmann::json j = ReportToJson(r);
  CHECK(j["schema"] == "oomscope.report/v1");
  Report back;
  REQUIRE(ReportFromJson(j, &back));
  CHECK(ReportToJson(back) == j);
}
}
