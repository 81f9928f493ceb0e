// KubeClient against the API server emulator: CRUD, Status mapping, patches, pagination, watch.
#include <doctest/doctest.h>

#include <thread>

#include "emulator.h"
#include "oomscope/kube/api_status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/events.h"
#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"
#include "recorder.h"

namespace k = oomscope::kube;
namespace kt = oomscope::kube::testing;
using oomscope::Code;

TEST_SUITE("client") {

TEST_CASE("create, get, update with resourceVersion, status codes of the real server") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  REQUIRE(client);
  const std::string ns = kt::MakeNamespace(*client, "crud");

  auto created = client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "settings", "one"));
  REQUIRE(created.ok());
  CHECK(k::meta::Uid(*created) != "");
  const std::string rv1 = k::meta::ResourceVersion(*created);

  auto again = client->Create(kt::ConfigMaps(), "", kt::ConfigMap(ns, "settings", "one"));
  CHECK(again.status().code() == Code::kAlreadyExists);
  CHECK(k::ParseApiStatus(again.status()).code == 409);

  auto missing = client->Get(kt::ConfigMaps(), ns, "absent");
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(k::ParseApiStatus(missing.status()).code == 404);
  CHECK(k::ParseApiStatus(missing.status()).reason == "NotFound");

  auto got = client->Get(kt::ConfigMaps(), ns, "settings");
  REQUIRE(got.ok());
  CHECK((*got)["data"]["key"] == "one");

  nlohmann::json changed = *got;
  changed["data"]["key"] = "two";
  auto updated = client->Update(kt::ConfigMaps(), ns, changed);
  REQUIRE(updated.ok());
  CHECK(k::meta::ResourceVersion(*updated) != rv1);

  // The same update again carries the old resourceVersion: 409, as transcript 14.
  auto stale = client->Update(kt::ConfigMaps(), ns, changed);
  CHECK(stale.status().code() == Code::kConflict);
  CHECK(stale.status().retryable());
  CHECK(k::ParseApiStatus(stale.status()).message.find("the object has been modified") != std::string::npos);

  // Invalid objects are 422 (InvalidArgument) and not retryable.
  nlohmann::json bad = kt::Deployment(ns, "bad");
  bad["spec"]["template"]["spec"]["containers"][0].erase("name");
  auto invalid = client->Create(k::resources::Deployments(), ns, bad);
  CHECK(invalid.status().code() == Code::kInvalidArgument);
  CHECK_FALSE(invalid.status().retryable());

  CHECK(client->Delete(kt::ConfigMaps(), ns, "settings").ok());
  CHECK(client->Delete(kt::ConfigMaps(), ns, "settings").code() == Code::kNotFound);

  // Every call said who we are.
  auto requests = emu.Admin("GET", "/_emulator/requests");
  REQUIRE(requests.ok());
  REQUIRE(!requests->empty());
  for (const auto& r : *requests) {
    CHECK(r["userAgent"].get<std::string>().rfind("oomscope-operator/", 0) == 0);
  }
}

TEST_CASE("injected 403, 429, 500 and 503 become PermissionDenied and retryable Unavailable") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "faults");
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "c")).ok());
  for (int status : {403, 429, 500, 503}) {
    CAPTURE(status);
    REQUIRE(emu.Admin("POST", "/_emulator/faults",
                      {{"verb", "get"}, {"resource", "configmaps"}, {"status", status}, {"count", 1}})
                .ok());
    auto r = client->Get(kt::ConfigMaps(), ns, "c");
    REQUIRE_FALSE(r.ok());
    CHECK(k::ParseApiStatus(r.status()).code == status);
    if (status == 403) {
      CHECK(r.status().code() == Code::kPermissionDenied);
    } else {
      CHECK(r.status().code() == Code::kUnavailable);
      CHECK(r.status().retryable());
    }
    CHECK(client->Get(kt::ConfigMaps(), ns, "c").ok());  // the fault was for one call
  }
}

TEST_CASE("a server that is not there is Unavailable, not an exception") {
  k::ClusterConfig c;
  c.server = "http://127.0.0.1:1";
  c.request_timeout = std::chrono::seconds(5);
  auto client = k::NewKubeClient(c);
  REQUIRE(client.ok());
  auto r = (*client)->Get(k::resources::Pods(), "x", "y");
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(k::NewKubeClient(k::ClusterConfig{}).status().code() == Code::kInvalidArgument);
}

