// Digests on disk (digest_io.h): a series report built from the earlier snapshots' stored
// digests and the newest snapshot whole is the report built from all the files; a damaged
// digest is a clear error, never a crash.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oomscope/heap/analysis.h"
#include "oomscope/heap/digest_io.h"
#include "oomscope/heap/report.h"

using namespace oomscope;
using namespace oomscope::heap;

namespace {

SnapshotDigest SmallDigest(ClassTable& classes) {
  SnapshotDigest d;
  uint32_t a = classes.Intern("Array"), foo = classes.Intern("Foo"), str = classes.Intern("(string)");
  d.node_count = 4;
  d.edge_count = 7;
  d.ids = {1, 3, 8, 11};
  d.cls = {a, foo, str, foo};
  d.self_size = {16, 32, 5000000, UINT32_MAX};
  d.retained = {64, UINT32_MAX, 5000000, 40};
  d.big_retained[1] = 1ull << 40;
  d.entries = {2, 0, UINT16_MAX, 0};
  d.big_entries[2] = 100000;
  d.total_size = 16 + 32 + 5000000 + UINT32_MAX;
  d.max_id = 11;
  d.classes = {{foo, 2, 32 + UINT32_MAX, 1ull << 40}, {a, 1, 16, 64}, {str, 1, 5000000, 5000000}};
  return d;
}

void CheckSame(const SnapshotDigest& x, const ClassTable& cx, const SnapshotDigest& y, const ClassTable& cy) {
  CHECK(x.node_count == y.node_count);
  CHECK(x.edge_count == y.edge_count);
  CHECK(x.total_size == y.total_size);
  CHECK(x.max_id == y.max_id);
  CHECK(x.ids == y.ids);
  CHECK(x.self_size == y.self_size);
  CHECK(x.retained == y.retained);
  CHECK(x.entries == y.entries);
  CHECK(x.big_retained == y.big_retained);
  CHECK(x.big_entries == y.big_entries);
  REQUIRE(x.cls.size() == y.cls.size());
  for (size_t i = 0; i < x.cls.size(); ++i) CHECK(cx.name(x.cls[i]) == cy.name(y.cls[i]));
  REQUIRE(x.classes.size() == y.classes.size());
  for (size_t i = 0; i < x.classes.size(); ++i) {
    CHECK(cx.name(x.classes[i].class_id) == cy.name(y.classes[i].class_id));
    CHECK(x.classes[i].count == y.classes[i].count);
    CHECK(x.classes[i].self_size == y.classes[i].self_size);
    CHECK(x.classes[i].retained_size == y.classes[i].retained_size);
  }
}

}  // namespace

TEST_CASE("a digest round-trips, and loads into another class table by name") {
  ClassTable written;
  SnapshotDigest d = SmallDigest(written);
  std::string bytes = SerializeDigest(d, written);
  CHECK(bytes.substr(0, 8) == "OOMDIGST");

  ClassTable same;
  Result<SnapshotDigest> back = ParseDigest(bytes, same);
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CheckSame(d, written, *back, same);
  CHECK(back->cls == d.cls);  // a fresh table gets the same ids
  CHECK(SerializeDigest(*back, same) == bytes);

  ClassTable other;  // already holds names, in another order: ids are rewritten
  other.Intern("Foo");
  other.Intern("Map");
  Result<SnapshotDigest> moved = ParseDigest(bytes, other);
  REQUIRE(moved.ok());
  CheckSame(d, written, *moved, other);
  CHECK(moved->cls != d.cls);
  DigestCursor c(*moved);
  CHECK(c.retained(1) == (1ull << 40));
  CHECK(c.entries(2) == 100000);
}

TEST_CASE("an identity-only digest (no retained sizes) round-trips") {
  ClassTable t;
  SnapshotDigest d = SmallDigest(t);
  d.retained.clear();
  d.entries.clear();
  d.big_retained.clear();
  d.big_entries.clear();
  ClassTable t2;
  Result<SnapshotDigest> back = ParseDigest(SerializeDigest(d, t), t2);
  REQUIRE(back.ok());
  CheckSame(d, t, *back, t2);
}

