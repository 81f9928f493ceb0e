#include "oomscope/kube/store.h"

namespace oomscope::kube {

Store::Entry Store::Pack(nlohmann::json obj) const {
  Entry e;
  if (!packed_) {
    e.object = std::move(obj);
    return e;
  }
  nlohmann::json::to_msgpack(obj, e.bytes);
  e.bytes.shrink_to_fit();
  return e;
}

nlohmann::json Store::Unpack(const Entry& e) const {
  if (!packed_) return e.object;
  // Bytes we wrote ourselves: they decode (no exceptions, and a null if they ever did not).
  return nlohmann::json::from_msgpack(e.bytes, /*strict=*/true, /*allow_exceptions=*/false);
}

std::optional<nlohmann::json> Store::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return Unpack(it->second);
}

std::vector<nlohmann::json> Store::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<nlohmann::json> out;
  out.reserve(objects_.size());
  for (const auto& [k, v] : objects_) out.push_back(Unpack(v));
  return out;
}

void Store::ForEach(const std::function<void(const nlohmann::json&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : objects_) {
    if (packed_)
      fn(Unpack(v));
    else
      fn(v.object);
  }
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
  Entry e = Pack(std::move(obj));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    objects_.emplace(key, std::move(e));
    return std::nullopt;
  }
  std::optional<nlohmann::json> old = Unpack(it->second);
  it->second = std::move(e);
  return old;
}

std::optional<nlohmann::json> Store::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  std::optional<nlohmann::json> old = Unpack(it->second);
  objects_.erase(it);
  return old;
}

std::map<std::string, nlohmann::json> Store::Replace(std::map<std::string, nlohmann::json> objects) {
  std::map<std::string, Entry> fresh;
  for (auto& [k, v] : objects) fresh.emplace(k, Pack(std::move(v)));
  objects.clear();
  std::map<std::string, Entry> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.swap(fresh);
    old.swap(fresh);
  }
  std::map<std::string, nlohmann::json> out;
  for (auto& [k, v] : old) out.emplace(k, packed_ ? Unpack(v) : std::move(v.object));
  return out;
}

void Store::Swap(Store& other) {
  if (&other == this) return;
  std::scoped_lock lock(mu_, other.mu_);
  objects_.swap(other.objects_);
}

}  // namespace oomscope::kube
