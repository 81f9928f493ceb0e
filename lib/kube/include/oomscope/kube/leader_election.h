#pragma once

// Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
// acquire when the Lease is free or expired (renewTime + leaseDurationSeconds in the past),
// renew every retry period, every write guarded by the Lease's resourceVersion (a 409 means
// another replica moved first), give up leading when renewals fail for `renew_deadline`, and
// release (holderIdentity cleared, leaseDurationSeconds 1) on a graceful stop.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/stop_signal.h"
#include "oomscope/kube/time.h"

namespace oomscope::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name = "oomscope-operator";
  std::string identity;  // unique per replica: "<pod name>_<random>"
  std::chrono::seconds lease_duration{15};
  std::chrono::milliseconds renew_deadline{10000};  // < lease_duration
  std::chrono::milliseconds retry_period{2000};
  bool release_on_stop = true;
  // Called on the elector's thread; keep them short (start workers elsewhere).
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;  // someone else (or we) lead
};

// What the elector decides from a Lease it read (pure; exposed for tests).
struct LeaseView {
  std::string holder;
  int lease_duration_seconds = 0;
  TimePoint renew_time{};
  TimePoint acquire_time{};
  int lease_transitions = 0;
};
LeaseView ReadLease(const nlohmann::json& lease);

// Thread-safe getters; Run() on one thread.
class LeaderElector {
 public:
  LeaderElector(KubeClient& client, LeaderElectionConfig config);

  // Campaigns until leading, then renews until `stop` fires (releases the Lease, returns OK) or
  // leadership is lost (returns FailedPrecondition; the caller should stop acting, usually exit).
  Status Run(StopSignal& stop);

  bool IsLeader() const;
  std::string Leader() const;  // last observed holder

 private:
  // One acquire-or-renew attempt; true when we hold the Lease afterwards.
  bool TryAcquireOrRenew();
  void Release();
  void SetLeader(bool leading, const std::string& holder);

  KubeClient& client_;
  LeaderElectionConfig config_;
  mutable std::mutex mu_;
  bool leading_ = false;
  std::string leader_;
  nlohmann::json observed_;  // last Lease read or written
  TimePoint observed_at_{};  // local time when observed_ last changed
};

}  // namespace oomscope::kube
