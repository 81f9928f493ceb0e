// Digests moved to a spill file (SpillDigest, MakeSpilledDigest) read back through DigestCursor
// exactly as they were in memory, window by window; a file that cannot be written leaves them in
// memory; a series analyzed with a spill directory reports exactly what it reports from memory.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph_builder.h"
#include "oomscope/heap/analysis.h"
#include "oomscope/heap/report.h"

using namespace oomscope;
using namespace oomscope::heap;

namespace {

// An unlinked temporary file, closed at the end of the scope.
struct TempFile {
  int fd = -1;
  TempFile() {
    std::string path = (std::filesystem::temp_directory_path() / "oomscope-spill-test-XXXXXX").string();
    fd = ::mkstemp(path.data());
    REQUIRE(fd >= 0);
    ::unlink(path.c_str());
  }
  ~TempFile() { ::close(fd); }
};

// n objects with ids 2i + 1, a few of them with values kept in the side tables.
SnapshotDigest Digest(size_t n) {
  SnapshotDigest d;
  d.node_count = n;
  for (size_t i = 0; i < n; ++i) {
    d.ids.push_back(static_cast<uint32_t>(2 * i + 1));
    d.cls.push_back(static_cast<uint32_t>(i % 7));
    d.self_size.push_back(static_cast<uint32_t>(i * 3));
    d.retained.push_back(static_cast<uint32_t>(i * 5));
    d.entries.push_back(static_cast<uint16_t>(i % 1000));
  }
  for (size_t i : {size_t{7}, n / 2, n - 1}) {
    d.retained[i] = UINT32_MAX;
    d.big_retained[static_cast<uint32_t>(i)] = (uint64_t{1} << 33) + i;
    d.entries[i] = UINT16_MAX;
    d.big_entries[static_cast<uint32_t>(i)] = 70000 + static_cast<uint32_t>(i);
  }
  return d;
}

void CheckRow(DigestCursor& got, const SnapshotDigest& want, size_t i) {
  CHECK(got.id(i) == want.ids[i]);
  CHECK(got.cls(i) == want.cls[i]);
  CHECK(got.self_size(i) == want.self_size[i]);
  DigestCursor w(want);  // in memory: the file's values against the arrays'
  CHECK(got.retained(i) == w.retained(i));
  CHECK(got.entries(i) == w.entries(i));
}

// Writes beyond `bytes` into any file fail (EFBIG) while this lives: a full disk, for one process.
struct FileSizeLimit {
  rlimit old{};
  void (*old_handler)(int);
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler = std::signal(SIGXFSZ, SIG_IGN);  // the write fails instead of killing us
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    rlimit lim = old;
    lim.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
  }
};

// MakeSpilledDigest with writes past `room` bytes failing (a full disk): it says so, moves
// the spill file's end nowhere, and keeps the whole digest in memory, equal to `want`.
void CheckKeptWhenDiskFull(const Snapshot& snap, const Graph& g, const std::vector<uint32_t>& node_class,
                           const std::vector<ClassStats>& stats, const SnapshotDigest& want, rlim_t room) {
  TempFile f;
  uint64_t end = 0;
  Status st;
  SnapshotDigest kept;
  {
    FileSizeLimit full(room);
    kept = MakeSpilledDigest(snap, g, node_class, stats, false, f.fd, &end, &st);
  }
  CHECK_FALSE(st.ok());
  CHECK(end == 0);
  CHECK_FALSE(kept.spill.has_value());
  CHECK(kept.ids == want.ids);
  CHECK(kept.retained == want.retained);
  CHECK(kept.big_retained == want.big_retained);
  CHECK(kept.big_entries == want.big_entries);
}

std::vector<std::string> Series(const std::string& scenario) {
  std::vector<std::string> files;
  for (int i = 1; i <= 3; ++i)
    files.push_back(std::string(OOMSCOPE_FIXTURE_DIR) + "/" + scenario + "-" + std::to_string(i) + ".heapsnapshot");
  return files;
}

std::string ReportJson(const std::vector<std::string>& files, const std::string& spill_dir,
                       uint64_t* spilled = nullptr) {
  AnalyzeOptions o;
  o.spill_dir = spill_dir;
  SeriesAnalyzer a(o);
  for (const std::string& f : files) REQUIRE(a.AddFile(f).ok());
  if (spilled) *spilled = a.spilled_bytes();
  return ReportToJson(a.Finish()).dump(1);
}

}  // namespace

