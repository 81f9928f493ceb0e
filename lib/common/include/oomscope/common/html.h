#pragma once

#include <string>
#include <string_view>

namespace oomscope {

// Text for HTML, in element content and in quoted attribute values: & < > " ' as entities, and
// control characters as "\xNN" (EscapeControlChars). Every string from a snapshot, a sidecar's
// metadata or a request is untrusted and goes through this before it reaches a page.
std::string HtmlEscape(std::string_view text);

}  // namespace oomscope
