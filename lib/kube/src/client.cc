#include "oomscope/kube/client.h"

namespace oomscope::kube {

std::string_view WatchEventTypeName(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::kAdded: return "ADDED";
    case WatchEvent::Type::kModified: return "MODIFIED";
    case WatchEvent::Type::kDeleted: return "DELETED";
    case WatchEvent::Type::kBookmark: return "BOOKMARK";
    case WatchEvent::Type::kError: return "ERROR";
  }
  return "UNKNOWN";
}

Result<ObjectList> KubeClient::List(const ResourceRef& r, std::string_view ns, ListOptions options) {
  ObjectList out;
  for (;;) {
    Result<nlohmann::json> page = ListPage(r, ns, options);
    if (!page.ok()) return page.status();
    if (!page->is_object()) return Corruption("LIST " + r.GroupResource() + ": not a List object");
    ++out.pages;
    const nlohmann::json& md = (*page)["metadata"];
    if (out.pages == 1 && md.is_object() && md.contains("resourceVersion") &&
        md["resourceVersion"].is_string()) {
      out.resource_version = md["resourceVersion"].get<std::string>();
    }
    auto items = page->find("items");
    if (items != page->end() && items->is_array()) {
      for (auto& item : *items) out.items.push_back(std::move(item));
    }
    std::string next;
    if (md.is_object() && md.contains("continue") && md["continue"].is_string()) {
      next = md["continue"].get<std::string>();
    }
    if (next.empty()) break;
    options.continue_token = next;
    // A continued LIST reads from the first page's snapshot; resourceVersion must not be sent.
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
  return out;
}

}  // namespace oomscope::kube
