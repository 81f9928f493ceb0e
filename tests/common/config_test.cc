#include <doctest/doctest.h>

#include "oomscope/common/config.h"

using namespace oomscope;

TEST_CASE("quantities: the forms Kubernetes writes in resources, as whole bytes") {
  CHECK(*ParseQuantity("512Mi") == 512ll << 20);
  CHECK(*ParseQuantity("1.5Gi") == 3ll << 29);
  CHECK(*ParseQuantity("1G") == 1000000000);
  CHECK(*ParseQuantity("129e6") == 129000000);
  CHECK(*ParseQuantity("129E6") == 129000000);
  CHECK(*ParseQuantity("1E") == 1000000000000000000);  // exa, not an exponent
  CHECK(*ParseQuantity("1000000") == 1000000);
  CHECK(*ParseQuantity("100m") == 1);  // a fraction of a byte rounds up
  CHECK(*ParseQuantity("0") == 0);
  for (const char* bad : {"", "Mi", "12Q", "1.2.3", "1e", "1e+", "1ex", "--1", "1e999999"}) {
    INFO(bad);
    Result<int64_t> r = ParseQuantity(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("not a quantity") != std::string::npos);
  }
}

TEST_CASE("quantities format back to their shortest exact form") {
  CHECK(FormatQuantity(512ll << 20) == "512Mi");
  CHECK(FormatQuantity(3ll << 30) == "3Gi");
  CHECK(FormatQuantity(1000000) == "1000000");
  CHECK(FormatQuantity(0) == "0");
  for (int64_t v : {int64_t{1536} << 20, int64_t{123456789}, int64_t{7} << 40})
    CHECK(*ParseQuantity(FormatQuantity(v)) == v);
}

TEST_CASE("durations: Go's syntax in seconds") {
  CHECK(*ParseDurationSeconds("168h") == 168 * 3600);
  CHECK(*ParseDurationSeconds("1h30m") == 5400);
  CHECK(*ParseDurationSeconds("10s") == 10);
  CHECK(*ParseDurationSeconds("2.5s") == 2.5);
  CHECK(*ParseDurationSeconds("500ms") == doctest::Approx(0.5));
  CHECK(*ParseDurationSeconds("1m500ms") == doctest::Approx(60.5));
  CHECK(*ParseDurationSeconds("45") == 45);
  for (const char* bad : {"", "h", "10x", "-5s", "1..2s", "5mm"}) {
    INFO(bad);
    CHECK_FALSE(ParseDurationSeconds(bad).ok());
  }
}

TEST_CASE("the environment is read whole") {
  ::setenv("OOMSCOPE_CONFIG_TEST", "a=b", 1);
  CHECK(ProcessEnvironment().at("OOMSCOPE_CONFIG_TEST") == "a=b");
}
