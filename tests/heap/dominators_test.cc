// Hand-built graphs whose dominators and retained sizes are checked by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "graph_builder.h"
#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/digest.h"
#include "oomscope/heap/graph.h"
#include "oomscope/heap/passes.h"

using namespace oomscope::heap;
using oomscope::heap::testing::SameDominance;
using oomscope::heap::testing::SnapshotBuilder;

namespace {
struct Built {
  Snapshot snap;
  Graph g;
};
Built Build(const SnapshotBuilder& b) {
  Built r{b.Parse(), {}};
  r.g = BuildGraph(r.snap, nullptr);
  // Every graph here also with the page rule left to the dominators pass, as from 2^20 edges
  // (BuildGraph): the DFS goes through the page first and the rule is applied mid-pass.
  CHECK(SameDominance(r.snap, BuildGraph(r.snap, nullptr, true, {}, /*defer_page_rule_min_edges=*/0), r.g));
  return r;
}
// The class summary of `g` both ways an analysis computes it: with the dominator array freed and
// read back, one walker (small graphs), and with it kept, two walkers (large ones). `check` sees
// each with its class names; the two give the same totals.
void SummaryBothWays(Built& g, const std::function<void(const std::vector<ClassStats>&, const ClassTable&)>& check) {
  std::vector<std::vector<ClassStats>> totals;
  for (uint32_t keep_from : {1u << 22, 0u}) {
    ClassTable classes;
    totals.push_back(ComputeClassSummaryAndDistances(g.snap, g.g, classes, nullptr, {}, keep_from));
    check(totals.back(), classes);
  }
  REQUIRE(totals[0].size() == totals[1].size());
  for (size_t i = 0; i < totals[0].size(); ++i) {
    CHECK(totals[0][i].class_id == totals[1][i].class_id);
    CHECK(totals[0][i].retained_size == totals[1][i].retained_size);
  }
}
}  // namespace

TEST_CASE("retained sizes of 4 GiB and more are exact, and the class summary adds them up") {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  SnapshotBuilder b;
  uint32_t a = b.Node("object", "Holder", 3 * kGiB), x = b.Node("object", "Big", 2 * kGiB),
           y = b.Node("object", "Big", 2 * kGiB - 1), z = b.Node("object", "Small", 7);
  b.Edge(0, "element", "1", a);
  b.Edge(a, "property", "x", x);
  b.Edge(a, "property", "y", y);
  b.Edge(y, "property", "z", z);
  Built g = Build(b);
  CHECK(g.g.retained[z] == 7);
  CHECK(g.g.retained[y] == 2 * kGiB + 6);
  CHECK(g.g.retained[x] == 2 * kGiB);
  CHECK(g.g.retained[a] == 7 * kGiB + 6);  // past 32 bits
  CHECK(g.g.retained[0] == 7 * kGiB + 6);
  ClassTable classes;
  auto stats = ComputeClassSummaryAndDistances(g.snap, g.g, classes, nullptr);
  REQUIRE(!stats.empty());
  CHECK(classes.name(stats[0].class_id) == "Holder");
  CHECK(stats[0].retained_size == 7 * kGiB + 6);
  // A column value can also go back under 4 GiB.
  SizeColumn c(2);
  c.Set(1, 5 * kGiB);
  c.Set(1, 12);
  CHECK(c[1] == 12);
  CHECK(c[0] == 0);
}

TEST_CASE("diamond: the join node is dominated by the fork, not by either branch") {
  SnapshotBuilder b;
  uint32_t a = b.Node("object", "A", 10), l = b.Node("object", "L", 20), r = b.Node("object", "R", 30),
           d = b.Node("object", "D", 40), e = b.Node("object", "E", 50);
  b.Edge(0, "element", "1", a);
  b.Edge(a, "property", "left", l);
  b.Edge(a, "property", "right", r);
  b.Edge(l, "property", "d", d);
  b.Edge(r, "property", "d", d);
  b.Edge(d, "property", "e", e);
  Built x = Build(b);
  CHECK(x.g.dominator[a] == 0);
  CHECK(x.g.dominator[l] == a);
  CHECK(x.g.dominator[r] == a);
  CHECK(x.g.dominator[d] == a);
  CHECK(x.g.dominator[e] == d);
  CHECK(x.g.retained[e] == 50);
  CHECK(x.g.retained[d] == 90);
  CHECK(x.g.retained[l] == 20);
  CHECK(x.g.retained[r] == 30);
  CHECK(x.g.retained[a] == 150);
  CHECK(x.g.retained[0] == 150);
  CHECK(Distance(x.snap, x.g, d) == 3);
}

