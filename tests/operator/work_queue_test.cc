// The work queue: dedup, re-queue while processing, delays, per-key backoff, shutdown.
#include <doctest/doctest.h>

#include <thread>

#include "work_queue.h"

namespace oomscope::op {
namespace {

TEST_CASE("a key is queued once, however often it is added") {
  WorkQueue q;
  q.Add("shop/a");
  q.Add("shop/a");
  q.Add("shop/b");
  CHECK(q.Len() == 2);
  CHECK(q.Get() == "shop/a");
  CHECK(q.Get() == "shop/b");
  q.Done("shop/a");
  q.Done("shop/b");
  CHECK(q.Len() == 0);
}

TEST_CASE("Get says how long the key waited since the add that queued it (the reconcile log's queued_ms)") {
  WorkQueue q;
  const auto before = WorkQueue::Clock::now();
  q.Add("k");
  q.Add("k");  // already queued: the first add's time stands
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WorkQueue::Clock::duration waited{};
  REQUIRE(q.Get(&waited) == "k");
  CHECK(waited >= std::chrono::milliseconds(20));
  CHECK(waited <= WorkQueue::Clock::now() - before);
  q.Done("k");
}

TEST_CASE("a key added while it is processed comes back after Done, not before") {
  WorkQueue q;
  q.Add("k");
  REQUIRE(q.Get() == "k");
  q.Add("k");
  CHECK(q.Len() == 0);  // not handed to a second worker
  q.Done("k");
  CHECK(q.Len() == 1);
  CHECK(q.Get() == "k");
}

TEST_CASE("delayed adds come out in time order; an earlier delay wins") {
  WorkQueue q;
  q.AddAfter("late", std::chrono::milliseconds(60));
  q.AddAfter("soon", std::chrono::milliseconds(20));
  q.AddAfter("late", std::chrono::milliseconds(5000));  // later than pending: ignored
  CHECK(q.Len() == 0);
  auto start = WorkQueue::Clock::now();
  CHECK(q.Get() == "soon");
  CHECK(q.Get() == "late");
  CHECK(WorkQueue::Clock::now() - start >= std::chrono::milliseconds(60));
}

TEST_CASE("per-key exponential backoff, reset by Forget") {
  WorkQueue q(std::chrono::milliseconds(1), std::chrono::milliseconds(8));
  for (int i = 0; i < 6; ++i) {
    q.AddRateLimited("k");
    REQUIRE(q.Get() == "k");
    q.Done("k");
  }
  CHECK(q.NumRequeues("k") == 6);
  CHECK(q.NumRequeues("other") == 0);
  q.Forget("k");
  CHECK(q.NumRequeues("k") == 0);
}

TEST_CASE("shutdown wakes a blocked worker") {
  WorkQueue q;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.Get(); });
  q.ShutDown();
  worker.join();
  CHECK_FALSE(got.has_value());
  q.Add("after");
  CHECK(q.Len() == 0);
}

}  // namespace
}  // namespace oomscope::op
