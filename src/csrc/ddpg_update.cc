// K DDPG gradient steps in one call: the body of MindSpore Custom op (func_type "aot") used by
// the `native` learner backend on CPU (src/native.py builds it, src/learner.py calls it).
//
// Why: MindSpore 2.10's CPU graphs run kernel by kernel, about 190 kernels per DDPG update, and
// roughly a third of an update's wall-clock passes between kernels; MatMul+BiasAdd+ReLU are never
// fused and Adam and the soft updates launch one kernel per tensor. Here the whole step (critic
// Adam step on the TD loss, actor Adam step on -Q through the updated critic, soft update of both
// targets, statistics) is one call, its matrix products on the oneDNN sgemm that MindSpore itself
// ships (libdnnl.so.3), split over a small thread pool of our own.
//
// The op updates the learner's Parameters in place (networks, targets, Adam moments, beta
// powers, global steps, statistics): MindSpore passes a graph's Parameters to a CPU kernel by
// their own buffers. The maths mirrors src/learner.py's DDPGUpdate step for step, TD3's switches
// included (twin critics, delayed actor and target updates, target policy smoothing); tests
// compare the two (tests/test_native.py, tests/test_td3.py).
//
// Every call first checks what it was given against kLayoutVersion's layout (count, dtypes,
// ranks and shapes of every tensor, layers that chain, moments shaped as their parameters),
// before it reads a value or writes a byte: a mismatch returns 1 and leaves one line for
// DDPGUpdateLastError, which src/learner.py shows as its `error:` line. Calls run one at a time
// (two learners in one process, two Python threads), and a forked child gets a pool of its own.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() std::this_thread::yield()
#endif

// The order and meaning of the op's inputs (src/learner.py's NativeMultiStepUpdate); src/native.py
// puts it in the cache key, so a library built for another layout is never loaded.
constexpr int kLayoutVersion = 2;

// oneDNN's C API (row-major sgemm); MindSpore's build sets no thread pool of its own, so it
// runs on the calling thread.
extern "C" int dnnl_sgemm(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                          float *C, int64_t ldc);