TEST_CASE("cycle: the entry point of a cycle retains all of it") {
  SnapshotBuilder b;
  uint32_t x1 = b.Node("object", "X", 1), y = b.Node("object", "Y", 2), z = b.Node("object", "Z", 4);
  b.Edge(0, "element", "1", x1);
  b.Edge(x1, "property", "y", y);
  b.Edge(y, "property", "x", x1);
  b.Edge(y, "property", "z", z);
  Built g = Build(b);
  CHECK(g.g.dominator[y] == x1);
  CHECK(g.g.dominator[z] == y);
  CHECK(g.g.retained[x1] == 7);
  CHECK(g.g.retained[y] == 6);
}

TEST_CASE("a node held only by a weak edge is not retained by its weak holder") {
  SnapshotBuilder b;
  uint32_t p = b.Node("object", "P", 8), w = b.Node("object", "W", 100);
  b.Edge(0, "element", "1", p);
  b.Edge(p, "weak", "ref", w);
  Built g = Build(b);
  CHECK(Distance(g.snap, g.g, w) == Graph::kUnreachable);
  CHECK(g.g.dominator[w] == 0);
  CHECK(g.g.retained[p] == 8);
  CHECK(g.g.retained[0] == 108);  // DevTools hangs weakly-held nodes off the root
}

TEST_CASE("a weakly held node retains what only it holds, whichever comes first in node order") {
  // The DFS from the root reaches none of these. C and D come before O in node order and are
  // held by O alone (D through C), so only O starts a subtree under the root and retains them;
  // a retained node found only among the edges the DFS reached would start its own.
  SnapshotBuilder b;
  uint32_t a = b.Node("object", "A", 3), c = b.Node("object", "C", 20), d = b.Node("object", "D", 40);
  uint32_t o = b.Node("object", "O", 10);
  b.Edge(0, "element", "1", a);
  b.Edge(a, "weak", "ref", o);
  b.Edge(o, "property", "c", c);
  b.Edge(c, "property", "d", d);
  b.Edge(d, "weak", "back", o);
  Built g = Build(b);
  CHECK(g.g.dominator[o] == 0);
  CHECK(g.g.dominator[c] == o);
  CHECK(g.g.dominator[d] == c);
  CHECK(g.g.retained[o] == 10 + 20 + 40);
  CHECK(g.g.retained[a] == 3);
  CHECK(g.g.retained[0] == 3 + 10 + 20 + 40);
}

TEST_CASE("unreachable nodes and an unreachable clique hang off the root one by one") {
  SnapshotBuilder b;
  uint32_t a = b.Node("object", "A", 5), lone = b.Node("object", "Lone", 7);
  uint32_t u1 = b.Node("object", "U1", 11), u2 = b.Node("object", "U2", 13);
  b.Edge(0, "element", "1", a);
  b.Edge(u1, "property", "other", u2);
  b.Edge(u2, "property", "other", u1);
  Built g = Build(b);
  CHECK(g.g.dominator[lone] == 0);
  CHECK(g.g.dominator[u1] == 0);
  CHECK(g.g.dominator[u2] == 0);
  CHECK(g.g.retained[a] == 5);
  CHECK(g.g.retained[lone] == 7);
  CHECK(g.g.retained[0] == 5 + 7 + 11 + 13);
}

