#include "oomscope/heap/digest.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <numeric>
#include <unordered_map>
#include <utility>

#include "oomscope/common/allocator.h"
#include "oomscope/common/thread.h"

namespace oomscope::heap {

namespace {

bool IsNumeric(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

EntryCounter::EntryCounter(const Snapshot& snap) : snap_(snap), kind_(snap.strings.size(), 0) {
  for (StringId s = 0; s < kind_.size(); ++s) {
    const std::string_view v = snap.strings.at(s);
    uint8_t k = 0;
    if (v != "__proto__" && !v.starts_with("<symbol")) k |= kCountedProperty;
    if (IsNumeric(v)) k |= kNumeric;
    if (v == "Map") k |= kMap;
    if (v == "Set") k |= kSet;
    if (v == "Array") k |= kArray;
    if (v == "table") k |= kTable;
    kind_[s] = k;
  }
}

uint32_t EntryCounter::operator()(NodeOrdinal n) const {
  const Snapshot& snap = snap_;
  if (snap.node_type[n] != NodeType::kObject) return 0;
  const StringId name = snap.node_name[n];
  const EdgeOrdinal b = snap.first_edge[n], e = snap.first_edge[n + 1];
  if (Is(name, kMap) || Is(name, kSet)) {
    // V8 keeps entries in an OrderedHashMap/Set "table": one internal edge per key and value.
    for (EdgeOrdinal k = b; k < e; ++k) {
      if (snap.edge_type[k] != EdgeType::kInternal || !Is(snap.edge_name[k], kTable)) continue;
      NodeOrdinal t = snap.edge_to[k];
      uint32_t slots = 0;
      for (EdgeOrdinal j = snap.first_edge[t]; j < snap.first_edge[t + 1]; ++j)
        if (snap.edge_type[j] == EdgeType::kInternal && Is(snap.edge_name[j], kNumeric)) ++slots;
      return Is(name, kMap) ? slots / 2 : slots;
    }
    return 0;
  }
  const bool array = Is(name, kArray);
  uint32_t count = 0;
  for (EdgeOrdinal k = b; k < e; ++k) {
    EdgeType t = snap.edge_type[k];
    if (t == EdgeType::kElement) {
      ++count;
    } else if (t == EdgeType::kProperty && !array) {
      if (Is(snap.edge_name[k], kCountedProperty)) ++count;
    }
  }
  return count;
}

namespace {

// Sorts ordinals by (id, ordinal): the order OrdinalsById promises, where equal ids (not in
// V8's snapshots) keep node order. In place but for buffers of at most kLocal entries: this
// sort runs at a series' peak, beside a whole snapshot, where a second array of n entries (as
// a classic radix sort moves them) was 1.8 MiB at 30 MB and 17 MiB at 300 MB.
//
// A range is split by its highest digit in place (American flag sort: each entry swapped into
// its digit's next free slot), then each part the same way by its next digit, until a part
// has at most kLocal entries: those are copied out with their ids, sorted by a radix sort on
// the digits left (stable), and the ordinals copied back.
class IdSorter {
 public:
  static constexpr int kBits = 11;
  static constexpr size_t kLocal = size_t{1} << 13;  // 2 x 8 KiB entries of 8 bytes

  explicit IdSorter(const Snapshot& snap) : id_(snap.node_id.data()) {}

  // Splits order[lo, hi), whose ids agree above bit `top`, by the digit of bits
  // [`low`, `top`); the parts' bounds go to `bounds` (1 << (top - low) + 1 entries).
  void Split(NodeOrdinal* order, size_t lo, size_t hi, int low, int top, std::vector<size_t>& bounds) {
    const uint32_t digits = 1u << (top - low), mask = digits - 1;
    auto digit = [&](NodeOrdinal o) { return (id_[o] >> low) & mask; };
    std::vector<size_t>& head = head_;
    head.assign(digits + 1, 0);
    for (size_t i = lo; i < hi; ++i) {
      if (i + kAhead < hi) __builtin_prefetch(&id_[order[i + kAhead]]);
      ++head[digit(order[i]) + 1];
    }
    head[0] = lo;
    for (uint32_t d = 0; d < digits; ++d) head[d + 1] += head[d];
    bounds.assign(head.begin(), head.end());  // bounds[d], bounds[d + 1]: part d
    // Each sweep of a part looks at its entries not yet looked at, in order (their ids
    // prefetched), and swaps each into its digit's next slot, where it stays: an entry from
    // elsewhere takes its place, looked at in a later sweep. The swaps are independent of one
    // another, so their reads overlap, where following one cycle of displaced entries would
    // wait for each read in turn.
    std::vector<uint32_t>& open = open_;
    open.resize(digits);
    std::iota(open.begin(), open.end(), 0u);
    for (size_t left = digits; left > 0;) {
      size_t kept = 0;
      for (size_t i = 0; i < left; ++i) {
        const uint32_t b = open[i];
        const size_t from = head[b], to = bounds[b + 1];
        for (size_t at = from; at < to; ++at) {
          if (at + kAhead < to) __builtin_prefetch(&id_[order[at + kAhead]]);
          std::swap(order[at], order[head[digit(order[at])]++]);
        }
        if (head[b] != to) open[kept++] = b;
      }
      left = kept;
    }
  }

  // The width of the digit that splits a range of n entries whose ids agree above bit `top`:
  // parts of about kLocal / 2 entries, where ids spread evenly (V8 numbers objects as it meets
  // them); a part that ends up larger is split again.
  static int Width(size_t n, int top) {
    int w = 1;
    while (w < kBits && (n >> w) > kLocal / 2) ++w;
    return std::min(w, top);
  }

  // Sorts order[lo, hi), whose ids agree above bit `top`.
  void Sort(NodeOrdinal* order, size_t lo, size_t hi, int top) {
    struct Part {
      size_t lo, hi;
      int top;
    };
    std::vector<Part> todo = {{lo, hi, top}};
    std::vector<size_t> bounds;
    while (!todo.empty()) {
      const Part p = todo.back();
      todo.pop_back();
      if (p.hi - p.lo < 2) continue;
      if (p.hi - p.lo <= kLocal || p.top == 0) {
        SortLocal(order, p.lo, p.hi, p.top);
        continue;
      }
      const int low = p.top - Width(p.hi - p.lo, p.top);
      Split(order, p.lo, p.hi, low, p.top, bounds);
      for (size_t d = 0; d + 1 < bounds.size(); ++d)
        if (bounds[d + 1] - bounds[d] >= 2) todo.push_back({bounds[d], bounds[d + 1], low});
    }
  }

 private:
  static constexpr size_t kAhead = 16;

  // Sorts order[lo, hi) by id bits [0, top) (those above agree), then equal ids by ordinal.
  void SortLocal(NodeOrdinal* order, size_t lo, size_t hi, int top) {
    const size_t n = hi - lo;
    if (n > kLocal) {  // all ids equal (top == 0): by ordinal alone
      std::sort(order + lo, order + hi);
      return;
    }
    a_.resize(n);
    b_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(&id_[order[lo + i + kAhead]]);
      a_[i] = uint64_t{id_[order[lo + i]]} << 32 | order[lo + i];
    }
    for (int shift = 0; shift < top; shift += 8) {
      uint32_t count[257] = {};
      for (uint64_t x : a_) ++count[((x >> (32 + shift)) & 255) + 1];
      if (count[((a_[0] >> (32 + shift)) & 255) + 1] == n) continue;  // one digit for all
      for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
      for (uint64_t x : a_) b_[count[(x >> (32 + shift)) & 255]++] = x;
      a_.swap(b_);
    }
    // Runs of one id: by ordinal, the low half of each entry.
    for (size_t i = 0; i + 1 < n;) {
      size_t j = i + 1;
      while (j < n && a_[j] >> 32 == a_[i] >> 32) ++j;
      if (j - i > 1) std::sort(a_.begin() + static_cast<std::ptrdiff_t>(i), a_.begin() + static_cast<std::ptrdiff_t>(j));
      i = j;
    }
    for (size_t i = 0; i < n; ++i) order[lo + i] = static_cast<NodeOrdinal>(a_[i]);
  }

  const uint32_t* id_;
  std::vector<size_t> head_;
  std::vector<uint32_t> open_;
  std::vector<uint64_t> a_, b_;  // (id << 32) | ordinal
};

}  // namespace

std::vector<NodeOrdinal> OrdinalsById(const Snapshot& snap) {
  const uint32_t n = snap.node_count();
  std::vector<NodeOrdinal> order = HugeVector<NodeOrdinal>(n);
  std::iota(order.begin(), order.end(), 0);
  if (n < 2) return order;
  uint32_t all_bits = 0;  // the bits set in any id
  for (uint32_t id : snap.node_id) all_bits |= id;
  const int top = all_bits == 0 ? 0 : 32 - __builtin_clz(all_bits);
  IdSorter first(snap);
  if (n < (1u << 20) || top == 0) {
    first.Sort(order.data(), 0, n, top);
    return order;
  }
  // Large snapshots: the first split on this thread, then its parts on two, each taking the
  // next unsorted part in turn.
  const int low = top - IdSorter::Width(n, top);
  std::vector<size_t> bounds;
  first.Split(order.data(), 0, n, low, top, bounds);
  std::atomic<size_t> next{0};
  auto sort_parts = [&](IdSorter& sorter) {
    for (size_t d; (d = next.fetch_add(1)) + 1 < bounds.size();)
      sorter.Sort(order.data(), bounds[d], bounds[d + 1], low);
  };
  {
    IdSorter second_sorter(snap);
    Thread second([&] { sort_parts(second_sorter); });
    sort_parts(first);
  }
  return order;
}

namespace {

// Writes all of [p, p + n) at `offset`; the errno text on failure.
Status WriteAll(int fd, const void* p, size_t n, uint64_t offset) {
  const char* b = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, b, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      std::string why = std::string("writing the digest spill file: ") + (w < 0 ? std::strerror(errno) : "no progress");
      return w < 0 && (errno == ENOSPC || errno == EDQUOT) ? ResourceExhausted(std::move(why)) : Internal(std::move(why));
    }
    b += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return Status::Ok();
}

}  // namespace

Status SpillDigest(SnapshotDigest& d, int fd, uint64_t* end) {
  if (d.spill) return Status::Ok();
  SnapshotDigest::Spill s;
  s.fd = fd;
  s.n = d.ids.size();
  uint64_t at = *end;
  auto put = [&](const auto& v, uint64_t* where) -> Status {
    *where = at;
    const size_t bytes = v.size() * sizeof(v[0]);
    OOMSCOPE_RETURN_IF_ERROR(WriteAll(fd, v.data(), bytes, at));
    at += bytes;
    return Status::Ok();
  };
  OOMSCOPE_RETURN_IF_ERROR(put(d.ids, &s.ids));
  OOMSCOPE_RETURN_IF_ERROR(put(d.cls, &s.cls));
  OOMSCOPE_RETURN_IF_ERROR(put(d.self_size, &s.self_size));
  OOMSCOPE_RETURN_IF_ERROR(put(d.retained, &s.retained));
  OOMSCOPE_RETURN_IF_ERROR(put(d.entries, &s.entries));
  *end = at;
  std::vector<uint32_t>().swap(d.ids);
  std::vector<uint32_t>().swap(d.cls);
  std::vector<uint32_t>().swap(d.self_size);
  std::vector<uint32_t>().swap(d.retained);
  std::vector<uint16_t>().swap(d.entries);
  d.spill = s;
  return Status::Ok();
}

DigestCursor::DigestCursor(const SnapshotDigest& d) : d_(d) {
  const auto* s = d.spill ? &*d.spill : nullptr;
  const int fd = s ? s->fd : -1;
  const size_t n = d.size();
  ids_.Init(d.ids, fd, s ? s->ids : 0, n);
  cls_.Init(d.cls, fd, s ? s->cls : 0, n);
  self_.Init(d.self_size, fd, s ? s->self_size : 0, n);
  retained_.Init(d.retained, fd, s ? s->retained : 0, n);
  entries_.Init(d.entries, fd, s ? s->entries : 0, n);
}

template <typename T>
void DigestCursor::Column<T>::Load(size_t i) {
  constexpr size_t kWindow = size_t{1} << 12;
  start_ = i;
  window_.assign(std::min(kWindow, n_ > i ? n_ - i : 0), T{});
  char* b = reinterpret_cast<char*>(window_.data());
  size_t left = window_.size() * sizeof(T);
  uint64_t at = offset_ + i * sizeof(T);
  while (left > 0 && error_.empty()) {
    const ssize_t r = ::pread(fd_, b, left, static_cast<off_t>(at));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      error_ = std::string("reading the digest spill file: ") + (r < 0 ? std::strerror(errno) : "it ends early");
      std::fill(window_.begin(), window_.end(), T{});
      break;
    }
    b += r;
    left -= static_cast<size_t>(r);
    at += static_cast<uint64_t>(r);
  }
}
template class DigestCursor::Column<uint32_t>;
template class DigestCursor::Column<uint16_t>;

