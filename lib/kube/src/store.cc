#include "oomscope/kube/store.h"

namespace oomscope::kube {

std::optional<nlohmann::json> Store::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> Store::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<nlohmann::json> out;
  out.reserve(objects_.size());
  for (const auto& [k, v] : objects_) out.push_back(v);
  return out;
}

std::vector<std::string> Store::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [k, v] : objects_) out.push_back(k);
  return out;
}

size_t Store::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

std::optional<nlohmann::json> Store::Put(const std::string& key, nlohmann::json obj) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = objects_.try_emplace(key, std::move(obj));
  if (inserted) return std::nullopt;
  std::optional<nlohmann::json> old = std::move(it->second);
  it->second = std::move(obj);  // NOLINT: `obj` was not moved from when not inserted
  return old;
}

std::optional<nlohmann::json> Store::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  std::optional<nlohmann::json> old = std::move(it->second);
  objects_.erase(it);
  return old;
}

std::map<std::string, nlohmann::json> Store::Replace(std::map<std::string, nlohmann::json> objects) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_.swap(objects);
  return objects;
}

}  // namespace oomscope::kube