TEST_CASE("shortcut edges retain only from the root; WeakMap tables do not retain values") {
  SnapshotBuilder b;
  uint32_t holder = b.Node("object", "Holder", 4), target = b.Node("object", "T", 16);
  uint32_t table = b.Node("array", "", 8, 101), key = b.Node("object", "Key", 4), val = b.Node("object", "Val", 32);
  b.Edge(0, "element", "1", holder);
  b.Edge(holder, "shortcut", "s", target);
  b.Edge(0, "element", "2", target);
  b.Edge(holder, "internal", "table", table);
  b.Edge(0, "element", "3", key);
  b.Edge(table, "internal", "1 / part of key (Key @7) -> value (Val @11) pair in WeakMap (table @101)", val);
  b.Edge(key, "internal", "1 / part of key (Key @7) -> value (Val @11) pair in WeakMap (table @101)", val);
  Built g = Build(b);
  CHECK(g.g.dominator[target] == 0);
  CHECK(g.g.dominator[val] == key);  // the key retains the value, the table does not
  CHECK(g.g.retained[key] == 36);
  CHECK(g.g.retained[table] == 8);
  CHECK(g.g.retained[holder] == 12);
}

TEST_CASE("essential edges: the edge index on two threads marks a node's edges as the passes in turn do") {
  // The holder is outside the page (no global reaches it), so on two threads its 300 edges are
  // marked without the page rule and then looked at again with it. It is also a WeakMap table
  // (id 101), so every kind of edge that does not retain is among them, across several words.
  SnapshotBuilder b;
  uint32_t holder = b.Node("array", "", 8, 101);
  std::vector<uint32_t> targets;
  for (int i = 0; i < 4; ++i) targets.push_back(b.Node("object", "T", 16));
  b.Edge(0, "element", "1", holder);
  for (int i = 0; i < 300; ++i) {
    uint32_t to = targets[static_cast<size_t>(i) % targets.size()];
    switch (i % 4) {
      case 0: b.Edge(holder, "property", "p" + std::to_string(i), to); break;
      case 1: b.Edge(holder, "weak", std::to_string(i), to); break;
      case 2: b.Edge(holder, "shortcut", "s", to); break;
      default:
        b.Edge(holder, "internal", "1 / part of key (Key @7) -> value (Val @11) pair in WeakMap (table @101)", to);
    }
  }
  Snapshot snap = b.Parse();
  REQUIRE(snap.edge_count() == 301);
  REQUIRE(snap.first_edge[holder] < 128);
  REQUIRE(snap.first_edge[holder + 1] > 128);
  Graph one, two;
  BuildFlags(snap, one);
  BuildEssentialEdges(snap, one);
  BuildEdgeIndex(snap, two, /*parallel_min_edges=*/0);
  CHECK(two.essential == one.essential);
  auto essential = [&](uint32_t e) { return (two.essential[e >> 6] >> (e & 63)) & 1; };
  CHECK(essential(0) == 1);
  for (uint32_t e = 1; e < 301; ++e) {
    CAPTURE(e);
    CHECK(essential(e) == ((e - 1) % 4 == 0 ? 1u : 0u));
  }
}

