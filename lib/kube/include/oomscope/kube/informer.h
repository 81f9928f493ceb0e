#pragma once

// An informer as client-go builds one: a reflector (LIST, then WATCH from the list's
// resourceVersion with bookmarks; resume from the last seen version when the stream drops;
// relist on 410 Gone, whether an HTTP 410 or an ERROR event; backoff with jitter on errors) that
// keeps a Store current and tells handlers about adds, updates and deletes.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/resource.h"
#include "oomscope/kube/stop_signal.h"
#include "oomscope/kube/store.h"

namespace oomscope::kube {

// Handlers run on the informer's thread, in order, and should only enqueue a key (STYLE.md).
// Each may be empty.
struct EventHandlers {
  std::function<void(const nlohmann::json& obj)> on_add;
  std::function<void(const nlohmann::json& old_obj, const nlohmann::json& new_obj)> on_update;
  // The last known state of the object (after a relist, the cached one).
  std::function<void(const nlohmann::json& obj)> on_delete;
};

struct InformerOptions {
  ResourceRef resource;
  std::string namespace_;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;            // LIST limit per page
  // Keep the cache as MessagePack (see Store): for many objects read rarely, with a Transform.
  bool packed_store = false;
  int watch_timeout_seconds = 300;    // server-side; the watch is then resumed (not a restart)
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{30000};
};

// Applied to each object before it is stored and handed to the handlers — every item of every
// LIST page as the page arrives, and every watch event's object — as client-go's SetTransform: a
// program keeps what it reads and drops the rest, so the cache costs what it needs. It must keep
// metadata.name, namespace and resourceVersion (the store's key, and how a relist tells changes).
// Runs on the informer's thread.
using Transform = std::function<void(nlohmann::json& obj)>;

// client-go's TransformStripManagedFields: drops metadata.managedFields (often half of an object).
// An object without them can still be PUT: the server keeps its managedFields when a write omits
// them.
void StripManagedFields(nlohmann::json& obj);

// Why the reflector had to start a watch or list over, counted since Start().
struct RestartCounters {
  uint64_t dropped = 0;  // the stream broke or errored: re-watched from the last resourceVersion
  uint64_t gone = 0;     // 410 Gone (HTTP or ERROR event): relisted
  uint64_t errors = 0;   // failed LIST/WATCH requests (each followed by a backoff)
  uint64_t lists = 0;    // LISTs done (1 + relists)
};

// Thread-safe. Handlers must be added before Start().
class Informer {
 public:
  Informer(KubeClient& client, InformerOptions options);
  ~Informer();  // Stop()s
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void AddHandlers(EventHandlers handlers);
  // Before Start(); replaces any earlier one.
  void SetTransform(Transform transform);

  // Runs the reflector on its own thread.
  void Start();
  // Ends the watch promptly and joins the thread. Idempotent.
  void Stop();

  // True once the first LIST has been put into the store (and its adds delivered).
  bool HasSynced() const;
  // Waits until synced; false if `stop` fired or `timeout` passed first.
  bool WaitForSync(std::chrono::milliseconds timeout, const StopSignal* stop = nullptr) const;

  const Store& store() const { return store_; }
  const ResourceRef& resource() const { return options_.resource; }
  RestartCounters restarts() const;
  std::string last_resource_version() const;
  // The latest error, OK when the last LIST/WATCH succeeded.
  Status last_error() const;

 private:
  void Run();
  Status ListAndReplace();
  Status WatchOnce();
  void Deliver(WatchEvent& ev);
  // kind and apiVersion (a List's items lack them), then the transform.
  void Prepare(nlohmann::json& obj) const;

  KubeClient& client_;
  InformerOptions options_;
  Store store_;
  std::vector<EventHandlers> handlers_;
  Transform transform_;
  StopSignal stop_;
  std::thread thread_;
  std::atomic<bool> synced_{false};
  mutable std::mutex mu_;  // guards the fields below
  mutable std::condition_variable synced_cv_;
  RestartCounters counters_;
  std::string resource_version_;
  Status last_error_;
  bool started_ = false;
};

}  // namespace oomscope::kube
