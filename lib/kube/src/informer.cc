#include "oomscope/kube/informer.h"

#include "oomscope/common/backoff.h"
#include "oomscope/common/log.h"
#include "oomscope/kube/object.h"

namespace oomscope::kube {

Informer::Informer(KubeClient& client, InformerOptions options)
    : client_(client), options_(std::move(options)), store_(options_.packed_store) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandlers(EventHandlers handlers) {
  std::lock_guard<std::mutex> lock(mu_);
  handlers_.push_back(std::move(handlers));
}

void StripManagedFields(nlohmann::json& obj) {
  auto md = obj.find("metadata");
  if (md != obj.end() && md->is_object()) md->erase("managedFields");
}

void Informer::SetTransform(Transform transform) {
  std::lock_guard<std::mutex> lock(mu_);
  transform_ = std::move(transform);
}

void Informer::Prepare(nlohmann::json& obj) const {
  if (!obj.is_object()) return;
  if (!obj.contains("kind")) obj["kind"] = options_.resource.kind;
  if (!obj.contains("apiVersion")) obj["apiVersion"] = options_.resource.ApiVersion();
  if (transform_) transform_(obj);
}

void Informer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

bool Informer::HasSynced() const { return synced_.load(); }

bool Informer::WaitForSync(std::chrono::milliseconds timeout, const StopSignal* stop) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (!synced_.load()) {
    if ((stop != nullptr && stop->stopped()) || stop_.stopped()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // Wake up now and then to look at `stop` (which has no hook into this condition variable).
    synced_cv_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(
                                  deadline - now, std::chrono::milliseconds(50)));
  }
  return true;
}

RestartCounters Informer::restarts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

std::string Informer::last_resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resource_version_;
}

Status Informer::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

// LIST (page by page: each page's items are transformed and kept, the page itself dropped before
// the next is asked for, so a large LIST is never held whole) and replace the store; the
// difference with what was cached becomes adds, updates and deletes, so a relist after 410 reports
// what happened while we were not watching.
Status Informer::ListAndReplace() {
  ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.lists;
  }
  Store fresh(store_.packed());  // filled as the pages come, in the store's own form
  std::string list_version;
  for (int pages = 0;; ++pages) {
    Result<nlohmann::json> page = client_.ListPage(options_.resource, options_.namespace_, lo);
    if (!page.ok()) return page.status();
    if (!page->is_object()) return Corruption("LIST " + options_.resource.GroupResource() + ": not a List object");
    const std::string continue_token = StringAt(*page, "/metadata/continue");
    // The first page's version is the snapshot the continue tokens read from: WATCH from there.
    if (pages == 0) list_version = StringAt(*page, "/metadata/resourceVersion");
    auto items = page->find("items");
    if (items != page->end() && items->is_array()) {
      for (nlohmann::json& item : *items) {
        Prepare(item);
        std::string key = meta::KeyOf(item).ToString();
        fresh.Put(key, std::move(item));
      }
    }
    if (continue_token.empty()) break;
    lo.continue_token = continue_token;
  }

  const std::vector<std::string> keys = fresh.Keys();
  store_.Swap(fresh);  // `fresh` now holds what was cached before
  Store& old = fresh;
  std::vector<EventHandlers> handlers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handlers = handlers_;
    resource_version_ = list_version;
    last_error_ = Status::Ok();  // before HasSynced() turns true: a waiter sees the LIST's success
  }
  for (const std::string& key : keys) {  // one object at a time, never the whole list as JSON
    std::optional<nlohmann::json> obj = store_.Get(key);
    if (!obj) continue;
    std::optional<nlohmann::json> before = old.Remove(key);
    for (const auto& h : handlers) {
      if (!before) {
        if (h.on_add) h.on_add(*obj);
      } else if (meta::ResourceVersion(*before) != meta::ResourceVersion(*obj)) {
        if (h.on_update) h.on_update(*before, *obj);
      }
    }
  }
  for (const std::string& key : old.Keys()) {  // what is left vanished while we were not watching
    std::optional<nlohmann::json> gone = old.Remove(key);
    for (const auto& h : handlers) {
      if (h.on_delete && gone) h.on_delete(*gone);
    }
  }
  if (!synced_.exchange(true)) {
    std::lock_guard<std::mutex> lock(mu_);
    synced_cv_.notify_all();
  }
  return Status::Ok();
}

