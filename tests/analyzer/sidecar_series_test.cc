// The whole path: a real leaky Node process, the real sidecar, the analyzer; the report names the
// leak, /metrics shows it (and lists only documented metrics), and the web UI shows it in Chromium.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "analyzer_test_util.h"
#include "metrics_doc.h"
#include "node_process.h"

using namespace oomscope::testing;

namespace {

std::string Popen(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// The DOM Chromium builds from `url` (headless; as root it needs --no-sandbox).
std::string ChromiumDom(const std::string& url, const fs::path& profile) {
  return Popen("chromium --headless --no-sandbox --disable-gpu --user-data-dir=" + profile.string() +
               " --dump-dom '" + url + "' 2>/dev/null");
}

// The section of docs/metrics.md that starts with `heading` (up to the next "## ").
}  // namespace

TEST_SUITE("sidecar") {
TEST_CASE("a series the real sidecar takes of the leaky app ends as a report naming supportedExtensions; metrics and the web UI show it") {
  fs::path dir = Fresh("e2e");
  Analyzer a(dir / "store");
  REQUIRE(a.ok());
  std::ofstream(dir / "token") << kToken << "\n";
  NodeProcess app({kSrc + "/tests/analyzer/leaky_driver.js", kSrc + "/deploy/examples/leaky-api/server.js", (dir / "warm").string()});
  REQUIRE(app.ok());
  REQUIRE(WaitUntil([&] { return fs::exists(dir / "warm"); }, 30));  // the leak is growing
  ::setenv("POD_NAMESPACE", "shop", 1);
  ::setenv("WORKLOAD_NAME", "leaky-api", 1);
  ::setenv("POD_NAME", "leaky-api-5d8f-abcde", 1);
  ::setenv("CONTAINER_NAME", "app", 1);
  ChildProcess sidecar({OOMSCOPE_SIDECAR, "--inspector", app.address(), "--analyzer-url", "http://127.0.0.1:" + std::to_string(a.port()),
                        "--token-file", (dir / "token").string(), "--spool-dir", (dir / "spool").string(), "--listen", "127.0.0.1:0",
                        "--count", "3", "--interval", "2", "--gzip"},
                       "\"port\":\"", ChildProcess::Stream::kStderr);
  REQUIRE(sidecar.ok());
  nlohmann::json series;
  REQUIRE(WaitUntil([&] {
    nlohmann::json list = a.GetJson("/v1/series?namespace=shop&workload=leaky-api");
    if (!list.is_object() || list["series"].empty()) return false;
    series = list["series"][0];
    return series["state"] == "complete";
  }, 90));
  CHECK(series["snapshots"] == 3);
  CHECK(series["series_length"] == 3);
  CHECK(series["pod"] == "leaky-api-5d8f-abcde");
  INFO(series.dump());
  INFO(a.Get("/v1/series/" + series.value("id", "") + "/report").body.substr(0, 3000));
  REQUIRE(series.contains("top_suspect"));
  // The leak is among the ranked suspects (the driver's own HTTP client traffic in the same
  // process sometimes outranks it over a few seconds).
  CHECK(series["top_suspect"]["retained_bytes"].get<double>() > 0);
  std::string id = series["id"];
  std::string report = a.Get("/v1/series/" + id + "/report").body;
  nlohmann::json rj = nlohmann::json::parse(report, nullptr, false);
  REQUIRE(rj.is_object());
  CHECK(rj["snapshots"].size() == 3);
  bool named = false;
  for (const auto& sus : rj["suspects"])
    if (sus.value("rank", 99) <= 5) named = named || sus.dump().find("supportedExtensions") != std::string::npos;
  CHECK(named);

  std::string metrics = a.Get("/metrics").body;
  // The suspect's series line (std::regex is avoided: GCC 12 warns inside <regex> under ASan).
  std::string line;
  {
    std::istringstream in(metrics);
    std::string l;
    while (std::getline(in, l))
      if (l.rfind("oomscope_analyzer_suspect_retained_bytes{", 0) == 0 && l.find("name=\"supportedExtensions\"") != std::string::npos)
        line = l;
  }
  REQUIRE(!line.empty());
  CHECK(std::stod(line.substr(line.rfind(' ') + 1)) > 0);
  CHECK(line.find("rank=\"") != std::string::npos);
  CHECK(line.find("workload=\"leaky-api\"") != std::string::npos);
  CHECK(metrics.find("oomscope_analyzer_heap_bytes{namespace=\"shop\",workload=\"leaky-api\"}") != std::string::npos);

  // docs/metrics.md lists exactly what is exported.
  std::string section = MetricsDocSection(kSrc + "/docs/metrics.md", "## oomscope-analyzer");
  REQUIRE(!section.empty());
  std::set<std::string> exported = ExportedFamilies(metrics, "oomscope_analyzer_");
  std::set<std::string> documented = DocumentedFamilies(section, "oomscope_analyzer_");
  CHECK(exported.size() >= 9);
  CHECK(exported == documented);

  // The web UI in a real headless Chromium: the workload and series rows, then the report link.
  std::string base = "http://127.0.0.1:" + std::to_string(a.port());
  std::string dom = ChromiumDom(base + "/", dir / "chromium");
  REQUIRE(dom.find("data-workload=\"leaky-api\"") != std::string::npos);
  size_t row = dom.find("<tr class=\"series\" data-series=\"" + id + "\">");
  REQUIRE(row != std::string::npos);
  size_t href_at = dom.find("href=\"", row);
  REQUIRE(href_at != std::string::npos);
  href_at += 6;
  std::string href = dom.substr(href_at, dom.find('"', href_at) - href_at);
  CHECK(href == "/v1/series/" + id + "/report.html");
  std::string report_dom = ChromiumDom(base + href, dir / "chromium");
  CHECK(report_dom.find("supportedExtensions") != std::string::npos);
  CHECK(report_dom.find("<table") != std::string::npos);
  fs::remove_all(dir);
}
}
