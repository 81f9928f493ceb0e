#include "ui.h"

#include <cstdio>
#include <ctime>
#include <map>

#include "oomscope/common/format.h"
#include "oomscope/common/html.h"

namespace oomscope::analyzer {

namespace {

std::string Time(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1b1f24}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.4em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}.num{text-align:right;font-variant-numeric:tabular-nums}
.state{font-weight:600}.complete{color:#1a7f37}.failed{color:#cf222e}.analyzing,.collecting{color:#9a6700}
code{font-size:.9em;word-break:break-all}.muted{color:#57606a}
)";

}  // namespace

std::string RenderIndexPage(const std::vector<SeriesView>& series) {
  std::string h = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>oomscope analyzer</title><style>";
  h += kStyle;
  h += "</style></head><body><h1>oomscope: heap diagnoses</h1>";
  // Workloads, each with its newest series first.
  std::map<std::pair<std::string, std::string>, std::vector<const SeriesView*>> by_workload;
  for (const SeriesView& v : series) by_workload[{v.ns, v.workload}].push_back(&v);
  h += "<h2>Workloads</h2><table id=\"workloads\"><thead><tr><th>Namespace</th><th>Workload</th><th class=\"num\">Series</th>"
       "<th>Latest state</th><th>Top suspect</th><th class=\"num\">Retained</th><th class=\"num\">Growth</th></tr></thead><tbody>";
  if (by_workload.empty()) h += "<tr><td colspan=\"7\" class=\"muted\">No snapshots received yet.</td></tr>";
  for (const auto& [key, list] : by_workload) {
    const SeriesView& latest = *list.front();
    h += "<tr class=\"workload\" data-namespace=\"" + HtmlEscape(key.first) + "\" data-workload=\"" + HtmlEscape(key.second) + "\">";
    h += "<td>" + HtmlEscape(key.first) + "</td><td>" + HtmlEscape(key.second) + "</td><td class=\"num\">" + std::to_string(list.size()) + "</td>";
    h += "<td class=\"state " + HtmlEscape(latest.state) + "\">" + HtmlEscape(latest.state) + "</td>";
    if (latest.summary && !latest.summary->top_suspects.empty()) {
      const auto& s = latest.summary->top_suspects[0];
      h += "<td class=\"suspect\">" + HtmlEscape(s.value("name", "")) + " <span class=\"muted\">(" + HtmlEscape(s.value("constructor", "")) + ")</span></td>";
      h += "<td class=\"num\">" + FormatBytes(s.value("retained_bytes", 0.0)) + "</td><td class=\"num\">" + FormatBytes(s.value("growth_bytes_per_second", 0.0)) + "/s</td>";
    } else {
      h += "<td class=\"muted\">-</td><td></td><td></td>";
    }
    h += "</tr>";
  }
  h += "</tbody></table>";
  h += "<h2>Series</h2><table id=\"series\"><thead><tr><th>Series</th><th>Namespace / workload / pod</th><th>State</th>"
       "<th class=\"num\">Snapshots</th><th>Top suspect</th><th class=\"num\">Growth</th><th>Updated</th></tr></thead><tbody>";
  if (series.empty()) h += "<tr><td colspan=\"7\" class=\"muted\">No series yet.</td></tr>";
  for (const SeriesView& v : series) {
    std::string id = HtmlEscape(v.id);
    h += "<tr class=\"series\" data-series=\"" + id + "\">";
    h += "<td><a class=\"report\" href=\"/v1/series/" + id + "/report.html\"><code>" + id + "</code></a></td>";
    h += "<td>" + HtmlEscape(v.ns) + " / " + HtmlEscape(v.workload) + " / <span class=\"muted\">" + HtmlEscape(v.pod) + "</span></td>";
    h += "<td class=\"state " + HtmlEscape(v.state) + "\">" + HtmlEscape(v.state);
    if (!v.error.empty()) h += "<div class=\"muted\">" + HtmlEscape(v.error) + "</div>";
    h += "</td><td class=\"num\">" + std::to_string(v.snapshots) + (v.series_length > 0 ? " / " + std::to_string(v.series_length) : "") + "</td>";
    if (v.summary && !v.summary->top_suspects.empty()) {
      const auto& s = v.summary->top_suspects[0];
      h += "<td class=\"suspect\">" + HtmlEscape(s.value("name", "")) + " <span class=\"muted\">(" + HtmlEscape(s.value("constructor", "")) +
           ", " + HtmlEscape(s.value("kind", "")) + ")</span><div><code>" + HtmlEscape(s.value("path", "")) + "</code></div></td>";
      h += "<td class=\"num\">" + FormatBytes(s.value("growth_bytes_per_second", 0.0)) + "/s</td>";
    } else {
      h += "<td class=\"muted\">-</td><td></td>";
    }
    h += "<td>" + Time(v.updated_at) + "</td></tr>";
  }
  h += "</tbody></table><p class=\"muted\">API: <code>/v1/workloads</code>, <code>/v1/series</code>; metrics: <code>/metrics</code>.</p></body></html>";
  return h;
}

}  // namespace oomscope::analyzer
