#include "oomscope/common/allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>  // defines __GLIBC__ with glibc
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "oomscope/common/thread.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

// The block arena (see UseBlockArena) replaces operator new and delete, which glibc's malloc
// must stand behind for everything else, and must stay out of the sanitizers' way: ASan checks
// use after free by keeping freed memory from reuse.
// GCC says __SANITIZE_ADDRESS__; clang (the fuzz build) says so only through __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OOMSCOPE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define OOMSCOPE_SANITIZED 1
#endif
#endif
#if defined(__GLIBC__) && !defined(OOMSCOPE_SANITIZED)
#define OOMSCOPE_BLOCK_ARENA 1
#endif

namespace oomscope {
namespace {

constexpr size_t kBigBlock = size_t{1} << 20;
constinit std::atomic<bool> g_huge_pages{false};

#if defined(__linux__)
// The system's page size, read once.
uintptr_t PageBytes() {
  static const uintptr_t bytes = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return bytes;
}
#endif

#if defined(OOMSCOPE_BLOCK_ARENA)
// Where the large blocks live while UseBlockArena is on: one range of address space, reserved
// once (and advised for transparent huge pages while they are on: UseHugePages), carved into
// blocks one after another (at its growing end, the frontier) and then into freed ranges (the
// best fit). A freed block stays resident for the next ones (the heap passes free and allocate
// arrays of the same few sizes, node- and edge-indexed: no fault, no zeroing) while that does
// not raise the process's peak (MakeRoom); otherwise its pages go back to the system.
//
// Why one range: a huge page (one fault and 2 MiB of mappings instead of 512) needs a whole
// aligned 2 MiB unit inside one mapping. Blocks that glibc maps one by one are rarely aligned,
// and most of the heap passes' arrays are 1-4 MiB, so few contain a whole unit: a 30 MB
// analysis took 3-5 huge faults and 7,800-9,600 small ones, and the kernel took 2.5 ms at
// exit to free its 4 KiB pages (0.25 ms for as much in huge pages). Packed here, the units
// between two blocks are whole too.
//
// A huge page is resident whole, so memory that 4 KiB pages would never have touched can be
// resident: the rest of the unit past the frontier (given back at the next free: TrimSlack),
// the rest of a unit beside a block carved from a freed range, and the unused end of a block
// reserved for more than it holds (its owner gives it back once it is full: ReleasePages, as
// StringTable::ShrinkReserve does). Keeping every freed block resident until none fits, as the
// block cache before this did, made the 30 MB series' peak 1.02-1.06 times its largest file:
// kept ranges beside live blocks stayed resident whole while fresh memory was taken.
class Arena {
 public:
  static constexpr size_t kPage = 4096;
  static constexpr size_t kUnit = size_t{2} << 20;
  static constexpr size_t kReserve = size_t{1} << 40;  // address space, never memory
  static constexpr size_t kCommitStep = size_t{64} << 20;
  // Below this much kept memory, a second thread costs more than it saves.
  static constexpr size_t kTwoThreadRelease = size_t{64} << 20;

  // A block of at least n bytes, or nullptr when the arena cannot have one (the caller then
  // uses malloc).
  void* Take(size_t n) {
    std::lock_guard lock(mu_);
    if (!Ready()) return nullptr;
    n = (n + kPage - 1) & ~(kPage - 1);
    size_t off = 0;
    if (FromFree(n, /*resident=*/true, &off)) {
      // Pages of a kept range its last owner never wrote come fresh.
      const size_t have = ResidentIn(off, n);
      if (have < n) MakeRoom(n - have);
    } else {
      MakeRoom(n);
      if (!FromFree(n, /*resident=*/false, &off)) {
        if (n > kReserve - frontier_ || !Commit(frontier_ + n)) return nullptr;
        off = frontier_;
        frontier_ += n;
      }
    }
    used_[off] = n;
    return Base() + off;
  }

