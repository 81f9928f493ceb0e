// Each snapshot is parsed once: while it is uploaded. The series report is recomputed from the
// earlier snapshots' digests kept in the store and the newest snapshot as the upload parsed it,
// and it is the report lib/heap makes from every snapshot whole. A damaged digest costs one
// parse of its snapshot from the store, not a wrong report.
#include <doctest/doctest.h>

#include <cstdlib>

#include "analyzer_test_util.h"
#include "oomscope/heap/analysis.h"
#include "oomscope/heap/parser.h"
#include "oomscope/heap/report.h"

using namespace oomscope;
using namespace oomscope::testing;

namespace {

// `n` snapshots of one Node process whose `leak` array grows between them.
std::vector<std::string> NodeSeries(const fs::path& dir, int n) {
  std::string script =
      "const v8=require('v8');const leak=[];globalThis.leak=leak;"
      "for(let k=1;k<=" + std::to_string(n) + ";k++){"
      "for(let i=0;i<20000;i++)leak.push({k,i,s:'item-'+k+'-'+i});"
      "v8.writeHeapSnapshot(process.argv[1]+'/s'+k+'.heapsnapshot');}";
  std::string cmd = "node -e \"" + script + "\" " + dir.string();
  std::vector<std::string> out;
  if (std::system(cmd.c_str()) != 0) return out;
  for (int k = 1; k <= n; ++k) out.push_back(ReadFile(dir / ("s" + std::to_string(k) + ".heapsnapshot")));
  return out;
}

double Counter(const std::string& metrics, const std::string& series) {
  size_t at = metrics.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 1));
}

const std::string kUploadParses = "oomscope_analyzer_snapshot_parses_total{stage=\"upload\"}";
const std::string kAnalysisParses = "oomscope_analyzer_snapshot_parses_total{stage=\"analysis\"}";

// The report lib/heap makes from every snapshot whole, as the analyzer describes each one.
std::string ReportFromAll(const fs::path& dir, const std::vector<std::string>& snaps) {
  heap::SeriesAnalyzer all{heap::AnalyzeOptions{}};
  for (size_t k = 0; k < snaps.size(); ++k) {
    Result<heap::Snapshot> s = heap::ParseSnapshotFile((dir / ("s" + std::to_string(k + 1) + ".heapsnapshot")).string());
    REQUIRE(s.ok());
    heap::SnapshotInfo info;
    info.source = Sha(snaps[k]);
    info.file_bytes = snaps[k].size();
    info.captured_at = 1795750000 + static_cast<int>(k + 1) * 60;  // as UploadRequest's metadata says
    REQUIRE(all.Add(std::move(*s), info).ok());
  }
  return heap::ReportToJson(all.Finish()).dump();
}

}  // namespace