namespace {

// Adam's moments of units whose gradient has gone to zero (a dead ReLU) decay geometrically
// into the subnormal range, where every multiply costs ~100 cycles on x86: measured, Adam took
// most of an update on one core. Flush them to zero, as XLA's CPU backend does.
void FlushDenormals() {
#if defined(__x86_64__)
  _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ (bit 15) and DAZ (bit 6)
#endif
}

// ------------------------------------------------------------------------------------------
// Thread pool: the calling thread plus n-1 workers. A job's tasks are claimed one at a time
// from `state_` (job generation in the high 32 bits, next task index in the low 32), so the
// caller takes every task no worker has claimed yet: a worker that is asleep or descheduled (two
// cores shared with the environment and other runs) delays nobody, and a late worker can only
// claim tasks of the job it saw posted. Workers spin briefly after a job, as the next one follows
// within microseconds in an update, then sleep on a condition variable.
class Pool {
 public:
  explicit Pool(int n) : n_(n) {
    for (int i = 1; i < n_; ++i) workers_.emplace_back([this] { Loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto &t : workers_) t.join();
  }
  int get_num_threads() const { return n_; }
  // Runs fn(i, n) for i < n on the pool; returns when all have run.
  void parallel_for(int n, const std::function<void(int, int)> &fn) {
    const bool alone = n_ > 1 && n > 1 && !in_parallel_.load() && Contended();
    if (n_ == 1 || n <= 1 || in_parallel_.load() || alone) {
      stats_[kRunAlone] += alone;
      probe_ |= alone;
      for (int i = 0; i < n; ++i) fn(i, n);
      return;
    }
    const long preempted = Preemptions();
    fn_ = &fn;
    total_ = n;
    caller_cpu_.store(sched_getcpu(), std::memory_order_relaxed);
    done_.store(0);
    in_parallel_.store(true);
    uint64_t job = (state_.load() >> 32) + 1;
    state_.store(job << 32);
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
    const auto start = std::chrono::steady_clock::now();
    const bool timed = start < trial_until_;  // only a trial's jobs need the caller's CPU time
    const double cpu0 = timed ? ThreadCpuSeconds() : 0.0;
    const int mine = Work(job);
    const double own = timed ? ThreadCpuSeconds() - cpu0 : 0.0;  // the caller's part
    auto idle = std::chrono::steady_clock::now();
    while (done_.load(std::memory_order_acquire) < n) CPU_RELAX();
    // A worker that claimed a task and then lost its core (another process wants it) leaves
    // the caller waiting for a scheduler time slice, and a caller that loses its core leaves
    // the workers waiting: either makes the job late, and for a while (alone_for_, at least
    // kAloneMin) every job runs on the caller alone. Then the pool is tried for kTrial: the
    // work it did (the caller's CPU time per task it ran, times the tasks) over the time it
    // took is the speed-up the pool gives now; below kMinSpeedup the cores stay shared
    // (another run, a busy process of equal priority) and the next window is twice as long, up
    // to kAloneMax, so trying costs little; above it (a niced neighbour, a daemon that came
    // and went) the pool stays on and the window is halved. A late job does not shorten the
    // window: beside another run a trial passes now and then by chance, and the next late job
    // would otherwise start the backoff again from kAloneMin. The first job of a trial wakes
    // sleeping workers, which on a busy core can take a scheduler tick: it is not counted.
    auto now = std::chrono::steady_clock::now();
    ++stats_[kJobs];
    bool late = now - idle > std::chrono::microseconds(kLateUs) || Preemptions() != preempted;
    if (probe_) {
      probe_ = late = false;
      trial_until_ = now + kTrial;
      trial_work_ = trial_wall_ = 0.0;
    }
    stats_[kLate] += late;
    if (now < trial_until_) {
      trial_work_ += mine > 0 ? own * n / mine : 0.0;
      trial_wall_ += std::chrono::duration<double>(now - start).count();
    } else if (trial_wall_ > 0.0) {  // the trial is over: judge it
      const bool shared = trial_work_ < kMinSpeedup * trial_wall_;
      alone_for_ =
          shared ? std::min(alone_for_ * 2, kAloneMax) : std::max(alone_for_ / 2, kAloneMin);
      if (shared) alone_until_ = now + alone_for_;
      trial_work_ = trial_wall_ = 0.0;
    } else if (late) {
      alone_until_ = now + alone_for_;
    }
    in_parallel_.store(false);
  }
  bool Contended() const { return std::chrono::steady_clock::now() < alone_until_; }
  // Jobs handed to the pool, those that ended late, jobs run on the caller alone (after a
  // late job or a failed trial), and workers moved off the caller's CPU after waking;
  // benchmarks/bench_contention.py reports them.
  enum Stat { kJobs, kLate, kRunAlone, kMoved, kStats };
  int64_t stat(int i) const { return i == kMoved ? moved_.load() : stats_[i]; }

 private:
  static double ThreadCpuSeconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
  }
  // This thread's involuntary context switches so far: the caller losing its core during a
  // job (more threads want the cores than there are) shows here even when the job ends on time.
  static long Preemptions() {
    struct rusage usage;
    return getrusage(RUSAGE_THREAD, &usage) == 0 ? usage.ru_nivcsw : 0;
  }
  // Runs tasks of job `job` until none is left unclaimed; returns how many it ran.
  int Work(uint64_t job) {
    for (int ran = 0;; ++ran) {
      uint64_t s;
      for (;;) {
        s = state_.load();
        if ((s >> 32) != job || static_cast<uint32_t>(s) >= static_cast<uint32_t>(total_))
          return ran;
        if (state_.compare_exchange_weak(s, s + 1)) break;
      }
      uint32_t i = static_cast<uint32_t>(s);
      (*fn_)(static_cast<int>(i), total_);
      done_.fetch_add(1, std::memory_order_release);
    }
  }
  // A sleeping worker is woken where the scheduler thinks best, and once it last ran on the
  // caller's CPU that is where it wakes again: the two then share one core, every trial
  // fails, and the pool stays off for good even when the other core runs only a niced
  // process (measured beside a nice-19 loop: about one round in four stuck at one core's
  // rate). So a worker woken on the caller's CPU moves to another CPU of its mask: narrowing
  // the mask moves the thread at once, and the old mask is then put back as it was.
  void MoveOffCallersCpu() {
    const int caller = caller_cpu_.load(std::memory_order_relaxed);
    if (caller < 0 || caller >= CPU_SETSIZE || sched_getcpu() != caller) return;
    cpu_set_t mask, others;
    if (pthread_getaffinity_np(pthread_self(), sizeof(mask), &mask) != 0) return;
    others = mask;
    CPU_CLR(caller, &others);
    if (CPU_COUNT(&others) == 0) return;
    if (pthread_setaffinity_np(pthread_self(), sizeof(others), &others) != 0) return;
    pthread_setaffinity_np(pthread_self(), sizeof(mask), &mask);
    moved_.fetch_add(1, std::memory_order_relaxed);
  }
  void Loop() {
    FlushDenormals();
    uint64_t seen = 0;
    for (;;) {
      auto start = std::chrono::steady_clock::now();
      int polls = 0;
      while ((state_.load() >> 32) == seen && !stop_) {
        CPU_RELAX();
        if (++polls % 256 == 0 &&
            std::chrono::steady_clock::now() - start > std::chrono::microseconds(200)) {
          std::unique_lock<std::mutex> lock(mu_);
          sleepers_.fetch_add(1);
          cv_.wait(lock, [&] { return stop_ || (state_.load() >> 32) != seen; });
          sleepers_.fetch_sub(1);
          lock.unlock();
          MoveOffCallersCpu();
        }
      }
      if (stop_) return;
      seen = state_.load() >> 32;
      Work(seen);
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0}, sleepers_{0};
  int total_ = 0;
  const std::function<void(int, int)> *fn_ = nullptr;
  std::atomic<bool> in_parallel_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> caller_cpu_{-1};  // the CPU the caller posted the last job from
  std::atomic<int64_t> moved_{0};
  static constexpr std::chrono::microseconds kLateUs{200}, kAloneMin{5000},
      kAloneMax{3200000}, kTrial{20000};
  static constexpr double kMinSpeedup = 1.25;
  std::chrono::steady_clock::time_point alone_until_{};
  std::chrono::microseconds alone_for_{kAloneMin};
  std::chrono::steady_clock::time_point trial_until_{};
  double trial_work_ = 0.0, trial_wall_ = 0.0;
  int64_t stats_[kStats] = {};
  bool probe_ = false;  // the next job is the first on the pool after a window alone
};

// Threads = the cores this process may run on (taskset pins a run to one), at most 8: these
// products are too small to gain from more. Python sets its own count (DDPGUpdateSetThreads).
int UsableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, std::min(8, CPU_COUNT(&set)));
}

// One op at a time in the process: the pool (one job at a time), the workspace and the
// profile counters are shared, and two learners updating from two Python threads would
// otherwise interleave in them. Also held while the pool is replaced and across fork().
std::mutex g_op_mu;
Pool *g_pool = nullptr;  // created on first use; under g_op_mu
int g_threads = 0;       // the pool size asked for; 0: UsableCores()
int64_t g_splits = 0;    // products and ranges cut into per-thread blocks (tests read it)

Pool &ThePool() {
  if (!g_pool) g_pool = new Pool(g_threads > 0 ? g_threads : UsableCores());
  return *g_pool;
}

// fork() copies only the forking thread: the child must neither wait on a mutex that another
// thread held at that moment, nor hand work to workers that do not exist there. So the fork
// waits for a running op to end, and the child drops (leaks: its threads cannot be joined) the
// parent's pool and builds its own on first use.
void BeforeFork() { g_op_mu.lock(); }
void AfterForkInParent() { g_op_mu.unlock(); }
void AfterForkInChild() {
  g_pool = nullptr;
  g_op_mu.unlock();
}
const bool g_fork_handlers =
    pthread_atfork(BeforeFork, AfterForkInParent, AfterForkInChild) == 0;

// Stops the workers when the library is unloaded or the process exits, so that no thread runs
// code that is gone (src/native.py also links with -z nodelete, which keeps the library
// loaded); skipped if an op is still running then (a daemon thread's), which keeps its pool.
struct PoolShutdown {
  ~PoolShutdown() {
    if (!g_op_mu.try_lock()) return;
    delete g_pool;
    g_pool = nullptr;
    g_op_mu.unlock();
  }
} g_pool_shutdown;

