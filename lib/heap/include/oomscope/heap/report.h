#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oomscope/heap/retainer_path.h"

namespace oomscope::heap {

// The analysis result: what docs/report-schema.md documents. Plain data; renderers below.
inline constexpr const char* kReportSchema = "oomscope.report/v1";

struct SnapshotInfo {
  std::string source;                 // file name or upload id
  std::optional<double> captured_at;  // unix seconds
  uint64_t file_bytes = 0;
  uint64_t node_count = 0, edge_count = 0;
  uint64_t total_size = 0;  // sum of self sizes: the heap the snapshot describes
};

struct ClassRow {
  std::string name;
  uint64_t count = 0, self_size = 0, retained_size = 0;
};

struct ClassDiffRow {
  std::string name;
  uint64_t count_before = 0, count_after = 0, self_before = 0, self_after = 0;
  uint64_t new_count = 0, deleted_count = 0, alloc_size = 0, freed_size = 0;
};

struct ObjectRow {
  uint32_t id = 0;
  std::string class_name, name;
  uint64_t self_size = 0, retained_size = 0;
  std::string path;  // RetainerPath::text
};

struct SuspectSample {
  uint32_t id = 0;
  std::string class_name, name;
  uint64_t self_size = 0, retained_size = 0;
};

struct Suspect {
  std::string id;    // stable across re-analysis: a hash of the owner's path with indices collapsed
  std::string kind;  // growing-array | growing-map | growing-set | growing-object | growing-listeners |
                     // growing-closure-context | growing-string | growing-timers | growing-retained
  int rank = 0;
  uint32_t owner_id = 0;  // V8 object id in the last snapshot
  std::string owner_class, owner_name, held_under;
  RetainerPath path;
  std::vector<std::optional<uint64_t>> retained_by_snapshot;  // nullopt: absent there
  std::vector<std::optional<uint64_t>> entries_by_snapshot;
  double growth_bytes_per_snapshot = 0;
  std::optional<double> growth_bytes_per_hour;
  uint64_t leaked_objects = 0;  // accumulated objects (or entries added) across the series
  uint64_t leaked_bytes = 0;    // retained by those objects in the last snapshot
  std::vector<SuspectSample> samples;
  double confidence = 0;  // 0..1
  std::vector<std::string> evidence;
};

struct Report {
  std::string schema = kReportSchema;
  std::string generator;  // "oomscope 0.1.0"
  std::vector<SnapshotInfo> snapshots;
  bool series = false;        // two or more snapshots
  bool same_process = true;   // object ids line up across the series
  std::string id_alignment;   // how that was judged
  std::vector<ClassRow> classes;       // last snapshot, top N by retained size
  std::vector<ObjectRow> largest;      // last snapshot, top N objects by retained size
  std::vector<ClassDiffRow> class_diff;  // first vs last
  std::vector<Suspect> suspects;       // ranked
  std::vector<std::string> notes;      // what a reader should know (degraded analysis, skipped parts)
};

nlohmann::json ReportToJson(const Report& r);
// Inverse of ReportToJson, for stored reports. Throws nothing; returns false on a bad document.
bool ReportFromJson(const nlohmann::json& j, Report* out);
std::string RenderText(const Report& r, size_t top, bool color);
std::string RenderHtml(const Report& r);

}  // namespace oomscope::heap
