#include <sched.h>

#include <atomic>
#include <chrono>
#include <doctest/doctest.h>
#include <thread>
#include <vector>

#include "oomscope/common/thread.h"

using oomscope::Thread;

TEST_CASE("Thread runs its function and joins when destroyed") {
  int ran = 0;
  {
    Thread t([&] { ran = 1; });
    CHECK(t.joinable());
  }
  CHECK(ran == 1);

  Thread empty;
  CHECK_FALSE(empty.joinable());
  empty.join();  // nothing to join
}

TEST_CASE("Thread: moving one joins the thread the target held") {
  std::atomic<int> done{0};
  Thread a([&] { done.fetch_add(1); });
  Thread b([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    done.fetch_add(10);
  });
  b = std::move(a);  // joins b's thread (10) first
  CHECK(done.load() >= 10);
  CHECK_FALSE(a.joinable());
  CHECK(b.joinable());
  b.join();
  CHECK(done.load() == 11);
  CHECK_FALSE(b.joinable());
}

// A thread started on another CPU widens its affinity back to its creator's: it is not left
// pinned to one CPU.
TEST_CASE("Thread may run on every CPU its creator may") {
  cpu_set_t creator;
  REQUIRE(sched_getaffinity(0, sizeof creator, &creator) == 0);
  auto affinity_inside = [] {
    cpu_set_t inside;
    CPU_ZERO(&inside);
    Thread t([&] { sched_getaffinity(0, sizeof inside, &inside); });
    t.join();
    return inside;
  };
  cpu_set_t alone = affinity_inside();  // no other Thread running: placed on another CPU
  CHECK(CPU_EQUAL(&alone, &creator));

  // While another runs, a new one starts as a plain thread; the same holds.
  std::atomic<bool> release{false};
  Thread busy([&] {
    while (!release.load()) std::this_thread::yield();
  });
  cpu_set_t beside = affinity_inside();
  release = true;
  busy.join();
  CHECK(CPU_EQUAL(&beside, &creator));
}

TEST_CASE("Threads created from threads all run") {
  std::atomic<int> count{0};
  {
    std::vector<Thread> outer;
    for (int i = 0; i < 4; ++i) {
      outer.emplace_back([&] {
        Thread inner([&] { count.fetch_add(1); });
        count.fetch_add(1);
      });
    }
  }
  CHECK(count.load() == 8);
}