TEST_CASE("essential edges but the page rule: both threads' words match the rules edge by edge") {
  // Nodes without edges between those with some, self edges, shortcuts from the root and from
  // elsewhere, weak edges and a WeakMap table's values, over several words on both sides of the
  // cut between the threads. Without page flags the page rule keeps every edge, so each bit is
  // IsEssentialEdge's answer.
  SnapshotBuilder b;
  std::vector<uint32_t> nodes;
  for (uint32_t i = 0; i < 40; ++i) nodes.push_back(b.Node("object", "N", 8, 1001 + 2 * i));
  const std::string kTable = "1 / part of key (Key @7) -> value (Val @11) pair in WeakMap (table @";
  for (uint32_t i = 0; i < 40; ++i) {
    b.Edge(0, i % 5 == 0 ? "shortcut" : "element", std::to_string(i + 1), nodes[i]);
    if (i % 7 == 3) continue;  // no edges of its own
    for (uint32_t k = 0; k < 9 + i % 4; ++k) {
      const uint32_t to = nodes[(i * 13 + k * 7) % 40];
      switch ((i + k) % 6) {
        case 0: b.Edge(nodes[i], "property", "p", to); break;
        case 1: b.Edge(nodes[i], "weak", std::to_string(k), to); break;
        case 2: b.Edge(nodes[i], "shortcut", "s", to); break;
        case 3: b.Edge(nodes[i], "property", "self", nodes[i]); break;
        case 4: b.Edge(nodes[i], "internal", kTable + std::to_string(1001 + 2 * i) + ")", to); break;
        default: b.Edge(nodes[i], "internal", kTable + "5)", to);
      }
    }
  }
  Snapshot snap = b.Parse();
  REQUIRE(snap.edge_count() > 256);
  Graph no_flags;
  no_flags.flags.assign(snap.node_count(), 0);
  for (bool two_threads : {false, true}) {
    CAPTURE(two_threads);
    Graph g;
    MarkEdgesButPageRule(snap, g, two_threads);
    size_t kept = 0;
    for (NodeOrdinal v = 0; v < snap.node_count(); ++v) {
      for (EdgeOrdinal e = snap.first_edge[v]; e < snap.first_edge[v + 1]; ++e) {
        CAPTURE(e);
        CHECK(g.IsEssential(e) == IsEssentialEdge(snap, no_flags, v, e));
        kept += g.IsEssential(e);
      }
    }
    CHECK(kept > 40);
    CHECK(kept < snap.edge_count() / 2);
  }
}

TEST_CASE("objects owned by a global are not stolen by non-page holders") {
  SnapshotBuilder b;
  uint32_t global = b.Node("object", "global", 10), gcroots = b.Node("synthetic", "(GC roots)", 0);
  uint32_t handle = b.Node("object", "DebuggerHandle", 3), obj = b.Node("object", "Obj", 20);
  b.Edge(0, "shortcut", "1", global);
  b.Edge(0, "element", "2", gcroots);
  b.Edge(gcroots, "element", "1", handle);
  b.Edge(handle, "property", "obj", obj);
  b.Edge(global, "property", "obj", obj);
  Built g = Build(b);
  Graph flags;
  BuildFlags(g.snap, flags);
  CHECK((flags.flags[obj] & kPageObject) != 0);
  CHECK((flags.flags[handle] & kPageObject) == 0);
  CHECK(g.g.dominator[obj] == global);
  CHECK(g.g.retained[global] == 30);
  CHECK(g.g.retained[handle] == 3);
}

TEST_CASE("class summary: retained size counts only the outermost instance of a class") {
  SnapshotBuilder b;
  uint32_t outer = b.Node("object", "Foo", 10), inner = b.Node("object", "Foo", 20), s = b.Node("string", "hi", 30);
  uint32_t f = b.Node("closure", "run", 5);
  b.Edge(0, "element", "1", outer);
  b.Edge(outer, "property", "inner", inner);
  b.Edge(inner, "property", "s", s);
  b.Edge(0, "element", "2", f);
  Built g = Build(b);
  ClassTable classes;
  DominatorTree tree = BuildDominatorTree(g.snap, g.g);
  auto stats = ComputeClassSummary(g.snap, g.g, tree, classes, nullptr);
  auto find = [&](const std::string& n) {
    for (const auto& c : stats)
      if (classes.name(c.class_id) == n) return c;
    FAIL("no class " << n);
    return ClassStats{};
  };
  CHECK(find("Foo").count == 2);
  CHECK(find("Foo").self_size == 30);
  CHECK(find("Foo").retained_size == 60);  // not 60 + 50
  CHECK(find("(string)").retained_size == 30);
  CHECK(find("Function").count == 1);
}

