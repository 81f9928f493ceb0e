#include "oomscope/heap/retainer_path.h"

#include <algorithm>

#include "oomscope/heap/class_summary.h"

namespace oomscope::heap {
namespace {

constexpr std::string_view kArrow = " \xE2\x86\x92 ";  // " → "
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…"

bool IsUserEdge(EdgeType t) {
  return t == EdgeType::kProperty || t == EdgeType::kContext || t == EdgeType::kElement;
}

std::string EdgeLabel(const Snapshot& snap, EdgeOrdinal e) {
  EdgeType t = snap.edge_type[e];
  if (t == EdgeType::kElement) return "[" + std::to_string(snap.edge_name[e]) + "]";
  if (t == EdgeType::kHidden) return "<hidden " + std::to_string(snap.edge_name[e]) + ">";
  return std::string(snap.edge_name_string(e));
}

// Truncates at a UTF-8 boundary.
std::string Truncate(std::string_view s, size_t max_len) {
  if (s.size() <= max_len) return std::string(s);
  size_t cut = max_len;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + std::string(kEllipsis);
}

// The last two components of a path: "/app/src/validators/name.js" -> "…/validators/name.js".
std::string ShortFileName(std::string_view path) {
  size_t last = path.rfind('/');
  if (last == std::string_view::npos || last == 0) return std::string(path);
  size_t prev = path.rfind('/', last - 1);
  if (prev == std::string_view::npos || prev == 0) return std::string(path);
  return std::string(kEllipsis) + std::string(path.substr(prev));
}

bool IsModule(const Snapshot& snap, NodeOrdinal n) {
  return snap.node_type[n] == NodeType::kObject && snap.name(n) == "Module";
}

}  // namespace

std::string DisplayName(const Snapshot& snap, NodeOrdinal n, size_t max_len) {
  NodeType t = snap.node_type[n];
  std::string_view name = snap.name(n);
  if (t == NodeType::kString || t == NodeType::kSlicedString) {
    return "\"" + Truncate(name, max_len) + "\"";
  }
  return Truncate(name, max_len);
}

std::string ModuleFileName(const Snapshot& snap, NodeOrdinal n) {
  if (!IsModule(snap, n)) return "";
  std::string id;
  for (EdgeOrdinal e = snap.first_edge[n]; e < snap.first_edge[n + 1]; ++e) {
    if (snap.edge_type[e] != EdgeType::kProperty) continue;
    std::string_view k = snap.edge_name_string(e);
    NodeOrdinal to = snap.edge_to[e];
    if (snap.node_type[to] != NodeType::kString) continue;
    if (k == "filename") return std::string(snap.name(to));
    if (k == "id") id = std::string(snap.name(to));
  }
  return id;
}

RetainerPath FindRetainerPath(const Snapshot& snap, const Graph& g, NodeOrdinal target) {
  RetainerPath path;
  if (target == snap.root || g.parent[target] == kNoNode) return path;
  // Walk back along the BFS parents; for each hop take the owner's best edge to the node:
  // one a developer wrote (property, variable, element) over a V8 internal.
  std::vector<std::pair<NodeOrdinal, EdgeOrdinal>> hops;  // (owner, edge) into the next node
  NodeOrdinal cur = target;
  while (cur != snap.root) {
    NodeOrdinal owner = g.parent[cur];
    if (owner == kNoNode) return RetainerPath{};  // cannot happen for a reachable node
    EdgeOrdinal best_edge = 0;
    int best_score = -1;
    for (EdgeOrdinal e = snap.first_edge[owner]; e < snap.first_edge[owner + 1]; ++e) {
      if (snap.edge_to[e] != cur || !g.IsEssential(e)) continue;
      int score = IsUserEdge(snap.edge_type[e]) ? 1 : 0;
      if (score > best_score) {
        best_score = score;
        best_edge = e;
      }
    }
    if (best_score < 0) return RetainerPath{};
    hops.emplace_back(owner, best_edge);
    cur = owner;
  }
  std::reverse(hops.begin(), hops.end());
  for (const auto& [owner, e] : hops) {
    NodeOrdinal to = snap.edge_to[e];
    PathStep s;
    s.edge = EdgeLabel(snap, e);
    s.edge_type = snap.edge_type[e];
    s.node_class = ClassName(snap, to);
    s.node_name = DisplayName(snap, to);
    s.node_id = snap.node_id[to];
    s.node_type = snap.node_type[to];
    path.steps.push_back(std::move(s));
  }
  // Render: developer-written names stay, V8 internals fold into "…".
  std::vector<std::string> tokens, keys;
  auto push = [&](std::string tok, std::string key) {
    if (tok == kEllipsis && !tokens.empty() && tokens.back() == kEllipsis) return;
    tokens.push_back(std::move(tok));
    keys.push_back(std::move(key));
  };
  for (size_t i = 0; i < hops.size(); ++i) {
    const auto& [owner, e] = hops[i];
    NodeOrdinal to = snap.edge_to[e];
    const PathStep& s = path.steps[i];
    bool last = i + 1 == hops.size();
    if (i == 0) {
      // The first node below the root: "(GC roots)", or a global object ("global").
      std::string first = std::string(snap.name(to));
      if (first.empty()) first = s.node_class;
      if (!last) {
        push(first, first);
        continue;
      }
    }
    if (IsModule(snap, to) && !last) {
      std::string file = ModuleFileName(snap, to);
      std::string tok = file.empty() ? "Module" : "Module \"" + ShortFileName(file) + "\"";
      push(tok, tok);
      continue;
    }
    std::string tok, key;
    switch (s.edge_type) {
      case EdgeType::kProperty:
      case EdgeType::kContext:
      case EdgeType::kShortcut:
        tok = key = Truncate(s.edge, 60);
        break;
      case EdgeType::kElement:
        tok = s.edge;
        key = "[*]";
        break;
      default:
        if (s.edge == "context") {
          tok = key = "(closure scope)";
        } else {
          tok = key = std::string(kEllipsis);
        }
    }
    if (last) {
      if (tok == kEllipsis) tok = key = "";
      std::string cls = " (" + s.node_class + ")";
      tok = tok.empty() ? s.node_class : tok + cls;
      key = key.empty() ? s.node_class : key + cls;
    }
    push(std::move(tok), std::move(key));
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) {
      path.text += kArrow;
      path.key += kArrow;
    }
    path.text += tokens[i];
    path.key += keys[i];
  }
  return path;
}

}  // namespace oomscope::heap
