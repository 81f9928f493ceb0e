#include "oomscope/kube/server_version.h"

#include <cctype>
#include <string_view>

namespace oomscope::kube {
namespace {

// The leading digits of `s` as a number (at least one digit), or -1.
int LeadingNumber(std::string_view s, size_t* used = nullptr) {
  size_t i = 0;
  int n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i < 6) n = n * 10 + (s[i++] - '0');
  if (used != nullptr) *used = i;
  return i == 0 ? -1 : n;
}

std::string Field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<ServerVersion> ParseServerVersion(const nlohmann::json& version) {
  if (!version.is_object()) return InvalidArgument("/version: not an object");
  ServerVersion v;
  v.git_version = Field(version, "gitVersion");
  int major = LeadingNumber(Field(version, "major"));
  int minor = LeadingNumber(Field(version, "minor"));
  if (major < 0 || minor < 0) {
    std::string_view g = v.git_version;
    if (!g.empty() && g.front() == 'v') g.remove_prefix(1);
    size_t used = 0;
    major = LeadingNumber(g, &used);
    minor = -1;
    if (major >= 0 && used < g.size() && g[used] == '.') minor = LeadingNumber(g.substr(used + 1));
  }
  if (major < 0 || minor < 0) {
    return InvalidArgument("/version: no major/minor version in " + version.dump().substr(0, 200));
  }
  v.major = major;
  v.minor = minor;
  return v;
}

}  // namespace oomscope::kube
