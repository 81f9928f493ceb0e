#include "oomscope/heap/digest_io.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace oomscope::heap {
namespace {

constexpr char kMagic[8] = {'O', 'O', 'M', 'D', 'I', 'G', 'S', 'T'};

class Writer {
 public:
  void Bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  template <typename T>
  void Int(T v) {
    char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
    Bytes(b, sizeof b);
  }
  template <typename T>
  void Array(const std::vector<T>& v) {
    Int<uint64_t>(v.size());
    if constexpr (std::endian::native == std::endian::little) {
      Bytes(v.data(), v.size() * sizeof(T));
    } else {
      for (T x : v) Int<T>(x);
    }
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  size_t offset() const { return off_; }
  size_t left() const { return in_.size() - off_; }
  Status Need(size_t n, const char* what) const {
    if (n > left())
      return Corruption("the digest is truncated: " + std::string(what) + " needs " + std::to_string(n) +
                        " bytes at offset " + std::to_string(off_) + ", " + std::to_string(left()) + " left");
    return Status::Ok();
  }
  template <typename T>
  Result<T> Int(const char* what) {
    OOMSCOPE_RETURN_IF_ERROR(Need(sizeof(T), what));
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in_[off_ + i])) << (8 * i);
    off_ += sizeof(T);
    return static_cast<T>(v);
  }
  Result<std::string_view> Bytes(size_t n, const char* what) {
    OOMSCOPE_RETURN_IF_ERROR(Need(n, what));
    std::string_view s = in_.substr(off_, n);
    off_ += n;
    return s;
  }
  template <typename T>
  Status Array(std::vector<T>* v, const char* what) {
    Result<uint64_t> n = Int<uint64_t>(what);
    if (!n.ok()) return n.status();
    if (*n > left() / sizeof(T)) return Need(left() + 1, what);  // truncated or a bad count
    v->resize(*n);
    if constexpr (std::endian::native == std::endian::little) {
      if (*n) std::memcpy(v->data(), in_.data() + off_, *n * sizeof(T));
      off_ += *n * sizeof(T);
    } else {
      for (auto& x : *v) x = *Int<T>(what);
    }
    return Status::Ok();
  }

 private:
  std::string_view in_;
  size_t off_ = 0;
};

#define OOMSCOPE_ASSIGN(lhs, expr)        \
  do {                                    \
    auto r_ = (expr);                     \
    if (!r_.ok()) return r_.status();     \
    lhs = *r_;                            \
  } while (0)

}  // namespace

std::string SerializeDigest(const SnapshotDigest& d, const ClassTable& classes) {
  Writer w;
  w.Bytes(kMagic, sizeof kMagic);
  w.Int<uint32_t>(kDigestFormatVersion);
  w.Int<uint32_t>(kDigestRevision);
  w.Int<uint64_t>(d.node_count);
  w.Int<uint64_t>(d.edge_count);
  w.Int<uint64_t>(d.total_size);
  w.Int<uint32_t>(d.max_id);
  w.Int<uint32_t>(static_cast<uint32_t>(classes.size()));
  for (size_t i = 0; i < classes.size(); ++i) {
    const std::string& name = classes.name(static_cast<uint32_t>(i));
    w.Int<uint32_t>(static_cast<uint32_t>(name.size()));
    w.Bytes(name.data(), name.size());
  }
  w.Array(d.ids);
  w.Array(d.cls);
  w.Array(d.self_size);
  w.Array(d.retained);
  w.Array(d.entries);
  // The side tables in position order, so that equal digests serialize equally.
  std::vector<std::pair<uint32_t, uint64_t>> br(d.big_retained.begin(), d.big_retained.end());
  std::sort(br.begin(), br.end());
  w.Int<uint64_t>(br.size());
  for (auto [pos, v] : br) w.Int<uint32_t>(pos), w.Int<uint64_t>(v);
  std::vector<std::pair<uint32_t, uint32_t>> be(d.big_entries.begin(), d.big_entries.end());
  std::sort(be.begin(), be.end());
  w.Int<uint64_t>(be.size());
  for (auto [pos, v] : be) w.Int<uint32_t>(pos), w.Int<uint32_t>(v);
  w.Int<uint64_t>(d.classes.size());
  for (const ClassStats& c : d.classes) {
    w.Int<uint32_t>(c.class_id);
    w.Int<uint64_t>(c.count);
    w.Int<uint64_t>(c.self_size);
    w.Int<uint64_t>(c.retained_size);
  }
  w.Int<uint64_t>(w.out().size());
  return std::move(w.out());
}

