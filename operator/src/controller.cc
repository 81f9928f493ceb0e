#include "controller.h"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <iterator>

#include "cache_transforms.h"
#include "oomscope/common/log.h"
#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"
#include "recipe.h"

namespace oomscope::op {
namespace {

using nlohmann::json;
namespace res = kube::resources;

bool HasOom(const json& pod) {
  const json statuses = pod.value("/status/containerStatuses"_json_pointer, json::array());
  for (const json& cs : statuses)
    for (const char* where : {"/lastState/terminated/reason", "/state/terminated/reason"})
      if (kube::StringAt(cs, where) == "OOMKilled") return true;
  return false;
}

// unseen_writes_ keys (controller.h): "Deployment", or one of these prefixes and the object's name.
const std::string kHd = "HeapDiagnosis/", kHpa = "HPA/";

// The unseen_writes_ key of a write the executor reports.
std::string WriteKey(const ExecutionReport::Write& w) {
  if (w.kind == "Deployment") return "Deployment";
  return (w.kind == "HPA" ? kHpa : kHd) + w.name;
}

std::string DeploymentOfHpa(const json& hpa) {
  if (kube::StringAt(hpa, "/spec/scaleTargetRef/kind") != "Deployment") return "";
  return kube::meta::Namespace(hpa) + "/" + kube::StringAt(hpa, "/spec/scaleTargetRef/name");
}

// This thread's CPU time: beside the wall time, it tells work from waiting for a core.
std::chrono::nanoseconds ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Controller::Controller(kube::KubeClient& client, AnalyzerClient* analyzer, Executor& executor, Metrics& metrics,
                       ControllerOptions options)
    : client_(client), analyzer_(analyzer), executor_(executor), metrics_(metrics), options_(std::move(options)) {
  // Each cache keeps what the operator reads (cache_transforms.h); the Pod cache, by far the
  // largest, is packed as well (kube::Store).
  auto make = [&](const kube::ResourceRef& r, kube::Transform transform, bool packed = false,
                  const std::string& selector = "") {
    kube::InformerOptions io;
    io.resource = r;
    io.namespace_ = options_.namespace_;
    io.label_selector = selector;
    io.packed_store = packed;
    auto informer = std::make_unique<kube::Informer>(client_, io);
    informer->SetTransform(std::move(transform));
    return informer;
  };
  deployments_ = make(res::Deployments(), kube::StripManagedFields, false, options_.label_selector);
  replicasets_ = make(res::ReplicaSets(), SlimReplicaSet);
  pods_ = make(res::Pods(), SlimPod, /*packed=*/true);
  hpas_ = make(res::HorizontalPodAutoscalers(), kube::StripManagedFields);
  diagnoses_ = make(res::HeapDiagnoses(), kube::StripManagedFields);

  auto enqueue = [this](const json& obj) { queue_.Add(kube::meta::KeyOf(obj).ToString()); };
  deployments_->AddHandlers({enqueue, [enqueue](const json&, const json& n) { enqueue(n); }, enqueue});
  auto rs = [this](const json& obj) { EnqueueOwnerOf(obj); };
  replicasets_->AddHandlers({rs, nullptr, nullptr});
  pods_->AddHandlers({[this](const json& p) { OnPod(p, false); }, [this](const json&, const json& p) { OnPod(p, false); },
                      [this](const json& p) { OnPod(p, true); }});
  auto hpa = [this](const json& h) {
    std::string key = DeploymentOfHpa(h);
    if (!key.empty()) queue_.Add(key);
  };
  hpas_->AddHandlers({hpa, [hpa](const json&, const json& n) { hpa(n); }, hpa});
  auto hd = [this](const json& d) {
    queue_.Add(kube::meta::Namespace(d) + "/" + kube::StringAt(d, "/spec/deployment"));
  };
  diagnoses_->AddHandlers({hd, [hd](const json&, const json& n) { hd(n); }, hd});
}

Controller::~Controller() { Stop(); }

void Controller::EnqueueOwnerOf(const json& replicaset) {
  kube::OwnerReference owner = kube::meta::ControllerOf(replicaset);
  if (owner.kind != "Deployment") return;
  // Only when one of its pods has an OOM: a ReplicaSet seen after its pod (relist order).
  const std::string rs = kube::meta::Name(replicaset), ns = kube::meta::Namespace(replicaset);
  bool relevant = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [pod, pod_rs] : oom_pods_)
      if (pod_rs == rs && pod.rfind(ns + "/", 0) == 0) relevant = true;
  }
  if (relevant) queue_.Add(ns + "/" + owner.name);
}