TEST_CASE("class summary on two walkers: the tree cut in subtrees gives the outermost instances' totals") {
  // Four groups under the root, each holding 8 chains of 3 Node objects (a Node retains the
  // next), each chain's last Node holding a Leaf; one group held by a Node at the top, so that
  // a Node sits above the cut. The walkers cut the subtrees above 1/16 of the whole into their
  // children: the top Node and the groups are cut, Nodes are found on both sides of it.
  SnapshotBuilder b;
  const uint32_t top = b.Node("object", "Node", 1000);
  b.Edge(0, "element", "0", top);
  uint64_t node_total = 1000, node_outer = 0, leaf_total = 0;
  for (int gi = 0; gi < 4; ++gi) {
    const uint32_t group = b.Node("object", "Group", 50);
    b.Edge(gi == 0 ? top : 0, "element", std::to_string(gi + 1), group);
    for (int c = 0; c < 8; ++c) {
      uint32_t prev = group;
      uint64_t chain = 0;
      for (int k = 0; k < 3; ++k) {
        const uint32_t n = b.Node("object", "Node", 100 + 10 * k);
        b.Edge(prev, "property", "next", n);
        node_total += 100 + 10 * k;
        chain += 100 + 10 * k;
        prev = n;
      }
      const uint32_t leaf = b.Node("object", "Leaf", 7);
      b.Edge(prev, "property", "leaf", leaf);
      leaf_total += 7;
      chain += 7;
      if (gi != 0) node_outer += chain;  // the outermost Node of a chain, unless under `top`
    }
  }
  // And 3000 light subtrees straight under the root (more than the walkers take one at a time):
  // an Item holding a Node.
  for (int i = 0; i < 3000; ++i) {
    const uint32_t item = b.Node("object", "Item", 3), n = b.Node("object", "Node", 2);
    b.Edge(0, "element", std::to_string(100 + i), item);
    b.Edge(item, "property", "n", n);
    node_total += 2;
    node_outer += 2;
  }
  Built g = Build(b);
  const uint64_t top_retained = g.g.retained[top];
  CHECK(top_retained == 1000 + 50 + 8 * (330 + 7));
  node_outer += top_retained;
  SummaryBothWays(g, [&](const std::vector<ClassStats>& stats, const ClassTable& classes) {
    auto find = [&](const std::string& n) {
      for (const auto& c : stats)
        if (classes.name(c.class_id) == n) return c;
      FAIL("no class " << n);
      return ClassStats{};
    };
    CHECK(find("Node").count == 97 + 3000);
    CHECK(find("Item").retained_size == 3000 * 5);
    CHECK(find("Node").self_size == node_total);
    CHECK(find("Node").retained_size == node_outer);
    CHECK(find("Leaf").retained_size == leaf_total);
    CHECK(find("Group").retained_size == 4 * (50 + 8 * (330 + 7)));
  });
}

TEST_CASE("the dominator tree lists each node's children and reads back as the dominators") {
  // Holders with 0, 1 or 3 children, over more than one 64-bit word of nodes and of children,
  // and a node shared by two holders (dominated by the root).
  SnapshotBuilder b;
  std::vector<uint32_t> holders;
  std::vector<std::vector<uint32_t>> kids;
  for (int i = 0; i < 70; ++i) {
    holders.push_back(b.Node("object", "Holder", 4));
    b.Edge(0, "element", std::to_string(i + 1), holders.back());
    kids.emplace_back();
    for (int k = 0; k < i % 3 * (i % 3); ++k) {  // 0, 1, 4 children
      kids.back().push_back(b.Node("object", "Kid", 2));
      b.Edge(holders.back(), "element", std::to_string(k), kids.back().back());
    }
  }
  const uint32_t shared = b.Node("object", "Shared", 8);
  b.Edge(holders[1], "property", "s", shared);
  b.Edge(holders[2], "property", "s", shared);
  Built g = Build(b);
  DominatorTree tree = BuildDominatorTree(g.snap, g.g);
  for (size_t i = 0; i < holders.size(); ++i) {
    const uint32_t h = holders[i];
    std::vector<uint32_t> listed;
    for (uint32_t k = tree.first_child[h]; k < tree.first_child[h + 1]; ++k) listed.push_back(tree.children[k]);
    CHECK(listed == kids[i]);
  }
  CHECK(g.g.dominator[shared] == 0);
  CHECK(tree.first_child[g.snap.node_count()] == g.snap.node_count() - 1);  // all but the root
  const std::vector<NodeOrdinal> dominators = g.g.dominator;
  CHECK(DominatorsFromTree(g.snap, std::move(tree)) == dominators);
  CHECK(tree.children.empty());  // consumed
  // The summary leaves the dominator array as it found it, whether it frees it meanwhile and
  // reads it back (small graphs) or keeps it (large ones), and gives the same totals.
  SummaryBothWays(g, [&](const std::vector<ClassStats>&, const ClassTable&) { CHECK(g.g.dominator == dominators); });
}

