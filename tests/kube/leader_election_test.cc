// Leader election over a Lease in the emulator: one leader of two, takeover on release and on
// expiry.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "emulator.h"
#include "oomscope/kube/leader_election.h"
#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"
#include "recorder.h"

namespace k = oomscope::kube;
namespace kt = oomscope::kube::testing;

namespace {

struct Candidate {
  Candidate(k::KubeClient& client, const std::string& ns, const std::string& id, kt::Recorder& log,
            bool release = true) {
    k::LeaderElectionConfig c;
    c.lease_namespace = ns;
    c.lease_name = "oomscope-operator";
    c.identity = id;
    c.lease_duration = std::chrono::seconds(2);
    c.renew_deadline = std::chrono::milliseconds(1500);
    c.retry_period = std::chrono::milliseconds(100);
    c.release_on_stop = release;
    c.on_started_leading = [&log, id] { log.Add("start " + id); };
    c.on_stopped_leading = [&log, id] { log.Add("stop " + id); };
    c.on_new_leader = [&log, id](const std::string& holder) { log.Add(id + " sees " + holder); };
    elector = std::make_unique<k::LeaderElector>(client, c);
    thread = std::thread([this] { result = elector->Run(stop); });
  }
  ~Candidate() { Halt(); }
  void Halt() {
    stop.Stop();
    if (thread.joinable()) thread.join();
  }
  std::unique_ptr<k::LeaderElector> elector;
  k::StopSignal stop;
  oomscope::Status result;
  std::thread thread;
};

size_t Count(const std::vector<std::string>& e, const std::string& prefix) {
  size_t n = 0;
  for (const auto& s : e) n += s.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_SUITE("leader") {

TEST_CASE("two candidates: one leads; the other takes over when it releases, then on expiry") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "election");
  kt::Recorder log;

  auto a = std::make_unique<Candidate>(*client, ns, "replica-a", log);
  REQUIRE(log.WaitForEntry("start replica-a"));
  auto b = std::make_unique<Candidate>(*client, ns, "replica-b", log, /*release=*/false);
  // b sees a as the leader and does not lead.
  REQUIRE(log.WaitForEntry("replica-b sees replica-a"));
  CHECK(b->elector->Leader() == "replica-a");
  CHECK_FALSE(b->elector->IsLeader());
  CHECK(a->elector->IsLeader());
  auto lease = client->Get(k::resources::Leases(), ns, "oomscope-operator");
  REQUIRE(lease.ok());
  CHECK((*lease)["spec"]["holderIdentity"] == "replica-a");
  CHECK((*lease)["spec"]["renewTime"].get<std::string>().size() == 27);  // MicroTime

  // a stops gracefully and releases: b takes over without waiting out the lease.
  a->Halt();
  CHECK(a->result.ok());
  CHECK(log.Contains("stop replica-a"));
  REQUIRE(log.WaitForEntry("start replica-b"));
  CHECK(Count(log.entries(), "start ") == 2);
  lease = client->Get(k::resources::Leases(), ns, "oomscope-operator");
  REQUIRE(lease.ok());
  CHECK((*lease)["spec"]["holderIdentity"] == "replica-b");
  CHECK((*lease)["spec"]["leaseTransitions"].get<int>() >= 1);

  // b stops renewing without releasing (as if killed): c waits for the lease to expire.
  b->Halt();
  lease = client->Get(k::resources::Leases(), ns, "oomscope-operator");
  REQUIRE(lease.ok());
  CHECK((*lease)["spec"]["holderIdentity"] == "replica-b");  // not released
  auto c = std::make_unique<Candidate>(*client, ns, "replica-c", log);
  REQUIRE(log.WaitForEntry("replica-c sees replica-b"));
  CHECK_FALSE(c->elector->IsLeader());
  REQUIRE(log.WaitForEntry("start replica-c"));
  CHECK(c->elector->IsLeader());
}

TEST_CASE("a leader that cannot renew (the Lease updates fail) stops leading") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "lost");
  kt::Recorder log;
  Candidate a(*client, ns, "replica-a", log);
  REQUIRE(log.WaitForEntry("start replica-a"));
  REQUIRE(emu.Admin("POST", "/_emulator/faults",
                    {{"verb", "update"}, {"resource", "leases"}, {"status", 500}, {"count", 100000}}).ok());
  REQUIRE(log.WaitForEntry("stop replica-a"));
  a.thread.join();
  CHECK(a.result.code() == oomscope::Code::kFailedPrecondition);
  CHECK_FALSE(a.elector->IsLeader());
}

}  // TEST_SUITE
