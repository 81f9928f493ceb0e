#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

#include "oomscope/common/allocator.h"
#include "oomscope/common/backoff.h"
#include "oomscope/common/sha256.h"

using namespace oomscope;
using namespace std::chrono_literals;

// The VmFlags of the mapping holding `at` (/proc/self/smaps: "hg" advised for huge pages, "nh"
// advised against them), with a space before each; nullopt where the kernel has no transparent
// huge pages or no smaps.
static std::optional<std::string> VmFlagsAt(const void* at) {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::ifstream smaps("/proc/self/smaps");
  if (!thp || !smaps) return std::nullopt;
  const auto where = reinterpret_cast<uintptr_t>(at);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) {  // a mapping's first line
      inside = lo <= where && where < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.substr(8) + " ";
    }
  }
  return std::nullopt;
}

TEST_CASE("huge vectors: filled like any vector; advised for huge pages only while they are on") {
  std::vector<uint32_t> small = oomscope::HugeVector<uint32_t>(3, 7);
  CHECK(small == std::vector<uint32_t>{7, 7, 7});
  CHECK(oomscope::HugeVector<uint8_t>(0).empty());
  oomscope::AdviseHugePages(nullptr, 0);                 // nothing to advise: no effect
  oomscope::AdviseHugePages(small.data(), sizeof(uint32_t));
  const size_t n = size_t{64} << 20;
  // Off by default: 4 KiB pages (on a VM whose host takes free memory back, huge pages are
  // mostly memory it must back afresh).
  CHECK_FALSE(oomscope::HugePagesOn());
  std::vector<uint8_t> plain = oomscope::HugeVector<uint8_t>(n, 2);
  REQUIRE(plain.size() == n);
  CHECK(plain.front() == 2);
  CHECK(plain.back() == 2);
  const std::optional<std::string> plain_flags = VmFlagsAt(plain.data() + n / 2);
  oomscope::UseHugePages(true);
  std::vector<uint8_t> big = oomscope::HugeVector<uint8_t>(n, 1);
  oomscope::UseHugePages(false);
  REQUIRE(big.size() == n);
  CHECK(big.front() == 1);
  CHECK(big.back() == 1);
  // Where the kernel has transparent huge pages, the mapping holding the array carries the
  // advice while they are on, whatever pages it was then given, and not otherwise.
  const std::optional<std::string> flags = VmFlagsAt(big.data() + n / 2);
  if (!flags) return;
  CHECK(flags->find(" hg ") != std::string::npos);
  REQUIRE(plain_flags.has_value());
  CHECK(plain_flags->find(" hg ") == std::string::npos);
}

TEST_CASE("a balloon that reports free pages to the host is found among the virtio devices") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("oomscope-virtio-" + std::to_string(::getpid()));
  fs::remove_all(root);
  auto device = [&](const std::string& name, const std::string& id, const std::string& features) {
    fs::create_directories(root / name);
    std::ofstream(root / name / "device") << id << "\n";
    std::ofstream(root / name / "features") << features << "\n";
  };
  CHECK_FALSE(oomscope::BalloonReportsFreePages((root / "missing").string()));
  // A network device with bit 5 set, and a balloon without it (statistics and deflate on OOM).
  device("virtio0", "0x0001", "11000101101110110000000000000100");
  device("virtio1", "0x0005", "01100000000000000000000000000000");
  CHECK_FALSE(oomscope::BalloonReportsFreePages(root.string()));
  // A balloon with VIRTIO_BALLOON_F_REPORTING (bit 5), as a Firecracker guest's.
  device("virtio2", "0x0005", "01100101000000000000000000000000");
  CHECK(oomscope::BalloonReportsFreePages(root.string()));
  fs::remove_all(root);
}

