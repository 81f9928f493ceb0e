#include "metrics_doc.h"

#include <fstream>
#include <sstream>

namespace oomscope::testing {

std::set<std::string> ExportedFamilies(const std::string& metrics_text, const std::string& prefix) {
  std::set<std::string> out;
  std::istringstream in(metrics_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::string name = line.substr(7, line.find(' ', 7) - 7);
    if (name.rfind(prefix, 0) == 0) out.insert(name);
  }
  return out;
}

std::set<std::string> DocumentedFamilies(const std::string& doc_text, const std::string& prefix) {
  std::set<std::string> out;
  size_t p = 0;
  while ((p = doc_text.find('`', p)) != std::string::npos) {
    size_t end = doc_text.find('`', p + 1);
    if (end == std::string::npos) break;
    std::string code = doc_text.substr(p + 1, end - p - 1);
    p = end + 1;
    if (code.rfind(prefix, 0) != 0) continue;
    size_t stop = code.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_:");
    out.insert(code.substr(0, stop));
  }
  return out;
}

std::string MetricsDocSection(const std::string& path, const std::string& heading) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  size_t at = doc.find(heading);
  if (at == std::string::npos) return "";
  size_t end = doc.find("\n## ", at + heading.size());
  return doc.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace oomscope::testing
