// A self-contained HTML report: inline CSS and SVG, no scripts, nothing fetched from a network.
// Every string that came from a snapshot is escaped: snapshot contents are untrusted.
#include <algorithm>
#include <cstdio>

#include "oomscope/common/format.h"
#include "oomscope/common/html.h"
#include "oomscope/heap/report.h"

namespace oomscope::heap {
namespace {

std::string Esc(const std::string& raw) { return HtmlEscape(raw); }

std::string Bytes(double v) { return Esc(FormatBytes(v)); }

// A line chart of a suspect's retained size across the series.
std::string GrowthChart(const Suspect& x) {
  const double w = 360, h = 120, pad = 28;
  std::vector<std::pair<size_t, double>> pts;
  double maxv = 1;
  for (size_t i = 0; i < x.retained_by_snapshot.size(); ++i) {
    if (!x.retained_by_snapshot[i]) continue;
    double v = static_cast<double>(*x.retained_by_snapshot[i]);
    pts.emplace_back(i, v);
    maxv = std::max(maxv, v);
  }
  size_t n = std::max<size_t>(2, x.retained_by_snapshot.size());
  auto px = [&](size_t i) { return pad + (w - 2 * pad) * static_cast<double>(i) / static_cast<double>(n - 1); };
  auto py = [&](double v) { return h - pad - (h - 2 * pad) * v / maxv; };
  std::string s;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
                "aria-label=\"retained size per snapshot\">",
                w, h, w, h);
  s += buf;
  std::snprintf(buf, sizeof buf, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>", pad,
                h - pad, w - pad, h - pad);
  s += buf;
  std::string poly;
  for (const auto& [i, v] : pts) {
    std::snprintf(buf, sizeof buf, "%.1f,%.1f ", px(i), py(v));
    poly += buf;
  }
  s += "<polyline class=\"line\" points=\"" + poly + "\"/>";
  for (const auto& [i, v] : pts) {
    std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" class=\"dot\"><title>", px(i), py(v));
    s += buf;
    s += "snapshot " + std::to_string(i + 1) + ": " + Bytes(v) + "</title></circle>";
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.0f\" class=\"lbl\">#%zu</text>", px(i) - 6, h - 8, i + 1);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"14\" class=\"lbl\">", pad);
  s += buf;
  s += Bytes(maxv) + "</text></svg>";
  return s;
}

std::string PathHtml(const RetainerPath& p) {
  std::string s = "<ol class=\"path\">";
  for (const PathStep& st : p.steps) {
    s += "<li><span class=\"edge\">" + Esc(st.edge) + "</span> <span class=\"cls\">" + Esc(st.node_class) +
         "</span> <span class=\"nm\">" + Esc(st.node_name) + "</span> <span class=\"id\">@" +
         std::to_string(st.node_id) + "</span></li>";
  }
  return s + "</ol>";
}