void Controller::OnPod(const json& pod, bool deleted) {
  const std::string key = kube::meta::KeyOf(pod).ToString();
  kube::OwnerReference owner = kube::meta::ControllerOf(pod);
  const bool oom = !deleted && owner.kind == "ReplicaSet" && HasOom(pod);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (oom)
      oom_pods_[key] = owner.name;
    else if (oom_pods_.erase(key) == 0)
      return;  // never had an OOM: nothing to tell
  }
  if (!oom) return;
  std::optional<json> rs = replicasets_->store().Get(kube::meta::Namespace(pod) + "/" + owner.name);
  if (rs) EnqueueOwnerOf(*rs);
}

void Controller::StartInformers() {
  for (auto* inf : {deployments_.get(), replicasets_.get(), pods_.get(), hpas_.get(), diagnoses_.get()}) inf->Start();
}

bool Controller::Synced() const {
  for (auto* inf : {deployments_.get(), replicasets_.get(), pods_.get(), hpas_.get(), diagnoses_.get()})
    if (!inf->HasSynced()) return false;
  return true;
}

bool Controller::WaitForSync(const kube::StopSignal& stop) const {
  for (auto* inf : {deployments_.get(), replicasets_.get(), pods_.get(), hpas_.get(), diagnoses_.get()})
    while (!inf->WaitForSync(std::chrono::milliseconds(1000), &stop))
      if (stop.stopped()) return false;
  return true;
}

void Controller::StartWorkers() {
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Worker(); });
}

void Controller::Stop() {
  if (stopping_.exchange(true)) return;
  queue_.ShutDown();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  for (auto* inf : {deployments_.get(), replicasets_.get(), pods_.get(), hpas_.get(), diagnoses_.get()}) inf->Stop();
}

void Controller::Worker() {
  std::chrono::steady_clock::duration queued{};
  while (std::optional<std::string> key = queue_.Get(&queued)) {
    ProcessKey(*key, queued);
    queue_.Done(*key);
  }
}