  bool Owns(const void* p) const {
    const char* base = Base();
    return base != nullptr && p >= base && p < base + kReserve;
  }

  // Takes a block back: kept resident for the next block (until MakeRoom gives it back).
  void Give(void* p) {
    std::lock_guard lock(mu_);
    size_t off = static_cast<size_t>(static_cast<char*>(p) - Base());
    auto u = used_.find(off);
    if (u == used_.end()) return;
    const size_t len = u->second;
    used_.erase(u);
    // Blocks handed out before a free have mostly been written by now: measured, not pending.
    const size_t now = Resident();
    peak_ = std::max(peak_, now - std::min(now, resident_free_));
    pending_ = 0;
    TrimSlack();
    // A block mostly not resident (its owner gave its pages back as it went, as MoveAppend
    // does, or never wrote them) is not worth keeping: reusing it would fault them in anyway.
    if (2 * ResidentIn(off, len) < len) {
      Drop(off, len);
      Insert(off, len, false);
      return;
    }
    Insert(off, len, true);
  }

  // Gives back the pages of every kept range (ReleaseKeptBlocks, UseBlockArena(false)); from
  // kTwoThreadRelease bytes on, half of them on a second thread.
  void Release(bool two_threads) {
    std::lock_guard lock(mu_);
    TrimSlack();
    if (!two_threads || resident_free_ < kTwoThreadRelease) {
      while (resident_free_ > 0) DropLargestKept();
      return;
    }
    std::vector<std::pair<size_t, size_t>> kept;  // offset, length
    for (const auto& [off, f] : free_)
      if (f.resident) kept.emplace_back(off, f.len);
    for (const auto& [off, len] : kept) {
      free_.erase(off);
      resident_free_ -= len;
      Insert(off, len, false);
    }
    // The first half of the bytes, in order, for the second thread (a range cut where the
    // half ends); the rest for this one. Nothing else takes the lock meanwhile.
    size_t total = 0;
    for (const auto& r : kept) total += r.second;
    std::vector<std::pair<size_t, size_t>> theirs;
    size_t half = (total / 2) & ~(kPage - 1);
    while (half > 0 && !kept.empty()) {
      auto& [off, len] = kept.back();
      const size_t take = std::min(len, half);
      theirs.emplace_back(off + len - take, take);
      half -= take;
      len -= take;
      if (len == 0) kept.pop_back();
    }
    Thread other([&] {
      for (const auto& [off, len] : theirs) Drop(off, len);
    });
    for (const auto& [off, len] : kept) Drop(off, len);
  }

 private:
  struct Free {
    size_t len;
    bool resident;
  };

  char* Base() const { return base_.load(std::memory_order_relaxed); }

  bool Ready() {
    if (Base() != nullptr) return true;
    if (failed_) return false;
    failed_ = true;  // for good, unless the reservation below succeeds
    void* m = mmap(nullptr, kReserve + kUnit, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    const uintptr_t aligned = (reinterpret_cast<uintptr_t>(m) + kUnit - 1) & ~(uintptr_t{kUnit} - 1);
    base_.store(reinterpret_cast<char*>(aligned), std::memory_order_relaxed);
    failed_ = false;
    return true;
  }

  // Makes [0, need) readable and writable, kCommitStep at a time (committed memory is counted
  // here, not at the reservation), advised for huge pages while they are on.
  bool Commit(size_t need) {
    if (need <= committed_) return true;
    size_t want = std::max(need, committed_ + kCommitStep);
    want = std::min((want + kUnit - 1) & ~(kUnit - 1), kReserve);
    char* from = Base() + committed_;
    if (mprotect(from, want - committed_, PROT_READ | PROT_WRITE) != 0) return false;
#if defined(MADV_HUGEPAGE)
    if (HugePagesOn()) (void)madvise(from, want - committed_, MADV_HUGEPAGE);
#endif
    committed_ = want;
    return true;
  }

  // Carves n bytes from the best-fitting free range of the given residency.
  bool FromFree(size_t n, bool resident, size_t* off) {
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second.resident == resident && it->second.len >= n &&
          (best == free_.end() || it->second.len < best->second.len))
        best = it;
    }
    if (best == free_.end()) return false;
    *off = best->first;
    const Free f = best->second;
    free_.erase(best);
    if (f.len > n) free_[*off + n] = Free{f.len - n, resident};
    if (resident) resident_free_ -= n;
    return true;
  }