namespace {

// Fills a digest's per-object arrays, each column at a time through `emit(vector, offset, n,
// at, value)`, which either keeps the values in the vector or writes them to the spill file at
// `at` bytes past the digest's start and records where (the offset). Returns false when emit
// failed. Each column is a gather at random over one node array, in order of id: from 2^20
// objects a second thread takes the last columns (retained sizes and entry counts, or self
// sizes for an identity digest) while this one takes the first (300 MB series: the digest
// steps 89-95 and 111-117 -> 70-75 and 85-98 ms). The columns' bytes follow one another: ids,
// classes, self sizes, retained sizes (4 bytes each), entry counts (2).
template <typename Emit>
bool FillDigest(SnapshotDigest& d, const Snapshot& snap, const Graph& g,
                const std::vector<uint32_t>& node_class, const std::vector<NodeOrdinal>& order,
                bool identity_only, SnapshotDigest::Spill& where, Emit&& emit) {
  const size_t n = order.size();
  // V8 hands out heap object ids as odd numbers in increasing order; embedder (native) nodes get
  // even ids derived from addresses, which say nothing about order.
  auto ids = [&] {
    return emit(d.ids, &where.ids, n, uint64_t{0}, [&](size_t i) {
      const uint32_t id = snap.node_id[order[i]];
      if (id & 1) d.max_id = id;  // ascending: the last odd one is the largest
      return id;
    });
  };
  auto classes = [&] { return emit(d.cls, &where.cls, n, 4 * uint64_t{n}, [&](size_t i) { return node_class[order[i]]; }); };
  auto self_sizes = [&] {
    return emit(d.self_size, &where.self_size, n, 8 * uint64_t{n}, [&](size_t i) {
      const uint64_t s = snap.self_size(order[i]);
      d.total_size += s;
      return static_cast<uint32_t>(std::min<uint64_t>(s, UINT32_MAX));
    });
  };
  auto retained = [&] {
    return emit(d.retained, &where.retained, n, 12 * uint64_t{n}, [&](size_t i) {
      const uint64_t r = g.retained[order[i]];
      if (r < UINT32_MAX) return static_cast<uint32_t>(r);
      d.big_retained.emplace(static_cast<uint32_t>(i), r);
      return UINT32_MAX;
    });
  };
  auto entries = [&] {
    const EntryCounter entry_count(snap);
    return emit(d.entries, &where.entries, n, 16 * uint64_t{n}, [&](size_t i) {
      const uint32_t c = entry_count(order[i]);
      if (c < UINT16_MAX) return static_cast<uint16_t>(c);
      d.big_entries.emplace(static_cast<uint32_t>(i), c);
      return uint16_t{UINT16_MAX};
    });
  };
  auto first = [&] { return ids() && classes() && (identity_only || self_sizes()); };
  auto last = [&] { return identity_only ? self_sizes() : retained() && entries(); };
  if (n < (1u << 20)) return first() && last();
  bool last_ok = false;
  Thread other([&] { last_ok = last(); });
  const bool first_ok = first();
  other.join();
  return first_ok && last_ok;
}

// The bytes FillDigest writes for n objects.
uint64_t DigestBytes(size_t n, bool identity_only) {
  return (identity_only ? 12 : 18) * uint64_t{n};
}

SnapshotDigest DigestHeader(const Snapshot& snap) {
  SnapshotDigest d;
  d.node_count = snap.node_count();
  d.edge_count = snap.edge_count();
  return d;
}

// MakeDigest, given the order by id.
SnapshotDigest DigestInMemory(const Snapshot& snap, const Graph& g, const std::vector<uint32_t>& node_class,
                              const std::vector<NodeOrdinal>& order, std::vector<ClassStats> classes,
                              bool identity_only) {
  SnapshotDigest d = DigestHeader(snap);
  SnapshotDigest::Spill unused;
  FillDigest(d, snap, g, node_class, order, identity_only, unused,
             [](auto& column, uint64_t*, size_t n, uint64_t, auto&& value) {
               column.resize(n);
               for (size_t i = 0; i < n; ++i) column[i] = value(i);
               return true;
             });
  d.classes = std::move(classes);
  return d;
}

}  // namespace