TEST_CASE("huge pages: OOMSCOPE_HUGE_PAGES says on or off; otherwise on unless the balloon reports free pages") {
  ::setenv("OOMSCOPE_HUGE_PAGES", "on", 1);
  oomscope::ChooseHugePages();
  CHECK(oomscope::HugePagesOn());
  ::setenv("OOMSCOPE_HUGE_PAGES", "off", 1);
  oomscope::ChooseHugePages();
  CHECK_FALSE(oomscope::HugePagesOn());
  for (const char* other : {"yes", ""}) {
    ::setenv("OOMSCOPE_HUGE_PAGES", other, 1);
    oomscope::ChooseHugePages();
    CHECK(oomscope::HugePagesOn() == !oomscope::BalloonReportsFreePages());
  }
  ::unsetenv("OOMSCOPE_HUGE_PAGES");
  oomscope::ChooseHugePages();
  CHECK(oomscope::HugePagesOn() == !oomscope::BalloonReportsFreePages());
  oomscope::UseHugePages(false);
}

TEST_CASE("MoveAppend: the destination gets every entry in order, the source ends empty") {
  // More than one 4 MiB step, and a last step that is not whole.
  const size_t n = (size_t{4} << 20) / sizeof(uint32_t) * 2 + 12345;
  std::vector<uint32_t> to = {7, 8}, from(n);
  for (size_t i = 0; i < n; ++i) from[i] = static_cast<uint32_t>(i * 2654435761u);
  to.reserve(2 + n);
  oomscope::MoveAppend(to, from);
  CHECK(from.empty());
  CHECK(from.capacity() == 0);
  REQUIRE(to.size() == 2 + n);
  CHECK(to[0] == 7);
  CHECK(to[1] == 8);
  size_t wrong = 0;
  for (size_t i = 0; i < n; ++i) wrong += to[2 + i] != static_cast<uint32_t>(i * 2654435761u);
  CHECK(wrong == 0);
  std::vector<uint32_t> empty;
  oomscope::MoveAppend(to, empty);
  CHECK(to.size() == 2 + n);
  // What ReleasePages gave back reads as zeros: the pages wholly inside the range only.
  std::vector<uint8_t> bytes(size_t{1} << 20, 0xAB);
  oomscope::ReleasePages(bytes.data() + 1, bytes.size() - 2);
  CHECK(bytes.front() == 0xAB);
  CHECK(bytes.back() == 0xAB);
  CHECK(bytes[bytes.size() / 2] == 0);
}

// MoveAppend of two RawVectors: `to` holding a few bytes first, so that the two sides'
// offsets within a page differ and the source must be shifted before its pages can move.
static void CheckRawMoveAppend() {
  const size_t n = (size_t{20} << 20) + 777;
  auto pattern = [](size_t i) { return static_cast<uint8_t>((i * 2654435761u) >> 13); };
  oomscope::RawVector<uint8_t> to, from;
  to.reserve(5 + n + 100);
  from.reserve(n + 8192);
  to.resize(5);
  for (size_t i = 0; i < 5; ++i) to[i] = static_cast<uint8_t>(200 + i);
  from.resize(n);
  for (size_t i = 0; i < n; ++i) from[i] = pattern(i);
  oomscope::MoveAppend(to, from);
  CHECK(from.empty());
  CHECK(from.capacity() == 0);
  REQUIRE(to.size() == 5 + n);
  for (size_t i = 0; i < 5; ++i) CHECK(to[i] == 200 + i);
  size_t wrong = 0;
  for (size_t i = 0; i < n; ++i) wrong += to[5 + i] != pattern(i);
  CHECK(wrong == 0);
}