// Splits rows [0, n) of an [n, cols] array into one contiguous range per thread, when the array
// is large enough to pay for waking the pool.
void ParallelRange(int64_t n, int64_t cols, const std::function<void(int64_t, int64_t)> &fn) {
  Pool &pool = ThePool();
  int parts = pool.get_num_threads();
  if (parts == 1 || n * cols < 32768) {
    fn(0, n);
    return;
  }
  ++g_splits;
  pool.parallel_for(parts, [&](int i, int total) { fn(n * i / total, n * (i + 1) / total); });
}

// Time per category, when switched on (benchmarks/profile_update.py): where an update's time
// goes inside the op. Off, it costs one branch per product.
enum Slot { kLargeProducts, kSmallProducts, kOptimizer, kTotal, kSteps, kSlots };
bool g_profiling = false;
double g_profile[kSlots] = {};

class Timed {
 public:
  explicit Timed(Slot slot) : slot_(slot) {
    if (g_profiling) start_ = std::chrono::steady_clock::now();
  }
  ~Timed() {
    if (g_profiling)
      g_profile[slot_] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  Slot slot_;
  std::chrono::steady_clock::time_point start_;
};

// C[M, N] = op(A) op(B) + beta * C, row-major; op(X) = X^T when the flag is set.
//
// A large product is cut into one block of rows (or columns) of C per thread, each block a
// single-threaded oneDNN sgemm over the whole K: every element of C then comes out the same
// however many threads share the work, or whether the caller ends up doing every block itself
// (measured: bit-identical to one sgemm for the update's shapes, and as fast as oneDNN's own
// threading of the product). So results do not depend on the core count or on the load.
void Gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
          const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  Timed timed(std::min({M, N, K}) >= 64 ? kLargeProducts : kSmallProducts);
  const char transa = ta ? 'T' : 'N', transb = tb ? 'T' : 'N';
  Pool &pool = ThePool();
  const int parts = pool.get_num_threads();
  // Below ~2^18 multiply-adds one thread is as fast as two (the input and output layers).
  if (parts == 1 || M * N * K < (int64_t{1} << 18)) {
    dnnl_sgemm(transa, transb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool by_rows = M >= N;
  const int64_t D = by_rows ? M : N;
  ++g_splits;
  pool.parallel_for(parts, [&](int i, int n) {
    // Block edges on multiples of 16 floats (a 64-byte cache line).
    int64_t lo = D * i / n / 16 * 16, hi = i + 1 == n ? D : D * (i + 1) / n / 16 * 16;
    if (hi <= lo) return;
    if (by_rows)
      dnnl_sgemm(transa, transb, hi - lo, N, K, 1.0f, ta ? A + lo : A + lo * lda, lda, B, ldb,
                 beta, C + lo * ldc, ldc);
    else
      dnnl_sgemm(transa, transb, M, hi - lo, K, 1.0f, A, lda, tb ? B + lo * ldb : B + lo, ldb,
                 beta, C + lo, ldc);
  });
}

// ------------------------------------------------------------------------------------------
// An MLP as views of its Parameters: layer i has weight [out_i, in_i] (nn.Dense's layout) and
// bias [out_i]; ReLU after every layer but the last. Layer `join` (or none, -1) takes the
// previous output with `extra` columns appended (the critic's action).
struct Mlp {
  std::vector<float *> w, b;
  std::vector<int64_t> in, out;
  int join = -1;
  int64_t extra = 0;
  int layers() const { return static_cast<int>(w.size()); }
  int64_t size(int i) const { return out[i] * in[i]; }
};

// What a forward pass keeps for its backward pass.
struct Pass {
  std::vector<const float *> input;       // layer i's input [B, in_i]
  std::vector<std::vector<float>> out;    // layer i's output [B, out_i], after ReLU if hidden
  std::vector<float> joined;              // the concatenated input of layer `join`
};

struct Grads {
  std::vector<std::vector<float>> w, b;
  void Resize(const Mlp &net) {
    w.resize(net.layers());
    b.resize(net.layers());
    for (int i = 0; i < net.layers(); ++i) {
      w[i].resize(net.size(i));
      b[i].resize(net.out[i]);
    }
  }
};

void Forward(const Mlp &net, int64_t B, const float *x, const float *extra, Pass &p) {
  int L = net.layers();
  p.input.resize(L);
  p.out.resize(L);
  const float *h = x;
  for (int i = 0; i < L; ++i) {
    int64_t in = net.in[i], out = net.out[i];
    if (i == net.join) {
      int64_t prev = in - net.extra;
      p.joined.resize(B * in);
      for (int64_t r = 0; r < B; ++r) {
        std::memcpy(&p.joined[r * in], h + r * prev, prev * sizeof(float));
        std::memcpy(&p.joined[r * in + prev], extra + r * net.extra, net.extra * sizeof(float));
      }
      h = p.joined.data();
    }
    p.input[i] = h;
    std::vector<float> &y = p.out[i];
    y.resize(B * out);
    Gemm(false, true, B, out, in, h, in, net.w[i], in, 0.0f, y.data(), out);
    // Bias and ReLU in one pass over the product while it is still in cache.
    float *__restrict__ yd = y.data();
    const float *__restrict__ bias = net.b[i];
    const bool relu = i + 1 < L;
    ParallelRange(B, out, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        float *row = yd + r * out;
        if (relu)
          for (int64_t c = 0; c < out; ++c) row[c] = std::max(row[c] + bias[c], 0.0f);
        else
          for (int64_t c = 0; c < out; ++c) row[c] += bias[c];
      }
    });
    h = y.data();
  }
}

