#include "api.h"

#include <fstream>
#include <map>

#include "oomscope/heap/report.h"
#include "series_view.h"
#include "ui.h"

namespace oomscope::analyzer {

namespace {

http::Response Json(int status, const nlohmann::json& j) { return http::Response(status, "application/json", j.dump()); }

http::Response UnknownSeries(const std::string& id) {
  return http::ErrorResponse(404, "NotFound", "no series \"" + id + "\" (GET /v1/series lists them; retention may have deleted it)");
}

}  // namespace

void RegisterApi(http::Server& server, ApiContext c) {
  // Wraps GETs of /v1 that need the token when --read-token is set.
  auto guarded = [c](http::Server::Handler h) {
    return [c, h](const http::Request& r) {
      if (c.read_token && !TokenMatches(r.Header("authorization"), c.token))
        return http::ErrorResponse(401, "Unauthenticated", "this analyzer requires the bearer token for reads (--read-token)");
      return h(r);
    };
  };
  server.Route("GET", "/healthz", [](const http::Request&) { return http::Response(200, "text/plain", "ok\n"); });
  server.Route("GET", "/readyz", [c](const http::Request&) {
    if (!c.ready->load()) return http::ErrorResponse(503, "NotReady", "recovering the store");
    if (!c.store.Writable()) return http::ErrorResponse(503, "StoreNotWritable", "the store cannot be written (full, read-only or gone)");
    return http::Response(200, "text/plain", "ok\n");
  });
  server.Route("GET", "/metrics", [c](const http::Request&) {
    return http::Response(200, "text/plain; version=0.0.4",
                          c.metrics.Render(ViewAllSeries(c.store, Now(), c.quiet_seconds), c.store.TotalBytes()));
  });
  server.RouteStream("POST", "/v1/snapshots", [c](const http::Request& r, http::BodyReader& body) { return c.uploads.Handle(r, body); });

  server.Route("GET", "/v1/workloads", guarded([c](const http::Request&) {
    std::map<std::pair<std::string, std::string>, nlohmann::json> by;
    for (const SeriesView& v : ViewAllSeries(c.store, Now(), c.quiet_seconds)) {  // newest first
      auto& w = by[{v.ns, v.workload}];
      if (w.is_null()) {
        w = {{"namespace", v.ns}, {"workload", v.workload}, {"series", 0}, {"latest_series", v.id}, {"state", v.state},
             {"updated_at", v.updated_at}, {"report_url", "/v1/series/" + v.id + "/report.html"}};
        if (v.summary && !v.summary->top_suspects.empty()) w["top_suspect"] = v.summary->top_suspects[0];
        if (v.summary) w["heap_bytes"] = v.summary->heap_bytes;
      }
      w["series"] = w["series"].get<int>() + 1;
    }
    nlohmann::json out = nlohmann::json::array();
    for (auto& [k, w] : by) out.push_back(std::move(w));
    return Json(200, {{"workloads", out}});
  }));
  server.Route("GET", "/v1/series", guarded([c](const http::Request& r) {
    auto want = [&](const char* key, const std::string& value) {
      auto it = r.query_params.find(key);
      return it == r.query_params.end() || it->second.empty() || it->second == value;
    };
    nlohmann::json out = nlohmann::json::array();
    for (const SeriesView& v : ViewAllSeries(c.store, Now(), c.quiet_seconds))
      if (want("namespace", v.ns) && want("workload", v.workload) && want("pod", v.pod)) out.push_back(v.ToJson());
    return Json(200, {{"series", out}});
  }));
  server.Route("GET", "/v1/series/{id}", guarded([c](const http::Request& r) {
    const std::string& id = r.params.at("id");
    auto v = ValidId(id) ? ViewSeries(c.store, id, Now(), c.quiet_seconds) : std::nullopt;
    if (!v) return UnknownSeries(id);
    nlohmann::json j = v->ToJson();
    nlohmann::json list = nlohmann::json::array();
    for (const SnapshotRecord& s : c.store.SeriesSnapshots(id)) {
      nlohmann::json e = {{"id", s.id}, {"bytes", s.bytes}, {"sequence", s.sequence()}, {"received_at", s.received_at},
                          {"state", s.state}, {"metadata", s.metadata}, {"download_url", "/v1/snapshots/" + s.id}};
      if (!s.error.empty()) e["error"] = s.error;
      list.push_back(std::move(e));
    }
    j["snapshot_list"] = std::move(list);
    return Json(200, j);
  }));
  auto report = [c](const http::Request& r, bool html) {
    const std::string& id = r.params.at("id");
    auto v = ValidId(id) ? ViewSeries(c.store, id, Now(), c.quiet_seconds) : std::nullopt;
    if (!v) return UnknownSeries(id);
    std::string path = c.store.ReportPath(id);
    std::ifstream in(path);
    if (!v->summary || !in)
      return http::ErrorResponse(409, "NotAnalyzedYet", "series \"" + id + "\" has no report yet (state " + v->state + "); try again when its state is complete");
    if (!html) {
      http::Response out(200, "application/json", "");
      out.file = path;
      return out;
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    heap::Report rep;
    if (j.is_discarded() || !heap::ReportFromJson(j, &rep))
      return http::ErrorResponse(500, "BadReport", "the stored report of series \"" + id + "\" cannot be read; DELETE the series and upload again");
    return http::Response(200, "text/html; charset=utf-8", heap::RenderHtml(rep));
  };
  server.Route("GET", "/v1/series/{id}/report", guarded([report](const http::Request& r) { return report(r, false); }));
  server.Route("GET", "/v1/series/{id}/report.html", guarded([report](const http::Request& r) { return report(r, true); }));
  server.Route("DELETE", "/v1/series/{id}", [c](const http::Request& r) {
    if (!TokenMatches(r.Header("authorization"), c.token))
      return http::ErrorResponse(401, "Unauthenticated", "DELETE needs the bearer token (Authorization: Bearer <token>)");
    const std::string& id = r.params.at("id");
    if (!ValidId(id)) return UnknownSeries(id);
    Status st = c.store.DeleteSeries(id);
    if (st.code() == Code::kNotFound) return UnknownSeries(id);
    if (!st.ok()) return http::ErrorResponse(500, "Internal", st.ToString());
    return Json(200, {{"deleted", id}});
  });
  server.Route("GET", "/v1/snapshots/{id}", guarded([c](const http::Request& r) {
    const std::string& id = r.params.at("id");
    auto rec = ValidId(id) ? c.store.Get(id) : std::nullopt;
    if (!rec) return http::ErrorResponse(404, "NotFound", "no snapshot \"" + id + "\" (ids are the SHA-256 of the snapshot; GET /v1/series/{id} lists them)");
    http::Response out(200, "application/octet-stream", "");
    out.file = c.store.DataPath(id);
    out.headers["Content-Disposition"] = "attachment; filename=\"" + id + ".heapsnapshot\"";
    return out;
  }));
  auto index = guarded([c](const http::Request&) {
    return http::Response(200, "text/html; charset=utf-8", RenderIndexPage(ViewAllSeries(c.store, Now(), c.quiet_seconds)));
  });
  server.Route("GET", "/", index);
  server.Route("GET", "/ui/", index);
}

}  // namespace oomscope::analyzer
