// oomscope-analyzer: receives heap snapshot series from sidecars, stores and analyzes them, and
// serves reports, a web UI and leak metrics. Flags and environment: --help, docs/api.md.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "analysis_queue.h"
#include "api.h"
#include "config.h"
#include "oomscope/common/allocator.h"
#include "oomscope/common/config.h"
#include "oomscope/common/log.h"
#include "retention.h"
#include "series_view.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace oomscope;
  using namespace oomscope::analyzer;
  // glibc gives each thread that allocates its own arena (up to 8 per core) and keeps what is
  // freed there: with a thread per upload, freed parses stayed resident and the process grew
  // past --memory-budget-bytes (bench/analyzer: peak RSS 1.4x the budget; with 2 arenas, 0.7x).
  TuneAllocator(/*max_arenas=*/2);
  ChooseHugePages();  // unless the host takes free memory back (allocator.h)
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help") return std::fputs(kConfigHelp, stdout), 0;
  Result<Config> config = ParseConfig(argc, argv, oomscope::ProcessEnvironment());
  if (!config.ok()) return std::fprintf(stderr, "oomscope-analyzer: %s\n%s", config.status().message().c_str(), kConfigHelp), 2;
  log::Configure(log::Level::kInfo, config->log_format == "text" ? log::Format::kText : log::Format::kJson);
  std::string token;
  if (!config->token_file.empty()) {
    std::ifstream in(config->token_file);
    if (!in || !std::getline(in, token) || token.empty())
      return log::Error("cannot read a token from the token file", {{"path", config->token_file}}), 2;
  }
  Result<std::unique_ptr<SnapshotStore>> store = OpenFsStore(config->store);
  if (!store.ok()) return log::Error("cannot open the store", {{"error", store.status().message()}}), 2;

  Metrics metrics;
  MemoryBudget budget(config->memory_budget_bytes);
  Retention retention(**store, config->retention_age_seconds, config->retention_bytes);
  AnalysisQueue queue(**store, budget, metrics, config->concurrency);
  UploadHandler uploads({token, config->max_upload_bytes}, **store, retention, budget, metrics, queue);
  std::atomic<bool> ready{false};
  size_t colon = config->listen.rfind(':');
  auto server = http::MakeServer(config->listen.substr(0, colon), std::stoi(config->listen.substr(colon + 1)));
  RegisterApi(*server, ApiContext{**store, metrics, uploads, token, config->read_token, config->series_quiet_seconds, &ready});
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  if (Status st = server->Start(); !st.ok()) return log::Error("cannot listen", {{"error", st.message()}}), 2;

  retention.EnforceAge(Now());
  queue.Recover();  // work a crash interrupted
  queue.Start();
  ready = true;
  log::Info("listening", {{"port", std::to_string(server->port())}, {"store", config->store},
                          {"series", std::to_string((*store)->SeriesIds().size())}});
  // Age retention runs at least every minute (sooner for short bounds).
  double tick = std::clamp(config->retention_age_seconds / 4, 0.2, 60.0);
  auto next = std::chrono::steady_clock::now();
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() < next) continue;
    retention.EnforceAge(Now());
    next = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(tick * 1000));
  }
  log::Info("stopping");
  server->Stop();
  queue.Stop();
  return 0;
}