SnapshotDigest MakeDigest(const Snapshot& snap, const Graph& g,
                          const std::vector<uint32_t>& node_class, std::vector<ClassStats> classes,
                          bool identity_only, const std::vector<NodeOrdinal>* by_id) {
  if (by_id) return DigestInMemory(snap, g, node_class, *by_id, std::move(classes), identity_only);
  return DigestInMemory(snap, g, node_class, OrdinalsById(snap), std::move(classes), identity_only);
}

SnapshotDigest MakeSpilledDigest(const Snapshot& snap, const Graph& g,
                                 const std::vector<uint32_t>& node_class, std::vector<ClassStats> classes,
                                 bool identity_only, int fd, uint64_t* end, Status* status,
                                 const std::vector<NodeOrdinal>* by_id) {
  SnapshotDigest d = DigestHeader(snap);
  std::vector<NodeOrdinal> sorted_here;
  if (!by_id) sorted_here = OrdinalsById(snap);
  const std::vector<NodeOrdinal>& order = by_id ? *by_id : sorted_here;
  SnapshotDigest::Spill s;
  s.fd = fd;
  s.n = order.size();
  const uint64_t base = *end;
  *status = Status::Ok();
  std::mutex status_mu;  // the columns may be written on two threads
  const bool written = FillDigest(d, snap, g, node_class, order, identity_only, s,
                                  [&](auto& column, uint64_t* where, size_t n, uint64_t column_at, auto&& value) {
    using T = typename std::remove_reference_t<decltype(column)>::value_type;
    constexpr size_t kChunk = size_t{1} << 14;
    T buf[kChunk];
    uint64_t at = base + column_at;
    *where = at;
    for (size_t i = 0; i < n; i += kChunk) {
      const size_t m = std::min(kChunk, n - i);
      for (size_t k = 0; k < m; ++k) buf[k] = value(i + k);
      if (Status st = WriteAll(fd, buf, m * sizeof(T), at); !st.ok()) {
        std::lock_guard lock(status_mu);
        if (status->ok()) *status = std::move(st);
        return false;
      }
      at += m * sizeof(T);
    }
    return true;
  });
  if (!written) return DigestInMemory(snap, g, node_class, order, std::move(classes), identity_only);
  *end = base + DigestBytes(order.size(), identity_only);
  d.spill = s;
  d.classes = std::move(classes);
  return d;
}