TEST_CASE("the dominators pass runs `beside` on a second thread: the distances computed there match") {
  SnapshotBuilder b;
  uint32_t prev = 0;
  for (int i = 0; i < 500; ++i) {  // a chain with shortcuts back to the root's children
    const uint32_t n = b.Node("object", "Link", 16);
    b.Edge(prev, "property", "next", n);
    if (i % 7 == 3) b.Edge(n, "property", "back", 1);
    prev = n;
  }
  Built seq = Build(b);  // BuildGraph: the distances after the dominators on a graph this small
  Graph g;
  BuildEdgeIndex(seq.snap, g);
  bool ran = false;
  ComputeDominators(seq.snap, g, nullptr, [&] {
    ComputeDistances(seq.snap, g);
    ran = true;
  });
  CHECK(ran);
  CHECK(g.parent == seq.g.parent);
  CHECK(g.dominator == seq.g.dominator);
  for (NodeOrdinal o = 0; o < seq.snap.node_count(); ++o) CHECK(g.retained[o] == seq.g.retained[o]);
}

TEST_CASE("the semidominator search shared by two threads finds the dominators one thread does") {
  // Past 2^20 edges the pass has a second thread; the retainers of a node with many of them are
  // then scanned by both (SharedScan). Objects in a random tree, each also held by one of four
  // hidden classes (about 88,000 retainers each) and by one or two random neighbours.
  SnapshotBuilder b;
  std::vector<uint32_t> objects, maps;
  for (int i = 0; i < 4; ++i) {
    objects.push_back(b.Node("object", "Root", 8));
    b.Edge(0, "element", std::to_string(i + 1), objects.back());
  }
  for (int i = 0; i < 4; ++i) {
    maps.push_back(b.Node("hidden", "system / Map", 40));
    b.Edge(objects[static_cast<size_t>(i)], "internal", "map", maps.back());
  }
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&](uint64_t bound) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<size_t>(x % bound);
  };
  const size_t n = 350000;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t o = b.Node("object", "Obj", 16 + i % 7);
    b.Edge(objects[next(objects.size())], "property", "child", o);
    b.Edge(o, "internal", "map", maps[i % maps.size()]);
    objects.push_back(o);
  }
  for (size_t i = 4; i < objects.size(); ++i) {
    const size_t near = i < 1000 ? next(i + 1000) : i - 1000 + next(2000);
    b.Edge(objects[i], "property", "link", objects[std::min(near, objects.size() - 1)]);
    if (i % 3 == 0) b.Edge(objects[i], i % 6 == 0 ? "weak" : "property", "far", objects[next(objects.size())]);
  }
  Snapshot snap = b.Parse();
  REQUIRE(snap.edge_count() >= (1u << 20));
  Graph base;
  BuildEdgeIndex(snap, base);
  Graph alone = base;
  ComputeDominators(snap, alone, nullptr, {}, /*shared_min_retainers=*/UINT32_MAX);
  // Shared from the default size, and for every node with retainers: many short turns, where
  // the helper may wake for a job it has already helped with (a race this caught four runs in
  // ten, and is run three times for).
  for (uint32_t shared_min : {kSharedScanMinRetainers, 1u, 1u, 1u}) {
    CAPTURE(shared_min);
    Graph shared = base;
    ComputeDominators(snap, shared, nullptr, {}, shared_min);
    CHECK(shared.dominator == alone.dominator);
    size_t differ = 0;
    for (NodeOrdinal o = 0; o < snap.node_count(); ++o) differ += shared.retained[o] != alone.retained[o];
    CHECK(differ == 0);
  }
  // With the distances beside: the search is shared once they are done.
  Graph beside = base;
  ComputeDominators(snap, beside, nullptr, [&] { ComputeDistances(snap, beside); }, 1u);
  CHECK(beside.dominator == alone.dominator);
  CHECK(beside.retained[snap.root] == alone.retained[snap.root]);
  CHECK(alone.dominator[maps[0]] != maps[0]);
}