TEST_CASE("a spilled digest reads back as it was, forward window by window and backward") {
  const size_t n = 40000;  // more than two windows of 16Ki entries
  const SnapshotDigest want = Digest(n);
  SnapshotDigest d = Digest(n);
  TempFile f;
  uint64_t end = 128;  // another digest's bytes come first
  REQUIRE(SpillDigest(d, f.fd, &end).ok());
  CHECK(end == 128 + n * (4 * 4 + 2));
  REQUIRE(d.spill.has_value());
  CHECK(d.ids.empty());
  CHECK(d.retained.empty());
  CHECK(d.entries.empty());
  CHECK(d.size() == n);
  CHECK(d.big_retained == want.big_retained);  // the side tables stay in memory

  DigestCursor c(d);
  REQUIRE(c.size() == n);
  for (size_t i = 0; i < n; ++i) CheckRow(c, want, i);
  for (size_t i : {n - 1, size_t{0}, n / 2, size_t{16384}, size_t{16383}}) CheckRow(c, want, i);
  CHECK(c.Seek(0, 2 * 20000 + 1) == 20000);
  CHECK(c.Seek(20000, 2 * 20000 + 2) == 20001);  // not present: the next larger id
  CHECK(c.Seek(0, UINT32_MAX) == n);
  CHECK(c.error().empty());

  DigestCursor in_memory(want);  // the same reads from memory
  for (size_t i = 0; i < n; i += 997) CheckRow(in_memory, want, i);
}

TEST_CASE("a spilled digest whose file went short says so and reads zeros") {
  SnapshotDigest d = Digest(1000);
  TempFile f;
  uint64_t end = 0;
  REQUIRE(SpillDigest(d, f.fd, &end).ok());
  REQUIRE(::ftruncate(f.fd, 100) == 0);
  DigestCursor c(d);
  CHECK(c.id(999) == 0);
  CHECK(c.error().find("reading the digest spill file") != std::string::npos);
}

TEST_CASE("a spill that cannot be written leaves the digest whole in memory") {
  const SnapshotDigest want = Digest(5000);
  SnapshotDigest d = Digest(5000);
  TempFile f;
  uint64_t end = 0;
  Status st;
  {
    FileSizeLimit full(8192);  // room for the first 2048 ids only
    st = SpillDigest(d, f.fd, &end);
  }
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("writing the digest spill file") != std::string::npos);
  CHECK(end == 0);
  CHECK_FALSE(d.spill.has_value());
  CHECK(d.ids == want.ids);
  CHECK(d.retained == want.retained);
  CHECK(d.entries == want.entries);

  // A read-only descriptor fails at once, the same way.
  int ro = ::open("/dev/null", O_RDONLY);
  REQUIRE(ro >= 0);
  CHECK_FALSE(SpillDigest(d, ro, &end).ok());
  ::close(ro);
  CHECK(d.ids == want.ids);
}

TEST_CASE("MakeSpilledDigest writes what MakeDigest keeps, and keeps it when the write fails") {
  const Snapshot snap = testing::LargeValuesGraph(uint64_t{5} << 30, 70000).b.Parse();
  const Graph g = BuildGraph(snap, nullptr);
  DominatorTree tree = BuildDominatorTree(snap, g);
  ClassTable classes;
  std::vector<uint32_t> node_class;
  std::vector<ClassStats> stats = ComputeClassSummary(snap, g, tree, classes, &node_class);
  const SnapshotDigest want = MakeDigest(snap, g, node_class, stats);

  for (bool identity_only : {false, true}) {
    INFO("identity_only " << identity_only);
    TempFile f;
    uint64_t end = 64;
    Status st;
    SnapshotDigest d = MakeSpilledDigest(snap, g, node_class, stats, identity_only, f.fd, &end, &st);
    REQUIRE(st.ok());
    REQUIRE(d.spill.has_value());
    CHECK(d.ids.empty());
    CHECK(d.size() == want.size());
    CHECK(end == 64 + want.size() * (identity_only ? 12 : 18));
    CHECK(d.total_size == want.total_size);
    CHECK(d.max_id == want.max_id);
    CHECK(d.node_count == want.node_count);
    CHECK(d.classes.size() == want.classes.size());
    DigestCursor c(d), w(want);
    for (size_t i = 0; i < want.size(); ++i) {
      CHECK(c.id(i) == want.ids[i]);
      CHECK(c.cls(i) == want.cls[i]);
      CHECK(c.self_size(i) == want.self_size[i]);
      if (!identity_only) {
        CHECK(c.retained(i) == w.retained(i));
        CHECK(c.entries(i) == w.entries(i));
      }
    }
  }

  CheckKeptWhenDiskFull(snap, g, node_class, stats, want, 4);
}