namespace {
void KeepReadError(const DigestCursor& a, const DigestCursor& b, std::string* read_error) {
  if (!read_error || !read_error->empty()) return;
  *read_error = !a.error().empty() ? a.error() : b.error();
}
}  // namespace

std::vector<ClassDiff> DiffClasses(const SnapshotDigest& before, const SnapshotDigest& after,
                                   bool ids_comparable, std::string* read_error) {
  std::unordered_map<uint32_t, ClassDiff> rows;
  auto row = [&](uint32_t c) -> ClassDiff& {
    ClassDiff& r = rows[c];
    r.class_id = c;
    return r;
  };
  for (const ClassStats& s : before.classes) {
    row(s.class_id).count_before = s.count;
    row(s.class_id).self_before = s.self_size;
  }
  for (const ClassStats& s : after.classes) {
    row(s.class_id).count_after = s.count;
    row(s.class_id).self_after = s.self_size;
  }
  if (ids_comparable) {
    // Merge-join on the sorted ids: new in `after`, deleted from `before`.
    DigestCursor b(before), a(after);
    size_t i = 0, j = 0;
    const size_t nb = b.size(), na = a.size();
    while (i < nb || j < na) {
      if (j == na || (i < nb && b.id(i) < a.id(j))) {
        if (const uint32_t s = b.self_size(i)) {
          ClassDiff& r = row(b.cls(i));
          ++r.deleted_count;
          r.freed_size += s;
        }
        ++i;
      } else if (i == nb || a.id(j) < b.id(i)) {
        if (const uint32_t s = a.self_size(j)) {
          ClassDiff& r = row(a.cls(j));
          ++r.new_count;
          r.alloc_size += s;
        }
        ++j;
      } else {
        ++i;
        ++j;
      }
    }
    KeepReadError(b, a, read_error);
  }
  std::vector<ClassDiff> out;
  for (auto& [c, r] : rows) {
    if (r.count_before == r.count_after && r.self_before == r.self_after && r.new_count == 0 &&
        r.deleted_count == 0)
      continue;
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const ClassDiff& a, const ClassDiff& b) {
    int64_t da = static_cast<int64_t>(a.self_after) - static_cast<int64_t>(a.self_before);
    int64_t db = static_cast<int64_t>(b.self_after) - static_cast<int64_t>(b.self_before);
    return da != db ? da > db : a.class_id < b.class_id;
  });
  return out;
}

