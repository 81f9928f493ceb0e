#include <nlohmann/json.hpp>

#include "oomscope/heap/report.h"

namespace oomscope::heap {

using json = nlohmann::ordered_json;

namespace {

json OptU64(const std::optional<uint64_t>& v) { return v ? json(*v) : json(nullptr); }

json PathJson(const RetainerPath& p) {
  json steps = json::array();
  for (const PathStep& s : p.steps) {
    steps.push_back({{"edge", s.edge},
                     {"edge_type", std::string(EdgeTypeName(s.edge_type))},
                     {"node_class", s.node_class},
                     {"node_name", s.node_name},
                     {"node_id", s.node_id},
                     {"node_type", std::string(NodeTypeName(s.node_type))}});
  }
  return {{"text", p.text}, {"key", p.key}, {"steps", steps}};
}

}  // namespace

nlohmann::json ReportToJson(const Report& r) {
  json j;
  j["schema"] = r.schema;
  j["generator"] = r.generator;
  json snaps = json::array();
  for (const auto& s : r.snapshots) {
    snaps.push_back({{"source", s.source},
                     {"captured_at", s.captured_at ? json(*s.captured_at) : json(nullptr)},
                     {"file_bytes", s.file_bytes},
                     {"node_count", s.node_count},
                     {"edge_count", s.edge_count},
                     {"total_size", s.total_size}});
  }
  j["snapshots"] = snaps;
  j["series"] = r.series;
  j["same_process"] = r.same_process;
  j["id_alignment"] = r.id_alignment;
  json suspects = json::array();
  for (const auto& x : r.suspects) {
    json retained = json::array(), entries = json::array(), samples = json::array();
    for (const auto& v : x.retained_by_snapshot) retained.push_back(OptU64(v));
    for (const auto& v : x.entries_by_snapshot) entries.push_back(OptU64(v));
    for (const auto& s : x.samples) {
      samples.push_back({{"id", s.id},
                         {"class", s.class_name},
                         {"name", s.name},
                         {"self_size", s.self_size},
                         {"retained_size", s.retained_size}});
    }
    suspects.push_back({{"id", x.id},
                        {"rank", x.rank},
                        {"kind", x.kind},
                        {"owner",
                         {{"id", x.owner_id},
                          {"class", x.owner_class},
                          {"name", x.owner_name},
                          {"held_under", x.held_under}}},
                        {"path", PathJson(x.path)},
                        {"retained_by_snapshot", retained},
                        {"entries_by_snapshot", entries},
                        {"growth_bytes_per_snapshot", x.growth_bytes_per_snapshot},
                        {"growth_bytes_per_hour", x.growth_bytes_per_hour
                                                      ? json(*x.growth_bytes_per_hour)
                                                      : json(nullptr)},
                        {"leaked_objects", x.leaked_objects},
                        {"leaked_bytes", x.leaked_bytes},
                        {"samples", samples},
                        {"confidence", x.confidence},
                        {"evidence", x.evidence}});
  }
  j["suspects"] = suspects;
  json classes = json::array();
  for (const auto& c : r.classes) {
    classes.push_back({{"name", c.name},
                       {"count", c.count},
                       {"self_size", c.self_size},
                       {"retained_size", c.retained_size}});
  }
  j["classes"] = classes;
  json largest = json::array();
  for (const auto& o : r.largest) {
    largest.push_back({{"id", o.id},
                       {"class", o.class_name},
                       {"name", o.name},
                       {"self_size", o.self_size},
                       {"retained_size", o.retained_size},
                       {"path", o.path}});
  }
  j["largest"] = largest;
  json diff = json::array();
  for (const auto& d : r.class_diff) {
    diff.push_back({{"name", d.name},
                    {"count_before", d.count_before},
                    {"count_after", d.count_after},
                    {"self_before", d.self_before},
                    {"self_after", d.self_after},
                    {"new_count", d.new_count},
                    {"deleted_count", d.deleted_count},
                    {"alloc_size", d.alloc_size},
                    {"freed_size", d.freed_size}});
  }
  j["class_diff"] = diff;
  j["notes"] = r.notes;
  return nlohmann::json(j);
}

bool ReportFromJson(const nlohmann::json& j, Report* out) {
  if (!j.is_object() || j.value("schema", "") != kReportSchema) return false;
  try {
    Report r;
    r.generator = j.value("generator", "");
    for (const auto& s : j.at("snapshots")) {
      SnapshotInfo i;
      i.source = s.value("source", "");
      if (s.contains("captured_at") && s["captured_at"].is_number())
        i.captured_at = s["captured_at"].get<double>();
      i.file_bytes = s.value("file_bytes", uint64_t{0});
      i.node_count = s.value("node_count", uint64_t{0});
      i.edge_count = s.value("edge_count", uint64_t{0});
      i.total_size = s.value("total_size", uint64_t{0});
      r.snapshots.push_back(std::move(i));
    }
    r.series = j.value("series", false);
    r.same_process = j.value("same_process", true);
    r.id_alignment = j.value("id_alignment", "");
    auto opt = [](const nlohmann::json& v) {
      return v.is_number() ? std::optional<uint64_t>(v.get<uint64_t>()) : std::nullopt;
    };
    for (const auto& x : j.at("suspects")) {
      Suspect s;
      s.id = x.value("id", "");
      s.rank = x.value("rank", 0);
      s.kind = x.value("kind", "");
      const auto& o = x.at("owner");
      s.owner_id = o.value("id", 0u);
      s.owner_class = o.value("class", "");
      s.owner_name = o.value("name", "");
      s.held_under = o.value("held_under", "");
      s.path.text = x.at("path").value("text", "");
      s.path.key = x.at("path").value("key", "");
      for (const auto& st : x.at("path").at("steps")) {
        PathStep p;
        p.edge = st.value("edge", "");
        p.edge_type = EdgeTypeFromName(st.value("edge_type", ""));
        p.node_type = NodeTypeFromName(st.value("node_type", ""));
        p.node_class = st.value("node_class", "");
        p.node_name = st.value("node_name", "");
        p.node_id = st.value("node_id", 0u);
        s.path.steps.push_back(std::move(p));
      }
      for (const auto& v : x.at("retained_by_snapshot")) s.retained_by_snapshot.push_back(opt(v));
      for (const auto& v : x.at("entries_by_snapshot")) s.entries_by_snapshot.push_back(opt(v));
      s.growth_bytes_per_snapshot = x.value("growth_bytes_per_snapshot", 0.0);
      if (x.contains("growth_bytes_per_hour") && x["growth_bytes_per_hour"].is_number())
        s.growth_bytes_per_hour = x["growth_bytes_per_hour"].get<double>();
      s.leaked_objects = x.value("leaked_objects", uint64_t{0});
      s.leaked_bytes = x.value("leaked_bytes", uint64_t{0});
      for (const auto& sm : x.at("samples")) {
        s.samples.push_back({sm.value("id", 0u), sm.value("class", ""), sm.value("name", ""),
                             sm.value("self_size", uint64_t{0}), sm.value("retained_size", uint64_t{0})});
      }
      s.confidence = x.value("confidence", 0.0);
      for (const auto& e : x.at("evidence")) s.evidence.push_back(e.get<std::string>());
      r.suspects.push_back(std::move(s));
    }
    for (const auto& c : j.at("classes")) {
      r.classes.push_back({c.value("name", ""), c.value("count", uint64_t{0}),
                           c.value("self_size", uint64_t{0}), c.value("retained_size", uint64_t{0})});
    }
    for (const auto& o : j.at("largest")) {
      r.largest.push_back({o.value("id", 0u), o.value("class", ""), o.value("name", ""),
                           o.value("self_size", uint64_t{0}), o.value("retained_size", uint64_t{0}),
                           o.value("path", "")});
    }
    for (const auto& d : j.at("class_diff")) {
      r.class_diff.push_back({d.value("name", ""), d.value("count_before", uint64_t{0}),
                              d.value("count_after", uint64_t{0}), d.value("self_before", uint64_t{0}),
                              d.value("self_after", uint64_t{0}), d.value("new_count", uint64_t{0}),
                              d.value("deleted_count", uint64_t{0}), d.value("alloc_size", uint64_t{0}),
                              d.value("freed_size", uint64_t{0})});
    }
    for (const auto& n : j.at("notes")) r.notes.push_back(n.get<std::string>());
    *out = std::move(r);
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace oomscope::heap
