// POST /v1/snapshots against the running analyzer: stored, duplicate, gzip, concurrent, and every
// kind of bad upload answered 4xx with a clear error while the service keeps working.
#include <doctest/doctest.h>

#include <set>

#include "analyzer_test_util.h"

using namespace oomscope::testing;

TEST_SUITE("uploads") {
TEST_CASE("an upload is stored (201), then a duplicate (200), raw or gzip; it can be downloaded") {
  fs::path dir = Fresh("upload");
  Analyzer a(dir / "store");
  REQUIRE(a.ok());
  std::string snap = TinySnapshot();
  RawResponse r = Upload(a, snap);
  REQUIRE(r.status == 201);
  nlohmann::json j = nlohmann::json::parse(r.body);
  CHECK(j["id"] == Sha(snap));
  CHECK(j["series"] == "series-a");
  // On disk before the answer.
  CHECK(fs::exists(dir / "store" / "snapshots" / (Sha(snap) + ".heapsnapshot")));

  r = Upload(a, snap);
  CHECK(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["duplicate"] == true);
  UploadOptions gz;
  gz.gzip = true;
  CHECK(Upload(a, snap, gz).status == 200);  // same content, compressed: still a duplicate

  std::string other = TinySnapshot(7);
  gz.sequence = 2;
  r = Upload(a, other, gz);
  REQUIRE(r.status == 201);
  // The inflated bytes are stored and hashed.
  RawResponse dl = a.Get("/v1/snapshots/" + Sha(other));
  CHECK(dl.status == 200);
  CHECK(dl.body == other);
  CHECK(dl.headers["content-type"] == "application/octet-stream");

  REQUIRE(WaitUntil([&] { return a.GetJson("/v1/series/series-a").value("analyzed", 0) == 2; }, 30));
  nlohmann::json s = a.GetJson("/v1/series/series-a");
  CHECK(s["snapshots"] == 2);
  CHECK(s["namespace"] == "shop");
  CHECK(s["workload"] == "api");
  CHECK(s["snapshot_list"].size() == 2);
  CHECK(a.Get("/v1/series/series-a/report").status == 200);
  CHECK(a.Get("/v1/series/series-a/report.html").body.find("<html") != std::string::npos);
  nlohmann::json list = a.GetJson("/v1/series?namespace=shop&workload=api");
  CHECK(list["series"].size() == 1);
  CHECK(a.GetJson("/v1/series?namespace=shop&workload=other")["series"].empty());
  CHECK(a.GetJson("/v1/series?namespace=shop&workload=api&pod=api-7f9c-x2k")["series"].size() == 1);
  CHECK(a.GetJson("/v1/workloads")["workloads"][0]["workload"] == "api");
  REQUIRE(WaitUntil([&] { return Settled(a, "series-a"); }, 30));
  CHECK(Leftovers(dir / "store").empty());
  a.Kill();
  fs::remove_all(dir);
}

TEST_CASE("bad uploads get a 4xx with a clear error, nothing is kept, and the service keeps working") {
  fs::path dir = Fresh("bad");
  Analyzer a(dir / "store", {"--max-upload-bytes", "100000"});
  REQUIRE(a.ok());
  std::string snap = TinySnapshot(1);

  UploadOptions o;
  o.token = "";
  RawResponse r = Upload(a, snap, o);
  CHECK(r.status == 401);
  CHECK(ErrorCode(r) == "Unauthenticated");
  o.token = "wrong";
  CHECK(Upload(a, snap, o).status == 401);
  // Refused on its headers, though its body (read and discarded) is larger than the limit.
  CHECK(Upload(a, std::string(3 << 20, 'x'), o).status == 401);

  r = Upload(a, "{\"hello\": \"not a heap snapshot\"}");
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "NotASnapshot");
  CHECK(r.body.find("not a V8 heap snapshot") != std::string::npos);

  // Truncated: the hash is of the truncated bytes, so only the snapshot check catches it.
  r = Upload(a, snap.substr(0, snap.size() / 2));
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "NotASnapshot");

  // The body ends before Content-Length.
  o = {};
  o.send_bytes = snap.size() / 2;
  r = Upload(a, snap, o);
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "Truncated");

  o = {};
  o.sha = std::string(64, 'a');
  r = Upload(a, snap, o);
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "HashMismatch");

  r = Upload(a, std::string(200000, 'x'));
  CHECK(r.status == 413);
  CHECK(ErrorCode(r) == "TooLarge");
  CHECK(r.body.find("--max-upload-bytes") != std::string::npos);
  // Over the limit only once inflated (a gzip bomb): 413 as well.
  o = {};
  o.gzip = true;
  r = Upload(a, std::string(300000, ' ') + snap, o);
  CHECK(r.status == 413);

  o = {};
  o.gzip = true;
  RawRequest bad_gzip = UploadRequest(snap, o);
  bad_gzip.body = "not gzip at all";
  CHECK(Send(a.port(), bad_gzip).status == 400);

  o = {};
  o.series = "../../etc";
  r = Upload(a, snap, o);
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "BadMetadata");

  r = a.Get("/v1/series/nope");
  CHECK(r.status == 404);
  CHECK(r.body.find("no series") != std::string::npos);
  CHECK(a.Get("/v1/series/nope/report").status == 404);
  CHECK(a.Get("/v1/snapshots/" + std::string(64, 'b')).status == 404);
  CHECK(Send(a.port(), RawRequest{"DELETE", "/v1/series/nope", {}, {}}).status == 401);
  CHECK(a.Get("/v1/nothing").status == 404);

  // Nothing kept, and a good upload still works.
  CHECK(a.GetJson("/v1/series")["series"].empty());
  CHECK(Leftovers(dir / "store").empty());
  CHECK(Upload(a, snap).status == 201);
  CHECK(a.Get("/healthz").status == 200);
  CHECK(a.Get("/readyz").status == 200);
  std::string metrics = a.Get("/metrics").body;
  CHECK(metrics.find("oomscope_analyzer_uploads_total{result=\"unauthorized\"} 3") != std::string::npos);
  CHECK(metrics.find("oomscope_analyzer_uploads_total{result=\"too_large\"} 2") != std::string::npos);
  CHECK(metrics.find("oomscope_analyzer_uploads_total{result=\"stored\"} 1") != std::string::npos);

  // DELETE with the token removes the series and its files.
  RawRequest del{"DELETE", "/v1/series/series-a", {{"Authorization", "Bearer " + kToken}}, {}};
  CHECK(Send(a.port(), del).status == 200);
  CHECK(a.Get("/v1/series/series-a").status == 404);
  CHECK(a.Get("/v1/snapshots/" + Sha(snap)).status == 404);
  a.Kill();  // it may still be analyzing, writing into the store
  fs::remove_all(dir);
}

