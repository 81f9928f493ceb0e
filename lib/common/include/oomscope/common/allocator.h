#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace oomscope {

// Tunes glibc's malloc for a process whose memory is mostly a few large arrays (a parsed heap
// snapshot, the graph passes' work arrays), called once at the start of main().
//  - Every block of 1 MiB or more gets its own mapping, returned to the system when freed. By
//    default glibc raises that threshold each time such a block is freed (up to 32 MiB), after
//    which the next arrays come from the heap and stay resident once freed: 22 MiB of a 300 MB
//    snapshot's analysis was such dead memory.
//  - `max_arenas` (0: glibc's default) bounds the per-thread arenas, which keep what is freed in
//    them: a server with a thread per request wants 2.
// Does nothing where the C library is not glibc.
void TuneAllocator(int max_arenas = 0);

// While on, blocks of 1 MiB or more are carved from one range of address space (the
// best-fitting freed range, else the range's end). With huge pages on (UseHugePages), the range
// is advised for them, and the units between neighbouring blocks are whole 2 MiB pages too: a
// fault and a TLB entry per 2 MiB instead of per 4 KiB, and at exit the kernel frees 15 pages
// where it freed 7,500. A freed block stays resident for the next ones while that does not
// raise the process's peak (the passes free and allocate arrays of the same few sizes: no
// fault, no zeroing), and is given back otherwise. 30 MB analysis: 78 -> 71 ms, at the same peak. For a process that runs
// one job on a few large arrays (the CLI's analyze). Blocks taken while on go back to the
// range whenever they are freed; turning it off gives back the kept ones. Does nothing without
// glibc and under AddressSanitizer.
void UseBlockArena(bool on);

// Gives back the blocks UseBlockArena keeps resident for reuse. For a step that reserves more
// than it writes (a parse: columns sized for what the file declares, filled as it is read): a
// reservation carved from kept memory would hold its unwritten pages resident.
// `two_threads`: half of the pages given back on a second thread, for a process done with its
// large arrays (the kernel would free them on one thread at exit: 280 MB of 4 KiB pages in
// 19-22 ms, on two threads 10-14).
void ReleaseKeptBlocks(bool two_threads = false);

// Whether the large arrays are advised for transparent huge pages (AdviseHugePages, the block
// arena's range): off unless a process turns them on, before its first large block. Huge pages
// cost a fault per 2 MiB instead of 512, fewer TLB misses and almost nothing to free at exit,
// but each comes whole from the kernel's free 2 MiB blocks, and on a VM whose balloon hands
// free memory back to its host (virtio free page reporting, which reports exactly such blocks)
// those are mostly memory the host must back afresh. Measured on such a VM (bench/README.md):
// 300 MB faulted in as huge pages took 14-26 ms right after another process freed it and
// 460-590 ms after three seconds idle, against 105-126 ms as 4 KiB pages either way (those
// come from smaller free blocks, which are never reported); 300 MB analyses 1.5 s apart took
// 0.59-0.87 s with huge pages and 0.53-0.58 s without. Where the host keeps memory backed, huge
// pages are 10-15% faster.
void UseHugePages(bool on);
bool HugePagesOn();

// Whether this machine's memory balloon reports free pages to its host: a virtio balloon
// (device 0x0005) among `virtio_devices` (sysfs: /sys/bus/virtio/devices) with feature bit 5,
// VIRTIO_BALLOON_F_REPORTING, in its `features` (one '0' or '1' per bit, bit 0 first).
bool BalloonReportsFreePages(const std::string& virtio_devices = "/sys/bus/virtio/devices");

// Huge pages as OOMSCOPE_HUGE_PAGES says ("on" or "off"); otherwise on, unless the balloon
// reports free pages (above).
void ChooseHugePages();

// Asks the kernel to back [p, p + bytes) with transparent huge pages (MADV_HUGEPAGE, for the
// whole 2 MiB pages inside it), before the memory is first touched, while HugePagesOn().
// Systems whose THP setting is "madvise" (Debian's default) give huge pages only to memory so
// marked. For the large arrays of the heap passes that means one fault per 2 MiB instead of
// per 4 KiB. Does nothing elsewhere.
void AdviseHugePages(void* p, size_t bytes);

// Maps the whole pages inside [p, p + bytes) in one call (MADV_POPULATE_WRITE, Linux 5.14),
// before the memory is first written: one system call, where writing it would take a page
// fault per 4 KiB page outside the huge ones. Only for memory that is written whole right
// after. Does nothing where the call is not known.
void PrefaultPages(void* p, size_t bytes);

