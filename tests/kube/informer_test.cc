// The informer against the emulator: sync, dropped watches, compaction (410), injected 500s.
#include <doctest/doctest.h>

#include "emulator.h"
#include "oomscope/kube/informer.h"
#include "oomscope/kube/object.h"
#include "recorder.h"

namespace k = oomscope::kube;
namespace kt = oomscope::kube::testing;

namespace {

// Handlers that record "add x", "update x", "delete x" (by name).
k::EventHandlers Recording(kt::Recorder& r) {
  k::EventHandlers h;
  h.on_add = [&r](const nlohmann::json& o) { r.Add("add " + k::meta::Name(o)); };
  h.on_update = [&r](const nlohmann::json&, const nlohmann::json& o) {
    r.Add("update " + k::meta::Name(o) + "=" + o["data"]["key"].get<std::string>());
  };
  h.on_delete = [&r](const nlohmann::json& o) { r.Add("delete " + k::meta::Name(o)); };
  return h;
}

k::InformerOptions Options(const std::string& ns) {
  k::InformerOptions o;
  o.resource = kt::ConfigMaps();
  o.namespace_ = ns;
  o.page_size = 2;  // the first LIST takes pages
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(500);
  return o;
}

}  // namespace

TEST_SUITE("informer") {

TEST_CASE("lists, syncs, and follows changes into the store") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "inf");
  for (const char* n : {"a", "b", "c"}) REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, n)).ok());

  kt::Recorder r;
  k::Informer informer(*client, Options(ns));
  informer.AddHandlers(Recording(r));
  CHECK_FALSE(informer.HasSynced());
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(15)));
  CHECK(informer.store().size() == 3);
  CHECK(r.Contains("add a"));
  CHECK(r.Contains("add c"));
  auto cached = informer.store().Get(ns + "/b");
  REQUIRE(cached.has_value());
  CHECK((*cached)["kind"] == "ConfigMap");

  REQUIRE(client->Patch(kt::ConfigMaps(), ns, "a", k::PatchType::kMerge, {{"data", {{"key", "2"}}}}).ok());
  REQUIRE(client->Delete(kt::ConfigMaps(), ns, "b").ok());
  CHECK(r.WaitForEntry("update a=2"));
  CHECK(r.WaitForEntry("delete b"));
  CHECK(informer.store().size() == 2);
  informer.Stop();
  CHECK(informer.restarts().lists == 1);
}

TEST_CASE("a transform trims every object before it is stored: LIST pages and watch events alike") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "trim");
  for (const char* n : {"a", "b", "c", "d", "e"})
    REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, n, "v", "g")).ok());
  REQUIRE(emu.Admin("DELETE", "/_emulator/requests").ok());

  kt::Recorder seen;  // what the transform was given: whole objects, as the server sent them
  kt::Recorder r;
  k::InformerOptions options = Options(ns);  // pages of 2: three LIST requests
  options.packed_store = true;               // as the operator keeps its Pods
  k::Informer informer(*client, options);
  informer.SetTransform([&seen](nlohmann::json& o) {
    seen.Add(k::meta::Name(o) + (k::meta::Uid(o).empty() ? " bare" : " whole"));
    nlohmann::json slim = {{"metadata",
                            {{"name", o["metadata"]["name"]},
                             {"namespace", o["metadata"]["namespace"]},
                             {"resourceVersion", o["metadata"]["resourceVersion"]}}},
                           {"data", {{"key", o["data"]["key"]}}}};
    o = std::move(slim);
  });
  informer.AddHandlers(Recording(r));
  k::EventHandlers shapes;  // handlers see the trimmed objects too
  shapes.on_add = [&r](const nlohmann::json& o) { r.Add("add-keys " + std::to_string(o.size())); };
  shapes.on_update = [&r](const nlohmann::json& old_obj, const nlohmann::json& o) {
    r.Add("update-keys " + std::to_string(old_obj.size()) + "," + std::to_string(o.size()));
  };
  shapes.on_delete = [&r](const nlohmann::json& o) { r.Add("delete-keys " + std::to_string(o.size())); };
  informer.AddHandlers(shapes);
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(15)));

  CHECK(informer.store().size() == 5);
  for (const std::string& key : informer.store().Keys()) {
    nlohmann::json cached = *informer.store().Get(key);
    CHECK(cached.size() == 2);
    CHECK(cached["metadata"].size() == 3);
    CHECK_FALSE(cached["metadata"].contains("uid"));
    CHECK(cached["data"]["key"] == "v");
  }
  for (const char* n : {"a", "b", "c", "d", "e"}) CHECK(seen.Contains(std::string(n) + " whole"));
  CHECK_FALSE(seen.Contains("a bare"));
  CHECK(r.Contains("add-keys 2"));
  CHECK_FALSE(r.Contains("add-keys 4"));
  // The first LIST came in pages, not as one document.
  auto requests = emu.Admin("GET", "/_emulator/requests");
  REQUIRE(requests.ok());
  int lists = 0;
  for (const auto& q : *requests) lists += q.value("verb", "") == "list" && q.value("resource", "") == "configmaps";
  CHECK(lists == 3);

  REQUIRE(client->Patch(kt::ConfigMaps(), ns, "a", k::PatchType::kMerge, {{"data", {{"key", "2"}}}}).ok());
  CHECK(r.WaitForEntry("update a=2"));
  CHECK(r.WaitForEntry("update-keys 2,2"));
  CHECK(informer.store().Get(ns + "/a")->at("data").at("key") == "2");
  CHECK_FALSE(informer.store().Get(ns + "/a")->at("metadata").contains("uid"));
  REQUIRE(client->Delete(kt::ConfigMaps(), ns, "b").ok());
  CHECK(r.WaitForEntry("delete b"));
  CHECK(r.WaitForEntry("delete-keys 2"));
  CHECK(seen.Contains("a whole"));
}