TEST_CASE("concurrent uploads are all stored, each once") {
  fs::path dir = Fresh("concurrent");
  Analyzer a(dir / "store", {"--concurrency", "2"});
  REQUIRE(a.ok());
  constexpr int kN = 12;
  std::vector<int> status(kN * 2);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN * 2; ++i)
    threads.emplace_back([&, i] {
      UploadOptions o;
      o.series = "series-" + std::to_string(i % 3);
      o.sequence = i % kN + 1;
      o.gzip = i % 2 == 0;
      status[i] = Upload(a, TinySnapshot(i % kN + 10), o).status;  // each content twice
    });
  for (auto& t : threads) t.join();
  int created = 0, duplicate = 0;
  for (int s : status) {
    created += s == 201;
    duplicate += s == 200;
  }
  CHECK(created == kN);
  CHECK(duplicate == kN);
  nlohmann::json list;
  REQUIRE(WaitUntil([&] {
    list = a.GetJson("/v1/series");
    int analyzed = 0;
    for (const auto& s : list["series"]) analyzed += s.value("analyzed", 0);
    return analyzed == kN;
  }, 60));
  int snapshots = 0;
  for (const auto& s : list["series"]) snapshots += s["snapshots"].get<int>();
  CHECK(snapshots == kN);
  // The report is written before the snapshots' records say analyzed: wait for those too.
  REQUIRE(WaitUntil([&] {
    for (const auto& s : list["series"])
      if (!Settled(a, s["id"].get<std::string>())) return false;
    return true;
  }, 60));
  CHECK(Leftovers(dir / "store").empty());
  a.Kill();
  fs::remove_all(dir);
}
}
