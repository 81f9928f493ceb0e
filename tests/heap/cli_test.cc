// `oomscope analyze` as a user runs it: exit codes, outputs, progress.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace {

struct Run {
  int code;
  std::string out, err;
};

Run Cli(const std::string& args) {
  namespace fs = std::filesystem;
  fs::path tmp = fs::temp_directory_path() / ("oomscope-cli-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string cmd = std::string(OOMSCOPE_CLI) + " " + args + " >" + (tmp / "out").string() + " 2>" +
                    (tmp / "err").string();
  int status = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  Run r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(tmp / "out"), slurp(tmp / "err")};
  fs::remove_all(tmp);
  return r;
}

std::string Series(const std::string& s) {
  std::string d = OOMSCOPE_FIXTURE_DIR;
  return d + "/" + s + "-1.heapsnapshot " + d + "/" + s + "-2.heapsnapshot " + d + "/" + s + "-3.heapsnapshot";
}

const std::string kBad = std::string(OOMSCOPE_SOURCE_DIR) + "/tests/fixtures/bad/";

}  // namespace

TEST_SUITE("cli") {
TEST_CASE("a series with the story's leak: text names it, --fail-on-leak exits 3") {
  Run r = Cli("analyze " + Series("story") + " --fail-on-leak");
  CHECK(r.code == 3);
  CHECK(r.out.find("supportedExtensions (Array)") != std::string::npos);
  CHECK(r.out.find("Class changes") != std::string::npos);
  // stderr is not a terminal here: progress comes as plain lines, one per pass.
  CHECK(r.err.find("parse") != std::string::npos);
  CHECK(r.err.find("dominators") != std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);
}

TEST_CASE("--spill-dir: where the earlier digests go; one that cannot be used is said, the report the same") {
  const std::string series = Series("story");
  Run in_memory = Cli("analyze --quiet --json --spill-dir none " + series);
  Run spilled = Cli("analyze --quiet --json --spill-dir " + std::filesystem::temp_directory_path().string() + " " + series);
  Run missing = Cli("analyze --quiet --json --spill-dir /nonexistent/oomscope " + series);
  REQUIRE(in_memory.code == 0);
  CHECK(spilled.code == 0);
  CHECK(missing.code == 0);
  CHECK(spilled.out == in_memory.out);
  nlohmann::json j = nlohmann::json::parse(missing.out);
  CHECK(j["suspects"] == nlohmann::json::parse(in_memory.out)["suspects"]);
  CHECK(j["notes"].dump().find("cannot create a file in /nonexistent/oomscope") != std::string::npos);
  CHECK(Cli("analyze --spill-dir").code == 2);
}

TEST_CASE("no leak: exit 0 even with --fail-on-leak") {
  Run r = Cli("analyze --quiet --fail-on-leak " + Series("bounded-cache"));
  CHECK(r.code == 0);
  CHECK(r.out.find("No leak suspects") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("--json is the documented report; --html is self-contained") {
  std::string html = std::filesystem::temp_directory_path() / "oomscope-cli-test.html";
  Run r = Cli("analyze --quiet --json --top 3 --html " + html + " " + Series("story"));
  REQUIRE(r.code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "oomscope.report/v1");
  CHECK(j["suspects"][0]["owner"]["held_under"] == "supportedExtensions");
  std::ifstream in(html);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string page = ss.str();
  CHECK(page.find("<svg") != std::string::npos);
  CHECK(page.find("supportedExtensions") != std::string::npos);
  CHECK(page.find("src=\"http") == std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
  std::filesystem::remove(html);
}

TEST_CASE("bad input: exit 2 and a message that names the file and the problem") {
  struct Case {
    std::string file, expect;
  } cases[] = {
      {kBad + "empty.heapsnapshot", "empty (0 bytes)"},
      {kBad + "truncated.heapsnapshot", "truncated at byte"},
      {kBad + "not-json.heapsnapshot", "not a heap snapshot"},
      {kBad + "edge-out-of-range.heapsnapshot", "outside the nodes array"},
      {"/nonexistent/a.heapsnapshot", "no such file"},
      {OOMSCOPE_SOURCE_DIR, "not a regular file"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    Run r = Cli("analyze --quiet " + c.file);
    CHECK(r.code == 2);
    CHECK_MESSAGE(r.err.find(c.expect) != std::string::npos, r.err);
  }
  CHECK(Cli("analyze").code == 2);
  CHECK(Cli("analyze --top zero x").code == 2);
  CHECK(Cli("frobnicate").code == 2);
}

TEST_CASE("capture and demo run oomscope-net from oomscope's directory, or say it is missing") {
  namespace fs = std::filesystem;
  Run help = Cli("capture --help");
  CHECK(help.code == 0);
  CHECK_MESSAGE(help.out.find("usage: oomscope capture") != std::string::npos, (help.out + help.err));
  // A copy of oomscope alone: no helper beside it.
  fs::path alone = fs::temp_directory_path() / ("oomscope-alone-" + std::to_string(::getpid()));
  fs::create_directories(alone);
  fs::copy_file(OOMSCOPE_CLI, alone / "oomscope", fs::copy_options::overwrite_existing);
  const std::string cmd = (alone / "oomscope").string() + " demo --help 2>" + (alone / "err").string();
  const int status = std::system(cmd.c_str());
  std::ifstream in(alone / "err");
  std::stringstream err;
  err << in.rdbuf();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_MESSAGE(err.str().find("cannot run " + (alone / "oomscope-net").string()) != std::string::npos, err.str());
  fs::remove_all(alone);
}
}