TEST_CASE("a deep chain does not overflow the stack (iterative passes)") {
  SnapshotBuilder b;
  uint32_t prev = 0;
  const int n = 300000;  // also more than one block of the BFS queue (2^18 nodes) goes through it
  for (int i = 0; i < n; ++i) {
    uint32_t cur = b.Node("object", "Link", 1);
    b.Edge(prev, prev == 0 ? "element" : "property", prev == 0 ? "1" : "next", cur);
    prev = cur;
  }
  Built g = Build(b);
  CHECK(g.g.retained[1] == static_cast<uint64_t>(n));
  CHECK(Distance(g.snap, g.g, prev) == static_cast<uint32_t>(n));
}

TEST_CASE("a BFS frontier wider than one block of the queue: every node gets its shortest parent") {
  SnapshotBuilder b;
  const uint32_t hub = b.Node("object", "Hub", 1), side = b.Node("object", "Side", 1);
  b.Edge(0, "element", "1", hub);
  b.Edge(0, "element", "2", side);
  // The frontier holds all the mids at once (two blocks of 2^18); each mid is reached through
  // the hub and leads to its own leaf, which only the mid's turn in the queue reaches.
  const int n = 265000;
  std::vector<uint32_t> mids, leaves;
  for (int i = 0; i < n; ++i) {
    mids.push_back(b.Node("object", "Mid", 1));
    leaves.push_back(b.Node("object", "Leaf", 1));
    b.Edge(hub, "element", std::to_string(i), mids.back());
    b.Edge(mids.back(), "property", "leaf", leaves.back());
  }
  // A longer way to every 1000th leaf, through Side and a Detour: the BFS must not take it.
  const uint32_t detour = b.Node("object", "Detour", 1), far = b.Node("object", "Far", 1);
  b.Edge(side, "property", "d", detour);
  b.Edge(detour, "property", "f", far);
  for (int i = 0; i < n; i += 1000) b.Edge(far, "element", std::to_string(i), leaves[i]);
  Built g = Build(b);
  for (int i = 0; i < n; ++i) {
    REQUIRE(g.g.parent[mids[i]] == hub);
    REQUIRE(g.g.parent[leaves[i]] == mids[i]);
  }
  CHECK(Distance(g.snap, g.g, leaves[n - 1]) == 3);
  CHECK(Distance(g.snap, g.g, far) == 3);
  CHECK(g.g.parent[g.snap.root] == kNoNode);
}

TEST_CASE("digest: retained sizes of 4 GiB and more, and 65535 entries or more, are kept exactly") {
  const uint64_t big = uint64_t{5} << 30;  // above what a u32 holds
  const uint32_t kEntries = 70000;           // above what a u16 holds
  const oomscope::heap::testing::LargeValues lv = oomscope::heap::testing::LargeValuesGraph(big, kEntries);
  Built x = Build(lv.b);
  REQUIRE(x.g.retained[lv.holder] == 16 + big + 32 + 8);
  DominatorTree tree = BuildDominatorTree(x.snap, x.g);
  ClassTable classes;
  std::vector<uint32_t> node_class;
  std::vector<ClassStats> stats = ComputeClassSummary(x.snap, x.g, tree, classes, &node_class);
  SnapshotDigest d = MakeDigest(x.snap, x.g, node_class, stats);
  REQUIRE(d.ids.size() == x.snap.node_count());
  DigestCursor c(d);
  auto find = [&](uint32_t id) {  // position of id, which must be listed
    const size_t p = c.Seek(0, id);
    REQUIRE(p < c.size());
    REQUIRE(c.id(p) == id);
    return p;
  };
  const EntryCounter entry_count(x.snap);
  for (NodeOrdinal o = 0; o < x.snap.node_count(); ++o) {
    const size_t p = find(x.snap.node_id[o]);
    CHECK(c.retained(p) == x.g.retained[o]);
    CHECK(c.entries(p) == entry_count(o));
  }
  CHECK(c.retained(find(11)) == 16 + big + 32 + 8);
  CHECK(c.retained(find(13)) == big);
  CHECK(c.entries(find(15)) == kEntries);
  CHECK(c.entries(find(17)) == 0);
}