TEST_CASE("from 2^20 objects the columns are written on two threads, to the same places") {
  // A snapshot of nodes only (the entry counts are then 0), ids not in node order, a few
  // retained sizes past 32 bits.
  const uint32_t n = (1u << 20) + 77;
  Snapshot snap;
  snap.node_type.assign(n, NodeType::kObject);
  snap.node_name = U24Column(n);
  snap.node_id.resize(n);
  snap.node_self_size.resize(n);
  snap.first_edge.assign(size_t{n} + 1, 0);
  snap.strings.Append("X");
  Graph g;
  g.retained = SizeColumn(n);
  std::vector<uint32_t> node_class(n);
  for (uint32_t i = 0; i < n; ++i) {
    snap.node_id[i] = 2 * ((i * 7919u) % n) + 1;
    snap.node_self_size[i] = i % 1000;
    g.retained.Set(i, i % 5 == 0 ? (uint64_t{1} << 33) + i : uint64_t{i} * 3);
    node_class[i] = i % 13;
  }
  const SnapshotDigest want = MakeDigest(snap, g, node_class, {});
  for (bool identity_only : {false, true}) {
    INFO("identity_only " << identity_only);
    TempFile f;
    uint64_t end = 100;
    Status st;
    SnapshotDigest d = MakeSpilledDigest(snap, g, node_class, {}, identity_only, f.fd, &end, &st);
    REQUIRE(st.ok());
    REQUIRE(d.spill.has_value());
    CHECK(end == 100 + uint64_t{n} * (identity_only ? 12 : 18));
    CHECK(d.total_size == want.total_size);
    CHECK(d.max_id == want.max_id);
    DigestCursor c(d), w(want);
    size_t wrong = 0;
    for (size_t i = 0; i < n; ++i) {
      wrong += c.id(i) != want.ids[i] || c.cls(i) != want.cls[i] || c.self_size(i) != want.self_size[i];
      if (!identity_only) wrong += c.retained(i) != w.retained(i) || c.entries(i) != w.entries(i);
    }
    CHECK(wrong == 0);
  }
  // The second thread's columns, past the first's, cannot be written: all stays in memory.
  CheckKeptWhenDiskFull(snap, g, node_class, {}, want, 12 * uint64_t{n});
}

TEST_SUITE("real") {
TEST_CASE("a series spilled to disk reports exactly what it reports from memory") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "oomscope-spill-series";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const char* scenario : {"story", "map-cache", "listeners", "bounded-cache"}) {
    INFO(std::string(scenario));
    const std::vector<std::string> files = Series(scenario);
    uint64_t spilled = 0;
    const std::string in_memory = ReportJson(files, "", &spilled);
    CHECK(spilled == 0);
    CHECK(ReportJson(files, dir.string(), &spilled) == in_memory);
    CHECK(spilled > 0);  // the two earlier digests went to the file
    CHECK(std::filesystem::is_empty(dir));  // the spill file was unlinked at once
    // No such directory: the digests stay in memory, and the report says so.
    const std::string unspilled = ReportJson(files, (dir / "missing").string());
    nlohmann::json j = nlohmann::json::parse(unspilled);
    bool noted = false;
    for (const auto& note : j["notes"])
      noted |= note.get<std::string>().find("stayed in memory (cannot create a file in") != std::string::npos;
    CHECK(noted);
    nlohmann::json same = nlohmann::json::parse(in_memory);
    CHECK(j["suspects"] == same["suspects"]);
    CHECK(j["class_diff"] == same["class_diff"]);
  }
  std::filesystem::remove_all(dir);
}
}
