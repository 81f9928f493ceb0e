// Crash safety and store bounds: SIGKILL during an upload and during an analysis, restart,
// nothing accepted lost; a full store answers 507 and retention frees room.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include "analyzer_test_util.h"

using namespace oomscope::testing;

namespace {
nlohmann::json RecordOnDisk(const fs::path& store, const std::string& id) {
  std::ifstream in(store / "snapshots" / (id + ".json"));
  return nlohmann::json::parse(in, nullptr, false);
}
}  // namespace

TEST_SUITE("durability") {
TEST_CASE("killed during an upload and during an analysis: after a restart nothing accepted is lost, the analysis completes, no temp files are left") {
  fs::path dir = Fresh("crash");
  fs::path store = dir / "store";
  std::string big = NodeSnapshot(dir, 120000);
  REQUIRE(big.size() > 1000000);
  std::string small = TinySnapshot(3);
  {
    Analyzer a(store);
    REQUIRE(a.ok());
    REQUIRE(Upload(a, small, UploadOptions{}).status == 201);
    // An upload half sent when the analyzer dies.
    UploadOptions o;
    o.series = "series-b";
    o.send_bytes = big.size() / 2;
    int fd = SendPartial(a.port(), UploadRequest(big, o));
    REQUIRE(fd >= 0);
    REQUIRE(WaitUntil([&] { return !Leftovers(store).empty(); }, 20));  // the temp file exists
    a.Kill();
    ::close(fd);
  }
  {
    Analyzer a(store);
    REQUIRE(a.ok());
    CHECK(Leftovers(store).empty());  // the half upload is gone
    CHECK(a.Get("/v1/snapshots/" + Sha(small)).status == 200);
    CHECK(a.Get("/v1/series/series-b").status == 404);
    // Now the big one whole; killed as soon as it is acknowledged, while it is analyzed.
    UploadOptions o;
    o.series = "series-b";
    o.series_length = 1;
    REQUIRE(Upload(a, big, o).status == 201);
    a.Kill();
  }
  nlohmann::json rec = RecordOnDisk(store, Sha(big));
  REQUIRE(rec.is_object());  // acknowledged: on disk
  MESSAGE("state at the kill: " << rec["state"]);
  {
    Analyzer a(store);
    REQUIRE(a.ok());
    REQUIRE(WaitUntil([&] { return a.GetJson("/v1/series/series-b").value("state", "") == "complete"; }, 60));
    CHECK(a.Get("/v1/series/series-b/report").status == 200);
    // Resumed: the snapshot the kill left pending is parsed from the store, once.
    std::string m = a.Get("/metrics").body;
    CHECK(m.find("oomscope_analyzer_snapshot_parses_total{stage=\"analysis\"} " +
                 std::string(rec["state"] == "pending" ? "1" : "0")) != std::string::npos);
    CHECK(fs::exists(store / "snapshots" / (Sha(big) + ".digest")));
    CHECK(RecordOnDisk(store, Sha(big))["state"] == "ok");
    CHECK(a.Get("/v1/snapshots/" + Sha(small)).status == 200);
    CHECK(Leftovers(store).empty());
  }
  fs::remove_all(dir);
}

TEST_CASE("a snapshot whose analysis keeps being interrupted is marked failed, not retried forever") {
  fs::path dir = Fresh("attempts");
  fs::path store = dir / "store";
  std::string id;
  {
    Analyzer a(store);
    REQUIRE(a.ok());
    std::string snap = TinySnapshot(5);
    id = Sha(snap);
    REQUIRE(Upload(a, snap).status == 201);
    REQUIRE(WaitUntil([&] { return RecordOnDisk(store, id).value("state", "") == "ok"; }, 30));
  }
  // As if the analyzer had been killed three times while on it (attempts persisted each time).
  nlohmann::json rec = RecordOnDisk(store, id);
  rec["state"] = "pending";
  rec["attempts"] = 3;
  std::ofstream(store / "snapshots" / (id + ".json")) << rec.dump();
  Analyzer a(store);
  REQUIRE(a.ok());
  REQUIRE(WaitUntil([&] { return RecordOnDisk(store, id).value("state", "") == "failed"; }, 30));
  nlohmann::json s = a.GetJson("/v1/series/series-a");
  CHECK(s["state"] == "failed");
  CHECK(s["error"].get<std::string>().find("interrupted 3 times") != std::string::npos);
  CHECK(a.Get("/metrics").body.find("oomscope_analyzer_snapshots_analyzed_total{result=\"failed\"} 1") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a full store answers 507 and keeps nothing half-written; retention by bytes frees room, oldest series first") {
  fs::path dir = Fresh("full");
  fs::path store = dir / "store";
  std::string s1 = TinySnapshot(1), s2 = TinySnapshot(2), s3 = TinySnapshot(3);
  // Room for two tiny snapshots.
  Analyzer a(store, {"--retention-bytes", std::to_string(s1.size() * 2 + 10)});
  REQUIRE(a.ok());
  UploadOptions o;
  o.series = "oldest";
  REQUIRE(Upload(a, s1, o).status == 201);
  o.series = "newer";
  REQUIRE(Upload(a, s2, o).status == 201);
  o.series = "newest";
  REQUIRE(Upload(a, s3, o).status == 201);  // the oldest series made room
  CHECK(a.Get("/v1/series/oldest").status == 404);
  CHECK(a.Get("/v1/series/newer").status == 200);
  CHECK(a.Get("/v1/series/newest").status == 200);
  // A series that alone fills the store: its next snapshot cannot fit without deleting itself.
  o.series = "newest";
  o.sequence = 2;
  std::string s4 = TinySnapshot(4);
  REQUIRE(Upload(a, s4, o).status == 201);  // "newer" made room
  o.sequence = 3;
  RawResponse r = Upload(a, TinySnapshot(5), o);
  CHECK(r.status == 507);
  CHECK(ErrorCode(r) == "StoreFull");
  // Larger than the whole store: refused before it is read, and once streaming for gzip.
  r = Upload(a, std::string(s1.size() * 3, ' ') + s1);
  CHECK(r.status == 507);
  UploadOptions gz;
  gz.gzip = true;
  gz.series = "other";
  CHECK(Upload(a, std::string(s1.size() * 3, ' ') + s1, gz).status == 507);
  // The analyses of what was stored write their records atomically (a moment's .tmp- file):
  // once they settle, nothing half-written may remain. A refused upload's file never goes away.
  REQUIRE(WaitUntil([&] { return Settled(a, "newest"); }, 30));
  WaitUntil([&] { return Leftovers(store).empty(); }, 10);
  std::vector<std::string> left = Leftovers(store);
  CHECK_MESSAGE(left.empty(), "left in the store: " << (left.empty() ? "" : left.front()));
  CHECK(a.Get("/metrics").body.find("oomscope_analyzer_uploads_total{result=\"store_full\"} 3") != std::string::npos);
  nlohmann::json newest = a.GetJson("/v1/series/newest");
  CHECK(newest["snapshots"] == 2);
  a.Kill();  // it may still be analyzing, writing into the store
  fs::remove_all(dir);
}

TEST_CASE("retention by age deletes series not updated for longer than --retention-age") {
  fs::path dir = Fresh("age");
  Analyzer a(dir / "store", {"--retention-age", "2s"});
  REQUIRE(a.ok());
  std::string snap = TinySnapshot(9);
  REQUIRE(Upload(a, snap).status == 201);
  CHECK(a.Get("/v1/series/series-a").status == 200);
  REQUIRE(WaitUntil([&] { return a.Get("/v1/series/series-a").status == 404; }, 30));
  CHECK(!fs::exists(dir / "store" / "snapshots" / (Sha(snap) + ".heapsnapshot")));
  fs::remove_all(dir);
}
}