constexpr const char* kStyle = R"CSS(
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#b8c0d0}main{padding:20px 28px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 12px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f4;font-variant-numeric:tabular-nums}
th{font-weight:600;color:#555e70}td.n,th.n{text-align:right}
.suspect{border-left:4px solid #c62828}.kind{display:inline-block;background:#fde7e7;color:#a11;border-radius:4px;padding:1px 8px;font-size:12px}
.pathtext{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f3f4f7;padding:6px 10px;border-radius:6px;word-break:break-all}
.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#444}.path .edge{color:#7b3fb5}.path .cls{font-weight:600}.path .id{color:#999}
.chart .axis{stroke:#bbb}.chart .line{fill:none;stroke:#c62828;stroke-width:2}.chart .dot{fill:#c62828}.chart .lbl{font-size:11px;fill:#666}
.grid{display:grid;grid-template-columns:380px 1fr;gap:18px;align-items:start}.muted{color:#6b7385}.ok{color:#1b7f3b;font-weight:600}
.warn{background:#fff4e5;border:1px solid #f0c36d;padding:8px 12px;border-radius:6px}
)CSS";

}  // namespace

std::string RenderHtml(const Report& r) {
  std::string h;
  h += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">";
  h += "<title>oomscope report</title><style>";
  h += kStyle;
  h += "</style></head><body><header><h1>oomscope heap report</h1><p>";
  h += std::to_string(r.snapshots.size()) + (r.snapshots.size() == 1 ? " snapshot" : " snapshots");
  if (!r.suspects.empty()) {
    h += " &middot; top suspect: " + Esc(r.suspects[0].held_under.empty() ? r.suspects[0].owner_name
                                                                         : r.suspects[0].held_under) +
         " (" + Esc(r.suspects[0].owner_class) + ")";
  }
  h += " &middot; " + Esc(r.generator) + "</p></header><main>";

  if (r.series && !r.same_process) {
    h += "<p class=\"warn\">These snapshots do not come from one process: " + Esc(r.id_alignment) + "</p>";
  }
  for (const auto& n : r.notes) h += "<p class=\"warn\">" + Esc(n) + "</p>";

  if (r.series) {
    h += "<section><h2>Leak suspects</h2>";
    if (r.suspects.empty()) {
      h += "<p class=\"ok\">No leak suspects: nothing the program owns grew steadily across the series.</p>";
    } else {
      h += "<p>" + std::to_string(r.suspects.size()) +
           (r.suspects.size() == 1 ? " object grows" : " objects grow") +
           " steadily across the series, most growth first. Each shows what holds it (the "
           "retainer path from the GC roots), its retained size in every snapshot, and the "
           "evidence.</p><ol>";
      for (const Suspect& x : r.suspects) {
        h += "<li><a href=\"#s-" + Esc(x.id) + "\">" +
             Esc(x.held_under.empty() ? x.owner_name : x.held_under) + " (" + Esc(x.owner_class) +
             ")</a> &middot; " + Esc(FormatBytesDelta(x.growth_bytes_per_snapshot)) + " per snapshot</li>";
      }
      h += "</ol>";
    }
    h += "</section>";
    for (const Suspect& x : r.suspects) {
      char buf[128];
      h += "<section class=\"suspect\" id=\"s-" + Esc(x.id) + "\"><h2>#" + std::to_string(x.rank) + " " +
           Esc(x.held_under.empty() ? x.owner_name : x.held_under) + " <span class=\"muted\">(" +
           Esc(x.owner_class) + ")</span> <span class=\"kind\">" + Esc(x.kind) + "</span></h2>";
      h += "<p class=\"pathtext\">" + Esc(x.path.text) + "</p><div class=\"grid\"><div>" + GrowthChart(x) +
           "</div><div><table>";
      std::snprintf(buf, sizeof buf, "%.0f%%", x.confidence * 100);
      h += "<tr><th>confidence</th><td>" + std::string(buf) + "</td></tr>";
      h += "<tr><th>growth</th><td>" + Esc(FormatBytesDelta(x.growth_bytes_per_snapshot)) + " per snapshot";
      if (x.growth_bytes_per_hour) h += ", " + Esc(FormatBytesDelta(*x.growth_bytes_per_hour)) + " per hour";
      h += "</td></tr><tr><th>retained</th><td>";
      for (size_t i = 0; i < x.retained_by_snapshot.size(); ++i) {
        if (i) h += " &rarr; ";
        h += x.retained_by_snapshot[i] ? Bytes(static_cast<double>(*x.retained_by_snapshot[i])) : "&ndash;";
      }
      h += "</td></tr><tr><th>entries</th><td>";
      for (size_t i = 0; i < x.entries_by_snapshot.size(); ++i) {
        if (i) h += " &rarr; ";
        h += x.entries_by_snapshot[i] ? std::to_string(*x.entries_by_snapshot[i]) : "&ndash;";
      }
      h += "</td></tr><tr><th>leaked</th><td>" + std::to_string(x.leaked_objects) + " objects, " +
           Bytes(static_cast<double>(x.leaked_bytes)) + "</td></tr>";
      h += "<tr><th>owner</th><td>@" + std::to_string(x.owner_id) + " " + Esc(x.owner_class) + "</td></tr>";
      h += "<tr><th>id</th><td>" + Esc(x.id) + "</td></tr></table>";
      if (!x.evidence.empty()) {
        h += "<ul>";
        for (const auto& e : x.evidence) h += "<li>" + Esc(e) + "</li>";
        h += "</ul>";
      }
      if (!x.samples.empty()) {
        h += "<table><tr><th>sample</th><th>class</th><th>value</th><th class=\"n\">retained</th></tr>";
        for (const auto& s : x.samples) {
          h += "<tr><td>@" + std::to_string(s.id) + "</td><td>" + Esc(s.class_name) + "</td><td>" + Esc(s.name) +
               "</td><td class=\"n\">" + Bytes(static_cast<double>(s.retained_size)) + "</td></tr>";
        }
        h += "</table>";
      }
      h += "<details><summary>retainer path, step by step</summary>" + PathHtml(x.path) +
           "</details></div></div></section>";
    }
    if (!r.class_diff.empty()) {
      h += "<section><h2>Class changes, first &rarr; last snapshot</h2><table><tr><th>class</th>"
           "<th class=\"n\">count</th><th class=\"n\">new</th><th class=\"n\">deleted</th>"
           "<th class=\"n\">alloc</th><th class=\"n\">freed</th><th class=\"n\">size delta</th></tr>";
      for (const auto& d : r.class_diff) {
        h += "<tr><td>" + Esc(d.name) + "</td><td class=\"n\">" + std::to_string(d.count_before) + " &rarr; " +
             std::to_string(d.count_after) + "</td><td class=\"n\">+" + std::to_string(d.new_count) +
             "</td><td class=\"n\">-" + std::to_string(d.deleted_count) + "</td><td class=\"n\">" +
             Bytes(static_cast<double>(d.alloc_size)) + "</td><td class=\"n\">" +
             Bytes(static_cast<double>(d.freed_size)) + "</td><td class=\"n\">" +
             Esc(FormatBytesDelta(static_cast<double>(d.self_after) - static_cast<double>(d.self_before))) +
             "</td></tr>";
      }
      h += "</table></section>";
    }
  }

  h += "<section><h2>Largest objects (last snapshot)</h2><table><tr><th class=\"n\">retained</th>"
       "<th class=\"n\">self</th><th>class</th><th>retainer path</th></tr>";
  for (const auto& o : r.largest) {
    h += "<tr><td class=\"n\">" + Bytes(static_cast<double>(o.retained_size)) + "</td><td class=\"n\">" +
         Bytes(static_cast<double>(o.self_size)) + "</td><td>" + Esc(o.class_name) + " @" + std::to_string(o.id) +
         "</td><td class=\"path\">" + Esc(o.path) + "</td></tr>";
  }
  h += "</table></section>";

  h += "<section><h2>Classes (last snapshot)</h2><table><tr><th>class</th><th class=\"n\">count</th>"
       "<th class=\"n\">self</th><th class=\"n\">retained</th></tr>";
  for (const auto& c : r.classes) {
    h += "<tr><td>" + Esc(c.name) + "</td><td class=\"n\">" + std::to_string(c.count) + "</td><td class=\"n\">" +
         Bytes(static_cast<double>(c.self_size)) + "</td><td class=\"n\">" +
         Bytes(static_cast<double>(c.retained_size)) + "</td></tr>";
  }
  h += "</table></section>";

  h += "<section><h2>Snapshots</h2><table><tr><th>#</th><th>source</th><th>captured</th>"
       "<th class=\"n\">heap</th><th class=\"n\">nodes</th><th class=\"n\">file</th></tr>";
  for (size_t i = 0; i < r.snapshots.size(); ++i) {
    const auto& s = r.snapshots[i];
    h += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + Esc(s.source) + "</td><td>" +
         (s.captured_at ? Esc(FormatUnixTime(static_cast<int64_t>(*s.captured_at))) : "&ndash;") +
         "</td><td class=\"n\">" + Bytes(static_cast<double>(s.total_size)) + "</td><td class=\"n\">" +
         std::to_string(s.node_count) + "</td><td class=\"n\">" + Bytes(static_cast<double>(s.file_bytes)) +
         "</td></tr>";
  }
  h += "</table>";
  if (r.series && r.same_process && !r.id_alignment.empty())
    h += "<p class=\"muted\">One process: " + Esc(r.id_alignment) + "</p>";
  h += "</section></main></body></html>\n";
  return h;
}

}  // namespace oomscope::heap