Observed Controller::Observe(const std::string& ns, const std::string& name, std::string* fresh_reads) {
  Observed o;
  o.ns = ns;
  o.name = name;
  o.config = options_.config;
  o.now = NowSeconds();
  const std::string key = ns + "/" + name;
  o.deployment = deployments_->store().Get(key);
  diagnoses_->store().ForEach([&](const json& hd) {  // copies only this Deployment's diagnoses
    if (kube::meta::Namespace(hd) == ns && kube::StringAt(hd, "/spec/deployment") == name)
      o.diagnoses.push_back(hd);
    else if (DiagnosisActive(hd))
      ++o.active_elsewhere;
  });
  const bool relevant = (o.deployment && (OptedIn(*o.deployment) || SavedOriginal(*o.deployment))) || !o.diagnoses.empty();
  if (!relevant) return o;

  hpas_->store().ForEach([&](const json& h) {
    if (DeploymentOfHpa(h) == key) o.hpa = h;
  });

  // The caches answer unless they may not show one of our own writes yet (unseen_writes_, keyed
  // "Deployment", "HeapDiagnosis/<name>", "HPA/<name>"): a new OOM is acted on from the caches
  // alone, with no read on the way to the update.
  const std::string cached_rv = o.deployment ? kube::meta::ResourceVersion(*o.deployment) : "";
  const std::string cached_hpa = o.hpa ? kube::meta::Name(*o.hpa) : "";
  const std::string cached_hpa_rv = o.hpa ? kube::meta::ResourceVersion(*o.hpa) : "";
  std::map<std::string, std::string> cached_hd_rvs;
  for (const json& hd : o.diagnoses) cached_hd_rvs[kube::meta::Name(hd)] = kube::meta::ResourceVersion(hd);
  bool fresh_deployment = false, fresh_diagnoses = false;
  std::string fresh_hpa;  // the HPA to read, by name
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = unseen_writes_.find(key);
    if (it != unseen_writes_.end()) {
      for (auto w = it->second.begin(); w != it->second.end();) {
        std::string cached;
        if (w->first == "Deployment") {
          cached = cached_rv;
        } else if (w->first.rfind(kHpa, 0) == 0) {
          if (w->first.substr(kHpa.size()) == cached_hpa) cached = cached_hpa_rv;
        } else if (auto c = cached_hd_rvs.find(w->first.substr(kHd.size())); c != cached_hd_rvs.end()) {
          cached = c->second;
        }
        if (!w->second.empty() && cached == w->second) {
          w = it->second.erase(w);  // the cache shows it now
          continue;
        }
        if (w->first == "Deployment")
          fresh_deployment = true;
        else if (w->first.rfind(kHpa, 0) == 0)
          fresh_hpa = w->first.substr(kHpa.size());
        else
          fresh_diagnoses = true;
        ++w;
      }
      if (it->second.empty()) unseen_writes_.erase(it);
    }
  }
  // After a fresh read, the cache is waited for until it reaches what the server said (someone
  // else may have written after us): `server_rv` is that version, "" when the object is gone.
  auto settle = [&](const std::string& entry, const Status& read, const std::string& server_rv,
                    const std::string& cached) {
    if (!read.ok() && read.code() != Code::kNotFound) return;  // keep reading it fresh
    std::lock_guard<std::mutex> lock(mu_);
    auto& pending = unseen_writes_[key];
    if (read.ok() && server_rv != cached)
      pending[entry] = server_rv;
    else
      pending.erase(entry);
    if (pending.empty()) unseen_writes_.erase(key);
  };
  if (fresh_deployment) {
    *fresh_reads += " deployment";
    Result<json> fresh = client_.Get(res::Deployments(), ns, name);
    if (fresh.ok())
      o.deployment = *fresh;
    else if (fresh.status().code() == Code::kNotFound)
      o.deployment.reset();
    settle("Deployment", fresh.status(), fresh.ok() ? kube::meta::ResourceVersion(*fresh) : "", cached_rv);
  }
  if (!fresh_hpa.empty()) {
    *fresh_reads += " hpa";
    // A list by name, not a get: the operator's RBAC lists and watches HPAs, and needs no more.
    kube::ListOptions by_name;
    by_name.field_selector = "metadata.name=" + fresh_hpa;
    Result<kube::ObjectList> listed = client_.List(res::HorizontalPodAutoscalers(), ns, by_name);
    Result<json> fresh = !listed.ok()            ? Result<json>(listed.status())
                         : listed->items.empty() ? Result<json>(NotFound("HPA " + fresh_hpa + " is gone"))
                                                 : Result<json>(std::move(listed->items[0]));
    if (fresh.ok() && DeploymentOfHpa(*fresh) == key)
      o.hpa = *fresh;
    else if ((fresh.ok() || fresh.status().code() == Code::kNotFound) && fresh_hpa == cached_hpa)
      o.hpa.reset();  // gone, or no longer scaling this Deployment
    settle(kHpa + fresh_hpa, fresh.status(), fresh.ok() ? kube::meta::ResourceVersion(*fresh) : "",
           fresh_hpa == cached_hpa ? cached_hpa_rv : "");
  }
  if (fresh_diagnoses) {
    *fresh_reads += " diagnoses";
    kube::ListOptions lo;
    Result<kube::ObjectList> hds = client_.List(res::HeapDiagnoses(), ns, lo);
    if (hds.ok()) {
      o.diagnoses.clear();
      for (json& hd : hds->items)
        if (kube::StringAt(hd, "/spec/deployment") == name) o.diagnoses.push_back(std::move(hd));
      std::lock_guard<std::mutex> lock(mu_);
      auto& pending = unseen_writes_[key];
      for (auto w = pending.begin(); w != pending.end();)
        w = w->first.rfind(kHd, 0) == 0 ? pending.erase(w) : std::next(w);
      for (const json& hd : o.diagnoses) {
        auto c = cached_hd_rvs.find(kube::meta::Name(hd));
        if (c == cached_hd_rvs.end() || c->second != kube::meta::ResourceVersion(hd))
          pending[kHd + kube::meta::Name(hd)] = kube::meta::ResourceVersion(hd);
      }
      if (pending.empty()) unseen_writes_.erase(key);
    }
  }
  // The namespace's pods with an OOM, and of those only the ones whose ReplicaSet this Deployment
  // controls (Reconcile checks the chain again, by uid): a namespace with many OOMing workloads
  // does not make every reconcile decode all their pods.
  std::vector<std::pair<std::string, std::string>> candidates;  // pod key, ReplicaSet name
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [pod, rs] : oom_pods_)
      if (pod.rfind(ns + "/", 0) == 0) candidates.emplace_back(pod, rs);
  }
  std::set<std::string> owned_rs, other_rs;
  for (const auto& [pod_key, rs] : candidates) {
    if (other_rs.count(rs)) continue;
    if (!owned_rs.count(rs)) {
      std::optional<json> r = replicasets_->store().Get(ns + "/" + rs);
      const kube::OwnerReference owner = r ? kube::meta::ControllerOf(*r) : kube::OwnerReference{};
      if (!r || owner.kind != "Deployment" || owner.name != name) {
        other_rs.insert(rs);
        continue;
      }
      owned_rs.insert(rs);
      o.replicasets.push_back(std::move(*r));
    }
    if (std::optional<json> pod = pods_->store().Get(pod_key)) o.pods.push_back(std::move(*pod));
  }
  bool polling = false;
  for (const json& hd : o.diagnoses) polling |= DiagnosisActive(hd) && kube::StringAt(hd, "/status/phase") != "";
  if (polling && analyzer_) {
    Result<json> series = analyzer_->ListSeries(ns, name);
    if (series.ok())
      o.series = *series;
    else
      o.analyzer_error = series.status().message();
  }
  return o;
}