// Back-propagates `dout` (the gradient of the last layer's output, [B, out_L], overwritten).
// With `g`, writes every layer's weight and bias gradient; with `dextra`, the gradient of the
// joined `extra` input [B, extra]. Stops at the lowest layer something is needed from.
void Backward(const Mlp &net, int64_t B, Pass &p, std::vector<float> &dout, Grads *g,
              float *dextra, std::vector<float> &scratch) {
  int L = net.layers();
  int lowest = g ? 0 : net.join;
  std::vector<float> *dz = &dout;
  for (int i = L - 1; i >= lowest; --i) {
    int64_t in = net.in[i], out = net.out[i];
    if (g) {
      Gemm(true, false, out, in, B, dz->data(), out, p.input[i], in, 0.0f, g->w[i].data(), in);
      float *db = g->b[i].data();
      std::fill(db, db + out, 0.0f);
      for (int64_t r = 0; r < B; ++r) {
        const float *row = dz->data() + r * out;
        for (int64_t c = 0; c < out; ++c) db[c] += row[c];
      }
    }
    if (i == net.join && dextra) {
      int64_t prev = in - net.extra;
      Gemm(false, false, B, net.extra, out, dz->data(), out, net.w[i] + prev, in, 0.0f, dextra,
           net.extra);
    }
    if (i == lowest || i == 0) break;
    // Gradient of layer i-1's output: the part of layer i's input that came from it.
    int64_t prev = i == net.join ? in - net.extra : in;
    scratch.resize(B * prev);
    Gemm(false, false, B, prev, out, dz->data(), out, net.w[i], in, 0.0f, scratch.data(), prev);
    const float *__restrict__ h = p.out[i - 1].data();
    float *__restrict__ d = scratch.data();
    ParallelRange(B, prev, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo * prev; k < hi * prev; ++k) d[k] = h[k] > 0.0f ? d[k] : 0.0f;
    });
    std::swap(dout, scratch);
    dz = &dout;
  }
}

// 0.5 * decay * sum of squared weights (biases are not decayed), as src/losses.py l2_penalty.
float L2(const Mlp &net, float decay) {
  if (decay == 0.0f) return 0.0f;
  double total = 0.0;
  for (int i = 0; i < net.layers(); ++i)
    for (int64_t k = 0; k < net.size(i); ++k) total += double(net.w[i][k]) * net.w[i][k];
  return 0.5f * decay * static_cast<float>(total);
}

// nn.Adam's state for one optimizer: moments per tensor, bias-correction powers, step, lr.
struct Adam {
  std::vector<float *> m, v;  // weight and bias of layer i at 2i and 2i+1 (then the next net's)
  float *beta1_power, *beta2_power, *lr;
  int32_t *global_step;
};

// Advances an optimizer's step count and bias-correction powers (once per step, however many
// networks it trains); returns this step's size.
float AdamAdvance(Adam &opt, float beta1, float beta2) {
  *opt.global_step += 1;
  float b1p = *opt.beta1_power * beta1, b2p = *opt.beta2_power * beta2;
  *opt.beta1_power = b1p;
  *opt.beta2_power = b2p;
  return *opt.lr * std::sqrt(1.0f - b2p) / (1.0f - b1p);
}

// Adam on elements [lo, hi) of one tensor (nn.Adam's CPU update, with the L2 gradient decay * p
// added), then, with a target, the soft update t <- tau * p + (1 - tau) * t in the same pass.
// A plain function with restrict pointers so that the compiler vectorises it (inside a lambda
// capturing the pointers by reference it did not).
void AdamRange(int64_t lo, int64_t hi, float *__restrict__ p, float *__restrict__ m,
               float *__restrict__ v, const float *__restrict__ g, float *__restrict__ t,
               float decay, float lr_t, float beta1, float beta2, float eps, float tau,
               float keep) {
  const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
  for (int64_t k = lo; k < hi; ++k) {
    float gk = g[k] + decay * p[k];
    m[k] += (gk - m[k]) * a1;
    v[k] += (gk * gk - v[k]) * a2;
    p[k] -= lr_t * m[k] / (std::sqrt(v[k]) + eps);
  }
  if (t)
    for (int64_t k = lo; k < hi; ++k) t[k] = tau * p[k] + keep * t[k];
}

// One Adam step of `net` with gradients `g` (plus decay * w on weights), using the moments of
// `opt` from tensor `first` on; with `target`, the soft update target <- tau * online +
// (1 - tau) * target fused into the same pass over each tensor.
void AdamAndSoftUpdate(const Mlp &net, Grads &g, float decay, Adam &opt, int first, float lr_t,
                       const Mlp *target, float beta1, float beta2, float eps, float tau,
                       float keep) {
  Timed timed(kOptimizer);
  for (int i = 0; i < net.layers(); ++i) {
    for (int part = 0; part < 2; ++part) {
      float *p = part ? net.b[i] : net.w[i];
      float *t = target ? (part ? target->b[i] : target->w[i]) : nullptr;
      const float *gr = part ? g.b[i].data() : g.w[i].data();
      float *m = opt.m[first + 2 * i + part];
      float *v = opt.v[first + 2 * i + part];
      float wd = part ? 0.0f : decay;
      ParallelRange(part ? net.out[i] : net.size(i), 1, [&](int64_t lo, int64_t hi) {
        AdamRange(lo, hi, p, m, v, gr, t, wd, lr_t, beta1, beta2, eps, tau, keep);
      });
    }
  }
}

// Settings, in the order src/learner.py's NativeMultiStepUpdate packs them into its `hyper`
// input after hyper[0], the layout version: kHyperFixed values, then the actor's center and
// half range (act_dim each).
struct Hyper {
  float discount, reward_scale, clip_low, clip_high, tau, qf_decay, policy_decay, beta1, beta2,
      eps;
  int critic_join, actor_layers, critic_layers;
  float keep;  // 1 - tau, rounded once in Python as the graph's constant is
  int twin, delay;  // TD3: a second critic; actor and target updates every delay-th step
  float target_noise, noise_clip;  // TD3's target policy smoothing (off at 0)
  const float *center, *half_range;
};
constexpr int64_t kHyperFixed = 19;
constexpr int kMaxLayers = 64;  // more is surely a packing error, and keeps the counts small

// Scratch memory kept between calls (calls run one at a time: g_op_mu).
struct Workspace {
  Pass actor, actor_target, critic, critic_target, critic_pi, critic2, critic2_target;
  Grads critic_grads, critic2_grads, actor_grads;
  std::vector<float> next_action, tanh_out, action, y, dq, da, dscratch;
};

// ------------------------------------------------------------------------------------------
// Errors. An aot kernel can only return non-zero (MindSpore then raises a RuntimeError naming
// the number), so the reason is kept here, for src/learner.py to read (DDPGUpdateLastError).
std::string g_error;  // the last call's failure, "" after a call that ran; under g_op_mu