  // Records [off, off + len) as free, merged with free neighbours of the same residency.
  void Insert(size_t off, size_t len, bool resident) {
    if (resident) resident_free_ += len;
    auto next = free_.lower_bound(off);
    if (next != free_.end() && next->first == off + len && next->second.resident == resident) {
      len += next->second.len;
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second.len == off && prev->second.resident == resident) {
        prev->second.len += len;
        return;
      }
    }
    free_[off] = Free{len, resident};
  }

  // Before n bytes of fresh memory are handed out: gives back kept ranges, the largest first,
  // until the resident memory, plus what was handed out fresh since the last free (maybe not
  // written yet) and n, is within the most the process has held outside kept ranges. Kept
  // ranges thus do not raise the peak much (30 MB series: 33,372 KiB against 33,064 with every
  // freed page given back at once), while the passes reuse what the ones before freed (the
  // dominators take the split parse's second part) without a fault or the kernel zeroing the
  // pages: 30 MB, one file 76.3 -> 72.9 ms, the series 306 -> 285 ms.
  void MakeRoom(size_t n) {
    pending_ += n;
    if (resident_free_ == 0) return;
    size_t now = Resident();
    peak_ = std::max(peak_, now - std::min(now, resident_free_));
    while (now + pending_ > peak_ && resident_free_ > 0) now -= std::min(now, DropLargestKept());
  }

  // Gives back the largest kept range; its length.
  size_t DropLargestKept() {
    auto largest = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->second.resident && (largest == free_.end() || it->second.len > largest->second.len)) largest = it;
    if (largest == free_.end()) {
      resident_free_ = 0;
      return 0;
    }
    const size_t off = largest->first, len = largest->second.len;
    free_.erase(largest);
    resident_free_ -= len;
    Drop(off, len);
    Insert(off, len, false);
    return len;
  }

  // How many bytes of [off, off + len) are resident (mincore).
  size_t ResidentIn(size_t off, size_t len) {
    const size_t pages = len / kPage;
    pages_.resize(pages);
    if (mincore(Base() + off, len, pages_.data()) != 0) return 0;
    size_t n = 0;
    for (unsigned char v : pages_) n += v & 1;
    return n * kPage;
  }

  // The process's resident memory in bytes (/proc/self/statm), 0 where unknown.
  size_t Resident() {
    if (statm_ == -2) statm_ = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (statm_ < 0) return 0;
    char buf[128];
    const ssize_t r = pread(statm_, buf, sizeof buf - 1, 0);
    if (r <= 0) return 0;
    buf[r] = '\0';
    const char* second = std::strchr(buf, ' ');
    return second ? std::strtoull(second + 1, nullptr, 10) * PageBytes() : 0;
  }

  void Drop(size_t off, size_t len) { (void)madvise(Base() + off, len, MADV_DONTNEED); }

  // The rest of the frontier's unit: a huge page there is resident past the last block.
  void TrimSlack() {
    const size_t unit_end = (frontier_ + kUnit - 1) & ~(kUnit - 1);
    if (unit_end > frontier_ && trimmed_at_ != frontier_) Drop(frontier_, unit_end - frontier_);
    trimmed_at_ = frontier_;
  }

  std::mutex mu_;
  std::atomic<char*> base_{nullptr};
  bool failed_ = false;
  size_t committed_ = 0;
  size_t frontier_ = 0;
  size_t trimmed_at_ = 0;          // the frontier when its slack was last given back
  size_t resident_free_ = 0;       // bytes of the free ranges kept resident
  size_t peak_ = 0;     // the most resident memory seen outside kept ranges (Give, MakeRoom)
  size_t pending_ = 0;  // bytes handed out fresh since the last Give
  int statm_ = -2;                 // /proc/self/statm, once opened
  std::vector<unsigned char> pages_;  // mincore's answer
  std::map<size_t, size_t> used_;  // offset -> length
  std::map<size_t, Free> free_;    // offset -> range; no two adjacent of one residency
};

