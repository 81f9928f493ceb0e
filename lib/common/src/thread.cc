#include "oomscope/common/thread.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <system_error>

namespace oomscope {

struct Thread::State {
  std::function<void()> fn;
  pthread_t id{};
  bool placed = false;  // started on another CPU: widens its affinity back to `allowed`
  cpu_set_t allowed{};
};

namespace {

// Threads of this class running now.
std::atomic<int> g_running{0};

// An exception does not leave a thread: as with std::thread, it ends the process.
void Run(const std::function<void()>& fn) noexcept { fn(); }

void* Entry(void* arg) {
  auto* state = static_cast<Thread::State*>(arg);
  if (state->placed) pthread_setaffinity_np(pthread_self(), sizeof state->allowed, &state->allowed);
  Run(state->fn);
  g_running.fetch_sub(1, std::memory_order_relaxed);
  return nullptr;
}

// Sets `attr` to start a thread on the next CPU after this one that `allowed` holds.
bool PlaceOnAnotherCpu(pthread_attr_t& attr, const cpu_set_t& allowed) {
  const int me = sched_getcpu();
  if (me < 0 || me >= CPU_SETSIZE || CPU_COUNT(&allowed) < 2) return false;
  int other = me;
  do other = (other + 1) % CPU_SETSIZE;
  while (!CPU_ISSET(other, &allowed));
  if (other == me) return false;
  cpu_set_t there;
  CPU_ZERO(&there);
  CPU_SET(other, &there);
  return pthread_attr_setaffinity_np(&attr, sizeof there, &there) == 0;
}

}  // namespace

Thread::Thread() noexcept = default;
Thread::Thread(Thread&& other) noexcept = default;

Thread::Thread(std::function<void()> fn) : state_(std::make_unique<State>()) {
  state_->fn = std::move(fn);
  const bool alone = g_running.fetch_add(1, std::memory_order_relaxed) == 0;
  int rc = -1;
  pthread_attr_t attr;
  if (alone && sched_getaffinity(0, sizeof state_->allowed, &state_->allowed) == 0 &&
      pthread_attr_init(&attr) == 0) {
    if (PlaceOnAnotherCpu(attr, state_->allowed)) {
      state_->placed = true;
      rc = pthread_create(&state_->id, &attr, Entry, state_.get());
      if (rc != 0) state_->placed = false;  // no thread reads it: another try follows
    }
    pthread_attr_destroy(&attr);
  }
  if (rc != 0) rc = pthread_create(&state_->id, nullptr, Entry, state_.get());  // a plain thread
  if (rc != 0) {
    g_running.fetch_sub(1, std::memory_order_relaxed);
    state_.reset();
    throw std::system_error(rc, std::generic_category(), "cannot start a thread");
  }
}

Thread& Thread::operator=(Thread&& other) noexcept {
  join();
  state_ = std::move(other.state_);
  return *this;
}

Thread::~Thread() { join(); }

void Thread::join() {
  if (!state_) return;
  pthread_join(state_->id, nullptr);
  state_.reset();
}

}  // namespace oomscope