bool Fail(const std::string &message) {
  g_error = "native kernel: " + message;
  return false;
}

std::string Num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

std::string Dims(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("*") : std::to_string(shape[i]));
  return s + "]";
}

const char kF32[] = "float32", kI32[] = "int32";

// The op's tensors as MindSpore passes them: the inputs, then the output. A tensor's data is
// handed out only by Expect*, after its dtype and shape have been checked.
class Tensors {
 public:
  Tensors(int n, void **data, int *ndims, int64_t **shapes, const char **dtypes)
      : n_(data && ndims && shapes && dtypes ? n : -1), data_(data), ndims_(ndims),
        shapes_(shapes), dtypes_(dtypes) {}
  int count() const { return n_; }  // -1: no arrays

  // Tensor i's data if it has `dtype` and `shape` (-1: any size >= 1); else nullptr and the
  // error names it as input i, `role`.
  template <typename T>
  T *Expect(int i, const std::string &role, const char *dtype,
            const std::vector<int64_t> &shape) const {
    std::vector<int64_t> got = Shape(i);
    bool same = got.size() == shape.size();
    for (size_t d = 0; same && d < got.size(); ++d)
      same = shape[d] < 0 ? got[d] >= 1 : got[d] == shape[d];
    if (!CheckDtype(i, role, dtype)) return nullptr;
    if (!same) {
      Fail(Name(i, role) + " has shape " + Dims(got) + ", expected " + Dims(shape));
      return nullptr;
    }
    return Data<T>(i, role);
  }
  // A single element (nn.Adam keeps its scalars as [] or [1]).
  template <typename T>
  T *ExpectOne(int i, const std::string &role, const char *dtype) const {
    std::vector<int64_t> got = Shape(i);
    int64_t elements = 1;
    for (int64_t d : got) elements *= d;
    if (!CheckDtype(i, role, dtype)) return nullptr;
    if (elements != 1) {
      Fail(Name(i, role) + " has shape " + Dims(got) + ", expected one element");
      return nullptr;
    }
    return Data<T>(i, role);
  }
  // Dimension d of tensor i, which Expect has checked to have it.
  int64_t Dim(int i, int d) const { return shapes_[i][d]; }

 private:
  std::vector<int64_t> Shape(int i) const {
    if (ndims_[i] <= 0 || !shapes_[i]) return {};
    return std::vector<int64_t>(shapes_[i], shapes_[i] + ndims_[i]);
  }
  std::string Name(int i, const std::string &role) const {
    return (i + 1 == n_ ? "output" : "input " + std::to_string(i)) + " (" + role + ")";
  }
  bool CheckDtype(int i, const std::string &role, const char *dtype) const {
    const char *got = dtypes_[i] ? dtypes_[i] : "none";
    if (std::strcmp(got, dtype) == 0) return true;
    return Fail(Name(i, role) + " has dtype " + got + ", expected " + dtype);
  }
  template <typename T>
  T *Data(int i, const std::string &role) const {
    if (!data_[i]) Fail(Name(i, role) + " has no data");
    return static_cast<T *>(data_[i]);
  }

  int n_;
  void **data_;
  int *ndims_;
  int64_t **shapes_;
  const char **dtypes_;
};