TEST_CASE("merge, JSON and strategic merge patches; scale and status subresources") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "patches");
  const auto& deployments = k::resources::Deployments();
  REQUIRE(client->Create(deployments, ns, kt::Deployment(ns, "leaky-api")).ok());

  auto merged = client->Patch(deployments, ns, "leaky-api", k::PatchType::kMerge,
                              {{"metadata", {{"annotations", {{"oomscope.io/enabled", "true"}}}}}});
  REQUIRE(merged.ok());
  CHECK(k::meta::Annotation(*merged, "oomscope.io/enabled") == "true");

  // Strategic merge merges env by name (a merge patch would replace the list).
  auto smp = client->Patch(deployments, ns, "leaky-api", k::PatchType::kStrategicMerge,
                           nlohmann::json::parse(R"({"spec":{"template":{"spec":{"containers":[
                             {"name":"api","env":[{"name":"NODE_OPTIONS","value":"--inspect=127.0.0.1:9229"}]}]}}}})"));
  REQUIRE(smp.ok());
  auto env = (*smp)["spec"]["template"]["spec"]["containers"][0]["env"];
  CHECK(env.size() == 2);

  // A JSON patch whose test fails is refused (transcript 34); one whose test holds applies.
  auto failed = client->Patch(deployments, ns, "leaky-api", k::PatchType::kJsonPatch,
                              nlohmann::json::parse(R"([{"op":"test","path":"/spec/replicas","value":7},
                                                        {"op":"replace","path":"/spec/replicas","value":1}])"));
  CHECK_FALSE(failed.ok());
  auto patched = client->Patch(deployments, ns, "leaky-api", k::PatchType::kJsonPatch,
                               nlohmann::json::parse(R"([{"op":"test","path":"/spec/replicas","value":2},
                                                         {"op":"replace","path":"/spec/replicas","value":1}])"));
  REQUIRE(patched.ok());
  CHECK((*patched)["spec"]["replicas"] == 1);

  auto scale = client->Get(deployments, ns, "leaky-api", "scale");
  REQUIRE(scale.ok());
  CHECK((*scale)["kind"] == "Scale");
  (*scale)["spec"]["replicas"] = 3;
  auto scaled = client->Update(deployments, ns, *scale, "scale");
  REQUIRE(scaled.ok());
  CHECK(client->Get(deployments, ns, "leaky-api")->at("spec").at("replicas") == 3);

  // UpdateStatus writes the status only.
  auto current = client->Get(deployments, ns, "leaky-api");
  REQUIRE(current.ok());
  nlohmann::json with_status = *current;
  with_status["status"]["observedGeneration"] = 1;
  with_status["spec"]["replicas"] = 9;  // ignored by /status
  auto status_written = client->UpdateStatus(deployments, ns, with_status);
  REQUIRE(status_written.ok());
  CHECK((*status_written)["status"]["observedGeneration"] == 1);
  CHECK((*status_written)["spec"]["replicas"] == 3);
}

TEST_CASE("LIST with limit=2 follows continue tokens over 5 objects; selectors filter") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "pages");
  for (int i = 0; i < 5; ++i) {
    REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "cm-" + std::to_string(i), "v", "paged")).ok());
  }
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "other", "v", "unpaged")).ok());

  k::ListOptions o;
  o.limit = 2;
  o.label_selector = "group=paged";
  auto first = client->ListPage(kt::ConfigMaps(), ns, o);
  REQUIRE(first.ok());
  CHECK((*first)["items"].size() == 2);
  CHECK(!(*first)["metadata"]["continue"].get<std::string>().empty());

  auto all = client->List(kt::ConfigMaps(), ns, o);
  REQUIRE(all.ok());
  CHECK(all->items.size() == 5);
  CHECK(all->pages == 3);
  CHECK(!all->resource_version.empty());

  k::ListOptions by_name;
  by_name.field_selector = "metadata.name=other";
  auto one = client->List(kt::ConfigMaps(), ns, by_name);
  REQUIRE(one.ok());
  REQUIRE(one->items.size() == 1);
  CHECK(k::meta::Name(one->items[0]) == "other");
}

TEST_CASE("watch delivers ADDED, MODIFIED and DELETED as they happen; Stop ends it") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "watch");
  auto list = client->List(kt::ConfigMaps(), ns);
  REQUIRE(list.ok());

  kt::Recorder seen;
  k::StopSignal stop;
  oomscope::Status result;
  std::thread watcher([&] {
    k::WatchOptions o;
    o.resource_version = list->resource_version;
    o.timeout_seconds = 60;
    result = client->Watch(kt::ConfigMaps(), ns, o, [&](const k::WatchEvent& ev) {
      seen.Add(std::string(k::WatchEventTypeName(ev.type)) + " " + k::meta::Name(ev.object));
      return true;
    }, &stop);
  });
  // Each change is made after the previous event arrived, which shows that events stream.
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "w", "1")).ok());
  CHECK(seen.WaitForEntry("ADDED w"));
  REQUIRE(client->Patch(kt::ConfigMaps(), ns, "w", k::PatchType::kMerge, {{"data", {{"key", "2"}}}}).ok());
  CHECK(seen.WaitForEntry("MODIFIED w"));
  REQUIRE(client->Delete(kt::ConfigMaps(), ns, "w").ok());
  CHECK(seen.WaitForEntry("DELETED w"));
  stop.Stop();
  watcher.join();
  CHECK(result.code() == Code::kCancelled);
}