// Made on first use and never destroyed: blocks may be freed during static destruction.
Arena& TheArena() {
  static Arena* arena = new Arena;
  return *arena;
}
constinit std::atomic<bool> g_use_arena{false};
constinit std::atomic<Arena*> g_arena{nullptr};  // set once a block came from it

Arena* ArenaOf(const void* p) {
  Arena* arena = g_arena.load(std::memory_order_acquire);
  return arena != nullptr && arena->Owns(p) ? arena : nullptr;
}
#endif

}  // namespace

void TuneAllocator(int max_arenas) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kBigBlock));  // also fixes the trim threshold
  if (max_arenas > 0) mallopt(M_ARENA_MAX, max_arenas);
#else
  (void)max_arenas;
#endif
}

void ReleaseKeptBlocks(bool two_threads) {
#if defined(OOMSCOPE_BLOCK_ARENA)
  if (Arena* arena = g_arena.load(std::memory_order_acquire)) arena->Release(two_threads);
#else
  (void)two_threads;
#endif
}

void UseBlockArena(bool on) {
#if defined(OOMSCOPE_BLOCK_ARENA)
  g_use_arena.store(on, std::memory_order_relaxed);
  if (!on) ReleaseKeptBlocks();
#else
  (void)on;
#endif
}

#if defined(__linux__)
// madvise(advice) on the whole `unit`-aligned units inside [p, p + bytes), if there are any.
static void AdviseWholeUnits(void* p, size_t bytes, uintptr_t unit, int advice) {
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + unit - 1) & ~(unit - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(unit - 1);
  if (p && end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, advice);
}
#endif

void UseHugePages(bool on) { g_huge_pages.store(on, std::memory_order_relaxed); }
bool HugePagesOn() { return g_huge_pages.load(std::memory_order_relaxed); }

bool BalloonReportsFreePages(const std::string& virtio_devices) {
#if defined(__linux__)
  DIR* dir = opendir(virtio_devices.c_str());
  if (dir == nullptr) return false;
  // The first line of a small sysfs file, or "" where it cannot be read.
  auto first_line = [](const std::string& path) {
    std::string line;
    if (FILE* f = std::fopen(path.c_str(), "re")) {
      char buf[512];
      if (std::fgets(buf, sizeof buf, f) != nullptr) line = buf;
      std::fclose(f);
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    return line;
  };
  constexpr size_t kReportingBit = 5;  // VIRTIO_BALLOON_F_REPORTING
  bool reports = false;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string device = virtio_devices + "/" + entry->d_name;
    if (first_line(device + "/device") != "0x0005") continue;  // a memory balloon
    const std::string features = first_line(device + "/features");
    if (features.size() > kReportingBit && features[kReportingBit] == '1') reports = true;
  }
  closedir(dir);
  return reports;
#else
  (void)virtio_devices;
  return false;
#endif
}

void ChooseHugePages() {
  const char* asked = std::getenv("OOMSCOPE_HUGE_PAGES");
  const std::string_view mode = asked != nullptr ? asked : "";
  if (mode == "on" || mode == "off") {
    UseHugePages(mode == "on");
    return;
  }
  UseHugePages(!BalloonReportsFreePages());
}