// hyper[i] as an integer in [lo, hi] (hyper is float32: the layer counts, switches, delay).
bool IntSetting(const float *h, int i, const char *name, int lo, int hi, int *out) {
  float v = h[i];
  if (!(v >= lo && v <= hi) || v != std::floor(v))
    return Fail("hyper[" + std::to_string(i) + "] (" + name + ") is " + Num(v) +
                ", expected an integer in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  *out = static_cast<int>(v);
  return true;
}

class Step {
 public:
  // Checks every tensor against the layout that `hyper` describes and takes their pointers, in
  // NativeMultiStepUpdate's order; false (the error set) at the first mismatch.
  bool Bind(const Tensors &t) {
    const int n = t.count();
    if (n < 0) return Fail("called without the arrays of tensors, shapes and dtypes");
    if (n < 7)
      return Fail("got " + std::to_string(n) + " tensors (inputs and output), expected at least 7");
    // hyper first: its values say what the other inputs must be.
    const float *h = t.Expect<const float>(5, "hyper", kF32, {-1});
    if (!h) return false;
    const int64_t hyper_len = t.Dim(5, 0);
    if (h[0] != static_cast<float>(kLayoutVersion))
      return Fail("hyper[0], the layout version of src/learner.py's inputs, is " +
                  Num(h[0]) + ", this kernel reads layout " +
                  std::to_string(kLayoutVersion) + " (src/learner.py and " +
                  "src/csrc/ddpg_update.cc are from different versions)");
    if (!(obs_ = t.Expect<const float>(0, "obs", kF32, {-1, -1, -1}))) return false;
    K_ = t.Dim(0, 0);
    B_ = t.Dim(0, 1);
    obs_dim_ = t.Dim(0, 2);
    if (!(act_ = t.Expect<const float>(1, "act", kF32, {K_, B_, -1}))) return false;
    act_dim_ = t.Dim(1, 2);
    if (!(rew_ = t.Expect<const float>(2, "rew", kF32, {K_, B_})) ||
        !(next_ = t.Expect<const float>(3, "next_obs", kF32, {K_, B_, obs_dim_})) ||
        !(term_ = t.Expect<const float>(4, "terminated", kF32, {K_, B_})))
      return false;
    if (hyper_len != kHyperFixed + 2 * act_dim_)
      return Fail("input 5 (hyper) has " + std::to_string(hyper_len) + " values, expected " +
                  std::to_string(kHyperFixed + 2 * act_dim_) + " (" +
                  std::to_string(kHyperFixed) + " settings, then the center and half range of " +
                  std::to_string(act_dim_) + " action dimensions)");
    hp_ = {h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], 0, 0, 0, h[14], 0, 0,
           h[17], h[18], h + kHyperFixed, h + kHyperFixed + act_dim_};
    if (!IntSetting(h, 12, "actor layers", 1, kMaxLayers, &hp_.actor_layers) ||
        !IntSetting(h, 13, "critic layers", 1, kMaxLayers, &hp_.critic_layers) ||
        !IntSetting(h, 11, "qf_action_layer", 0, hp_.critic_layers - 1, &hp_.critic_join) ||
        !IntSetting(h, 15, "twin_critics", 0, 1, &hp_.twin) ||
        !IntSetting(h, 16, "policy_delay", 1, 1 << 30, &hp_.delay))
      return false;
    const bool noise = hp_.target_noise > 0.0f;
    const int A = hp_.actor_layers, C = hp_.critic_layers, critics = hp_.twin ? 2 : 1;
    // Inputs: batches and hyper, noise, networks (two tensors a layer), two Adams (moment1 and
    // moment2 of each tensor, then four scalars), two statistics, TD3's two counters; + output.
    const int expected = 6 + noise + 2 * (2 * A) + 2 * critics * (2 * C) + (2 * 2 * A + 4) +
                         (2 * 2 * C * critics + 4) + 2 + (hp_.delay > 1 ? 2 : 0);
    if (n - 1 != expected)
      return Fail("got " + std::to_string(n - 1) + " inputs, expected " +
                  std::to_string(expected) + " for " + std::to_string(A) + " actor layers, " +
                  std::to_string(C) + " critic layers, " + std::to_string(critics) +
                  " critic(s), policy_delay " + std::to_string(hp_.delay) +
                  (noise ? ", with" : ", without") + " target noise");
    int at = 6;
    if (noise && !(noise_ = t.Expect<const float>(at++, "noise", kF32, {K_, B_, act_dim_})))
      return false;
    std::vector<Mlp *> critic_nets = {&critic_};
    if (hp_.twin) critic_nets.push_back(&critic2_);
    const bool nets_ok =
        BindMlp(t, at, "actor", A, -1, act_dim_, nullptr, &actor_) &&
        BindMlp(t, at, "actor_target", A, -1, act_dim_, &actor_, &actor_target_) &&
        BindMlp(t, at, "critic", C, hp_.critic_join, 1, nullptr, &critic_) &&
        BindMlp(t, at, "critic_target", C, hp_.critic_join, 1, &critic_, &critic_target_) &&
        (!hp_.twin ||
         (BindMlp(t, at, "critic2", C, hp_.critic_join, 1, &critic_, &critic2_) &&
          BindMlp(t, at, "critic2_target", C, hp_.critic_join, 1, &critic_, &critic2_target_)));
    if (!nets_ok || !BindAdam(t, at, "actor_opt", {&actor_}, &actor_opt_) ||
        !BindAdam(t, at, "critic_opt", critic_nets, &critic_opt_))  // one Adam for both critics
      return false;
    if (!(stat_sum_ = t.Expect<float>(at++, "stats.sum", kF32, {5})) ||
        !(stat_max_q_ = t.ExpectOne<float>(at++, "stats.max_q", kF32)))
      return false;
    if (hp_.delay > 1 &&
        (!(critic_steps_ = t.ExpectOne<int32_t>(at++, "schedule.critic_steps", kI32)) ||
         !(stat_actor_steps_ = t.ExpectOne<float>(at++, "stats.actor_steps", kF32))))
      return false;
    return (loss_out_ = t.ExpectOne<float>(at, "the loss", kF32)) != nullptr;
  }

  void Run(Workspace &ws) {
    Timed timed(kTotal);
    if (g_profiling) g_profile[kSteps] += static_cast<double>(K_);
    float loss = 0.0f;
    for (int64_t k = 0; k < K_; ++k) loss = One(ws, k);
    *loss_out_ = loss;
  }

 private:
  // `layers` dense layers of `name` from input `at` on: weight [out_i, in_i] and bias [out_i],
  // layer 0 reading the observation, each next layer the previous one's output (with the
  // action appended at layer `join`), the last giving `last_out`; with `like`, shaped as it.
  bool BindMlp(const Tensors &t, int &at, const std::string &name, int layers, int join,
               int64_t last_out, const Mlp *like, Mlp *net) {
    net->join = join;
    net->extra = join >= 0 ? act_dim_ : 0;
    for (int i = 0; i < layers; ++i, at += 2) {
      const std::string layer = name + " layer " + std::to_string(i);
      int64_t in = (i == 0 ? obs_dim_ : net->out[i - 1]) + (i == join ? act_dim_ : 0);
      int64_t out = i + 1 == layers ? last_out : like ? like->out[i] : -1;
      float *w = t.Expect<float>(at, layer + " weight", kF32, {out, in});
      if (!w) return false;
      out = t.Dim(at, 0);
      float *b = t.Expect<float>(at + 1, layer + " bias", kF32, {out});
      if (!b) return false;
      net->w.push_back(w);
      net->b.push_back(b);
      net->out.push_back(out);
      net->in.push_back(in);
    }
    return true;
  }

  // nn.Adam's state for the tensors of `nets`, in order: every moment1, every moment2 (each
  // shaped as its parameter), beta1_power, beta2_power, global_step (int32), learning_rate.
  bool BindAdam(const Tensors &t, int &at, const std::string &name,
                const std::vector<Mlp *> &nets, Adam *opt) {
    const char *names[] = {"critic", "critic2"};
    for (int moment = 1; moment <= 2; ++moment) {
      for (size_t k = 0; k < nets.size(); ++k) {
        const Mlp &net = *nets[k];
        const std::string of = nets[k] == &actor_ ? "actor" : names[k];
        for (int i = 0; i < net.layers(); ++i) {
          for (int part = 0; part < 2; ++part, ++at) {
            const std::string role = "moment" + std::to_string(moment) + " of " + of +
                                     " layer " + std::to_string(i) + (part ? " bias" : " weight");
            std::vector<int64_t> shape = {net.out[i]};
            if (!part) shape.push_back(net.in[i]);
            float *m = t.Expect<float>(at, role, kF32, shape);
            if (!m) return false;
            (moment == 1 ? opt->m : opt->v).push_back(m);
          }
        }
      }
    }
    return (opt->beta1_power = t.ExpectOne<float>(at++, name + ".beta1_power", kF32)) &&
           (opt->beta2_power = t.ExpectOne<float>(at++, name + ".beta2_power", kF32)) &&
           (opt->global_step = t.ExpectOne<int32_t>(at++, name + ".global_step", kI32)) &&
           (opt->lr = t.ExpectOne<float>(at++, name + ".learning_rate", kF32));
  }

 private:
  // The actor's output mu(s) = center + half_range * tanh(z); keeps tanh(z) for the backward.
  void Act(const Mlp &net, const float *obs, Pass &p, std::vector<float> &t,
           std::vector<float> &a) {
    Forward(net, B_, obs, nullptr, p);
    const std::vector<float> &z = p.out.back();
    t.resize(B_ * act_dim_);
    a.resize(B_ * act_dim_);
    for (int64_t r = 0; r < B_; ++r)
      for (int64_t c = 0; c < act_dim_; ++c) {
        int64_t k = r * act_dim_ + c;
        t[k] = std::tanh(z[k]);
        a[k] = hp_.center[c] + hp_.half_range[c] * t[k];
      }
  }

  // TD3's target policy smoothing of the target action a (in place): a + half_range *
  // clip(sigma * eps, -c, c), clipped to the actor's range [center - half, center + half].
  void Smooth(const float *eps, std::vector<float> &a) const {
    for (int64_t r = 0; r < B_; ++r)
      for (int64_t c = 0; c < act_dim_; ++c) {
        int64_t i = r * act_dim_ + c;
        float n = std::min(std::max(hp_.target_noise * eps[i], -hp_.noise_clip), hp_.noise_clip);
        float lo = hp_.center[c] - hp_.half_range[c], hi = hp_.center[c] + hp_.half_range[c];
        a[i] = std::min(std::max(a[i] + hp_.half_range[c] * n, lo), hi);
      }
  }

  // One critic's squared TD error: its loss (without decay) and, in `dq`, the gradient of the
  // loss with respect to its output; sums of its Q values and their maximum into the pointers.
  float TdError(const std::vector<float> &q, const std::vector<float> &y, std::vector<float> &dq,
                double *q_sum, float *q_max) const {
    double sq = 0.0;
    dq.resize(B_);
    for (int64_t r = 0; r < B_; ++r) {
      float d = q[r] - y[r];
      sq += double(d) * d;
      if (q_sum) *q_sum += q[r];
      if (q_max) *q_max = std::max(*q_max, q[r]);
      dq[r] = 2.0f * d / static_cast<float>(B_);
    }
    return static_cast<float>(sq / B_);
  }

  float One(Workspace &ws, int64_t k) {
    const int64_t B = B_;
    const float *obs = in_obs_(k), *act = in_act_(k), *rew = in_rew_(k), *next = in_next_(k),
                *term = in_term_(k);
    // Critic step: y = clip(reward_scale * r + discount * (1 - terminated) * Q'(s', a')), with
    // a' = mu'(s') (smoothed with noise under TD3) and Q' the smaller of the twin targets.
    Act(actor_target_, next, ws.actor_target, ws.tanh_out, ws.next_action);
    if (noise_) Smooth(noise_ + k * B_ * act_dim_, ws.next_action);
    Forward(critic_target_, B, next, ws.next_action.data(), ws.critic_target);
    const std::vector<float> &next_q = ws.critic_target.out.back();
    const float *next_q2 = nullptr;
    if (hp_.twin) {
      Forward(critic2_target_, B, next, ws.next_action.data(), ws.critic2_target);
      next_q2 = ws.critic2_target.out.back().data();
    }
    ws.y.resize(B);
    double y_sum = 0.0;
    for (int64_t r = 0; r < B; ++r) {
      float nq = next_q2 ? std::min(next_q[r], next_q2[r]) : next_q[r];
      float y = hp_.reward_scale * rew[r] + hp_.discount * (1.0f - term[r]) * nq;
      ws.y[r] = std::min(std::max(y, hp_.clip_low), hp_.clip_high);
      y_sum += ws.y[r];
    }
    Forward(critic_, B, obs, act, ws.critic);
    double q_sum = 0.0;
    float q_max = -INFINITY;
    float qf_loss = TdError(ws.critic.out.back(), ws.y, ws.dq, &q_sum, &q_max) +
                    L2(critic_, hp_.qf_decay);
    ws.critic_grads.Resize(critic_);
    Backward(critic_, B, ws.critic, ws.dq, &ws.critic_grads, nullptr, ws.dscratch);
    if (hp_.twin) {
      Forward(critic2_, B, obs, act, ws.critic2);
      qf_loss += TdError(ws.critic2.out.back(), ws.y, ws.dq, nullptr, nullptr) +
                 L2(critic2_, hp_.qf_decay);
      ws.critic2_grads.Resize(critic2_);
      Backward(critic2_, B, ws.critic2, ws.dq, &ws.critic2_grads, nullptr, ws.dscratch);
    }
    // Delayed: the actor step and every soft update on each delay-th critic step only.
    bool actor_step = true;
    if (hp_.delay > 1) {
      *critic_steps_ += 1;
      actor_step = *critic_steps_ % hp_.delay == 0;
    }
    // The critics' targets move now (the actor step does not read them): fused with Adam.
    float lr_t = AdamAdvance(critic_opt_, hp_.beta1, hp_.beta2);
    AdamAndSoftUpdate(critic_, ws.critic_grads, hp_.qf_decay, critic_opt_, 0, lr_t,
                      actor_step ? &critic_target_ : nullptr, hp_.beta1, hp_.beta2, hp_.eps,
                      hp_.tau, hp_.keep);
    if (hp_.twin)
      AdamAndSoftUpdate(critic2_, ws.critic2_grads, hp_.qf_decay, critic_opt_,
                        2 * critic_.layers(), lr_t, actor_step ? &critic2_target_ : nullptr,
                        hp_.beta1, hp_.beta2, hp_.eps, hp_.tau, hp_.keep);
    float policy_loss = actor_step ? ActorStep(ws, obs) : 0.0f;

    // Statistics, as DDPGUpdate accumulates them: mean Q, mean y, both losses, one step.
    stat_sum_[0] += static_cast<float>(q_sum / B);
    stat_sum_[1] += static_cast<float>(y_sum / B);
    stat_sum_[2] += qf_loss;
    stat_sum_[3] += policy_loss;
    stat_sum_[4] += 1.0f;
    *stat_max_q_ = std::max(*stat_max_q_, q_max);
    if (actor_step && stat_actor_steps_) *stat_actor_steps_ += 1.0f;
    return qf_loss;
  }

  // Actor step on -mean Q(s, mu(s)), through the critic just updated, then the actor target's
  // soft update; returns the policy loss.
  float ActorStep(Workspace &ws, const float *obs) {
    const int64_t B = B_;
    Act(actor_, obs, ws.actor, ws.tanh_out, ws.action);
    Forward(critic_, B, obs, ws.action.data(), ws.critic_pi);
    const std::vector<float> &q_pi = ws.critic_pi.out.back();
    double q_pi_sum = 0.0;
    for (int64_t r = 0; r < B; ++r) q_pi_sum += q_pi[r];
    float policy_loss = -static_cast<float>(q_pi_sum / B) + L2(actor_, hp_.policy_decay);
    ws.dq.assign(B, -1.0f / static_cast<float>(B));
    ws.da.resize(B * act_dim_);
    Backward(critic_, B, ws.critic_pi, ws.dq, nullptr, ws.da.data(), ws.dscratch);
    for (int64_t r = 0; r < B; ++r)  // through a = center + half_range * tanh(z)
      for (int64_t c = 0; c < act_dim_; ++c) {
        int64_t i = r * act_dim_ + c;
        ws.da[i] *= hp_.half_range[c] * (1.0f - ws.tanh_out[i] * ws.tanh_out[i]);
      }
    ws.actor_grads.Resize(actor_);
    Backward(actor_, B, ws.actor, ws.da, &ws.actor_grads, nullptr, ws.dscratch);
    float lr_t = AdamAdvance(actor_opt_, hp_.beta1, hp_.beta2);
    AdamAndSoftUpdate(actor_, ws.actor_grads, hp_.policy_decay, actor_opt_, 0, lr_t,
                      &actor_target_, hp_.beta1, hp_.beta2, hp_.eps, hp_.tau, hp_.keep);
    return policy_loss;
  }

  const float *in_obs_(int64_t k) const { return obs_ + k * B_ * obs_dim_; }
  const float *in_act_(int64_t k) const { return act_ + k * B_ * act_dim_; }
  const float *in_rew_(int64_t k) const { return rew_ + k * B_; }
  const float *in_next_(int64_t k) const { return next_ + k * B_ * obs_dim_; }
  const float *in_term_(int64_t k) const { return term_ + k * B_; }

 private:
  const float *obs_ = nullptr, *act_ = nullptr, *rew_ = nullptr, *next_ = nullptr,
              *term_ = nullptr;
  int64_t K_ = 0, B_ = 0, obs_dim_ = 0, act_dim_ = 0;
  Hyper hp_{};
  Mlp actor_, actor_target_, critic_, critic_target_, critic2_, critic2_target_;
  Adam actor_opt_{}, critic_opt_{};
  const float *noise_ = nullptr;
  int32_t *critic_steps_ = nullptr;
  float *stat_sum_ = nullptr, *stat_max_q_ = nullptr, *stat_actor_steps_ = nullptr,
        *loss_out_ = nullptr;
};

}  // namespace

