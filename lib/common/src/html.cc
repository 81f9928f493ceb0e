#include "oomscope/common/html.h"

#include "oomscope/common/format.h"

namespace oomscope {

std::string HtmlEscape(std::string_view text) {
  std::string s = EscapeControlChars(text);
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace oomscope