TEST_SUITE("digests") {
TEST_CASE("each snapshot is parsed once, while uploaded; the report from stored digests equals the report from every snapshot") {
  fs::path dir = Fresh("parse-once");
  fs::path store = dir / "store";
  std::vector<std::string> snaps = NodeSeries(dir, 4);
  REQUIRE(snaps.size() == 4);
  std::vector<std::string> three(snaps.begin(), snaps.begin() + 3);
  Analyzer a(store);
  REQUIRE(a.ok());
  // One at a time, each analyzed before the next arrives: every analysis after the first reads
  // the earlier snapshots' digests.
  for (int k = 1; k <= 3; ++k) {
    UploadOptions o;
    o.sequence = k;
    o.series_length = 4;
    o.gzip = k == 2;  // gzip: stored first, then parsed from the file (still once)
    REQUIRE(Upload(a, snaps[static_cast<size_t>(k - 1)], o).status == 201);
    REQUIRE(WaitUntil([&] { return a.GetJson("/v1/series/series-a").value("analyzed", 0) == k; }, 60));
    CHECK(fs::exists(store / "snapshots" / (Sha(snaps[static_cast<size_t>(k - 1)]) + ".digest")));
  }
  std::string m = a.Get("/metrics").body;
  CHECK(Counter(m, kUploadParses) == 3);
  CHECK(Counter(m, kAnalysisParses) == 0);
  RawResponse report = a.Get("/v1/series/series-a/report");
  REQUIRE(report.status == 200);
  CHECK(report.body == ReportFromAll(dir, three));
  nlohmann::json j = nlohmann::json::parse(report.body);
  REQUIRE(j["suspects"].size() >= 1);
  CHECK(j["suspects"][0].dump().find("leak") != std::string::npos);

  // A damaged digest: the snapshot is parsed again from the store (once), the report is still
  // the same as from every snapshot whole, and its digest is written again.
  fs::path d1 = store / "snapshots" / (Sha(snaps[0]) + ".digest");
  std::string good = ReadFile(d1);
  std::ofstream(d1, std::ios::trunc) << good.substr(0, good.size() / 2);
  UploadOptions o;
  o.sequence = 4;
  o.series_length = 4;
  REQUIRE(Upload(a, snaps[3], o).status == 201);
  REQUIRE(WaitUntil([&] { return a.GetJson("/v1/series/series-a").value("state", "") == "complete"; }, 60));
  m = a.Get("/metrics").body;
  CHECK(Counter(m, kUploadParses) == 4);
  CHECK(Counter(m, kAnalysisParses) == 1);
  CHECK(a.Get("/v1/series/series-a/report").body == ReportFromAll(dir, snaps));
  CHECK(ReadFile(d1) == good);
  a.Kill();
  fs::remove_all(dir);
}

TEST_CASE("under a memory budget smaller than one snapshot, concurrent series are checked and analyzed one snapshot at a time, each parsed once") {
  fs::path dir = Fresh("tight-budget");
  Analyzer a(dir / "store", {"--memory-budget-bytes", "1Ki", "--concurrency", "2"});
  REQUIRE(a.ok());
  // Four sidecars at once, each sending its series in order (as sidecars do), raw and gzip.
  constexpr int kSeries = 4, kEach = 3, kN = kSeries * kEach;
  std::vector<int> status(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSeries; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < kEach; ++k) {
        UploadOptions o;
        o.series = "series-" + std::to_string(i);
        o.sequence = k + 1;
        o.gzip = (i + k) % 2 == 0;
        status[static_cast<size_t>(i * kEach + k)] = Upload(a, TinySnapshot(100 + i * kEach + k), o).status;
      }
    });
  for (auto& t : threads) t.join();
  for (int s : status) CHECK(s == 201);
  bool analyzed_all = WaitUntil([&] {
    int analyzed = 0;
    nlohmann::json list = a.GetJson("/v1/series");  // kept: the loop below walks into it
    for (const auto& s : list["series"]) analyzed += s.value("analyzed", 0);
    return analyzed == kN;
  }, 60);
  REQUIRE_MESSAGE(analyzed_all, a.Get("/v1/series").body);
  std::string m = a.Get("/metrics").body;
  CHECK(Counter(m, kUploadParses) == kN);
  CHECK(Counter(m, kAnalysisParses) == 0);

  // A burst into one series, out of order: an analysis may find a newer snapshot already
  // analyzed and must parse it from the store while parses wait in the queue holding the whole
  // budget. It lets them go rather than wait on them: everything completes.
  threads.clear();
  constexpr int kBurst = 8;
  std::vector<int> burst(kBurst);
  for (int i = 0; i < kBurst; ++i)
    threads.emplace_back([&, i] {
      UploadOptions o;
      o.series = "burst";
      o.sequence = i + 1;
      o.gzip = i % 3 == 0;
      burst[static_cast<size_t>(i)] = Upload(a, TinySnapshot(200 + i), o).status;
    });
  for (auto& t : threads) t.join();
  for (int s : burst) CHECK(s == 201);
  CHECK(WaitUntil([&] { return a.GetJson("/v1/series/burst").value("analyzed", 0) == kBurst; }, 60));
  a.Kill();
  fs::remove_all(dir);
}
}