extern "C" int DDPGUpdate(int nparam, void **params, int *ndims, int64_t **shapes,
                          const char **dtypes, void *stream, void *extra) {
  (void)stream;
  (void)extra;
  std::lock_guard<std::mutex> lock(g_op_mu);
  g_error.clear();
  Step step;
  if (!step.Bind(Tensors(nparam, params, ndims, shapes, dtypes))) return 1;
  static Workspace ws;
#if defined(__x86_64__)
  const unsigned int csr = _mm_getcsr();  // the calling thread is MindSpore's: restore it after
  FlushDenormals();
#endif
  step.Run(ws);
#if defined(__x86_64__)
  _mm_setcsr(csr);
#endif
  return 0;
}

// Why the last call returned non-zero ("" if it ran), one line; valid until this thread's next
// call of it.
extern "C" const char *DDPGUpdateLastError() {
  thread_local std::string copy;
  std::lock_guard<std::mutex> lock(g_op_mu);
  copy = g_error;
  return copy.c_str();
}

// Number of threads the update runs on (for logs and tests).
extern "C" int DDPGUpdateThreads() {
  std::lock_guard<std::mutex> lock(g_op_mu);
  return ThePool().get_num_threads();
}

// Sets the number of threads (n < 1: the cores this process may use, at most 8), replacing the
// pool between calls; returns the number now in effect.
extern "C" int DDPGUpdateSetThreads(int n) {
  std::lock_guard<std::mutex> lock(g_op_mu);
  g_threads = n < 1 ? 0 : std::min(n, 256);
  const int want = g_threads > 0 ? g_threads : UsableCores();
  if (g_pool && g_pool->get_num_threads() != want) {
    delete g_pool;  // idle: no call runs while g_op_mu is held
    g_pool = nullptr;
  }
  return ThePool().get_num_threads();
}