// Gives the whole pages inside [p, p + bytes) back to the system (MADV_DONTNEED); they read as
// zeros afterwards. For an array that is being moved elsewhere piece by piece and freed once
// done, so that the source shrinks as the destination grows. Only for heap memory (malloc'd,
// not a file mapping). Does nothing elsewhere.
void ReleasePages(void* p, size_t bytes);

// An allocator whose containers leave new elements default-initialized: a vector's resize()
// writes nothing into the new room, which holds whatever was there (zeros on fresh pages).
// For arrays that are filled right after growing, or whose room was filled beforehand (by
// MovePages, below).
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <typename T>
using RawVector = std::vector<T, DefaultInitAllocator<T>>;

// Whether `bytes` bytes at `from` can be moved to `to` by MovePages, pages and all, once the
// source is shifted by the returned number of bytes (less than a page) so that both have the
// same offset within a page; SIZE_MAX where they cannot (not both blocks of the arena, too
// small to be worth it, or no mremap).
size_t PageShiftToMove(const void* to, const void* from, size_t bytes);

// Copies [from, from + bytes) to `to` (the two apart), where PageShiftToMove(to, from, bytes)
// was 0: the whole pages in between change place in the address space (mremap), so neither a
// fresh page nor a copy is needed for them; the bytes of the partial pages at either end are
// copied. `from` reads as zeros afterwards where its pages left.
void MovePages(void* to, void* from, size_t bytes);

// Appends `from` to `to` and empties `from`, a few MiB at a time, giving from's copied pages
// back as it goes (ReleasePages): the two hold the data about once throughout, where a plain
// copy holds it twice until `from` is freed. `to` should have room reserved for both. Vectors
// that leave new elements unwritten (RawVector) in the arena move their pages instead
// (MovePages): no copy, and no fresh memory for `to` (at 300 MB the split parse's second half
// of the edges, 39 MB).
template <typename T, typename A>
void MoveAppend(std::vector<T, A>& to, std::vector<T, A>& from) {
  static_assert(std::is_trivially_copyable_v<T>);
  if constexpr (std::is_same_v<A, DefaultInitAllocator<T>>) {
    const size_t at = to.size(), n = from.size();
    if (n > 0 && at + n <= to.capacity()) {
      T* dst = to.data() + at;
      const size_t shift = PageShiftToMove(dst, from.data(), n * sizeof(T));
      if (shift != SIZE_MAX && shift % sizeof(T) == 0 && n + shift / sizeof(T) <= from.capacity()) {
        const size_t k = shift / sizeof(T);
        from.resize(n + k);  // writes nothing
        std::memmove(from.data() + k, from.data(), n * sizeof(T));
        to.resize(at + n);  // writes nothing: the room is filled below
        MovePages(dst, from.data() + k, n * sizeof(T));
        std::vector<T, A>().swap(from);
        return;
      }
    }
  }
  constexpr size_t kStep = (size_t{4} << 20) / sizeof(T);
  if (to.size() + from.size() <= to.capacity()) PrefaultPages(to.data() + to.size(), from.size() * sizeof(T));
  for (size_t i = 0; i < from.size(); i += kStep) {
    const size_t n = std::min(kStep, from.size() - i);
    // Copied straight into the room past the end: one pass over the new pages, where resize()
    // then memcpy() wrote them twice (zeros, then the data).
    to.insert(to.end(), from.begin() + static_cast<std::ptrdiff_t>(i),
              from.begin() + static_cast<std::ptrdiff_t>(i + n));
    ReleasePages(&from[i], n * sizeof(T));
  }
  std::vector<T, A>().swap(from);
}

// Reserves room for n elements in an empty vector and advises it as above: address space only,
// the pages come as the vector grows into it. For an array whose final length is known only
// roughly (an upper bound).
template <typename T, typename A>
void ReserveHuge(std::vector<T, A>& v, size_t n) {
  v.reserve(n);
  AdviseHugePages(v.data(), n * sizeof(T));
}

// Resizes v to n entries, the new ones zero (a RawVector's too); when it grows within its
// capacity, the new room's pages are mapped in one call first (PrefaultPages), then written
// whole.
template <typename T, typename A>
void GrowPrefaulted(std::vector<T, A>& v, size_t n) {
  if (n > v.size() && n <= v.capacity()) PrefaultPages(v.data() + v.size(), (n - v.size()) * sizeof(T));
  v.resize(n, T{});
}

// A vector of n copies of `value` whose buffer is advised as above before it is filled. Only
// for arrays that are written whole (a partly used one would hold whole 2 MiB pages).
template <typename T, typename A = std::allocator<T>>
std::vector<T, A> HugeVector(size_t n, const T& value = T{}) {
  std::vector<T, A> v;
  ReserveHuge(v, n);
  PrefaultPages(v.data(), n * sizeof(T));
  v.assign(n, value);
  return v;
}

}  // namespace oomscope
