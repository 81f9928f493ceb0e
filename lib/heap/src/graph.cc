#include "oomscope/heap/graph.h"

#include "oomscope/heap/passes.h"

namespace oomscope::heap {

Graph BuildGraph(const Snapshot& snap, Progress* progress) {
  Graph g;
  if (progress) progress->Begin("edge index", 3);
  BuildFlags(snap, g);
  if (progress) progress->Advance(1);
  BuildEssentialEdges(snap, g);
  if (progress) progress->Advance(2);
  BuildRetainers(snap, g);
  if (progress) progress->End();
  ComputeDominators(snap, g, progress);
  if (progress) progress->Begin("distances", 0);
  ComputeDistances(snap, g);
  if (progress) progress->End();
  return g;
}

}  // namespace oomscope::heap