TEST_CASE("OrdinalsById: ascending ids over all 32 bits, equal ids in node order") {
  SnapshotBuilder b;  // node 0, the root, has id 1
  const std::vector<uint32_t> ids = {4000000001u, 7, 2049, 4000000001u, 1u << 22, 3, 0xFFFFFFFFu, 2047, 2};
  for (uint32_t id : ids) {
    uint32_t o = b.Node("object", "X", 1, id);
    b.Edge(0, "element", std::to_string(o), o);
  }
  Snapshot snap = b.Parse();
  std::vector<NodeOrdinal> order = OrdinalsById(snap);
  REQUIRE(order.size() == snap.node_count());
  std::vector<NodeOrdinal> expected(snap.node_count());
  std::iota(expected.begin(), expected.end(), 0);
  std::stable_sort(expected.begin(), expected.end(),
                   [&](NodeOrdinal x, NodeOrdinal y) { return snap.node_id[x] < snap.node_id[y]; });
  CHECK(order == expected);
  CHECK(snap.node_id[order.front()] == 1);
  CHECK(snap.node_id[order.back()] == 0xFFFFFFFFu);
  CHECK(order[order.size() - 3] == 1);  // the two 4000000001s, the first-listed first
  CHECK(order[order.size() - 2] == 4);
}

TEST_CASE("OrdinalsById: large snapshots, sorted on two threads, give the same stable order") {
  // Past 2^20 nodes each radix pass counts and moves two halves on two threads.
  Snapshot snap;
  const uint32_t n = (1u << 20) + 12345;
  snap.node_type.assign(n, NodeType::kObject);
  snap.node_id.resize(n);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (uint32_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // Every digit in use, and many equal ids (a few high ones, and small ones that repeat).
    snap.node_id[i] = i % 5 == 0 ? static_cast<uint32_t>(x % 1000) : static_cast<uint32_t>(x >> 32);
  }
  snap.node_id[n / 2] = snap.node_id[n / 2 - 1] = snap.node_id[n - 1] = 0xFFFFFFFFu;  // across the halves
  std::vector<NodeOrdinal> expected(n);
  std::iota(expected.begin(), expected.end(), 0);
  std::stable_sort(expected.begin(), expected.end(),
                   [&](NodeOrdinal a, NodeOrdinal b) { return snap.node_id[a] < snap.node_id[b]; });
  CHECK(OrdinalsById(snap) == expected);
  // Ids that differ in some digits only: a pass with a single digit is skipped, and the pass
  // after it counts its own digits (the skipped pass's move would have). The low, middle and
  // high 11-bit digits, in turn, stay the same for all.
  auto check_with_ids = [&](auto&& id_of) {
    x = 0x9E3779B97F4A7C15ull;
    for (uint32_t i = 0; i < n; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      snap.node_id[i] = id_of(i, static_cast<uint32_t>(x >> 32));
    }
    std::iota(expected.begin(), expected.end(), 0);
    std::stable_sort(expected.begin(), expected.end(),
                     [&](NodeOrdinal a, NodeOrdinal b) { return snap.node_id[a] < snap.node_id[b]; });
    CHECK(OrdinalsById(snap) == expected);
  };
  check_with_ids([&](uint32_t i, uint32_t) { return 0x7F000000u | (n - i) % 2048; });
  check_with_ids([](uint32_t, uint32_t r) { return (r & 0xFFFFF800u) | 0x5Au; });
  check_with_ids([](uint32_t, uint32_t r) { return (r & 0xFFC007FFu) | (0x155u << 11); });
  check_with_ids([](uint32_t, uint32_t r) { return r >> 10; });
  check_with_ids([](uint32_t i, uint32_t r) { return i % 3 == 0 ? r % 97 : r; });
}
