// search: a C++ app whose search runs on std::threads, shaped like a chess engine's thread pool
// (Stockfish's ThreadPool: each thread idles on a condition variable until `go`, searches until
// `stop`, then idles again). Each search thread deepens a game tree on its own and scores every
// node with the hot function `evaluate`; `go` starts an infinite search, `stop` ends it, and the
// page's frame never waits for a thread.
//
// One function is hot (HOTWASM_FN): evaluate. A patch applied on the main thread reaches every
// search thread's next node: the dynamic linker loads the patch into each thread before the
// registry's slot changes, at the thread's next sync point (docs/THREADS.md). A search thread
// never blocks while it searches, so it yields where it checks the stop flag (as an engine's
// search checks it every few thousand nodes): that yield is its sync point.
#include <emscripten.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "hotwasm_hot.h"
#include "search.h"

// ---- hot function: edit it live (the search threads call it for every node) -------------

HOTWASM_FN(int32_t, evaluate, int32_t, position) { return position % 64 - 32; }

// ---- the thread pool ----------------------------------------------------------------------

namespace {
constexpr int kMaxThreads = 8;
constexpr int kBranching = 4;
constexpr int kMaxDepth = 6;
constexpr std::uint32_t kCheckEvery = 1024;  // nodes between two looks at the stop flag

struct Stats {
  std::atomic<std::int64_t> nodes{0};
  std::atomic<std::int32_t> iterations{0};
  std::atomic<std::int32_t> root_eval{0};
};

std::array<Stats, kMaxThreads> stats;
std::vector<std::thread> threads;
std::mutex lock;
std::condition_variable wake;
bool searching = false;  // guarded by lock
std::atomic<bool> stop{false};
std::atomic<int> running{0};  // threads inside a search

std::int32_t child(std::int32_t position, int k) {
  return static_cast<std::int32_t>((static_cast<std::uint32_t>(position) * 2654435761u + k * 40503u) >> 8);
}

// Negamax over the synthetic tree; returns early (score 0) once `stop` is set.
std::int32_t negamax(int id, std::int32_t position, int depth, std::uint32_t &nodes) {
  if ((++nodes % kCheckEvery) == 0) {
    stats[id].nodes.fetch_add(kCheckEvery, std::memory_order_relaxed);
    std::this_thread::yield();  // the search thread's sync point (patches load here)
  }
  if (stop.load(std::memory_order_relaxed)) return 0;
  if (depth == 0) return evaluate(position);
  std::int32_t best = INT32_MIN + 1;
  for (int k = 0; k < kBranching; k++) {
    std::int32_t score = -negamax(id, child(position, k), depth - 1, nodes);
    if (score > best) best = score;
  }
  return best;
}

// One search: iterative deepening until `stop`; the root's static eval is recorded each
// iteration (what the tests watch to see which evaluate a thread runs).
void search(int id) {
  std::uint32_t nodes = 0;
  for (int depth = 1; !stop.load(std::memory_order_relaxed); depth = depth % kMaxDepth + 1) {
    stats[id].root_eval.store(evaluate(id), std::memory_order_relaxed);
    negamax(id, child(id, depth), depth, nodes);
    stats[id].iterations.fetch_add(1, std::memory_order_relaxed);
  }
}

// A search thread's life: idle (a condition-variable wait, which Emscripten slices) until `go`.
void idle_loop(int id) {
  for (;;) {
    {
      std::unique_lock<std::mutex> guard(lock);
      wake.wait(guard, [] { return searching; });
    }
    running.fetch_add(1);
    search(id);
    running.fetch_sub(1);
    std::unique_lock<std::mutex> guard(lock);
    searching = false;
    wake.wait(guard, [] { return !stop.load(); });  // until the next go clears stop
  }
}
}  // namespace

// `go infinite` on `n` threads (1..8; the first go decides the count). Never blocks.
extern "C" EMSCRIPTEN_KEEPALIVE int32_t search_go(int32_t n) {
  if (threads.empty()) {
    if (n < 1 || n > kMaxThreads) return 0;
    for (int i = 0; i < n; i++) threads.emplace_back(idle_loop, i);
  }
  {
    std::lock_guard<std::mutex> guard(lock);
    stop = false;
    searching = true;
  }
  wake.notify_all();
  return static_cast<int32_t>(threads.size());
}

// `stop`: every search thread leaves its search at its next look at the flag. Never blocks.
extern "C" EMSCRIPTEN_KEEPALIVE void search_stop(void) {
  std::lock_guard<std::mutex> guard(lock);
  stop = true;
  searching = false;
}

extern "C" EMSCRIPTEN_KEEPALIVE int32_t search_threads(void) { return static_cast<int32_t>(threads.size()); }
extern "C" EMSCRIPTEN_KEEPALIVE int32_t search_searching(void) { return running.load(); }
extern "C" EMSCRIPTEN_KEEPALIVE double search_nodes(void) {
  double total = 0;
  for (const Stats &s : stats) total += static_cast<double>(s.nodes.load());
  return total;
}
// What thread `t` got from evaluate(t) at the root of its latest iteration (0 before its first).
extern "C" EMSCRIPTEN_KEEPALIVE int32_t search_root_eval(int32_t t) {
  return t >= 0 && t < kMaxThreads ? stats[t].root_eval.load() : -1;
}
extern "C" EMSCRIPTEN_KEEPALIVE int32_t search_iterations(int32_t t) {
  return t >= 0 && t < kMaxThreads ? stats[t].iterations.load() : -1;
}

EM_JS(void, search_show, (double nodes), {
  const canvas = Module.canvas || (typeof document !== 'undefined' && document.querySelector('canvas'));
  if (!canvas || !canvas.getContext) return; /* under Node: no canvas */
  const g = canvas.getContext('2d');
  g.fillStyle = '#101820';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#e0e0e0';
  g.font = '16px monospace';
  g.fillText('nodes searched: ' + nodes, 10, 24);
});

// One frame of the page: the first starts `go infinite` on 4 threads, then shows the count.
extern "C" EMSCRIPTEN_KEEPALIVE void search_frame(float dt) {
  (void)dt;
  if (threads.empty()) search_go(4);
  search_show(search_nodes());
}

int main() { return 0; }
