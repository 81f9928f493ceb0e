// Route patterns: exact paths and `{name}` segments.
#include "oomscope/http/server.h"

namespace oomscope::http {

bool MatchPattern(const std::string& pattern, const std::string& path, std::map<std::string, std::string>* params) {
  size_t p = 0, s = 0;
  std::map<std::string, std::string> found;
  while (p < pattern.size() && s < path.size()) {
    if (pattern[p] == '{') {
      size_t close = pattern.find('}', p);
      if (close == std::string::npos) return false;
      size_t end = path.find('/', s);
      if (end == std::string::npos) end = path.size();
      if (end == s) return false;  // an empty segment never matches
      found[pattern.substr(p + 1, close - p - 1)] = path.substr(s, end - s);
      p = close + 1;
      s = end;
      continue;
    }
    if (pattern[p] != path[s]) return false;
    ++p;
    ++s;
  }
  if (p != pattern.size() || s != path.size()) return false;
  if (params)
    for (auto& [k, v] : found) (*params)[k] = std::move(v);
  return true;
}

}  // namespace oomscope::http
