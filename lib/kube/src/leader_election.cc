#include "oomscope/kube/leader_election.h"

#include <random>

#include "oomscope/common/log.h"
#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"

namespace oomscope::kube {
namespace {

TimePoint TimeAt(const nlohmann::json& lease, const char* pointer) {
  Result<TimePoint> t = ParseTime(StringAt(lease, pointer));
  return t.ok() ? *t : TimePoint{};
}

// retry_period spread by up to +20%, so that replicas do not poll in step.
std::chrono::milliseconds Jittered(std::chrono::milliseconds d) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> f(1.0, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * f(rng)));
}

}  // namespace

LeaseView ReadLease(const nlohmann::json& lease) {
  LeaseView v;
  v.holder = StringAt(lease, "/spec/holderIdentity");
  v.lease_duration_seconds = static_cast<int>(IntAt(lease, "/spec/leaseDurationSeconds"));
  v.renew_time = TimeAt(lease, "/spec/renewTime");
  v.acquire_time = TimeAt(lease, "/spec/acquireTime");
  v.lease_transitions = static_cast<int>(IntAt(lease, "/spec/leaseTransitions"));
  return v;
}

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionConfig config)
    : client_(client), config_(std::move(config)) {}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_;
}

std::string LeaderElector::Leader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

void LeaderElector::SetLeader(bool leading, const std::string& holder) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    leading_ = leading;
    changed = holder != leader_;
    leader_ = holder;
  }
  if (changed && !holder.empty() && config_.on_new_leader) config_.on_new_leader(holder);
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto& leases = resources::Leases();
  const TimePoint now = std::chrono::system_clock::now();
  const std::string now_s = FormatMicroTime(now);
  const int duration = static_cast<int>(config_.lease_duration.count());

  Result<nlohmann::json> got = client_.Get(leases, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) {
    if (got.status().code() != Code::kNotFound) {
      log::Warn("leader election: cannot read the Lease", {{"error", got.status().ToString()}});
      return false;
    }
    nlohmann::json lease = {
        {"apiVersion", leases.ApiVersion()},
        {"kind", leases.kind},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec",
         {{"holderIdentity", config_.identity},
          {"leaseDurationSeconds", duration},
          {"acquireTime", now_s},
          {"renewTime", now_s},
          {"leaseTransitions", 0}}}};
    Result<nlohmann::json> created = client_.Create(leases, config_.lease_namespace, lease);
    if (!created.ok()) return false;  // AlreadyExists: another replica created it first
    observed_ = *created;
    observed_at_ = now;
    return true;
  }

  LeaseView seen = ReadLease(*got);
  LeaseView before = ReadLease(observed_);
  if (observed_.is_null() || seen.holder != before.holder || seen.renew_time != before.renew_time ||
      meta::ResourceVersion(*got) != meta::ResourceVersion(observed_)) {
    // Expiry is judged on our own clock from when we saw the record change, not on the holder's
    // renewTime (clocks differ between nodes), as client-go does.
    observed_ = *got;
    observed_at_ = now;
  }
  const bool ours = seen.holder == config_.identity;
  const int seen_duration = seen.lease_duration_seconds > 0 ? seen.lease_duration_seconds : duration;
  if (!seen.holder.empty() && !ours && now < observed_at_ + std::chrono::seconds(seen_duration)) {
    SetLeader(false, seen.holder);
    return false;
  }

  nlohmann::json lease = *got;
  nlohmann::json& spec = lease["spec"];
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = duration;
  spec["renewTime"] = now_s;
  if (!ours) {
    spec["acquireTime"] = now_s;
    spec["leaseTransitions"] = seen.lease_transitions + 1;  // a new holder, as client-go counts
  }
  // PUT with the resourceVersion we read: a 409 means another replica wrote in between.
  Result<nlohmann::json> updated = client_.Update(leases, config_.lease_namespace, lease);
  if (!updated.ok()) {
    if (updated.status().code() != Code::kConflict) {
      log::Warn("leader election: cannot update the Lease", {{"error", updated.status().ToString()}});
    }
    return false;
  }
  observed_ = *updated;
  observed_at_ = now;
  return true;
}

void LeaderElector::Release() {
  const auto& leases = resources::Leases();
  Result<nlohmann::json> got = client_.Get(leases, config_.lease_namespace, config_.lease_name);
  if (!got.ok() || ReadLease(*got).holder != config_.identity) return;
  const std::string now_s = FormatMicroTime(std::chrono::system_clock::now());
  nlohmann::json lease = *got;
  // As client-go releases: no holder, a 1 s duration, so that the next candidate takes over at once.
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = now_s;
  lease["spec"]["acquireTime"] = now_s;
  Result<nlohmann::json> updated = client_.Update(leases, config_.lease_namespace, lease);
  if (!updated.ok()) {
    log::Warn("leader election: could not release the Lease", {{"error", updated.status().ToString()}});
  } else {
    log::Info("leader election: released the Lease", {{"lease", config_.lease_name}});
  }
}

Status LeaderElector::Run(StopSignal& stop) {
  if (config_.lease_namespace.empty() || config_.lease_name.empty() || config_.identity.empty()) {
    return InvalidArgument("leader election needs a Lease namespace, name and identity");
  }
  // Campaign.
  while (!stop.stopped()) {
    if (TryAcquireOrRenew()) break;
    stop.WaitFor(Jittered(config_.retry_period));
  }
  if (stop.stopped()) return Cancelled("leader election: stopped before leading");
  log::Info("leader election: leading",
            {{"lease", config_.lease_namespace + "/" + config_.lease_name},
             {"identity", config_.identity}});
  SetLeader(true, config_.identity);
  if (config_.on_started_leading) config_.on_started_leading();

  // Renew until stopped or until renewals have failed for renew_deadline.
  auto last_renew = std::chrono::steady_clock::now();
  Status result = Status::Ok();
  while (!stop.WaitFor(config_.retry_period)) {
    if (TryAcquireOrRenew()) {
      last_renew = std::chrono::steady_clock::now();
      continue;
    }
    if (std::chrono::steady_clock::now() - last_renew >= config_.renew_deadline) {
      result = FailedPrecondition("leader election: lost the Lease " + config_.lease_name +
                                  " (no renewal within the renew deadline)");
      log::Error("leader election: lost leadership", {{"identity", config_.identity}});
      break;
    }
  }
  if (result.ok() && config_.release_on_stop) Release();
  SetLeader(false, result.ok() && config_.release_on_stop ? "" : Leader());
  if (config_.on_stopped_leading) config_.on_stopped_leading();
  return result;
}

}  // namespace oomscope::kube
