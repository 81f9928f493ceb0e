#include "graph_builder.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "oomscope/heap/parser.h"

namespace oomscope::heap::testing {

namespace {
const std::vector<std::string> kNodeTypes = {
    "hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native",
    "synthetic", "concatenated string", "sliced string", "symbol", "bigint", "object shape"};
const std::vector<std::string> kEdgeTypes = {"context", "element", "property", "internal",
                                             "hidden", "shortcut", "weak"};
size_t IndexOf(const std::vector<std::string>& v, const std::string& s) {
  auto it = std::find(v.begin(), v.end(), s);
  if (it == v.end()) throw std::invalid_argument("unknown type " + s);
  return static_cast<size_t>(it - v.begin());
}
}  // namespace

SnapshotBuilder::SnapshotBuilder() { Node("synthetic", "", 0, 1); }

uint32_t SnapshotBuilder::Node(const std::string& type, const std::string& name, uint64_t self_size,
                               uint32_t id) {
  uint32_t ord = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({type, name, self_size, id ? id : 2 * ord + 1});
  return ord;
}

void SnapshotBuilder::Edge(uint32_t from, const std::string& type, const std::string& name, uint32_t to) {
  edges_.push_back({from, type, name, to});
}

std::string SnapshotBuilder::Json(bool reversed) const {
  using json = nlohmann::ordered_json;
  std::vector<std::string> strings;
  std::map<std::string, size_t> ids;
  auto str = [&](const std::string& s) {
    auto [it, ins] = ids.try_emplace(s, strings.size());
    if (ins) strings.push_back(s);
    return it->second;
  };
  std::vector<std::string> fields = {"type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"};
  if (reversed) std::reverse(fields.begin(), fields.end());
  json types = json::array();
  for (const auto& f : fields) {
    if (f == "type") types.push_back(kNodeTypes);
    else if (f == "name") types.push_back("string");
    else types.push_back("number");
  }
  std::vector<E> edges = edges_;
  std::stable_sort(edges.begin(), edges.end(), [](const E& a, const E& b) { return a.from < b.from; });
  std::vector<uint64_t> edge_counts(nodes_.size(), 0);
  for (const E& e : edges) ++edge_counts[e.from];
  json nodes = json::array();
  for (uint32_t o = 0; o < nodes_.size(); ++o) {
    const N& n = nodes_[o];
    uint64_t ec = edge_counts[o];
    for (const auto& f : fields) {
      if (f == "type") nodes.push_back(IndexOf(kNodeTypes, n.type));
      else if (f == "name") nodes.push_back(str(n.name));
      else if (f == "id") nodes.push_back(n.id);
      else if (f == "self_size") nodes.push_back(n.size);
      else if (f == "edge_count") nodes.push_back(ec);
      else nodes.push_back(0);
    }
  }
  json ejs = json::array();
  for (const E& e : edges) {
    ejs.push_back(IndexOf(kEdgeTypes, e.type));
    if (e.type == "element" || e.type == "hidden") ejs.push_back(std::stoul(e.name));
    else ejs.push_back(str(e.name));
    ejs.push_back(e.to * fields.size());
  }
  json j;
  j["snapshot"] = {{"meta",
                    {{"node_fields", fields},
                     {"node_types", types},
                     {"edge_fields", {"type", "name_or_index", "to_node"}},
                     {"edge_types", {kEdgeTypes, "string_or_number", "node"}},
                     {"location_fields", {"object_index", "script_id", "line", "column"}}}},
                   {"node_count", nodes_.size()},
                   {"edge_count", edges.size()},
                   {"trace_function_count", 0}};
  j["nodes"] = nodes;
  j["edges"] = ejs;
  j["locations"] = json::array();
  j["strings"] = strings;
  return j.dump();
}

Snapshot SnapshotBuilder::Parse(bool reversed) const {
  std::istringstream in(Json(reversed));
  auto src = MakeStreamSource(in, "builder");
  Result<Snapshot> r = ParseSnapshot(*src);
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

LargeValues LargeValuesGraph(uint64_t big, uint32_t entries) {
  LargeValues g;
  g.holder = g.b.Node("object", "Holder", 16, 11);
  g.blob = g.b.Node("native", "Blob", big, 13);
  g.list = g.b.Node("object", "List", 32, 15);
  g.item = g.b.Node("object", "Item", 8, 17);
  g.b.Edge(0, "element", "1", g.holder);
  g.b.Edge(g.holder, "property", "blob", g.blob);
  g.b.Edge(g.holder, "property", "list", g.list);
  for (uint32_t i = 0; i < entries; ++i) g.b.Edge(g.list, "element", std::to_string(i), g.item);
  return g;
}

bool SameDominance(const Snapshot& snap, const Graph& a, const Graph& b) {
  if (a.essential != b.essential || a.dominator != b.dominator) return false;
  for (NodeOrdinal o = 0; o < snap.node_count(); ++o)
    if (a.retained[o] != b.retained[o]) return false;
  return true;
}

}  // namespace oomscope::heap::testing
