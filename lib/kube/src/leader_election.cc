#include "oomscope/kube/leader_election.h"

namespace oomscope::kube {

LeaseView ReadLease(const nlohmann::json&) { return {}; }
LeaderElector::LeaderElector(KubeClient& client, LeaderElectionConfig config)
    : client_(client), config_(std::move(config)) {}
Status LeaderElector::Run(StopSignal&) { return Internal("skeleton"); }
bool LeaderElector::IsLeader() const { std::lock_guard<std::mutex> l(mu_); return leading_; }
std::string LeaderElector::Leader() const { std::lock_guard<std::mutex> l(mu_); return leader_; }

}  // namespace oomscope::kube