TEST_CASE("dropped watches resume from the last resourceVersion: nothing missed") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "drop");
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "a")).ok());
  kt::Recorder r;
  k::Informer informer(*client, Options(ns));
  informer.AddHandlers(Recording(r));
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(15)));
  REQUIRE(r.WaitForEntry("add a"));

  // Keep the informer from watching again while changes happen: every watch request fails until
  // the faults are cleared. Then it must catch up from where it was, without a relist.
  REQUIRE(emu.Admin("POST", "/_emulator/faults",
                    {{"verb", "watch"}, {"resource", "configmaps"}, {"status", 500}, {"count", 100000}}).ok());
  SUBCASE("closed cleanly") {
    REQUIRE(emu.Admin("POST", "/_emulator/drop-watches", nlohmann::json::object()).ok());
  }
  SUBCASE("aborted mid-stream") {
    REQUIRE(emu.Admin("POST", "/_emulator/drop-watches", {{"abort", true}}).ok());
  }
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "made-while-dropped")).ok());
  REQUIRE(client->Patch(kt::ConfigMaps(), ns, "a", k::PatchType::kMerge, {{"data", {{"key", "3"}}}}).ok());
  REQUIRE(emu.Admin("DELETE", "/_emulator/faults").ok());

  CHECK(r.WaitForEntry("add made-while-dropped"));
  CHECK(r.WaitForEntry("update a=3"));
  auto counters = informer.restarts();
  CHECK(counters.dropped >= 1);
  CHECK(counters.gone == 0);
  CHECK(counters.lists == 1);  // resumed, not relisted
  CHECK(informer.store().size() == 2);
}

TEST_CASE("compaction: 410 Gone relists and reports a deletion that happened meanwhile") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "compact");
  for (const char* n : {"keep", "vanish"}) REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, n)).ok());
  kt::Recorder r;
  k::Informer informer(*client, Options(ns));
  informer.AddHandlers(Recording(r));
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(15)));

  REQUIRE(emu.Admin("POST", "/_emulator/faults",
                    {{"verb", "watch"}, {"resource", "configmaps"}, {"status", 500}, {"count", 100000}}).ok());
  REQUIRE(emu.Admin("POST", "/_emulator/drop-watches", nlohmann::json::object()).ok());
  REQUIRE(client->Delete(kt::ConfigMaps(), ns, "vanish").ok());
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "newcomer")).ok());
  REQUIRE(emu.Admin("POST", "/_emulator/compact", nlohmann::json::object()).ok());
  REQUIRE(emu.Admin("DELETE", "/_emulator/faults").ok());

  CHECK(r.WaitForEntry("delete vanish"));
  CHECK(r.WaitForEntry("add newcomer"));
  CHECK(informer.restarts().gone >= 1);
  CHECK(informer.restarts().lists >= 2);
  CHECK_FALSE(informer.store().Get(ns + "/vanish").has_value());
  CHECK(informer.store().Get(ns + "/keep").has_value());

  // And it watches again after the relist.
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "after")).ok());
  CHECK(r.WaitForEntry("add after"));
}

TEST_CASE("injected 500s on LIST: backoff, then sync") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "errors");
  REQUIRE(client->Create(kt::ConfigMaps(), ns, kt::ConfigMap(ns, "a")).ok());
  REQUIRE(emu.Admin("POST", "/_emulator/faults",
                    {{"verb", "list"}, {"resource", "configmaps"}, {"status", 500}, {"count", 3}}).ok());
  REQUIRE(emu.Admin("DELETE", "/_emulator/requests").ok());
  k::Informer informer(*client, Options(ns));
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(15)));
  CHECK(informer.store().size() == 1);
  CHECK(informer.restarts().errors == 3);
  CHECK(informer.restarts().lists == 4);
  CHECK(informer.last_error().ok());
  auto requests = emu.Admin("GET", "/_emulator/requests");
  REQUIRE(requests.ok());
  std::vector<int> list_statuses;
  for (const auto& q : *requests) {
    if (q["verb"] == "list" && q["resource"] == "configmaps") list_statuses.push_back(q["status"].get<int>());
  }
  CHECK(list_statuses == std::vector<int>{500, 500, 500, 200});
}

TEST_CASE("Stop ends a quiet watch promptly") {
  kt::Emulator emu;
  REQUIRE(emu.ok());
  auto client = emu.Client();
  const std::string ns = kt::MakeNamespace(*client, "quiet");
  k::Informer informer(*client, Options(ns));
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(15)));
  auto t0 = std::chrono::steady_clock::now();
  informer.Stop();
  // Not a timing assertion on speed, only that Stop does not wait for the 300 s watch timeout.
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
}

}  // TEST_SUITE
