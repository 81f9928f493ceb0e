#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "oomscope/common/sha256.h"
#include "spool.h"

using namespace oomscope;
using namespace oomscope::sidecar;
namespace fs = std::filesystem;

namespace {
fs::path Fresh(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("oomscope-spool-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}
std::string Write(Spool& s, size_t bytes, char fill) {
  std::string p = s.IncomingPath();
  std::ofstream(p, std::ios::binary) << std::string(bytes, fill);
  return p;
}
}  // namespace

TEST_CASE("spool: entries survive a restart, in order, with their hash and metadata") {
  fs::path dir = Fresh("restart");
  {
    auto s = std::move(Spool::Open(dir, 1 << 20).value());
    auto a = s->Add(Write(*s, 1000, 'a'), {{"sequence", 1}});
    auto b = s->Add(Write(*s, 2000, 'b'), {{"sequence", 2}});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->sha256 == *Sha256File(a->data_path));
    CHECK(s->bytes() == 3000);
  }
  auto s = std::move(Spool::Open(dir, 1 << 20).value());
  auto pending = s->Pending();
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].meta["sequence"] == 1);
  CHECK(pending[1].meta["sequence"] == 2);
  CHECK(pending[0].id < pending[1].id);
  CHECK(s->bytes() == 3000);
  REQUIRE(s->Remove(pending[0].id).ok());
  CHECK(s->Pending().size() == 1);
  CHECK(s->Remove("nope").code() == Code::kNotFound);
  // New entries after a restart sort after the old ones.
  auto c = s->Add(Write(*s, 10, 'c'), {{"sequence", 3}});
  REQUIRE(c.ok());
  CHECK(s->Pending().back().id == c->id);
  fs::remove_all(dir);
}

TEST_CASE("spool: the bound drops the oldest entries and counts them") {
  fs::path dir = Fresh("bound");
  auto s = std::move(Spool::Open(dir, 5000).value());
  for (int i = 0; i < 5; ++i) REQUIRE(s->Add(Write(*s, 2000, static_cast<char>('a' + i)), {{"sequence", i}}).ok());
  auto pending = s->Pending();
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].meta["sequence"] == 3);
  CHECK(pending[1].meta["sequence"] == 4);
  CHECK(s->dropped() == 3);
  CHECK(s->bytes() <= 5000);
  // A snapshot larger than the whole bound is refused and counted.
  auto big = s->Add(Write(*s, 6000, 'z'), {});
  CHECK(big.status().code() == Code::kResourceExhausted);
  CHECK(s->dropped() == 4);
  CHECK(s->Pending().size() == 2);
  fs::remove_all(dir);
}

TEST_CASE("spool: debris of a crash is cleared, whole entries are kept") {
  fs::path dir = Fresh("debris");
  std::string kept_id;
  {
    auto s = std::move(Spool::Open(dir, 1 << 20).value());
    kept_id = s->Add(Write(*s, 100, 'k'), {{"sequence", 1}})->id;
    Write(*s, 50, 'p');  // an incoming file never added (crash during capture)
  }
  std::ofstream(dir / "x.heapsnapshot.partial") << "half";
  std::ofstream(dir / "000000000099-deadbeef0000.heapsnapshot") << "no metadata";
  std::ofstream(dir / "000000000098-deadbeef0000.meta.json") << "{\"sha256\":\"x\"}";  // no data
  auto s = std::move(Spool::Open(dir, 1 << 20).value());
  auto pending = s->Pending();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].id == kept_id);
  size_t files = 0;
  for (const auto& de : fs::directory_iterator(dir)) {
    (void)de;
    ++files;
  }
  CHECK(files == 2);  // the kept entry's data and metadata only
  fs::remove_all(dir);
}

#include "diagnostic_dir.h"

TEST_CASE("Node's own snapshots are reported once complete, once") {
  fs::path dir = Fresh("diag");
  fs::create_directories(dir);
  DiagnosticDirWatcher w(dir.string());
  std::string f = (dir / "Heap.20261127.030450.31878.0.001.heapsnapshot").string();
  std::ofstream(f) << "{\"snapshot\":{";  // being written
  std::ofstream(dir / "notes.txt") << "}";
  CHECK(w.Poll().empty());
  CHECK(w.Poll().empty());  // stable but incomplete: not reported
  std::ofstream(f, std::ios::app) << "},\"strings\":[]}\n";
  CHECK(w.Poll().empty());  // changed since the last poll
  auto ready = w.Poll();
  REQUIRE(ready.size() == 1);
  CHECK(ready[0] == f);
  fs::remove(f);  // the caller takes it away
  CHECK(w.Poll().empty());
  fs::remove_all(dir);
}