TEST_CASE("MoveAppend of RawVectors: every byte in order; elsewhere than the arena, a copy") {
  oomscope::RawVector<uint8_t> a, b;
  a.reserve(size_t{16} << 20);
  b.reserve(size_t{16} << 20);
  CHECK(oomscope::PageShiftToMove(a.data(), b.data(), size_t{12} << 20) == SIZE_MAX);  // malloc's
  CheckRawMoveAppend();
}

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
TEST_CASE("MoveAppend of RawVectors in the arena moves the pages: the source's leave it") {
  oomscope::UseBlockArena(true);
  {
    oomscope::RawVector<uint8_t> a, b;
    a.reserve(size_t{16} << 20);
    b.reserve(size_t{16} << 20);
    // Both blocks start on a page: the source moves 5 bytes on to line up with a.data() + 5.
    const size_t shift = oomscope::PageShiftToMove(a.data() + 5, b.data(), size_t{12} << 20);
#if defined(MREMAP_DONTUNMAP)
    CHECK(shift == 5);
#endif
    CHECK(oomscope::PageShiftToMove(a.data(), b.data(), size_t{1} << 20) == SIZE_MAX);  // not worth it
    // The whole pages between the ends change place: the source then reads as zeros there.
    if (oomscope::PageShiftToMove(a.data(), b.data(), size_t{12} << 20) == 0) {
      b.resize(size_t{12} << 20);
      std::memset(b.data(), 0x5A, b.size());
      a.resize(b.size());
      oomscope::MovePages(a.data(), b.data(), b.size());
      CHECK(a[0] == 0x5A);
      CHECK(a[a.size() / 2] == 0x5A);
      CHECK(a.back() == 0x5A);
#if defined(MREMAP_DONTUNMAP)
      CHECK(b[b.size() / 2] == 0);
#endif
    }
  }
  CheckRawMoveAppend();
  oomscope::UseBlockArena(false);
}
#endif

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
TEST_CASE("while UseBlockArena is on, large blocks are packed in one range, kept for reuse within the peak") {
  oomscope::TuneAllocator();
  const long page = sysconf(_SC_PAGESIZE);
  // How many of the pages of [at, at + bytes) are resident (mincore).
  auto resident = [&](uintptr_t at, size_t bytes) {
    const uintptr_t lo = at & ~static_cast<uintptr_t>(page - 1);
    const size_t pages = (at + bytes - lo + static_cast<size_t>(page) - 1) / static_cast<size_t>(page);
    std::vector<unsigned char> vec(pages);
    REQUIRE(mincore(reinterpret_cast<void*>(lo), at + bytes - lo, vec.data()) == 0);
    size_t n = 0;
    for (unsigned char v : vec) n += v & 1;
    return n * static_cast<size_t>(page);
  };
  auto mapped = [](uintptr_t at) {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
      unsigned long lo = 0, hi = 0;
      if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && lo <= at && at < hi) return true;
    }
    return false;
  };
  oomscope::UseBlockArena(true);
  constexpr size_t kMiB = size_t{1} << 20;
  uintptr_t first = 0, second = 0;  // addresses, not pointers: the blocks are freed
  {
    std::vector<uint8_t> a(3 * kMiB, 1), b(2 * kMiB + 12345, 2);
    first = reinterpret_cast<uintptr_t>(a.data());
    second = reinterpret_cast<uintptr_t>(b.data());
    // Side by side, the second past the first's last page.
    CHECK(second == first + 3 * kMiB);
    CHECK(resident(first, a.size()) == a.size());
    // Small blocks never come from the range.
    std::vector<uint8_t> small(100, 3);
    const uintptr_t s = reinterpret_cast<uintptr_t>(small.data());
    CHECK((s < first || s >= second + b.size()));
  }
  // Freed, written whole: kept resident for the next block.
  CHECK(resident(first, 3 * kMiB) == 3 * kMiB);
  CHECK(mapped(first));
  {
    // A smaller request takes a kept range (the two merged), and a vector's elements are
    // initialised as always, whatever the range held.
    std::vector<uint32_t> c(kMiB / 2, 0);
    CHECK(reinterpret_cast<uintptr_t>(c.data()) == first);
    CHECK(c.front() == 0);
    CHECK(c[c.size() / 2] == 0);
    CHECK(c.back() == 0);
  }
  // Fresh memory that would take the process past the most it has held: the kept ranges are
  // given back first.
  {
    std::vector<uint8_t> big(64 * kMiB, 4);
    CHECK(reinterpret_cast<uintptr_t>(big.data()) >= second + 2 * kMiB);
    CHECK(big[12345] == 4);
    CHECK(resident(first, 3 * kMiB) == 0);
  }
  // A block written in part only (its owner gave its pages back, or never wrote them) is not
  // kept. (From fresh memory: a kept range would be resident already.)
  oomscope::ReleaseKeptBlocks();
  uintptr_t partial = 0;
  {
    std::vector<uint8_t> d;
    d.reserve(8 * kMiB);
    d.resize(kMiB, 5);
    partial = reinterpret_cast<uintptr_t>(d.data());
  }
  CHECK(resident(partial, 8 * kMiB) == 0);
  // ReleaseKeptBlocks gives back what is kept.
  uintptr_t kept = 0;
  {
    std::vector<uint8_t> e(4 * kMiB, 6);
    kept = reinterpret_cast<uintptr_t>(e.data());
  }
  CHECK(resident(kept, 4 * kMiB) == 4 * kMiB);
  oomscope::ReleaseKeptBlocks();
  CHECK(resident(kept, 4 * kMiB) == 0);
  // On two threads (past 64 MiB kept): every kept range given back, the one cut between the
  // threads too, and the memory taken again afterwards is written and read as usual.
  {
    uintptr_t at[3] = {};
    {
      std::vector<uint8_t> g(40 * kMiB, 7), h(30 * kMiB + 12345, 8), i(5 * kMiB, 9);
      at[0] = reinterpret_cast<uintptr_t>(g.data());
      at[1] = reinterpret_cast<uintptr_t>(h.data());
      at[2] = reinterpret_cast<uintptr_t>(i.data());
    }
    CHECK(resident(at[0], 40 * kMiB) == 40 * kMiB);
    CHECK(resident(at[1], 30 * kMiB) == 30 * kMiB);
    oomscope::ReleaseKeptBlocks(/*two_threads=*/true);
    CHECK(resident(at[0], 40 * kMiB) == 0);
    CHECK(resident(at[1], 30 * kMiB + 12345) == 0);
    CHECK(resident(at[2], 5 * kMiB) == 0);
    std::vector<uint32_t> again(20 * kMiB / sizeof(uint32_t), 3);
    CHECK(again.front() == 3);
    CHECK(again.back() == 3);
  }
  // Off: the next large block is glibc's own mapping, unmapped once freed.
  oomscope::UseBlockArena(false);
  uintptr_t freed = 0;
  {
    std::vector<uint8_t> f(8 * kMiB, 1);
    freed = reinterpret_cast<uintptr_t>(f.data());
  }
  CHECK_FALSE(mapped(freed));
}
#endif

