#include "oomscope/heap/graph.h"

#include "oomscope/heap/passes.h"

namespace oomscope::heap {

Graph BuildGraph(const Snapshot& snap, Progress* progress) {
  Graph g;
  if (progress) progress->Begin("edge index", 2);
  BuildFlags(snap, g);
  if (progress) progress->Advance(1);
  BuildEssentialEdges(snap, g);
  if (progress) progress->End();
  // The retainers are built inside ComputeDominators, by DFS number, after its DFS.
  ComputeDominators(snap, g, progress);
  if (progress) progress->Begin("distances", 0);
  ComputeDistances(snap, g);
  if (progress) progress->End();
  return g;
}

}  // namespace oomscope::heap
