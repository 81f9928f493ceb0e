#pragma once

// The informer's cache: the latest version of each object, by "namespace/name". Thread-safe;
// objects are returned by copy (read-only snapshots; STYLE.md: copy before you change).

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace oomscope::kube {

class Store {
 public:
  std::optional<nlohmann::json> Get(const std::string& key) const;
  std::vector<nlohmann::json> List() const;
  std::vector<std::string> Keys() const;
  size_t size() const;

  // Writers (the informer). Put returns the previous version, if any.
  std::optional<nlohmann::json> Put(const std::string& key, nlohmann::json obj);
  std::optional<nlohmann::json> Remove(const std::string& key);
  // Replaces everything; returns the old contents.
  std::map<std::string, nlohmann::json> Replace(std::map<std::string, nlohmann::json> objects);

 private:
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> objects_;
};

}  // namespace oomscope::kube