IdAlignment CheckIdAlignment(const SnapshotDigest& before, const SnapshotDigest& after,
                             std::string* read_error) {
  IdAlignment r;
  uint64_t shared = 0, agree = 0, unexplained = 0;
  DigestCursor b(before), a(after);
  size_t i = 0, j = 0;
  const size_t nb = b.size(), na = a.size();
  while (j < na) {
    const uint32_t id = a.id(j);
    i = b.Seek(i, id);
    if (i < nb && b.id(i) == id) {
      ++shared;
      if (b.cls(i) == a.cls(j)) ++agree;
    } else if ((id & 1) && id <= before.max_id) {
      ++unexplained;  // an id the earlier session had handed out, on an object it did not list
    }
    ++j;
  }
  KeepReadError(b, a, read_error);
  r.shared_fraction = nb ? static_cast<double>(shared) / static_cast<double>(nb) : 0;
  r.class_agreement = shared ? static_cast<double>(agree) / static_cast<double>(shared) : 0;
  double unexplained_fraction = na ? static_cast<double>(unexplained) / static_cast<double>(na) : 0;
  r.same_process = r.shared_fraction >= 0.2 && r.class_agreement >= 0.97 && unexplained_fraction < 0.2;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%.0f%% of the earlier snapshot's object ids found again, %.1f%% of them with the "
                "same class; %.0f%% of the later snapshot's old ids unknown to the earlier one",
                r.shared_fraction * 100, r.class_agreement * 100, unexplained_fraction * 100);
  r.explanation = buf;
  return r;
}

}  // namespace oomscope::heap
