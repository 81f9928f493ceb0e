// The pure parts of lib/kube: paths, Status mapping, time formats, kubeconfig parsing, objects.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "oomscope/kube/api_status.h"
#include "oomscope/kube/config.h"
#include "oomscope/kube/events.h"
#include "oomscope/kube/informer.h"
#include "oomscope/kube/leader_election.h"
#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"
#include "oomscope/kube/server_version.h"
#include "oomscope/kube/store.h"
#include "oomscope/kube/time.h"

namespace k = oomscope::kube;
using oomscope::Code;

namespace {

std::filesystem::path TempDir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("oomscope-kube-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

void Write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("resource paths for core, grouped, cluster-scoped and subresources") {
  using namespace k::resources;
  CHECK(Pods().CollectionPath("shop") == "/api/v1/namespaces/shop/pods");
  CHECK(Pods().CollectionPath("") == "/api/v1/pods");
  CHECK(Deployments().ObjectPath("shop", "leaky-api", "scale") ==
        "/apis/apps/v1/namespaces/shop/deployments/leaky-api/scale");
  CHECK(Namespaces().ObjectPath("ignored", "shop") == "/api/v1/namespaces/shop");
  CHECK(HeapDiagnoses().ObjectPath("shop", "hd-1", "status") ==
        "/apis/oomscope.io/v1alpha1/namespaces/shop/heapdiagnoses/hd-1/status");
  CHECK(HorizontalPodAutoscalers().ApiVersion() == "autoscaling/v2");
  CHECK(Events().ApiVersion() == "events.k8s.io/v1");
  CHECK(Leases().GroupResource() == "leases.coordination.k8s.io");
  CHECK(Pods().GroupResource() == "pods");
  CHECK(k::UrlEncode("app=leaky-api,tier in (a,b)") == "app%3Dleaky-api%2Ctier%20in%20%28a%2Cb%29");
}

TEST_CASE("API Status bodies map to codes and read back") {
  // The bodies of transcripts 14 (409), 30 (404), 17 (410), 29 (401), 27 (403), 22 (422).
  auto s409 = k::StatusFromResponse(409, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on deployments.apps \"leaky-api\": the object has been modified; please apply your changes to the latest version and try again","reason":"Conflict","details":{"name":"leaky-api","group":"apps","kind":"deployments"},"code":409})",
                                   "update deployments.apps shop/leaky-api");
  CHECK(s409.code() == Code::kConflict);
  CHECK(s409.retryable());
  auto parsed = k::ParseApiStatus(s409);
  CHECK(parsed.code == 409);
  CHECK(parsed.reason == "Conflict");
  CHECK(parsed.message.find("the object has been modified") != std::string::npos);

  CHECK(k::StatusFromResponse(404, R"({"kind":"Status","reason":"NotFound","message":"x","code":404})").code() == Code::kNotFound);
  CHECK(k::StatusFromResponse(410, R"({"kind":"Status","reason":"Expired","message":"The resourceVersion for the provided list is too old.","code":410})").code() == Code::kGone);
  CHECK(k::StatusFromResponse(401, R"({"kind":"Status","reason":"Unauthorized","message":"Unauthorized","code":401})").code() == Code::kUnauthenticated);
  CHECK(k::StatusFromResponse(403, R"({"kind":"Status","reason":"Forbidden","code":403})").code() == Code::kPermissionDenied);
  CHECK(k::StatusFromResponse(422, R"({"kind":"Status","reason":"Invalid","code":422})").code() == Code::kInvalidArgument);
  CHECK(k::StatusFromResponse(400, R"({"kind":"Status","reason":"BadRequest","code":400})").code() == Code::kInvalidArgument);
  CHECK(k::StatusFromResponse(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})").code() == Code::kAlreadyExists);
  auto s429 = k::StatusFromResponse(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})");
  CHECK(s429.code() == Code::kUnavailable);
  CHECK(s429.retryable());
  auto s503 = k::StatusFromResponse(503, "upstream connect error\n");
  CHECK(s503.code() == Code::kUnavailable);
  CHECK(k::ParseApiStatus(s503).code == 503);
  CHECK(k::ParseApiStatus(s503).message == "upstream connect error");
  // A watch ERROR event's object (transcript 20).
  auto gone = k::StatusFromApiObject(nlohmann::json::parse(
      R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 242 (249)","reason":"Expired","code":410})j"));
  CHECK(gone.code() == Code::kGone);
  CHECK(k::ParseApiStatus(gone).code == 410);
  CHECK(k::ParseApiStatus(oomscope::Unavailable("connection refused")).code == 0);
}

