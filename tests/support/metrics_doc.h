#pragma once
// Keeps docs/metrics.md true: every metric family a program exports under a prefix is listed in
// the doc, and every one the doc lists under that prefix is exported. Reusable for any program:
// pass its /metrics text and the doc's text.
#include <set>
#include <string>

namespace oomscope::testing {

// Family names in a Prometheus text exposition (from `# TYPE name kind` lines) starting with `prefix`.
std::set<std::string> ExportedFamilies(const std::string& metrics_text, const std::string& prefix);
// The part of docs/metrics.md (at `path`) under the `## ...` heading that starts with `heading`,
// up to the next heading; empty when there is none.
std::string MetricsDocSection(const std::string& path, const std::string& heading);
// Names in `doc_text` written as code (`name` or `name{labels}`) starting with `prefix`.
std::set<std::string> DocumentedFamilies(const std::string& doc_text, const std::string& prefix);

}  // namespace oomscope::testing
