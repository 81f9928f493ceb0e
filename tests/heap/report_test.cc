// Nothing from a snapshot is trusted: names reach reports escaped.
#include <doctest/doctest.h>

#include "oomscope/heap/report.h"

using namespace oomscope::heap;

TEST_CASE("untrusted names are escaped in the HTML and text reports") {
  Report r;
  r.series = true;
  r.snapshots.resize(2);
  Suspect s;
  s.rank = 1;
  s.id = "0123456789abcdef";
  s.kind = "growing-array";
  s.owner_class = "<script>alert(1)</script>";
  s.held_under = "evil\x1b[2J\"name";
  s.path.text = "global \xE2\x86\x92 <img src=x onerror=alert(1)>";
  s.retained_by_snapshot = {100, 200};
  s.entries_by_snapshot = {1, 2};
  s.samples.push_back({7, "(string)", "\"</td><script>x</script>\"", 24, 24});
  r.suspects.push_back(s);
  std::string html = RenderHtml(r);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find('\x1b') == std::string::npos);
  CHECK(html.find("Content-Security-Policy") != std::string::npos);
  std::string text = RenderText(r, 10, false);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("evil\\x1B[2J") != std::string::npos);
}