TEST_CASE("MicroTime has exactly six fractional digits; times parse back") {
  auto t = k::ParseTime("2026-11-26T23:22:02.714908Z");
  REQUIRE(t.ok());
  CHECK(k::FormatMicroTime(*t) == "2026-11-26T23:22:02.714908Z");
  CHECK(k::FormatTime(*t) == "2026-11-26T23:22:02Z");
  auto whole = k::ParseTime("2026-11-26T23:22:02Z");
  REQUIRE(whole.ok());
  CHECK(k::FormatMicroTime(*whole) == "2026-11-26T23:22:02.000000Z");
  auto offset = k::ParseTime("2026-11-27T01:22:02.5+02:00");
  REQUIRE(offset.ok());
  CHECK(k::FormatMicroTime(*offset) == "2026-11-26T23:22:02.500000Z");
  CHECK_FALSE(k::ParseTime("2026-11-26 nonsense").ok());
  CHECK_FALSE(k::ParseTime("2026-02-30T00:00:00Z").ok());
  CHECK_FALSE(k::ParseTime("").ok());
}

TEST_CASE("object accessors read metadata and never throw") {
  auto pod = nlohmann::json::parse(R"({"kind":"Pod","metadata":{"name":"leaky-api-d59884475-4ph2r",
    "namespace":"shop","uid":"886b","resourceVersion":"244","labels":{"app":"leaky-api"},
    "annotations":{"oomscope.io/enabled":"true"},
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"leaky-api-d59884475","uid":"1","controller":true,"blockOwnerDeletion":true}]},
    "status":{"containerStatuses":[{"restartCount":3}]}})");
  CHECK(k::meta::Name(pod) == "leaky-api-d59884475-4ph2r");
  CHECK(k::meta::KeyOf(pod).ToString() == "shop/leaky-api-d59884475-4ph2r");
  CHECK(k::meta::ResourceVersion(pod) == "244");
  CHECK(k::meta::Annotation(pod, "oomscope.io/enabled") == "true");
  CHECK(k::meta::Annotation(pod, "absent", "d") == "d");
  CHECK(k::meta::Labels(pod).at("app") == "leaky-api");
  CHECK(k::meta::ControllerOf(pod).kind == "ReplicaSet");
  CHECK(k::IntAt(pod, "/status/containerStatuses/0/restartCount") == 3);
  CHECK(k::IntAt(pod, "/status/containerStatuses/5/restartCount", -1) == -1);
  CHECK(k::StringAt(pod, "not a pointer", "x") == "x");
  CHECK(k::meta::Name(nlohmann::json::array()) == "");
  CHECK(k::meta::OwnerReferences(nlohmann::json("text")).empty());
  auto key = k::ObjectKey::Parse("shop/x");
  CHECK(key.namespace_ == "shop");
  CHECK(key.name == "x");
  CHECK(k::ObjectKey::Parse("cluster-wide").namespace_.empty());
}

TEST_CASE("events.k8s.io/v1 Event as transcript 39 shows it") {
  auto deploy = nlohmann::json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{
    "name":"leaky-api","namespace":"shop","uid":"c49d","resourceVersion":"683"}})");
  auto now = *k::ParseTime("2026-11-26T23:22:02.714908Z");
  auto ev = k::BuildEvent(deploy, {"Warning", "OOMKillDetected", "DetectOOMKill", std::string(3000, 'x')},
                          "oomscope.io/operator", "oomscope-operator-0", now);
  CHECK(ev["apiVersion"] == "events.k8s.io/v1");
  CHECK(ev["eventTime"] == "2026-11-26T23:22:02.714908Z");
  CHECK(ev["metadata"]["namespace"] == "shop");
  CHECK(ev["metadata"]["name"].get<std::string>().rfind("leaky-api.", 0) == 0);
  CHECK(ev["regarding"]["kind"] == "Deployment");
  CHECK(ev["regarding"]["uid"] == "c49d");
  CHECK(ev["reportingController"] == "oomscope.io/operator");
  CHECK(ev["note"].get<std::string>().size() == 1024);
}

