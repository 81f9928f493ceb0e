#include "json_string.h"

#include <cstring>

#include "oomscope/common/utf8.h"

namespace oomscope::cdp {
namespace {

bool Hex4(std::string_view s, size_t at, unsigned& out) {
  if (at + 4 > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + 4; ++i) {
    int v = HexDigitValue(s[i]);
    if (v < 0) return false;
    out = out * 16 + static_cast<unsigned>(v);
  }
  return true;
}

}  // namespace

bool AppendJsonStringBody(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  size_t i = 0;
  while (i < s.size()) {
    // Copy the run up to the next backslash in one go.
    const void* bs = std::memchr(s.data() + i, '\\', s.size() - i);
    size_t end = bs ? static_cast<size_t>(static_cast<const char*>(bs) - s.data()) : s.size();
    for (size_t k = i; k < end; ++k) {
      unsigned char c = static_cast<unsigned char>(s[k]);
      if (c < 0x20 || c == '"') return false;  // must have been escaped
    }
    out.append(s.data() + i, end - i);
    if (end == s.size()) break;
    if (end + 1 >= s.size()) return false;
    char e = s[end + 1];
    i = end + 2;
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        unsigned cp;
        if (!Hex4(s, i, cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
          unsigned lo;
          if (Hex4(s, i + 2, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(out, cp);  // a lone surrogate stays as its 3-byte form
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

bool DecodeSingleStringEvent(std::string_view text, std::string_view method, std::string_view field,
                             std::string& out) {
  constexpr std::string_view kA = "{\"method\":\"", kB = "\",\"params\":{\"", kC = "\":\"", kEnd = "\"}}";
  const size_t head = kA.size() + method.size() + kB.size() + field.size() + kC.size();
  if (text.size() < head + kEnd.size()) return false;
  size_t at = 0;
  for (std::string_view part : {kA, method, kB, field, kC}) {
    if (text.compare(at, part.size(), part) != 0) return false;
    at += part.size();
  }
  if (text.substr(text.size() - kEnd.size()) != kEnd) return false;
  std::string_view body = text.substr(head, text.size() - head - kEnd.size());
  // The body must be one string: an unescaped quote inside means other fields followed.
  out.clear();
  return AppendJsonStringBody(body, out);
}

}  // namespace oomscope::cdp
