#pragma once

#include <string>
#include <string_view>

#include "oomscope/heap/graph.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap {

// A flyweight over one node: reads the flat arrays, owns nothing. Cheap to copy.
class NodeView {
 public:
  NodeView(const Snapshot& s, const Graph* g, NodeOrdinal o) : s_(&s), g_(g), o_(o) {}

  NodeOrdinal ordinal() const { return o_; }
  NodeType type() const { return s_->node_type[o_]; }
  std::string_view name() const { return s_->name(o_); }
  uint32_t id() const { return s_->node_id[o_]; }
  uint64_t self_size() const { return s_->self_size(o_); }
  // Preconditions for the graph accessors: constructed with a Graph.
  uint64_t retained_size() const { return g_->retained[o_]; }
  uint32_t distance() const { return Distance(*s_, *g_, o_); }  // walks the BFS parents
  NodeOrdinal dominator() const { return g_->dominator[o_]; }
  EdgeOrdinal edges_begin() const { return s_->first_edge[o_]; }
  EdgeOrdinal edges_end() const { return s_->first_edge[o_ + 1]; }
  uint32_t edge_count() const { return edges_end() - edges_begin(); }
  bool is_root() const { return o_ == s_->root; }

 private:
  const Snapshot* s_;
  const Graph* g_;
  NodeOrdinal o_;
};

}  // namespace oomscope::heap