TEST_CASE("a Lease reads into what the elector decides on") {
  auto lease = nlohmann::json::parse(R"({"spec":{"leaseDurationSeconds":15,"holderIdentity":"oomscope-operator-0_5f1c",
    "acquireTime":"2026-11-26T23:22:02.835175Z","renewTime":"2026-11-26T23:22:02.835175Z","leaseTransitions":2}})");
  auto v = k::ReadLease(lease);
  CHECK(v.holder == "oomscope-operator-0_5f1c");
  CHECK(v.lease_duration_seconds == 15);
  CHECK(v.lease_transitions == 2);
  CHECK(k::FormatMicroTime(v.renew_time) == "2026-11-26T23:22:02.835175Z");
}

TEST_CASE("server versions: major/minor, managed clusters' \"29+\", gitVersion when they are empty") {
  auto v = k::ParseServerVersion(nlohmann::json::parse(R"({"major":"1","minor":"32","gitVersion":"v1.32.13"})"));
  REQUIRE(v.ok());
  CHECK(v->major == 1);
  CHECK(v->minor == 32);
  CHECK(v->git_version == "v1.32.13");
  auto eks = k::ParseServerVersion(nlohmann::json::parse(R"({"major":"1","minor":"29+","gitVersion":"v1.29.3-eks-ae9a62a"})"));
  REQUIRE(eks.ok());
  CHECK(eks->minor == 29);
  CHECK(eks->AtLeast(1, 29));
  CHECK_FALSE(eks->AtLeast(1, 30));
  CHECK(eks->AtLeast(0, 99));
  auto git = k::ParseServerVersion(nlohmann::json::parse(R"({"major":"","minor":"","gitVersion":"v1.28.15+k3s1"})"));
  REQUIRE(git.ok());
  CHECK(git->ToString() == "1.28");
  CHECK_FALSE(git->AtLeast(1, 29));
  CHECK_FALSE(k::ParseServerVersion(nlohmann::json::parse(R"({"gitVersion":"unknown"})")).ok());
  CHECK_FALSE(k::ParseServerVersion(nlohmann::json::array()).ok());
}

TEST_CASE("StripManagedFields drops metadata.managedFields only") {
  auto d = nlohmann::json::parse(R"({"metadata":{"name":"x","managedFields":[{"manager":"kubectl"}]},"spec":{}})");
  k::StripManagedFields(d);
  CHECK(d == nlohmann::json::parse(R"({"metadata":{"name":"x"},"spec":{}})"));
  nlohmann::json odd = "text";
  k::StripManagedFields(odd);  // not an object: left alone
  CHECK(odd == "text");
}

TEST_CASE("store put, replace and remove; packed or not, the same objects come back") {
 for (bool packed : {false, true}) {
  CAPTURE(packed);
  k::Store store(packed);
  CHECK(store.packed() == packed);
  const auto pod = nlohmann::json::parse(R"({"metadata":{"name":"p","namespace":"a","resourceVersion":"7",
    "ownerReferences":[{"kind":"ReplicaSet","name":"r","controller":true}]},"status":{"containerStatuses":[
    {"name":"api","restartCount":3,"lastState":{"terminated":{"reason":"OOMKilled","exitCode":137}}}]},
    "x":[1.5,-2,null,true,"ü"]})");
  store.Put("a/p", pod);
  CHECK(*store.Get("a/p") == pod);
  CHECK(store.List() == std::vector<nlohmann::json>{pod});
  std::vector<nlohmann::json> seen;
  store.ForEach([&](const nlohmann::json& o) { seen.push_back(o); });
  CHECK(seen == std::vector<nlohmann::json>{pod});
  CHECK(*store.Remove("a/p") == pod);
  k::Store other(packed);
  other.Put("a/q", pod);
  store.Swap(other);
  CHECK(store.Keys() == std::vector<std::string>{"a/q"});
  CHECK(other.size() == 0);
  CHECK_FALSE(store.Put("a/x", {{"v", 1}}).has_value());
  CHECK(store.Put("a/x", {{"v", 2}})->at("v") == 1);
  store.Put("a/y", {{"v", 3}});
  CHECK(store.size() == 3);
  auto old = store.Replace({{"a/z", {{"v", 4}}}});
  CHECK(old.size() == 3);
  CHECK(old.at("a/x").at("v") == 2);
  CHECK(store.Keys() == std::vector<std::string>{"a/z"});
  CHECK(store.Remove("a/z").has_value());
  CHECK_FALSE(store.Get("a/z").has_value());
 }
}