void Controller::ProcessKey(const std::string& key, std::chrono::steady_clock::duration queued) {
  const auto start = std::chrono::steady_clock::now();
  const auto cpu_start = ThreadCpu();
  kube::ObjectKey k = kube::ObjectKey::Parse(key);
  std::string fresh_reads;
  Observed o = Observe(k.namespace_, k.name, &fresh_reads);
  const auto observed = std::chrono::steady_clock::now();
  const auto observe_cpu = ThreadCpu() - cpu_start;
  Plan plan = Reconcile(o);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& oom : plan.ooms)
      if (ooms_counted_.insert(oom).second) metrics_.ooms_seen->Increment();
    if (ooms_counted_.size() > 100000) ooms_counted_.clear();
  }
  ExecutionReport report;
  Status st = plan.actions.empty() ? Status::Ok() : executor_.Execute(o, plan, &report);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& pending = unseen_writes_[key];
    for (const ExecutionReport::Write& w : report.writes)
      pending[WriteKey(w)] = w.resource_version;
    if (!st.ok()) {  // e.g. a 409: whatever we acted on may be stale; read it all from the server
      pending["Deployment"] = "";
      pending[kHd] = "";
      if (o.hpa) pending[kHpa + kube::meta::Name(*o.hpa)] = "";
    }
    if (pending.empty()) unseen_writes_.erase(key);
  }
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - start).count();
  metrics_.reconcile_duration->Observe(seconds);
  auto ms = [](std::chrono::steady_clock::duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", std::chrono::duration<double, std::milli>(d).count());
    return std::string(buf);
  };
  // Where the time went, from the watch event that queued the key to the last API call.
  if (!plan.actions.empty() || !st.ok())
    log::Info("reconciled", {{"deployment", key}, {"plan", plan.summary}, {"actions", std::to_string(plan.actions.size())},
                             {"result", st.ok() ? "ok" : st.ToString()}, {"queued_ms", ms(queued)},
                             {"observe_ms", ms(observed - start)}, {"observe_cpu_ms", ms(observe_cpu)}, {"fresh_reads", fresh_reads.empty() ? "none" : fresh_reads.substr(1)},
                             {"calls", report.calls}, {"total_ms", ms(now - start)}});
  if (!st.ok()) {
    metrics_.ReconcileTotal("error").Increment();
    queue_.AddRateLimited(key);  // a 409 comes back at once (5 ms), repeated failures back off
    return;
  }
  queue_.Forget(key);
  if (plan.requeue_after_seconds) {
    metrics_.ReconcileTotal("requeue").Increment();
    queue_.AddAfter(key, std::chrono::milliseconds(*plan.requeue_after_seconds * 1000));
  } else {
    metrics_.ReconcileTotal("success").Increment();
  }
}

void Controller::UpdateMetrics() {
  int active = 0;
  diagnoses_->store().ForEach([&](const json& hd) { active += DiagnosisActive(hd); });
  metrics_.in_progress->Set(active);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto* inf : {deployments_.get(), replicasets_.get(), pods_.get(), hpas_.get(), diagnoses_.get()}) {
    kube::RestartCounters now = inf->restarts();
    kube::RestartCounters& seen = restarts_seen_[inf->resource().resource];
    if (now.dropped > seen.dropped)
      metrics_.WatchRestarts(inf->resource().resource, "dropped").Increment(static_cast<double>(now.dropped - seen.dropped));
    if (now.gone > seen.gone)
      metrics_.WatchRestarts(inf->resource().resource, "gone").Increment(static_cast<double>(now.gone - seen.gone));
    seen = now;
  }
}

}  // namespace oomscope::op