TEST_CASE("backoff grows exponentially, caps, spreads by jitter, resets") {
  Backoff b(100ms, 2000ms, 2.0, 0.2, /*seed=*/42);
  std::vector<int64_t> d;
  for (int i = 0; i < 8; ++i) d.push_back(b.Next().count());
  CHECK(d[0] >= 80);
  CHECK(d[0] <= 120);
  CHECK(d[1] >= 160);
  CHECK(d[1] <= 240);
  CHECK(d[3] >= 640);
  CHECK(d[3] <= 960);
  for (int i = 5; i < 8; ++i) CHECK(d[i] <= 2000);  // capped
  CHECK(b.attempts() == 8);
  b.Reset();
  CHECK(b.Next().count() <= 120);
  // Two clients with different seeds do not retry in step.
  Backoff x(1000ms, 60000ms, 2.0, 0.2, 1), y(1000ms, 60000ms, 2.0, 0.2, 2);
  CHECK(x.Next() != y.Next());
}

TEST_CASE("sha256: known vectors, incremental equals whole, files hashed in pieces") {
  Sha256 empty;
  CHECK(empty.HexDigest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("a");
  abc.Update("bc");
  CHECK(abc.HexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string path = (std::filesystem::temp_directory_path() / "oomscope-sha-test").string();
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 300000; ++i) out << "abc";  // crosses the 1 MiB read size
  }
  Sha256 whole;
  for (int i = 0; i < 300000; ++i) whole.Update("abc");
  CHECK(*Sha256File(path) == whole.HexDigest());
  std::remove(path.c_str());
  CHECK(Sha256File("/nonexistent").status().code() == Code::kNotFound);
}