TEST_CASE("kubeconfig: current context, CA data, token; and files relative to the kubeconfig") {
  auto dir = TempDir("kubeconfig");
  // "-----BEGIN CERTIFICATE-----\nCA\n" in base64.
  const std::string yaml = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: prod
  cluster: {server: "https://prod:6443"}
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:16443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg==
contexts:
- name: dev
  context: {cluster: dev-cluster, user: admin, namespace: shop}
- name: prod
  context: {cluster: prod, user: files}
- name: insecure
  context: {cluster: insecure, user: tokenfile}
- name: plugin
  context: {cluster: prod, user: exec-user}
users:
- name: admin
  user: {token: abc123}
- name: files
  user: {client-certificate: certs/client.crt, client-key: /abs/missing.key}
- name: tokenfile
  user: {tokenFile: token.txt}
- name: exec-user
  user:
    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}
)";
  std::string fixed = yaml;
  fixed.insert(fixed.find("contexts:"),
               "- name: insecure\n  cluster: {server: \"https://i:1\", insecure-skip-tls-verify: true}\n");
  Write(dir / "config", fixed);
  Write(dir / "token.txt", "from-file\n");

  auto dev = k::LoadKubeconfig((dir / "config").string());
  REQUIRE(dev.ok());
  CHECK(dev->server == "https://127.0.0.1:16443");
  CHECK(dev->ca_pem == "-----BEGIN CERTIFICATE-----\nCA\n");
  CHECK(dev->token == "abc123");
  CHECK_FALSE(dev->insecure_skip_tls_verify);
  CHECK(dev->user_agent.rfind("oomscope-operator/", 0) == 0);

  auto insecure = k::LoadKubeconfig((dir / "config").string(), "insecure");
  REQUIRE(insecure.ok());
  CHECK(insecure->insecure_skip_tls_verify);
  CHECK(insecure->token_file == (dir / "token.txt").string());

  // A relative client-certificate is read next to the kubeconfig; the missing key is an error
  // that names the field.
  std::filesystem::create_directories(dir / "certs");
  Write(dir / "certs/client.crt", "CERT");
  auto files = k::LoadKubeconfig((dir / "config").string(), "prod");
  CHECK(files.status().code() == Code::kNotFound);
  CHECK(files.status().message().find("client-key") != std::string::npos);

  auto plugin = k::LoadKubeconfig((dir / "config").string(), "plugin");
  CHECK(plugin.status().code() == Code::kInvalidArgument);
  CHECK(plugin.status().message().find("exec") != std::string::npos);

  CHECK(k::LoadKubeconfig((dir / "config").string(), "nope").status().code() == Code::kInvalidArgument);
  CHECK(k::ParseKubeconfig("{not: [yaml", "").status().code() == Code::kInvalidArgument);
  CHECK(k::LoadKubeconfig((dir / "absent").string()).status().code() == Code::kNotFound);

  // KUBECONFIG: the first file of a list.
  std::string list = (dir / "config").string() + ":" + (dir / "absent").string();
  ::setenv("KUBECONFIG", list.c_str(), 1);
  auto resolved = k::ResolveConfig("");
  ::unsetenv("KUBECONFIG");
  REQUIRE(resolved.ok());
  CHECK(resolved->token == "abc123");
  std::filesystem::remove_all(dir);
}

TEST_CASE("in-cluster config from overridden paths") {
  auto dir = TempDir("incluster");
  k::InClusterPaths paths;
  paths.token_file = (dir / "token").string();
  paths.ca_file = (dir / "ca.crt").string();
  paths.namespace_file = (dir / "namespace").string();
  paths.host = "10.96.0.1";
  paths.port = "443";
  CHECK(k::InClusterConfig(paths).status().code() == Code::kFailedPrecondition);  // no token yet
  Write(dir / "token", "t0");
  Write(dir / "ca.crt", "PEM");
  Write(dir / "namespace", "oomscope\n");
  auto c = k::InClusterConfig(paths);
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.96.0.1:443");
  CHECK(c->token_file == paths.token_file);
  CHECK(c->token.empty());
  CHECK(c->ca_pem == "PEM");
  CHECK(k::InClusterNamespace(paths) == "oomscope");
  paths.host = "fd00::1";
  CHECK(k::InClusterConfig(paths)->server == "https://[fd00::1]:443");
  std::filesystem::remove_all(dir);
}

}  // TEST_SUITE