TEST_CASE("a watch from a compacted resourceVersion ends in Gone") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "gone");
  auto created = client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "a"));
  REQUIRE(created.ok());
  const std::string old_rv = k::meta::ResourceVersion(*created);
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "b")).ok());
  REQUIRE(emu.Admin("POST", "/_emulator/compact", nlohmann::json::object()).ok());

  std::vector<k::WatchEvent::Type> types;
  k::WatchOptions o;
  o.resource_version = old_rv;
  o.timeout_seconds = 10;
  oomscope::Status s = client->Watch(kt::ConfigMaps(), ns, o, [&](const k::WatchEvent& ev) {
    types.push_back(ev.type);
    return true;
  });
  CHECK(s.code() == Code::kGone);
  CHECK(k::ParseApiStatus(s).code == 410);
}

TEST_CASE("creates, updates and patches send fieldValidation=Strict: an unknown field is refused") {
  // The emulator's own default is the real server's (Warn): Strict can only come from the client.
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "strict");

  nlohmann::json typo = kt::Deployment(ns, "typo");
  typo["spec"]["template"]["spec"]["containers"][0]["resource"] = {{"limits", {{"memory", "1Gi"}}}};
  auto created = client->Create(k::resources::Deployments(), ns, typo);
  CHECK(created.status().code() == Code::kInvalidArgument);
  CHECK(k::ParseApiStatus(created.status()).code == 400);
  CHECK(k::ParseApiStatus(created.status()).message.find(
            R"(strict decoding error: unknown field "spec.template.spec.containers[0].resource")") !=
        std::string::npos);
  CHECK(client->Get(k::resources::Deployments(), ns, "typo").status().code() == Code::kNotFound);

  auto good = client->Create(k::resources::Deployments(), ns, kt::Deployment(ns, "good"));
  REQUIRE(good.ok());
  nlohmann::json changed = *good;
  changed["spec"]["replica"] = 3;
  auto updated = client->Update(k::resources::Deployments(), ns, changed);
  CHECK(updated.status().code() == Code::kInvalidArgument);
  CHECK(k::ParseApiStatus(updated.status()).message.find(R"(unknown field "spec.replica")") != std::string::npos);
  auto patched = client->Patch(k::resources::Deployments(), ns, "good", k::PatchType::kMerge,
                               {{"metadata", {{"label", {{"a", "b"}}}}}});
  CHECK(patched.status().code() == Code::kInvalidArgument);
  CHECK(k::ParseApiStatus(patched.status()).message.find(R"(unknown field "metadata.label")") != std::string::npos);

  // Every write carried the parameter (the audit log keeps the server's warnings; none here).
  auto requests = emu.Admin("GET", "/_emulator/requests");
  REQUIRE(requests.ok());
  int writes = 0;
  for (const auto& r : *requests) {
    const std::string verb = r.value("verb", "");
    if (verb == "create" || verb == "update" || verb == "patch") {
      ++writes;
      CHECK_FALSE(r.contains("warnings"));
    }
  }
  CHECK(writes >= 4);

  // Without it ("" = the server's default, Warn) the same typo is stored, the field dropped.
  k::ClusterConfig loose;
  loose.server = emu.url();
  loose.field_validation = "";
  auto lax = k::NewKubeClient(loose);
  REQUIRE(lax.ok());
  auto dropped = (*lax)->Create(k::resources::Deployments(), ns, typo);
  REQUIRE(dropped.ok());
  CHECK_FALSE((*dropped)["spec"]["template"]["spec"]["containers"][0].contains("resource"));
}

TEST_CASE("Version reads GET /version: v1.32 by default, an older server as it says") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto v = emu.Client()->Version();
  REQUIRE(v.ok());
  CHECK(v->major == 1);
  CHECK(v->minor == 32);
  CHECK(v->git_version == "v1.32.13");
  CHECK(v->AtLeast(1, 29));

  kt::Emulator old({"--server-version", "v1.28.4"});
  REQUIRE(old.ok());
  auto o = old.Client()->Version();
  REQUIRE(o.ok());
  CHECK(o->ToString() == "1.28");
  CHECK_FALSE(o->AtLeast(1, 29));
}

TEST_CASE("an events.k8s.io/v1 Event about a Deployment is accepted by the server") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "events");
  auto deploy = client->Create(k::resources::Deployments(), ns, kt::Deployment(ns, "leaky-api"));
  REQUIRE(deploy.ok());
  k::EventRecorder recorder(*client, "oomscope-operator-0");
  auto ev = recorder.Record(*deploy, {"Warning", "OOMKillDetected", "DetectOOMKill",
                                      "container api was OOMKilled; starting heap diagnosis"});
  REQUIRE(ev.ok());
  auto back = client->Get(k::resources::Events(), ns, k::meta::Name(*ev));
  REQUIRE(back.ok());
  CHECK((*back)["regarding"]["name"] == "leaky-api");
  CHECK((*back)["eventTime"].get<std::string>().size() == std::string("2026-11-26T23:22:02.714908Z").size());
}

}  // TEST_SUITE
