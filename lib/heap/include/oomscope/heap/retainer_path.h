#pragma once

#include <string>
#include <vector>

#include "oomscope/heap/graph.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// One hop of a retainer path: the edge taken (from the previous step's node) and the node
// reached. Names come from the snapshot and are not trusted: renderers escape them.
struct PathStep {
  std::string edge;  // property or variable name, "[12]" for elements, internal names as V8 wrote them
  EdgeType edge_type = EdgeType::kInternal;
  std::string node_class;
  std::string node_name;  // truncated to a readable length
  uint32_t node_id = 0;
  NodeType node_type = NodeType::kObject;
};

struct RetainerPath {
  std::vector<PathStep> steps;  // from the first node below the root to the target, in order
  // For a person: "(GC roots) → … → Module "…/validators/name.js" → exports →
  // supportedExtensions (Array)".
  std::string text;
  // The same with element indices collapsed ("[*]"): equal for siblings in one collection, so
  // it clusters leaked objects and gives suspects a stable id.
  std::string key;
};

// The shortest path of retaining (essential) edges from the root to `target`, preferring on ties
// the edges a developer wrote (properties, closure variables) over V8 internals. Empty steps
// when the target is not reachable from the root.
RetainerPath FindRetainerPath(const Snapshot& snap, const Graph& g, NodeOrdinal target);

// The node's readable name for reports: strings quoted and truncated, others as-is.
std::string DisplayName(const Snapshot& snap, NodeOrdinal n, size_t max_len = 80);

// For a CommonJS `Module` object: its file name ("/app/validators/name.js"), or "".
std::string ModuleFileName(const Snapshot& snap, NodeOrdinal n);

}  // namespace oomscope::heap
