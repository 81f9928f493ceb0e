// Times the heap engine's passes one by one on a real snapshot, each run several times over
// the same parsed input, and prints the fastest and the median run of each. For work on one
// pass: on a shared, noisy machine the whole `oomscope analyze` varies by a third from run to
// run, which hides a change of a tenth in one pass.
//
//   build/release/bench/passes/heap_passes FILE [RUNS [PASS...]]
//
// With PASS names (as printed, e.g. dominators), only those are timed; the others run once, for
// what the timed ones read.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "oomscope/common/allocator.h"
#include "oomscope/heap/class_summary.h"
#include "oomscope/heap/digest.h"
#include "oomscope/heap/parser.h"
#include "oomscope/heap/passes.h"

namespace {

using oomscope::heap::Graph;
using oomscope::heap::Snapshot;

std::vector<std::string> g_only;  // the passes to time; all when empty

// Runs `setup` then `pass` `runs` times; only `pass` is timed. A pass not asked for runs once,
// unreported.
void Time(const char* name, int runs, const std::function<void()>& setup, const std::function<void()>& pass) {
  const bool shown = g_only.empty() || std::find(g_only.begin(), g_only.end(), name) != g_only.end();
  if (!shown) runs = 1;
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    setup();
    const auto t0 = std::chrono::steady_clock::now();
    pass();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  if (!shown) return;
  std::sort(ms.begin(), ms.end());
  std::printf("%-16s min %8.1f ms   median %8.1f ms   (%d runs)\n", name, ms.front(), ms[ms.size() / 2], runs);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SNAPSHOT [RUNS [PASS...]]\n", argv[0]);
    return 2;
  }
  oomscope::TuneAllocator();
  oomscope::UseBlockArena(true);
  oomscope::ChooseHugePages();  // as the CLI
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  for (int i = 3; i < argc; ++i) g_only.emplace_back(argv[i]);
  Snapshot snap;
  Time("parse", std::max(1, runs / 2), [] {}, [&] {
    auto parsed = oomscope::heap::ParseSnapshotFile(argv[1]);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
      std::exit(2);
    }
    snap = std::move(parsed.value());
  });
  std::printf("%u nodes, %u edges\n", snap.node_count(), snap.edge_count());

  Time("ordinals by id", runs, [] {}, [&] { (void)oomscope::heap::OrdinalsById(snap); });

  Graph g;
  Time("flags", runs, [&] { g = Graph{}; }, [&] { oomscope::heap::BuildFlags(snap, g); });
  Time("essential", runs, [&] { g.essential.clear(); }, [&] { oomscope::heap::BuildEssentialEdges(snap, g); });
  Time("edge index", runs, [&] { g = Graph{}; }, [&] { oomscope::heap::BuildEdgeIndex(snap, g); });
  Graph base = g;
  Time("dominators", runs, [&] { g = base; }, [&] { oomscope::heap::ComputeDominators(snap, g, nullptr); });
  Time("distances", runs, [&] { g.parent.clear(); },
       [&] { oomscope::heap::ComputeDistances(snap, g); });
  Time("dominator tree", runs, [] {}, [&] { (void)oomscope::heap::BuildDominatorTree(snap, g); });
  Time("entry counts", runs, [] {}, [&] {
    uint64_t sum = 0;
    const oomscope::heap::EntryCounter count(snap);
    for (oomscope::heap::NodeOrdinal o = 0; o < snap.node_count(); ++o) sum += count(o);
    if (sum == 1) std::printf("-");
  });
  Time("node classes", runs, [] {}, [&] {
    oomscope::heap::ClassTable classes;
    (void)oomscope::heap::NodeClasses(snap, classes);
  });
  Time("class summary", runs, [] {}, [&] {
    oomscope::heap::ClassTable classes;
    std::vector<uint32_t> node_class;
    oomscope::heap::ComputeClassSummary(snap, g, oomscope::heap::BuildDominatorTree(snap, g), classes, &node_class);
  });
  Time("summary+distances", runs, [] {}, [&] {
    oomscope::heap::ClassTable classes;
    std::vector<uint32_t> node_class;
    oomscope::heap::ComputeClassSummaryAndDistances(snap, g, classes, &node_class);
  });
  return 0;
}
