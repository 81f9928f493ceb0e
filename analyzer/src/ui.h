#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "series_view.h"

namespace oomscope::analyzer {

// HTML text and attribute escaping: nothing from a snapshot or an upload's metadata is trusted.
std::string HtmlEscape(std::string_view s);

// The web UI's front page: workloads and their series with the top suspect and its growth,
// linking to each HTML report. Self-contained (inline CSS, no script, no external asset).
std::string RenderIndexPage(const std::vector<SeriesView>& series);

}  // namespace oomscope::analyzer
