#pragma once

// The informer's cache: the latest version of each object, by "namespace/name". Thread-safe;
// objects are returned by copy (read-only snapshots; STYLE.md: copy before you change).
//
// Packed (Store(true)): each object is kept as its MessagePack bytes rather than as
// nlohmann::json nodes (a map node of ~100 bytes per field), 4-5x smaller, and decoded on each
// read — reads copy anyway. For caches of many objects that are read rarely (Pods).

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace oomscope::kube {

class Store {
 public:
  explicit Store(bool packed = false) : packed_(packed) {}

  std::optional<nlohmann::json> Get(const std::string& key) const;
  std::vector<nlohmann::json> List() const;
  std::vector<std::string> Keys() const;
  // Calls `fn` on each object in key order without copying it (packed: decoded one at a time),
  // under the store's lock: `fn` must not call the store. For scans that keep a few objects.
  void ForEach(const std::function<void(const nlohmann::json&)>& fn) const;
  size_t size() const;
  bool packed() const { return packed_; }

  // Writers (the informer). Put returns the previous version, if any.
  std::optional<nlohmann::json> Put(const std::string& key, nlohmann::json obj);
  std::optional<nlohmann::json> Remove(const std::string& key);
  // Replaces everything; returns the old contents.
  std::map<std::string, nlohmann::json> Replace(std::map<std::string, nlohmann::json> objects);
  // Exchanges the contents with `other` (both packed, or neither).
  void Swap(Store& other);

 private:
  // One of the two, as packed_ says.
  struct Entry {
    nlohmann::json object;
    std::string bytes;  // MessagePack
  };
  Entry Pack(nlohmann::json obj) const;
  nlohmann::json Unpack(const Entry& e) const;

  const bool packed_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> objects_;
};

}  // namespace oomscope::kube
