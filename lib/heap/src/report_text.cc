#include <cstdio>

#include "oomscope/common/format.h"
#include "oomscope/heap/report.h"

namespace oomscope::heap {
namespace {

// Names from a snapshot may hold control characters (terminal escapes).
std::string Clean(const std::string& s) { return EscapeControlChars(s); }

std::string Pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

std::string RPad(std::string s, size_t w) {
  if (s.size() < w) s.insert(0, w - s.size(), ' ');
  return s;
}

std::string OptBytes(const std::optional<uint64_t>& v) {
  return v ? FormatBytes(static_cast<double>(*v)) : "-";
}

}  // namespace

std::string RenderText(const Report& r, size_t top, bool color) {
  const char* bold = color ? "\033[1m" : "";
  const char* red = color ? "\033[31m" : "";
  const char* dim = color ? "\033[2m" : "";
  const char* reset = color ? "\033[0m" : "";
  std::string o;
  char buf[512];
  o += std::string(bold) + "oomscope" + reset + ": " + std::to_string(r.snapshots.size()) +
       (r.snapshots.size() == 1 ? " snapshot" : " snapshots") + "\n";
  for (size_t i = 0; i < r.snapshots.size(); ++i) {
    const SnapshotInfo& s = r.snapshots[i];
    std::snprintf(buf, sizeof buf, "  %zu. %s  heap %s, %llu nodes%s\n", i + 1, Clean(s.source).c_str(),
                  FormatBytes(static_cast<double>(s.total_size)).c_str(),
                  static_cast<unsigned long long>(s.node_count),
                  s.captured_at ? ("  at " + FormatUnixTime(static_cast<int64_t>(*s.captured_at))).c_str() : "");
    o += buf;
  }
  o += "\n";
  if (r.series) {
    if (!r.same_process) {
      o += std::string(red) + "Not one process's series: " + reset + Clean(r.id_alignment) + "\n\n";
    }
    if (r.suspects.empty() && r.same_process) {
      o += std::string(bold) + "No leak suspects." + reset +
           " Nothing the program owns grew steadily across the series.\n\n";
    }
    for (const Suspect& x : r.suspects) {
      if (static_cast<size_t>(x.rank) > top) break;
      o += std::string(bold) + red + "#" + std::to_string(x.rank) + " " + x.kind + reset + bold +
           "  " + Clean(x.held_under.empty() ? x.owner_name : x.held_under) + " (" +
           Clean(x.owner_class) + ")" + reset;
      std::snprintf(buf, sizeof buf, "  confidence %.0f%%  id %s\n", x.confidence * 100, x.id.c_str());
      o += buf;
      o += "   path:     " + Clean(x.path.text) + "\n";
      o += "   retained: ";
      for (size_t i = 0; i < x.retained_by_snapshot.size(); ++i)
        o += (i ? " -> " : "") + OptBytes(x.retained_by_snapshot[i]);
      o += "\n";
      bool has_entries = false;
      for (const auto& e : x.entries_by_snapshot) has_entries |= e && *e > 0;
      if (has_entries) {
        o += "   entries:  ";
        for (size_t i = 0; i < x.entries_by_snapshot.size(); ++i)
          o += (i ? " -> " : "") + (x.entries_by_snapshot[i] ? std::to_string(*x.entries_by_snapshot[i]) : "-");
        o += "\n";
      }
      o += "   growth:   " + FormatBytesDelta(x.growth_bytes_per_snapshot) + " per snapshot";
      if (x.growth_bytes_per_hour) o += ", " + FormatBytesDelta(*x.growth_bytes_per_hour) + " per hour";
      o += "\n";
      std::snprintf(buf, sizeof buf, "   leaked:   %llu objects, %s\n",
                    static_cast<unsigned long long>(x.leaked_objects),
                    FormatBytes(static_cast<double>(x.leaked_bytes)).c_str());
      o += buf;
      for (const auto& s : x.samples) {
        o += std::string("   ") + dim + "sample:   @" + std::to_string(s.id) + " " + Clean(s.class_name) +
             " " + Clean(s.name) + " (" + FormatBytes(static_cast<double>(s.retained_size)) + ")" + reset + "\n";
      }
      for (const auto& e : x.evidence) o += std::string("   ") + dim + "why:      " + e + reset + "\n";
      o += "\n";
    }
    if (!r.class_diff.empty()) {
      o += std::string(bold) + "Class changes, first -> last snapshot" + reset + "\n";
      o += "  " + Pad("class", 34) + RPad("count", 16) + RPad("new", 9) + RPad("deleted", 9) +
           RPad("size delta", 12) + "\n";
      for (size_t i = 0; i < r.class_diff.size() && i < top; ++i) {
        const ClassDiffRow& d = r.class_diff[i];
        std::string name = Clean(d.name);
        if (name.size() > 32) name = name.substr(0, 31) + "~";
        o += "  " + Pad(name, 34) +
             RPad(std::to_string(d.count_before) + "->" + std::to_string(d.count_after), 16) +
             RPad("+" + std::to_string(d.new_count), 9) + RPad("-" + std::to_string(d.deleted_count), 9) +
             RPad(FormatBytesDelta(static_cast<double>(d.self_after) - static_cast<double>(d.self_before)), 12) +
             "\n";
      }
      o += "\n";
    }
  }
  o += std::string(bold) + "Largest objects (retained size)" + reset + "\n";
  for (size_t i = 0; i < r.largest.size() && i < top; ++i) {
    const ObjectRow& row = r.largest[i];
    o += "  " + RPad(FormatBytes(static_cast<double>(row.retained_size)), 10) + "  " +
         Clean(row.class_name) + " @" + std::to_string(row.id) + "\n";
    if (!row.path.empty()) o += std::string("              ") + dim + Clean(row.path) + reset + "\n";
  }
  o += "\n" + std::string(bold) + "Classes (last snapshot)" + reset + "\n";
  o += "  " + Pad("class", 34) + RPad("count", 10) + RPad("self", 12) + RPad("retained", 12) + "\n";
  for (size_t i = 0; i < r.classes.size() && i < top; ++i) {
    const ClassRow& c = r.classes[i];
    std::string name = Clean(c.name);
    if (name.size() > 32) name = name.substr(0, 31) + "~";
    o += "  " + Pad(name, 34) + RPad(std::to_string(c.count), 10) +
         RPad(FormatBytes(static_cast<double>(c.self_size)), 12) +
         RPad(FormatBytes(static_cast<double>(c.retained_size)), 12) + "\n";
  }
  for (const auto& n : r.notes) o += "\nnote: " + n + "\n";
  return o;
}

}  // namespace oomscope::heap
