#pragma once

#include <string>
#include <vector>

#include "series_view.h"

namespace oomscope::analyzer {

// The web UI's front page: workloads and their series with the top suspect and its growth,
// linking to each HTML report. Self-contained (inline CSS, no script, no external asset).
// Everything from a snapshot or an upload's metadata is escaped (lib/common's HtmlEscape).
std::string RenderIndexPage(const std::vector<SeriesView>& series);

}  // namespace oomscope::analyzer