// How many products and element ranges have been cut into per-thread blocks so far: tests
// check that their shapes reach the thread pool.
extern "C" int64_t DDPGUpdateSplitCount() {
  std::lock_guard<std::mutex> lock(g_op_mu);
  return g_splits;
}

// The pool's counters since it was made (Pool::Stat order: jobs, late jobs, jobs run alone,
// workers moved off the caller's CPU), the first `n` of them; returns how many it wrote.
extern "C" int DDPGUpdatePoolStats(int64_t *out, int n) {
  std::lock_guard<std::mutex> lock(g_op_mu);
  if (!out || n < 0) return 0;
  const int count = std::min(n, static_cast<int>(Pool::kStats));
  for (int i = 0; i < count; ++i) out[i] = ThePool().stat(i);
  return count;
}

// Profiling switch and read-out: seconds in large products (every dimension >= 64), small
// products, Adam + soft updates, the whole op, then the number of steps; reading resets.
extern "C" void DDPGUpdateSetProfiling(int on) {
  std::lock_guard<std::mutex> lock(g_op_mu);
  g_profiling = on != 0;
}
extern "C" void DDPGUpdateReadProfile(double *out) {
  std::lock_guard<std::mutex> lock(g_op_mu);
  for (int i = 0; i < kSlots; ++i) {
    out[i] = g_profile[i];
    g_profile[i] = 0.0;
  }
}
