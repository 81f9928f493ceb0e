#pragma once

// Builds small heap snapshots in code, as V8 would write them (JSON text with Node 20's meta
// layout), so tests go through the real parser and can be checked by hand.

#include <cstdint>
#include <string>
#include <vector>

#include "oomscope/heap/graph.h"
#include "oomscope/heap/snapshot.h"

namespace oomscope::heap::testing {

// Whether two graphs of `snap` agree on the essential edges, the dominators and the retained
// sizes: BuildGraph's result with the page rule applied before the dominators pass and during it.
bool SameDominance(const Snapshot& snap, const Graph& a, const Graph& b);

class SnapshotBuilder {
 public:
  // Node 0 is the synthetic root; returns its ordinal.
  SnapshotBuilder();
  // Returns the new node's ordinal. `type` is a V8 node type name ("object", "synthetic", ...).
  uint32_t Node(const std::string& type, const std::string& name, uint64_t self_size,
                uint32_t id = 0);
  // `type` is a V8 edge type name; `name` is a property name, or a number for element/hidden.
  void Edge(uint32_t from, const std::string& type, const std::string& name, uint32_t to);
  // The snapshot's JSON text; `node_fields_reversed` writes the node fields in another order.
  std::string Json(bool node_fields_reversed = false) const;
  Snapshot Parse(bool node_fields_reversed = false) const;

 private:
  struct N {
    std::string type, name;
    uint64_t size;
    uint32_t id;
  };
  struct E {
    uint32_t from;
    std::string type, name;
    uint32_t to;
  };
  std::vector<N> nodes_;
  std::vector<E> edges_;
};

// A graph whose values outgrow a digest's narrow columns: Holder (id 11) retains Blob (id 13,
// self size `big`) and List (id 15), an array of `entries` elements, all Item (id 17).
struct LargeValues {
  SnapshotBuilder b;
  uint32_t holder, blob, list, item;
};
LargeValues LargeValuesGraph(uint64_t big, uint32_t entries);

}  // namespace oomscope::heap::testing
