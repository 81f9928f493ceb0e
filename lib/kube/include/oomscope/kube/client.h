#pragma once

// KubeClient: the Kubernetes API calls oomscope makes, behind a small interface (STYLE.md), with
// a real implementation over HTTP(S). Objects are nlohmann::json as the API server sends them.
// Every call returns the API's Status on error (see api_status.h); nothing throws.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"
#include "oomscope/kube/config.h"
#include "oomscope/kube/resource.h"
#include "oomscope/kube/server_version.h"
#include "oomscope/kube/stop_signal.h"

namespace oomscope::kube {

struct ListOptions {
  std::string label_selector;  // "app=x,tier!=db"
  std::string field_selector;  // "metadata.name=x"
  int64_t limit = 0;           // page size; 0: no limit (one page)
  std::string continue_token;  // from the previous page's metadata.continue
  std::string resource_version;        // "" (most recent, quorum read), "0" (any), or a version
  std::string resource_version_match;  // "", "NotOlderThan", "Exact"
};

// A collected LIST: every item of every page, and the list's resourceVersion (of the first page,
// which is the snapshot the continue tokens read from) to WATCH from.
struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resource_version;
  int pages = 0;
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJsonPatch,       // application/json-patch+json (RFC 6902), `patch` is an array
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in types only)
};

struct DeleteOptions {
  std::string propagation_policy;     // "", "Foreground", "Background", "Orphan"
  std::string precondition_uid;       // delete only this incarnation
  std::string precondition_resource_version;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // watch changes after this version ("" = from now)
  bool allow_bookmarks = true;
  int timeout_seconds = 300;  // the server ends the stream after this (0: server default)
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type;
  nlohmann::json object;  // for kError: a metav1.Status
};
std::string_view WatchEventTypeName(WatchEvent::Type t);

// Called for each event as it arrives (each parsed alone, from its own line of the stream), on the
// watching thread. It may move the object out (the informer does). Return false to end the watch.
using WatchHandler = std::function<bool(WatchEvent&)>;

// Thread-safe: calls may run concurrently from many threads.
class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // GET one object (or a subresource of it: "scale", "status").
  virtual Result<nlohmann::json> Get(const ResourceRef& r, std::string_view ns,
                                     std::string_view name, std::string_view subresource = "") = 0;

  // One LIST page: the List object as sent (items, metadata.resourceVersion, metadata.continue).
  // `ns` empty: all namespaces.
  virtual Result<nlohmann::json> ListPage(const ResourceRef& r, std::string_view ns,
                                          const ListOptions& options) = 0;

  // POST. Namespace from `ns`, or metadata.namespace when `ns` is empty.
  virtual Result<nlohmann::json> Create(const ResourceRef& r, std::string_view ns,
                                        const nlohmann::json& obj) = 0;

  // PUT to the object's path (name from metadata.name), guarded by the metadata.resourceVersion it
  // carries (409 Conflict when stale). `subresource` "status" writes only the status, "scale" the
  // Scale object.
  virtual Result<nlohmann::json> Update(const ResourceRef& r, std::string_view ns,
                                        const nlohmann::json& obj,
                                        std::string_view subresource = "") = 0;

  virtual Result<nlohmann::json> Patch(const ResourceRef& r, std::string_view ns,
                                       std::string_view name, PatchType type,
                                       const nlohmann::json& patch,
                                       std::string_view subresource = "") = 0;

  // DELETE. NotFound when already gone.
  virtual Status Delete(const ResourceRef& r, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {}) = 0;

  // A long GET ?watch=1 whose events go to `handler` as they arrive. Blocks until the server ends
  // the stream (OK: the caller resumes from the last resourceVersion it saw), the handler returns
  // false (OK), `stop` fires (Cancelled), or an error: the opening request's Status (e.g. kGone
  // for HTTP 410) or kUnavailable when the stream broke. An ERROR event (e.g. 410 "too old
  // resource version") is delivered to the handler, and then the call returns the Status it
  // carries (kGone for 410), so a caller can treat both forms of 410 alike.
  virtual Status Watch(const ResourceRef& r, std::string_view ns, const WatchOptions& options,
                       const WatchHandler& handler, StopSignal* stop = nullptr) = 0;

  // GET /version.
  virtual Result<ServerVersion> Version() = 0;

  // --- conveniences over the calls above ---

  Result<nlohmann::json> UpdateStatus(const ResourceRef& r, std::string_view ns,
                                      const nlohmann::json& obj) {
    return Update(r, ns, obj, "status");
  }

  // Every page of a LIST (following metadata.continue), collected.
  Result<ObjectList> List(const ResourceRef& r, std::string_view ns, ListOptions options = {});
};

// The real client, over cpprestsdk. Creates, updates and patches send
// `?fieldValidation=<config.field_validation>` (Strict by default). TLS: `config.ca_pem` (or the system store), client cert,
// insecure_skip_tls_verify. Sends `Authorization: Bearer` (token re-read from the token file as
// it rotates; on a 401 the file is re-read and the call retried once), `User-Agent`, and
// `Accept: application/json`. Calls time out after `config.request_timeout`; watches after their
// timeout_seconds plus a margin.
Result<std::unique_ptr<KubeClient>> NewKubeClient(const ClusterConfig& config);

}  // namespace oomscope::kube
