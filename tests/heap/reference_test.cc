// Agreement with an independent implementation: Chromium DevTools' own HeapSnapshot code (npm
// heap-snapshot-toolkit), run by tests/reference/make_reference.sh on the same real snapshots.
// Sizes are V8's raw self sizes on both sides (devtools_dump.mjs --raw-sizes).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/passes.h"
#include "oomscope/heap/parser.h"
#include "graph_builder.h"

using namespace oomscope;
using namespace oomscope::heap;

namespace {

nlohmann::json LoadJson(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing reference " << path << " (run tests/reference/make_reference.sh)");
  return nlohmann::json::parse(in);
}

struct Engine {
  Snapshot snap;
  Graph g;
};

Engine Load(const std::string& path) {
  Result<Snapshot> s = ParseSnapshotFile(path);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  Engine e{std::move(s).value(), {}};
  e.g = BuildGraph(e.snap, nullptr);
  // The same with the page rule applied during the dominators pass, as from 2^20 edges (the
  // DFS through the page first); on two threads there from that size.
  for (const uint32_t defer : {0u, UINT32_MAX}) {
    CHECK(testing::SameDominance(e.snap, BuildGraph(e.snap, nullptr, true, {}, defer), e.g));
  }
  return e;
}

void CompareEveryNode(const std::string& snapshot, const std::string& reference) {
  Engine e = Load(snapshot);
  nlohmann::json ref = LoadJson(reference);
  REQUIRE(ref["self_sizes"] == "raw");
  REQUIRE(ref["node_count"].get<uint64_t>() == e.snap.node_count());
  std::unordered_map<uint32_t, NodeOrdinal> by_id;
  for (NodeOrdinal o = 0; o < e.snap.node_count(); ++o) by_id[e.snap.node_id[o]] = o;
  size_t checked = 0, retained_mismatch = 0, dominator_mismatch = 0;
  std::string first_mismatch;
  for (const auto& row : ref["nodes"]) {
    uint32_t id = row[0].get<uint32_t>();
    auto it = by_id.find(id);
    REQUIRE(it != by_id.end());
    NodeOrdinal o = it->second;
    uint64_t retained = row[2].get<uint64_t>();
    uint32_t dom_id = row[3].get<uint32_t>();
    ++checked;
    if (e.g.retained[o] != retained) {
      ++retained_mismatch;
      if (first_mismatch.empty())
        first_mismatch = "@" + std::to_string(id) + " retained " + std::to_string(e.g.retained[o]) +
                         " vs DevTools " + std::to_string(retained);
    }
    if (e.snap.node_id[e.g.dominator[o]] != dom_id) {
      ++dominator_mismatch;
      if (first_mismatch.empty())
        first_mismatch = "@" + std::to_string(id) + " dominator @" +
                         std::to_string(e.snap.node_id[e.g.dominator[o]]) + " vs DevTools @" +
                         std::to_string(dom_id);
    }
  }
  INFO(first_mismatch);
  CHECK(checked == e.snap.node_count());
  CHECK(retained_mismatch == 0);
  CHECK(dominator_mismatch == 0);
}

// Class totals. DevTools names plain objects with common shapes by an inferred interface
// ("{a, b}") and merges same-named constructors from different scripts ("keys" > 1); counts and
// self sizes add up across those, retained sizes do not, so they are compared where the class
// is the same on both sides.
void CompareClasses(const std::string& snapshot, const std::string& reference) {
  Engine e = Load(snapshot);
  nlohmann::json ref = LoadJson(reference);
  ClassTable classes;
  DominatorTree tree = BuildDominatorTree(e.snap, e.g);
  // The analysis frees the dominator array while it holds the tree, and reads it back after.
  CHECK(DominatorsFromTree(e.snap, DominatorTree(tree)) == e.g.dominator);
  auto stats = ComputeClassSummary(e.snap, e.g, tree, classes, nullptr);
  std::map<std::string, ClassStats> ours;
  for (const auto& s : stats) ours[classes.name(s.class_id)] = s;
  std::map<std::string, std::pair<uint64_t, uint64_t>> theirs_folded;  // count, self
  for (const auto& [name, c] : ref["classes"].items()) {
    std::string key = name.starts_with("{") ? "Object" : name;
    theirs_folded[key].first += c["count"].get<uint64_t>();
    theirs_folded[key].second += c["self"].get<uint64_t>();
  }
  size_t compared_retained = 0;
  for (const auto& [name, cs] : theirs_folded) {
    CAPTURE(name);
    REQUIRE(ours.count(name));
    CHECK(ours[name].count == cs.first);
    CHECK(ours[name].self_size == cs.second);
  }
  for (const auto& [name, c] : ref["classes"].items()) {
    if (name.starts_with("{") || name == "Object" || c["keys"].get<int>() != 1) continue;
    CAPTURE(name);
    CHECK(ours[name].retained_size == c["retained"].get<uint64_t>());
    ++compared_retained;
  }
  CHECK(compared_retained > 20);
}

const std::string kDir = OOMSCOPE_FIXTURE_DIR;

}  // namespace

TEST_SUITE("reference") {
TEST_CASE("every node of a small real snapshot: retained size and dominator as DevTools") {
  CompareEveryNode(kDir + "/story-3.heapsnapshot", kDir + "/story-3.devtools-raw.json");
  CompareEveryNode(kDir + "/map-cache-3.heapsnapshot", kDir + "/map-cache-3.devtools-raw.json");
}

TEST_CASE("the flags and the essential edges come out the same on two threads as on one") {
  // BuildEdgeIndex's two threads: the flags' search beside every rule but the page one, then
  // the page rule for the edges out of nodes outside the page (a hand-built graph in
  // dominators_test.cc has every kind of edge there).
  for (const char* name : {"/story-3.heapsnapshot", "/map-cache-3.heapsnapshot", "/big.heapsnapshot"}) {
    CAPTURE(name);
    Engine e = Load(kDir + name);
    REQUIRE(e.snap.edge_count() > 10000);
    Graph one, two;
    BuildFlags(e.snap, one);
    BuildEssentialEdges(e.snap, one);
    size_t pages = 0, outside_edges = 0;
    for (NodeOrdinal v = 0; v < e.snap.node_count(); ++v) {
      if (one.flags[v] & kPageObject) ++pages;
      else outside_edges += e.snap.first_edge[v + 1] - e.snap.first_edge[v];
    }
    CHECK(pages > e.snap.node_count() / 2);  // a Node.js heap is mostly reachable from its global
    CHECK(outside_edges > 0);                // the page rule has edges to look at
    for (int run = 0; run < 3; ++run) {
      BuildEdgeIndex(e.snap, two, /*parallel_min_edges=*/0);
      CHECK(two.flags == one.flags);
      CHECK(two.essential == one.essential);
    }
    CHECK(one.essential == e.g.essential);  // what BuildGraph gave the engine
  }
}

TEST_CASE("the hand-written tiny snapshot agrees with DevTools too") {
  std::string src = OOMSCOPE_SOURCE_DIR;
  CompareEveryNode(src + "/tests/fixtures/tiny.heapsnapshot", src + "/tests/fixtures/tiny.devtools-raw.json");
}

TEST_CASE("class totals of a large real snapshot as DevTools' Summary") {
  CompareClasses(kDir + "/big.heapsnapshot", kDir + "/big.devtools-raw.json");
}
}
