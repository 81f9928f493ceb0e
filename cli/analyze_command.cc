// oomscope analyze SNAPSHOT... : one snapshot gives its summary and largest retainers; a series
// gives the class diff and the leak suspects.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "oomscope/common/progress.h"
#include "oomscope/heap/analysis.h"

namespace oomscope::cli {
namespace {

constexpr const char* kHelp =
    "usage: oomscope analyze [options] SNAPSHOT...\n"
    "\n"
    "Analyzes V8 .heapsnapshot files, in the order given (capture order). One file: the\n"
    "class summary and the largest retainers. Two or more of one process: the class diff\n"
    "and the ranked leak suspects with their retainer paths.\n"
    "\n"
    "options:\n"
    "  --json           write the JSON report (docs/report-schema.md) to stdout\n"
    "  --html FILE      also write a self-contained HTML report to FILE\n"
    "  --top N          rows per table and suspects shown (default 10)\n"
    "  --fail-on-leak   exit 3 when a leak suspect is found (for CI pipelines)\n"
    "  --spill-dir DIR  where a series keeps its earlier snapshots' digests (an unlinked\n"
    "                   file): default $TMPDIR, else /var/tmp; 'none' keeps them in memory\n"
    "  --quiet          no progress on stderr\n"
    "  --no-color       no terminal colors\n"
    "\n"
    "exit status: 0 ok, 2 bad usage or an unreadable/invalid snapshot, 3 leak found\n"
    "(with --fail-on-leak), 1 other errors.\n";

// Writes `data` to `path` (created or truncated). stdio, not a stream: see cli/CMakeLists.txt.
bool WriteFile(const std::string& path, const std::string& data) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return false;
  const bool written = std::fwrite(data.data(), 1, data.size(), out) == data.size();
  return std::fclose(out) == 0 && written;
}

}  // namespace

int AnalyzeCommand(int argc, char** argv) {
  bool json = false, fail_on_leak = false, quiet = false, color = isatty(STDOUT_FILENO) == 1;
  std::string html;
  size_t top = 10;
  // /var/tmp, not /tmp: /tmp is often a tmpfs, memory again.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string spill_dir = tmpdir && *tmpdir ? tmpdir : "/var/tmp";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "oomscope analyze: %s needs a value\n", flag);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kHelp, stdout);
      return kExitOk;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--html") {
      const char* v = value("--html");
      if (!v) return kExitBadInput;
      html = v;
    } else if (a == "--top") {
      const char* v = value("--top");
      if (!v) return kExitBadInput;
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (*end != '\0' || n < 1 || n > 10000) {
        std::fprintf(stderr, "oomscope analyze: --top takes a number from 1 to 10000\n");
        return kExitBadInput;
      }
      top = static_cast<size_t>(n);
    } else if (a == "--spill-dir") {
      const char* v = value("--spill-dir");
      if (!v) return kExitBadInput;
      spill_dir = std::string_view(v) == "none" ? "" : v;
    } else if (a == "--fail-on-leak") {
      fail_on_leak = true;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "--no-color") {
      color = false;
    } else if (a.starts_with("-") && a != "-") {
      std::fprintf(stderr, "oomscope analyze: unknown option '%s'\n%s", argv[i], kHelp);
      return kExitBadInput;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "oomscope analyze: no snapshot given\n%s", kHelp);
    return kExitBadInput;
  }

  std::unique_ptr<Progress> progress =
      quiet ? std::unique_ptr<Progress>(new NullProgress()) : MakeStreamProgress(stderr);
  heap::AnalyzeOptions options;
  options.top = top;
  options.suspects.max_suspects = std::max<size_t>(top, 10);
  options.progress = progress.get();
  options.spill_dir = spill_dir;
  options.expected_snapshots = files.size();
  heap::SeriesAnalyzer analyzer(options);
  for (const auto& f : files) {
    Status st = analyzer.AddFile(f);
    if (!st.ok()) {
      std::fprintf(stderr, "oomscope analyze: %s\n", st.message().c_str());
      bool bad_input = st.code() == Code::kCorruption || st.code() == Code::kNotFound ||
                       st.code() == Code::kInvalidArgument;
      return bad_input ? kExitBadInput : kExitError;
    }
  }
  heap::Report report = analyzer.Finish();

  if (json) {
    std::string out = heap::ReportToJson(report).dump(2, ' ', false,
                                                      nlohmann::json::error_handler_t::replace);
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    std::string text = heap::RenderText(report, top, color);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::fflush(stdout);
  if (!html.empty()) {
    if (!WriteFile(html, heap::RenderHtml(report))) {
      std::fprintf(stderr, "oomscope analyze: cannot write %s: %s\n", html.c_str(), std::strerror(errno));
      return kExitError;
    }
    if (!quiet) std::fprintf(stderr, "HTML report: %s\n", html.c_str());
  }
  std::fflush(stdout);
  if (fail_on_leak && !report.suspects.empty()) return kExitLeakFound;
  return kExitOk;
}

}  // namespace oomscope::cli