void AdviseHugePages(void* p, size_t bytes) {
  if (!HugePagesOn()) return;
#if defined(OOMSCOPE_BLOCK_ARENA)
  // The arena advised its whole range when it made it writable (Commit). Advising again would
  // change nothing but take the address space's lock for writing, which waits for any
  // MADV_POPULATE_WRITE another thread is in, and stops every page fault meanwhile: at 300 MB
  // the dominators' first arrays waited for the helper's while both faulted in pages.
  if (ArenaOf(p) != nullptr) return;
#endif
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  AdviseWholeUnits(p, bytes, uintptr_t{2} << 20, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

void PrefaultPages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  AdviseWholeUnits(p, bytes, PageBytes(), MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)bytes;
#endif
}

size_t PageShiftToMove(const void* to, const void* from, size_t bytes) {
#if defined(OOMSCOPE_BLOCK_ARENA) && defined(MREMAP_DONTUNMAP)
  // Below a few huge pages the copy costs little, and the mappings would split for nothing.
  if (bytes < (size_t{8} << 20) || ArenaOf(to) == nullptr || ArenaOf(from) == nullptr) return SIZE_MAX;
  const uintptr_t page = PageBytes();
  return static_cast<size_t>((reinterpret_cast<uintptr_t>(to) - reinterpret_cast<uintptr_t>(from)) & (page - 1));
#else
  (void)to;
  (void)from;
  (void)bytes;
  return SIZE_MAX;
#endif
}

void MovePages(void* to, void* from, size_t bytes) {
  char* t = static_cast<char*>(to);
  char* f = static_cast<char*>(from);
#if defined(OOMSCOPE_BLOCK_ARENA) && defined(MREMAP_DONTUNMAP)
  const uintptr_t page = PageBytes();
  // The first page of `to` also holds what is before it: that part is copied.
  const size_t head = std::min<size_t>(bytes, (page - (reinterpret_cast<uintptr_t>(t) & (page - 1))) & (page - 1));
  const size_t middle = (bytes - head) & ~static_cast<size_t>(page - 1);
  if (middle > 0 && (reinterpret_cast<uintptr_t>(f + head) & (page - 1)) == 0) {
    // The source range stays mapped (MREMAP_DONTUNMAP), empty: the arena's block is intact.
    void* r = mremap(f + head, middle, middle, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, t + head);
    if (r != MAP_FAILED) {
      std::memcpy(t, f, head);
      std::memcpy(t + head + middle, f + head + middle, bytes - head - middle);
      return;
    }
  }
#endif
  std::memcpy(t, f, bytes);
}

void ReleasePages(void* p, size_t bytes) {
#if defined(__linux__)
  AdviseWholeUnits(p, bytes, PageBytes(), MADV_DONTNEED);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace oomscope

#if defined(OOMSCOPE_BLOCK_ARENA)
// The replaceable global allocation functions, routed through the arena when a process asked
// for it (UseBlockArena); blocks from the arena go back to it whenever they are freed.
// Everything else is plain malloc and free, as in libstdc++'s own versions; the array, nothrow
// and aligned forms are libstdc++'s, which call these or malloc themselves.
void* operator new(std::size_t n) {
  if (n >= oomscope::kBigBlock && oomscope::g_use_arena.load(std::memory_order_relaxed)) {
    oomscope::Arena& arena = oomscope::TheArena();
    if (void* p = arena.Take(n)) {
      oomscope::g_arena.store(&arena, std::memory_order_release);
      return p;
    }
  }
  for (;;) {
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

namespace {
// GCC, inlining the arena's own std::map nodes' new and delete into one another here, takes the
// free() below for a mismatch: operator new above does return malloc's blocks.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void FreeBlock(void* p) noexcept {
  if (oomscope::Arena* arena = oomscope::ArenaOf(p)) {
    arena->Give(p);
    return;
  }
  std::free(p);
}
#pragma GCC diagnostic pop
}  // namespace

void operator delete(void* p) noexcept { FreeBlock(p); }
void operator delete(void* p, std::size_t) noexcept { FreeBlock(p); }
#endif
