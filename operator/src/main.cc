// oomscope-operator: notices OOMKilled containers of opted-in Deployments, applies the debugging
// recipe, and restores the Deployment exactly afterwards. Flags: --help and docs/operator.md.
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "analyzer_client.h"
#include "config.h"
#include "oomscope/common/config.h"
#include "controller.h"
#include "oomscope/common/log.h"
#include "oomscope/http/server.h"
#include "oomscope/kube/config.h"
#include "oomscope/kube/leader_election.h"
#include "sidecar_mode.h"

int main(int argc, char** argv) {
  using namespace oomscope;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help") return std::fputs(op::kConfigHelp, stdout), 0;
  Result<op::Config> config = op::ParseConfig(argc, argv, ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "oomscope-operator: %s\n%s", config.status().message().c_str(), op::kConfigHelp);
    return 2;
  }
  // Few malloc arenas: the informers' threads otherwise each grow their own, and the caches'
  // many small JSON nodes end up spread (and kept) across them.
  mallopt(M_ARENA_MAX, 2);
  log::Configure(log::Level::kInfo, config->log_format == "text" ? log::Format::kText : log::Format::kJson);
  // SIGTERM and SIGINT are taken by one thread with sigwait (blocked everywhere else).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string token;
  if (!config->upload_token_file.empty()) {
    std::ifstream in(config->upload_token_file);
    if (!in) return log::Error("cannot read the upload token", {{"path", config->upload_token_file}}), 2;
    std::getline(in, token);
    config->reconcile.upload_token = !token.empty();
  }
  Result<kube::ClusterConfig> cluster = kube::ResolveConfig(config->kubeconfig);
  if (!cluster.ok()) return log::Error("no cluster configuration", {{"error", cluster.status().message()}}), 2;
  Result<std::unique_ptr<kube::KubeClient>> client = kube::NewKubeClient(*cluster);
  if (!client.ok()) return log::Error("cannot make a client", {{"error", client.status().message()}}), 2;

  kube::StopSignal stop;
  {
    std::string why;
    config->reconcile.native_sidecar = op::DecideNativeSidecar(config->native_sidecar, **client, stop, &why);
    log::Info("sidecar injection", {{"native", config->reconcile.native_sidecar ? "true" : "false"}, {"because", why}});
  }

  char host[256] = "oomscope-operator";
  gethostname(host, sizeof host - 1);
  const std::string identity = std::string(host) + "_" + std::to_string(std::random_device{}() % 100000);
  std::unique_ptr<op::AnalyzerClient> analyzer;
  if (!config->reconcile.analyzer_url.empty()) analyzer = op::MakeAnalyzerClient(config->reconcile.analyzer_url, token);
  op::Metrics metrics;
  kube::EventRecorder events(**client, identity);
  op::Executor executor(**client, events, metrics, token);
  op::Controller controller(**client, analyzer.get(), executor, metrics,
                            {config->namespace_, config->label_selector, config->reconcile, config->workers});

  size_t colon = config->listen.rfind(':');
  auto server = http::MakeServer(config->listen.substr(0, colon), std::stoi(config->listen.substr(colon + 1)));
  server->Route("GET", "/healthz", [](const http::Request&) { return http::Response{200, "text/plain", "ok\n"}; });
  server->Route("GET", "/readyz", [&](const http::Request&) {
    // Ready once the caches are synced; a standby replica is ready too (it serves and waits).
    return controller.Synced() ? http::Response{200, "text/plain", "ok\n"}
                               : http::Response{503, "text/plain", "caches not synced\n"};
  });
  server->Route("GET", "/metrics", [&](const http::Request&) {
    controller.UpdateMetrics();
    return http::Response{200, "text/plain; version=0.0.4", metrics.Render()};
  });
  if (Status st = server->Start(); !st.ok()) return log::Error("cannot listen", {{"error", st.message()}}), 2;
  log::Info("listening", {{"port", std::to_string(server->port())}, {"cluster", cluster->source},
                          {"identity", identity}});

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::Info("stopping", {{"signal", std::to_string(sig)}});
    stop.Stop();
  });
  controller.StartInformers();
  int code = 0;
  const bool synced = controller.WaitForSync(stop);
  malloc_trim(0);  // the initial LISTs' pages are garbage now: give them back
  if (!synced) {
    // stopped before the caches synced
  } else if (config->leader_election) {
    kube::LeaderElectionConfig le;
    le.lease_namespace = config->leader_election_namespace;
    if (le.lease_namespace.empty()) le.lease_namespace = kube::InClusterNamespace();
    if (le.lease_namespace.empty()) le.lease_namespace = "default";
    le.lease_name = config->leader_election_id;
    le.identity = identity;
    le.on_started_leading = [&] {
      metrics.leader->Set(1);
      log::Info("leading", {{"identity", identity}});
      controller.StartWorkers();
    };
    le.on_stopped_leading = [&] { metrics.leader->Set(0); };
    le.on_new_leader = [](const std::string& who) { log::Info("leader", {{"identity", who}}); };
    kube::LeaderElector elector(**client, le);
    Status st = elector.Run(stop);
    if (!st.ok()) {
      log::Error("lost the lease; exiting so that another replica leads", {{"error", st.message()}});
      code = 1;
    }
  } else {
    metrics.leader->Set(1);
    controller.StartWorkers();
    while (!stop.WaitFor(std::chrono::seconds(3600))) {
    }
  }
  controller.Stop();
  server->Stop();
  if (!stop.stopped()) pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  log::Info("stopped");
  return code;
}
