#include "oomscope/kube/object.h"

namespace oomscope::kube {
namespace {

const nlohmann::json& Empty() {
  static const nlohmann::json* e = new nlohmann::json();
  return *e;
}

const nlohmann::json& Field(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return Empty();
  auto it = j.find(key);
  return it == j.end() ? Empty() : *it;
}

std::string Str(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = Field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::map<std::string, std::string> StringMap(const nlohmann::json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

const nlohmann::json* At(const nlohmann::json& obj, std::string_view pointer) {
  try {
    nlohmann::json::json_pointer p{std::string(pointer)};
    if (!obj.contains(p)) return nullptr;
    return &obj.at(p);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

ObjectKey ObjectKey::Parse(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

namespace meta {
std::string Name(const nlohmann::json& obj) { return Str(Field(obj, "metadata"), "name"); }
std::string Namespace(const nlohmann::json& obj) { return Str(Field(obj, "metadata"), "namespace"); }
std::string Uid(const nlohmann::json& obj) { return Str(Field(obj, "metadata"), "uid"); }
std::string ResourceVersion(const nlohmann::json& obj) {
  return Str(Field(obj, "metadata"), "resourceVersion");
}
std::string CreationTimestamp(const nlohmann::json& obj) {
  return Str(Field(obj, "metadata"), "creationTimestamp");
}
bool IsBeingDeleted(const nlohmann::json& obj) {
  return !Str(Field(obj, "metadata"), "deletionTimestamp").empty();
}
int64_t Generation(const nlohmann::json& obj) {
  const nlohmann::json& g = Field(Field(obj, "metadata"), "generation");
  return g.is_number_integer() ? g.get<int64_t>() : 0;
}
std::map<std::string, std::string> Labels(const nlohmann::json& obj) {
  return StringMap(Field(Field(obj, "metadata"), "labels"));
}
std::map<std::string, std::string> Annotations(const nlohmann::json& obj) {
  return StringMap(Field(Field(obj, "metadata"), "annotations"));
}
std::string Annotation(const nlohmann::json& obj, std::string_view key, std::string_view fallback) {
  const nlohmann::json& a = Field(Field(obj, "metadata"), "annotations");
  if (a.is_object()) {
    auto it = a.find(std::string(key));
    if (it != a.end() && it->is_string()) return it->get<std::string>();
  }
  return std::string(fallback);
}
std::vector<OwnerReference> OwnerReferences(const nlohmann::json& obj) {
  std::vector<OwnerReference> out;
  const nlohmann::json& refs = Field(Field(obj, "metadata"), "ownerReferences");
  if (!refs.is_array()) return out;
  for (const auto& r : refs) {
    const nlohmann::json& c = Field(r, "controller");
    out.push_back({Str(r, "apiVersion"), Str(r, "kind"), Str(r, "name"), Str(r, "uid"),
                   c.is_boolean() && c.get<bool>()});
  }
  return out;
}
OwnerReference ControllerOf(const nlohmann::json& obj) {
  for (auto& r : OwnerReferences(obj)) {
    if (r.controller) return r;
  }
  return {};
}
ObjectKey KeyOf(const nlohmann::json& obj) { return {Namespace(obj), Name(obj)}; }
}  // namespace meta

std::string StringAt(const nlohmann::json& obj, std::string_view pointer, std::string_view fallback) {
  const nlohmann::json* v = At(obj, pointer);
  return v && v->is_string() ? v->get<std::string>() : std::string(fallback);
}

int64_t IntAt(const nlohmann::json& obj, std::string_view pointer, int64_t fallback) {
  const nlohmann::json* v = At(obj, pointer);
  return v && v->is_number_integer() ? v->get<int64_t>() : fallback;
}

}  // namespace oomscope::kube
