#pragma once

// The operator's control loop: informers keep caches of Deployments, ReplicaSets, Pods, HPAs and
// HeapDiagnoses; their handlers only enqueue "namespace/deployment" keys; workers take a key,
// observe (cache, plus a fresh read of the Deployment and its diagnoses when it matters), call the
// pure Reconcile and hand the Plan to the Executor.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "analyzer_client.h"
#include "executor.h"
#include "metrics.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/informer.h"
#include "reconcile.h"
#include "work_queue.h"

namespace oomscope::op {

struct ControllerOptions {
  std::string namespace_;        // "" = all namespaces
  std::string label_selector;    // on Deployments
  ReconcileConfig config;
  int workers = 2;
};

class Controller {
 public:
  // `analyzer` may be null (no --analyzer-url): diagnoses then end by TTL.
  Controller(kube::KubeClient& client, AnalyzerClient* analyzer, Executor& executor, Metrics& metrics,
             ControllerOptions options);
  ~Controller();

  void StartInformers();
  bool Synced() const;
  // Waits until every cache is synced; false if `stop` fired first.
  bool WaitForSync(const kube::StopSignal& stop) const;
  // Runs the workers until Stop(). Call after the informers synced (and, with leader election,
  // once leading).
  void StartWorkers();
  void Stop();

  // Brings the gauges and watch-restart counters up to date (before /metrics renders).
  void UpdateMetrics();

 private:
  void Worker();
  void ProcessKey(const std::string& key, std::chrono::steady_clock::duration queued);
  // `fresh_reads`: which objects were read from the server rather than the caches (for the log).
  Observed Observe(const std::string& ns, const std::string& name, std::string* fresh_reads);
  void OnPod(const nlohmann::json& pod, bool deleted);
  void EnqueueOwnerOf(const nlohmann::json& replicaset);

  kube::KubeClient& client_;
  AnalyzerClient* analyzer_;
  Executor& executor_;
  Metrics& metrics_;
  ControllerOptions options_;
  WorkQueue queue_;
  std::unique_ptr<kube::Informer> deployments_, replicasets_, pods_, hpas_, diagnoses_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;  // guards the fields below
  std::map<std::string, std::string> oom_pods_;  // pod key -> owning ReplicaSet name, pods with an OOM
  std::set<std::string> ooms_counted_;            // "pod/container/restarts" counted in ooms_seen
  std::map<std::string, kube::RestartCounters> restarts_seen_;
  // Read-your-writes. Per Deployment key, our writes the caches may not show yet: "Deployment",
  // "HeapDiagnosis/NAME" or "HPA/NAME" -> the resourceVersion written ("" = unknown;
  // "HeapDiagnosis/" = all of them, after a failed plan). While an entry is pending, Observe
  // reads that object from the server; once the cache shows the version, the entry goes and the
  // cache answers alone.
  std::map<std::string, std::map<std::string, std::string>> unseen_writes_;
};

}  // namespace oomscope::op
