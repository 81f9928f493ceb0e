#pragma once

// Thin read accessors over Kubernetes objects held as nlohmann::json. Missing fields read as
// empty; nothing here throws.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace oomscope::kube {

// "namespace/name", or "name" for cluster-scoped objects: the key stores and work queues use.
struct ObjectKey {
  std::string namespace_;
  std::string name;
  std::string ToString() const { return namespace_.empty() ? name : namespace_ + "/" + name; }
  static ObjectKey Parse(std::string_view key);  // inverse of ToString()
  friend bool operator==(const ObjectKey&, const ObjectKey&) = default;
  friend auto operator<=>(const ObjectKey&, const ObjectKey&) = default;
};

struct OwnerReference {
  std::string api_version, kind, name, uid;
  bool controller = false;
};

// metadata.* of an object.
namespace meta {
std::string Name(const nlohmann::json& obj);
std::string Namespace(const nlohmann::json& obj);
std::string Uid(const nlohmann::json& obj);
std::string ResourceVersion(const nlohmann::json& obj);
std::string CreationTimestamp(const nlohmann::json& obj);
bool IsBeingDeleted(const nlohmann::json& obj);  // metadata.deletionTimestamp is set
int64_t Generation(const nlohmann::json& obj);
std::map<std::string, std::string> Labels(const nlohmann::json& obj);
std::map<std::string, std::string> Annotations(const nlohmann::json& obj);
// The annotation's value, or `fallback` when absent.
std::string Annotation(const nlohmann::json& obj, std::string_view key, std::string_view fallback = "");
std::vector<OwnerReference> OwnerReferences(const nlohmann::json& obj);
// The owner reference with controller: true, if any (kind/name empty otherwise).
OwnerReference ControllerOf(const nlohmann::json& obj);
ObjectKey KeyOf(const nlohmann::json& obj);
}  // namespace meta

// A field by JSON pointer ("/spec/replicas"), or `fallback` when absent or of another type.
std::string StringAt(const nlohmann::json& obj, std::string_view pointer, std::string_view fallback = "");
int64_t IntAt(const nlohmann::json& obj, std::string_view pointer, int64_t fallback = 0);

}  // namespace oomscope::kube
