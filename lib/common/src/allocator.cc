#include "oomscope/common/allocator.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>  // defines __GLIBC__ with glibc
#include <mutex>
#include <new>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

// The block cache (see KeepFreedBlocks) needs glibc's malloc_usable_size and must stay out of
// the sanitizers' way: ASan checks use after free by keeping freed memory from reuse.
// GCC says __SANITIZE_ADDRESS__; clang (the fuzz build) says so only through __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OOMSCOPE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define OOMSCOPE_SANITIZED 1
#endif
#endif
#if defined(__GLIBC__) && !defined(OOMSCOPE_SANITIZED)
#define OOMSCOPE_BLOCK_CACHE 1
#endif

namespace oomscope {
namespace {

constexpr size_t kBigBlock = size_t{1} << 20;

#if defined(OOMSCOPE_BLOCK_CACHE)
// Freed blocks of kBigBlock bytes or more, kept resident for the next large allocation. Every
// block is a malloc'd one (glibc maps each on its own above the threshold TuneAllocator sets),
// so whatever the cache holds can always be given back with free().
class BlockCache {
 public:
  // A kept block with room for n bytes, the best fit, shrunk to n; nullptr when none fits, and
  // then every kept block is given back first: the caller maps fresh memory, and dead blocks
  // must not stay resident beside it.
  void* Take(size_t n) {
    std::lock_guard lock(mu_);
    size_t best = count_;
    for (size_t i = 0; i < count_; ++i) {
      if (blocks_[i].bytes >= n && (best == count_ || blocks_[i].bytes < blocks_[best].bytes)) best = i;
    }
    if (best == count_) {
      ReleaseLocked();
      return nullptr;
    }
    Block b = blocks_[best];
    blocks_[best] = blocks_[--count_];
    // In place for a mapped block: the pages past n go back to the system.
    if (b.bytes - n >= kBigBlock / 4) {
      if (void* shrunk = std::realloc(b.p, n)) b.p = shrunk;
    }
    return b.p;
  }

  bool Keep(void* p) {
    std::lock_guard lock(mu_);
    if (count_ == blocks_.size()) return false;
    blocks_[count_++] = Block{p, malloc_usable_size(p)};
    return true;
  }

  void Release() {
    std::lock_guard lock(mu_);
    ReleaseLocked();
  }

 private:
  struct Block {
    void* p;
    size_t bytes;
  };
  void ReleaseLocked() {
    for (size_t i = 0; i < count_; ++i) std::free(blocks_[i].p);
    count_ = 0;
  }

  std::mutex mu_;
  std::array<Block, 64> blocks_{};
  size_t count_ = 0;
};

constinit BlockCache g_cache;
constinit std::atomic<bool> g_keep_blocks{false};
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

void KeepFreedBlocks(bool keep) {
#if defined(OOMSCOPE_BLOCK_CACHE)
  g_keep_blocks.store(keep, std::memory_order_relaxed);
  if (!keep) g_cache.Release();
#else
  (void)keep;
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

void AdviseHugePages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  AdviseWholeUnits(p, bytes, uintptr_t{2} << 20, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

void PrefaultPages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  AdviseWholeUnits(p, bytes, static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)), MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)bytes;
#endif
}

void ReleasePages(void* p, size_t bytes) {
#if defined(__linux__)
  AdviseWholeUnits(p, bytes, static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)), MADV_DONTNEED);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace oomscope

#if defined(OOMSCOPE_BLOCK_CACHE)
// The replaceable global allocation functions, routed through the block cache when a process
// asked for it (KeepFreedBlocks). Only the sized delete knows a block is large without asking
// malloc; std::allocator always uses it. Everything else is plain malloc and free, as in
// libstdc++'s own versions; the array, nothrow and aligned forms are libstdc++'s, which call
// these or malloc themselves.
void* operator new(std::size_t n) {
  if (n >= oomscope::kBigBlock && oomscope::g_keep_blocks.load(std::memory_order_relaxed)) {
    if (void* p = oomscope::g_cache.Take(n)) return p;
  }
  for (;;) {
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void operator delete(void* p) noexcept { std::free(p); }

void operator delete(void* p, std::size_t n) noexcept {
  if (p != nullptr && n >= oomscope::kBigBlock && oomscope::g_keep_blocks.load(std::memory_order_relaxed) &&
      oomscope::g_cache.Keep(p)) {
    return;
  }
  std::free(p);
}
#endif