TEST_CASE("a truncated, extended or damaged digest is a Corruption error, never a crash") {
  ClassTable t;
  const std::string bytes = SerializeDigest(SmallDigest(t), t);
  // Every truncation point.
  for (size_t n = 0; n < bytes.size(); ++n) {
    ClassTable t2;
    Result<SnapshotDigest> r = ParseDigest(std::string_view(bytes).substr(0, n), t2);
    INFO("length " << n);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kCorruption);
  }
  {
    ClassTable t2;
    Result<SnapshotDigest> r = ParseDigest(bytes + "x", t2);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("after the end") != std::string::npos);
  }
  {
    ClassTable t2;
    Result<SnapshotDigest> r = ParseDigest("{\"snapshot\":{}}", t2);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("not a snapshot digest") != std::string::npos);
  }
  {
    std::string other_version = bytes;
    other_version[8] = 9;
    ClassTable t2;
    Result<SnapshotDigest> r = ParseDigest(other_version, t2);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("version 9") != std::string::npos);
  }
  // Every single byte flipped: an error or a digest that still reads consistently, never a crash
  // (the sanitizer build checks the reads).
  size_t errors = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    ClassTable t2;
    Result<SnapshotDigest> r = ParseDigest(damaged, t2);
    if (!r.ok()) {
      ++errors;
      CHECK(r.status().code() == Code::kCorruption);
    } else {
      DigestCursor cursor(*r);
      for (size_t k = 0; k < r->retained.size(); ++k) (void)cursor.retained(k), (void)cursor.entries(k);
      for (uint32_t c : r->cls) CHECK(c < t2.size());
    }
  }
  CHECK(errors > bytes.size() / 4);
}

namespace {

std::vector<std::string> Series(const std::string& scenario) {
  std::vector<std::string> files;
  for (int i = 1; i <= 3; ++i)
    files.push_back(std::string(OOMSCOPE_FIXTURE_DIR) + "/" + scenario + "-" + std::to_string(i) + ".heapsnapshot");
  return files;
}

// What SeriesAnalyzer::AddFile records about a file.
SnapshotInfo FileInfo(const std::string& path) {
  SnapshotInfo info;
  info.source = path;
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  info.file_bytes = static_cast<uint64_t>(st.st_size);
  info.captured_at = static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
  return info;
}

}  // namespace

TEST_SUITE("real") {
TEST_CASE("a series report from stored digests and the newest snapshot equals the report from every file") {
  for (const char* scenario : {"story", "map-cache", "listeners"}) {
    INFO(std::string(scenario));
    std::vector<std::string> files = Series(scenario);
    // As the analyzer works: when snapshot k arrives, a fresh analyzer reads digests 1..k-1
    // from their bytes, adds k whole, reports, and keeps k's digest for the next one.
    std::vector<std::string> stored;
    for (size_t k = 0; k < files.size(); ++k) {
      SeriesAnalyzer a{AnalyzeOptions{}};
      for (size_t i = 0; i < k; ++i) {
        Result<SnapshotDigest> d = ParseDigest(stored[i], a.classes());
        REQUIRE_MESSAGE(d.ok(), d.status().ToString());
        REQUIRE(a.AddDigest(std::move(*d), FileInfo(files[i])).ok());
      }
      REQUIRE(a.AddFile(files[k]).ok());
      REQUIRE(a.newest_whole());
      std::string from_digests = ReportToJson(a.Finish()).dump(1);
      Result<Report> direct =
          AnalyzeFiles(std::vector<std::string>(files.begin(), files.begin() + static_cast<long>(k) + 1), AnalyzeOptions{});
      REQUIRE(direct.ok());
      std::string from_files = ReportToJson(*direct).dump(1);
      CHECK(from_digests == from_files);
      if (k + 1 == files.size()) CHECK(from_digests.find("\"suspects\"") != std::string::npos);
      const SnapshotDigest* newest = a.DigestNewest();
      REQUIRE(newest != nullptr);
      CHECK_FALSE(a.newest_whole());
      stored.push_back(SerializeDigest(*newest, a.classes()));
    }
  }
}
}
