#pragma once

#include <functional>
#include <memory>

namespace oomscope {

// A thread that joins when destroyed (as std::jthread does) and, when it is the only one of its
// kind running, starts on another CPU than the one creating it: the heap passes' second thread,
// handed work mid-pass while its creator goes on with its own share.
//
// Why: Linux puts a new thread on its creator's CPU, and while the creator keeps running there,
// the thread waits until the scheduler's balancing moves it to the idle CPU: on the 2-core VMs
// the bench runs on, 1-4 ms (a 250 Hz tick) for about half of the threads created, where a 30 MB
// snapshot's analysis takes 80 ms and creates six on its critical path. Created with its
// affinity set to another CPU the process may use, it starts there in about 0.1 ms, then widens
// its affinity back to the creator's, so that it moves like any other thread from then on
// (bench/README.md: 30 MB 86.0 -> 83.1 ms). A thread created while another of this class runs
// starts as a plain thread: which CPU is idle is then not known.
//
// With one CPU to use, or when the affinity cannot be set, it is a plain thread.
class Thread {
 public:
  Thread() noexcept;
  explicit Thread(std::function<void()> fn);  // throws std::system_error if no thread starts
  Thread(Thread&& other) noexcept;
  Thread& operator=(Thread&& other) noexcept;  // joins the thread this one held first
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  ~Thread();  // joins

  bool joinable() const { return state_ != nullptr; }
  void join();

  struct State;  // what the thread reads: thread.cc

 private:
  std::unique_ptr<State> state_;
};

}  // namespace oomscope
