#include "oomscope/heap/digest.h"

#include <unistd.h>

#include <algorithm>
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

std::vector<NodeOrdinal> OrdinalsById(const Snapshot& snap) {
  const uint32_t n = snap.node_count();
  // Huge pages: a series sorts three times, and in 4 KiB pages the two arrays were 8,700 page
  // faults each time they came fresh (the diff step's, at 4.3M nodes).
  std::vector<NodeOrdinal> order = HugeVector<NodeOrdinal>(n), moved = HugeVector<NodeOrdinal>(n);
  std::iota(order.begin(), order.end(), 0);
  if (n == 0) return order;
  // A comparison sort reads an id at random at every comparison (4.3M nodes: ~0.2 s). This
  // radix sort reads each id once per pass, in the current order, prefetched: the first pass
  // counts its digits in node order, and each pass's move counts the next pass's digits of the
  // ids it has in hand. (Keeping the digits instead would take a third array, and this sort
  // runs at a series' peak, beside a whole snapshot.)
  // Large snapshots sort on two threads: each moves one half of the current order, the second
  // half's entries placed after the first half's of the same digit, so each pass stays stable.
  // The next pass's counts are kept by the half of the order an entry lands in, a set per
  // thread, and added up between passes. (At 4.3M nodes, the lowest of 9 runs, three rounds
  // in turn: 38-42 ms, against 56-69 with a counting read per pass.)
  constexpr int kBits = 11;
  constexpr uint32_t kDigits = 1u << kBits, kMask = kDigits - 1;
  constexpr uint32_t kAhead = 32;
  const size_t parts = n >= (1u << 20) ? 2 : 1;
  const uint32_t half = parts == 2 ? n / 2 : n;
  // start[p * kDigits + d]: part p's count of digit d, then its cursor; next[t]: thread t's
  // counts for the pass after, laid out as start.
  std::vector<uint32_t> start(parts * kDigits, 0);
  std::vector<uint32_t> next[2] = {std::vector<uint32_t>(parts * kDigits), std::vector<uint32_t>(parts * kDigits)};
  {
    auto count = [&](size_t p, uint32_t from, uint32_t to) {
      uint32_t* c = &start[p * kDigits];
      for (uint32_t i = from; i < to; ++i) ++c[snap.node_id[i] & kMask];
    };
    if (parts == 2) {
      Thread second([&] { count(1, half, n); });
      count(0, 0, half);
    } else {
      count(0, 0, n);
    }
  }
  for (int shift = 0; shift < 32; shift += kBits) {
    const bool last = shift + kBits >= 32;
    const int next_shift = shift + kBits;
    // Thread t moves part p = [from, to) of the current order.
    auto move = [&](size_t p, size_t t, uint32_t from, uint32_t to) {
      uint32_t* c = &start[p * kDigits];
      uint32_t* nc = next[t].data();
      if (!last) std::fill(next[t].begin(), next[t].end(), 0);
      for (uint32_t i = from; i < to; ++i) {
        if (i + kAhead < to) __builtin_prefetch(&snap.node_id[order[i + kAhead]]);
        const NodeOrdinal o = order[i];
        const uint32_t id = snap.node_id[o];
        const uint32_t at = c[(id >> shift) & kMask]++;
        moved[at] = o;
        if (!last) ++nc[(at >= half ? kDigits : 0) + ((id >> next_shift) & kMask)];
      }
    };
    const uint32_t d0 = (snap.node_id[order[0]] >> shift) & kMask;
    uint32_t total0 = 0;
    for (size_t p = 0; p < parts; ++p) total0 += start[p * kDigits + d0];
    if (total0 != n) {
      uint32_t sum = 0;
      for (uint32_t d = 0; d < kDigits; ++d)
        for (size_t p = 0; p < parts; ++p) sum += std::exchange(start[p * kDigits + d], sum);
      if (parts == 2) {
        Thread second([&] { move(1, 1, half, n); });
        move(0, 0, 0, half);
      } else {
        move(0, 0, 0, n);
      }
      order.swap(moved);
      if (last) break;
      for (size_t j = 0; j < start.size(); ++j) start[j] = next[0][j] + (parts == 2 ? next[1][j] : 0);
    } else {
      // One digit for all: this pass would move nothing. The order stands, so the next pass's
      // counts are read as the first pass's were.
      if (last) break;
      std::fill(start.begin(), start.end(), 0);
      auto count = [&](size_t p, uint32_t from, uint32_t to) {
        uint32_t* c = &start[p * kDigits];
        for (uint32_t i = from; i < to; ++i) {
          if (i + kAhead < to) __builtin_prefetch(&snap.node_id[order[i + kAhead]]);
          ++c[(snap.node_id[order[i]] >> next_shift) & kMask];
        }
      };
      if (parts == 2) {
        Thread second([&] { count(1, half, n); });
        count(0, 0, half);
      } else {
        count(0, 0, n);
      }
    }
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