Result<SnapshotDigest> ParseDigest(std::string_view bytes, ClassTable& classes) {
  Reader r(bytes);
  std::string_view magic;
  OOMSCOPE_ASSIGN(magic, r.Bytes(sizeof kMagic, "the magic"));
  if (magic != std::string_view(kMagic, sizeof kMagic)) return Corruption("not a snapshot digest (no OOMDIGST magic)");
  uint32_t version = 0, revision = 0;
  OOMSCOPE_ASSIGN(version, r.Int<uint32_t>("the version"));
  if (version != kDigestFormatVersion)
    return Corruption("digest format version " + std::to_string(version) + ", this build reads " +
                      std::to_string(kDigestFormatVersion));
  OOMSCOPE_ASSIGN(revision, r.Int<uint32_t>("the revision"));
  if (revision != kDigestRevision)
    return Corruption("digest of analysis revision " + std::to_string(revision) + ", this build makes " +
                      std::to_string(kDigestRevision));
  SnapshotDigest d;
  OOMSCOPE_ASSIGN(d.node_count, r.Int<uint64_t>("node_count"));
  OOMSCOPE_ASSIGN(d.edge_count, r.Int<uint64_t>("edge_count"));
  OOMSCOPE_ASSIGN(d.total_size, r.Int<uint64_t>("total_size"));
  OOMSCOPE_ASSIGN(d.max_id, r.Int<uint32_t>("max_id"));
  uint32_t names = 0;
  OOMSCOPE_ASSIGN(names, r.Int<uint32_t>("the class count"));
  if (names > r.left() / 4) return r.Need(r.left() + 1, "the class names");
  std::vector<uint32_t> remap(names);
  for (uint32_t i = 0; i < names; ++i) {
    uint32_t len = 0;
    std::string_view name;
    OOMSCOPE_ASSIGN(len, r.Int<uint32_t>("a class name's length"));
    OOMSCOPE_ASSIGN(name, r.Bytes(len, "a class name"));
    remap[i] = classes.Intern(name);
  }
  OOMSCOPE_RETURN_IF_ERROR(r.Array(&d.ids, "ids"));
  OOMSCOPE_RETURN_IF_ERROR(r.Array(&d.cls, "cls"));
  OOMSCOPE_RETURN_IF_ERROR(r.Array(&d.self_size, "self_size"));
  OOMSCOPE_RETURN_IF_ERROR(r.Array(&d.retained, "retained"));
  OOMSCOPE_RETURN_IF_ERROR(r.Array(&d.entries, "entries"));
  const size_t n = d.ids.size();
  if (n != d.node_count || d.cls.size() != n || d.self_size.size() != n ||
      (d.retained.size() != n && !d.retained.empty()) || d.entries.size() != d.retained.size())
    return Corruption("the digest's arrays disagree: node_count " + std::to_string(d.node_count) + ", ids " +
                      std::to_string(n) + ", cls " + std::to_string(d.cls.size()) + ", self_size " +
                      std::to_string(d.self_size.size()) + ", retained " + std::to_string(d.retained.size()) +
                      ", entries " + std::to_string(d.entries.size()));
  for (size_t i = 1; i < n; ++i)
    if (d.ids[i - 1] >= d.ids[i]) return Corruption("the digest's ids are not sorted at position " + std::to_string(i));
  for (size_t i = 0; i < n; ++i) {
    if (d.cls[i] >= names)
      return Corruption("class id " + std::to_string(d.cls[i]) + " at position " + std::to_string(i) +
                        " is outside the digest's " + std::to_string(names) + " class names");
    d.cls[i] = remap[d.cls[i]];
  }
  uint64_t k = 0;
  OOMSCOPE_ASSIGN(k, r.Int<uint64_t>("big_retained count"));
  if (k > r.left() / 12) return r.Need(r.left() + 1, "big_retained");
  for (uint64_t i = 0; i < k; ++i) {
    uint32_t pos = 0;
    uint64_t v = 0;
    OOMSCOPE_ASSIGN(pos, r.Int<uint32_t>("big_retained"));
    OOMSCOPE_ASSIGN(v, r.Int<uint64_t>("big_retained"));
    if (pos >= d.retained.size() || d.retained[pos] != UINT32_MAX)
      return Corruption("big_retained entry for position " + std::to_string(pos) + " has no marker in retained");
    d.big_retained.emplace(pos, v);
  }
  OOMSCOPE_ASSIGN(k, r.Int<uint64_t>("big_entries count"));
  if (k > r.left() / 8) return r.Need(r.left() + 1, "big_entries");
  for (uint64_t i = 0; i < k; ++i) {
    uint32_t pos = 0, v = 0;
    OOMSCOPE_ASSIGN(pos, r.Int<uint32_t>("big_entries"));
    OOMSCOPE_ASSIGN(v, r.Int<uint32_t>("big_entries"));
    if (pos >= d.entries.size() || d.entries[pos] != UINT16_MAX)
      return Corruption("big_entries entry for position " + std::to_string(pos) + " has no marker in entries");
    d.big_entries.emplace(pos, v);
  }
  // Every marker has its value (DigestCursor's retained() and entries() rely on it).
  for (size_t i = 0; i < d.retained.size(); ++i)
    if ((d.retained[i] == UINT32_MAX && !d.big_retained.count(static_cast<uint32_t>(i))) ||
        (d.entries[i] == UINT16_MAX && !d.big_entries.count(static_cast<uint32_t>(i))))
      return Corruption("position " + std::to_string(i) + " is marked large but has no value in the side table");
  OOMSCOPE_ASSIGN(k, r.Int<uint64_t>("the class count"));
  if (k > r.left() / 28) return r.Need(r.left() + 1, "classes");
  d.classes.resize(k);
  for (ClassStats& c : d.classes) {
    OOMSCOPE_ASSIGN(c.class_id, r.Int<uint32_t>("a class"));
    OOMSCOPE_ASSIGN(c.count, r.Int<uint64_t>("a class"));
    OOMSCOPE_ASSIGN(c.self_size, r.Int<uint64_t>("a class"));
    OOMSCOPE_ASSIGN(c.retained_size, r.Int<uint64_t>("a class"));
    if (c.class_id >= names)
      return Corruption("class summary id " + std::to_string(c.class_id) + " is outside the digest's class names");
    c.class_id = remap[c.class_id];
  }
  size_t body = r.offset();
  uint64_t total = 0;
  OOMSCOPE_ASSIGN(total, r.Int<uint64_t>("the length check"));
  if (total != body) return Corruption("the digest's length check says " + std::to_string(total) + " bytes, read " + std::to_string(body));
  if (r.left()) return Corruption(std::to_string(r.left()) + " bytes after the end of the digest");
  return d;
}

}  // namespace oomscope::heap