void Informer::Deliver(WatchEvent& ev) {
  std::string rv = meta::ResourceVersion(ev.object);
  if (ev.type == WatchEvent::Type::kBookmark || ev.type == WatchEvent::Type::kError) {
    if (ev.type == WatchEvent::Type::kBookmark && !rv.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      resource_version_ = rv;
    }
    return;
  }
  nlohmann::json obj = std::move(ev.object);
  Prepare(obj);
  std::string key = meta::KeyOf(obj).ToString();
  std::vector<EventHandlers> handlers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handlers = handlers_;
    if (!rv.empty()) resource_version_ = rv;
  }
  if (ev.type == WatchEvent::Type::kDeleted) {
    std::optional<nlohmann::json> old = store_.Remove(key);
    for (const auto& h : handlers) {
      if (h.on_delete) h.on_delete(obj);
    }
    return;
  }
  std::optional<nlohmann::json> old = store_.Put(key, obj);
  for (const auto& h : handlers) {
    if (old.has_value()) {
      if (h.on_update) h.on_update(*old, obj);
    } else if (h.on_add) {
      h.on_add(obj);
    }
  }
}

Status Informer::WatchOnce() {
  WatchOptions wo;
  wo.label_selector = options_.label_selector;
  wo.field_selector = options_.field_selector;
  wo.resource_version = last_resource_version();
  wo.allow_bookmarks = true;
  wo.timeout_seconds = options_.watch_timeout_seconds;
  return client_.Watch(options_.resource, options_.namespace_, wo,
                       [this](WatchEvent& ev) {
                         Deliver(ev);
                         return true;
                       },
                       &stop_);
}

void Informer::Run() {
  const std::string what = "informer " + options_.resource.GroupResource() +
                           (options_.namespace_.empty() ? "" : " in " + options_.namespace_);
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  bool need_list = true;
  auto record = [this](const Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = s;
  };
  while (!stop_.stopped()) {
    if (need_list) {
      Status s = ListAndReplace();
      record(s);
      if (!s.ok()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++counters_.errors;
        }
        auto wait = backoff.Next();
        log::Warn("LIST failed; retrying", {{"informer", what}, {"error", s.ToString()},
                                            {"backoff_ms", std::to_string(wait.count())}});
        stop_.WaitFor(wait);
        continue;
      }
      need_list = false;
      backoff.Reset();
    }
    auto started = std::chrono::steady_clock::now();
    Status s = WatchOnce();
    if (stop_.stopped()) break;
    if (s.ok()) {
      // The server ended the stream. At its timeoutSeconds that is routine; before, the stream was
      // dropped (an apiserver restart, a load balancer). Either way resume from the last version
      // seen; a stream that ends at once, again and again, waits a backoff in between.
      auto lasted = std::chrono::steady_clock::now() - started;
      if (lasted < std::chrono::seconds(options_.watch_timeout_seconds) - std::chrono::seconds(1)) {
        std::lock_guard<std::mutex> lock(mu_);
        ++counters_.dropped;
      }
      if (lasted < std::chrono::seconds(1)) {
        stop_.WaitFor(backoff.Next());
      } else {
        backoff.Reset();
      }
      continue;
    }
    record(s);
    if (s.code() == Code::kGone) {
      // 410: the version we watch from is compacted away. Relist (at once, as client-go does).
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++counters_.gone;
      }
      log::Info("watch expired (410); relisting", {{"informer", what}, {"error", s.message()}});
      need_list = true;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.dropped;
      ++counters_.errors;
    }
    auto wait = backoff.Next();
    log::Warn("watch failed; resuming from the last resourceVersion",
              {{"informer", what}, {"error", s.ToString()},
               {"resource_version", last_resource_version()},
               {"backoff_ms", std::to_string(wait.count())}});
    stop_.WaitFor(wait);
  }
}

}  // namespace oomscope::kube
