// oomscope-sidecar: runs beside a Node.js container, turns its inspector into a series of heap
// snapshots in the analysis backend. Flags and environment: see --help and docs/sidecar.md.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config.h"
#include "oomscope/common/config.h"
#include "oomscope/common/log.h"
#include "oomscope/http/server.h"
#include "sidecar.h"

namespace {
oomscope::sidecar::Sidecar* g_sidecar = nullptr;
void OnSignal(int) {
  if (g_sidecar) g_sidecar->Stop();
}
}  // namespace

int main(int argc, char** argv) {
  using namespace oomscope;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help") return std::fputs(sidecar::kConfigHelp, stdout), 0;
  Result<sidecar::Config> config = sidecar::ParseConfig(argc, argv, ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "oomscope-sidecar: %s\n%s", config.status().message().c_str(), sidecar::kConfigHelp);
    return 2;
  }
  log::Configure(log::Level::kInfo, config->log_format == "text" ? log::Format::kText : log::Format::kJson);
  std::string token;
  if (!config->token_file.empty()) {
    std::ifstream in(config->token_file);
    if (!in) return log::Error("cannot read the token file", {{"path", config->token_file}}), 2;
    std::getline(in, token);
  }
  Result<std::unique_ptr<sidecar::Spool>> spool = sidecar::Spool::Open(config->spool_dir, config->spool_max_bytes);
  if (!spool.ok()) return log::Error("cannot open the spool", {{"error", spool.status().message()}}), 2;
  sidecar::Sidecar app(*config, std::move(*spool), token);
  g_sidecar = &app;
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  size_t colon = config->listen.rfind(':');
  auto server = http::MakeServer(config->listen.substr(0, colon), std::stoi(config->listen.substr(colon + 1)));
  server->Route("GET", "/healthz", [&](const http::Request&) {
    return http::Response{200, "text/plain", "ok\n"};  // liveness: the process serves
  });
  server->Route("GET", "/metrics", [&](const http::Request&) {
    return http::Response{200, "text/plain; version=0.0.4", app.metrics().Render()};
  });
  server->Route("POST", "/capture", [&](const http::Request&) {
    app.RequestCapture();
    return http::Response{202, "application/json", "{\"status\":\"capture requested\"}"};
  });
  if (Status st = server->Start(); !st.ok()) return log::Error("cannot listen", {{"error", st.message()}}), 2;
  log::Info("oomscope-sidecar started", {{"inspector", config->inspector}, {"listen", config->listen},
                                         {"port", std::to_string(server->port())},
                                         {"analyzer", config->analyzer_url}, {"spool", config->spool_dir},
                                         {"gzip", config->gzip ? "true" : "false"},
                                         {"memory_limit_bytes", std::to_string(config->memory_limit_bytes)}});
  int code = app.Run();
  server->Stop();
  return code;
}
