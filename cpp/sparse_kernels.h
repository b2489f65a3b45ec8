// Sparse kernels of the chapter "Sparse neural networks", JIT-compiled by cppyy.
//
// A sparse linear layer Y = X·Wᵀ + 1·b has W (K×D) in CSR: float values, int indices. Its three
// products are
//   forward      Z  = X·Wᵀ + 1·b        a sparse × dense product (SpMM), 2·nnz·N flops
//   backward     DX = DZ·W              the transposed SpMM, 2·nnz·N flops
//   gradient     DW = (DZᵀ·X) ⊙ mask    a sampled dense-dense product (SDDMM), 2·nnz·N flops:
//                                       only the entries on W's pattern are computed.
//
// Layout. A batch (N rows) is stored feature-major: X (N×D) is kept as Xt = Xᵀ (D×N, row-major),
// i.e. X in column-major order. Then a nonzero W(i, j) meets the contiguous row j of Xt (feature j
// over the whole batch), and every product is a loop over nonzeros whose inner loop runs over the
// batch, contiguous in memory: the forward and transposed products accumulate a block of the batch
// in registers (see sparse_row_times_dense), the SDDMM computes one dot product of two contiguous
// rows per nonzero. The transposed product reads W column by column through a CSC copy of the
// pattern (col_ptr, row_index) whose `position` array points back into the CSR values.
//
// Threads: a small pool of std::thread workers (no OpenMP: its runtime would clash with the one
// torch brings into the same process). Each kernel takes the thread count. Work is split into
// contiguous row ranges of about equal numbers of nonzeros. Subnormal floats are flushed to zero
// while a kernel runs, then the caller's floating-point mode is restored.
//
// The kernels trust their arguments: nerva_edu.sparse validates shapes, dtypes, contiguity and
// the CSR structure in Python before calling them.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

// The SIMD vector types below are wider than the registers of the default x86-64 ABI. The kernels
// pass them only to functions that are inlined, so the compiler's note that such arguments would
// change the ABI (-Wpsabi) does not apply; it is silenced for this header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace nerva_edu::sparse {

// --- floating-point mode and threads ----------------------------------------------------------

// Flush subnormal floats to zero (FTZ and DAZ on x86, FZ on ARM) while the object lives.
class FlushSubnormals {
 public:
#if defined(__SSE__)
  FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }
  ~FlushSubnormals() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
#elif defined(__aarch64__)
  FlushSubnormals() {
    asm volatile("mrs %0, fpcr" : "=r"(saved_));
    asm volatile("msr fpcr, %0" ::"r"(saved_ | (std::uint64_t(1) << 24)));
  }
  ~FlushSubnormals() { asm volatile("msr fpcr, %0" ::"r"(saved_)); }

 private:
  std::uint64_t saved_;
#endif
};

inline void cpu_relax() {
#if defined(__SSE__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}

// Worker threads that run one parallel region at a time. A region is split into chunks that
// the calling thread and the workers claim one by one, so a worker that the operating system
// has not scheduled (the machine is shared; 2 cores) delays nothing: the others take its chunks.
// Between regions a worker spins for about 100 µs (the next kernel of a training step follows
// within microseconds), then sleeps on a condition variable, so an idle pool uses no CPU.
class ThreadPool {
 public:
  // The process-wide pool. Never destroyed: its detached workers end with the process.
  static ThreadPool& instance() {
    static ThreadPool* pool = new ThreadPool();
    return *pool;
  }

  // Run task(c) for c = 0, ..., chunks - 1 on the calling thread and up to threads - 1 workers.
  void run(int threads, int chunks, const std::function<void(int)>& task) {
    FlushSubnormals flush;
    if (threads <= 1 || chunks <= 1) {
      for (int c = 0; c < chunks; c++) task(c);
      return;
    }
    while (workers_ < threads - 1) std::thread(&ThreadPool::work, this, state_.load()).detach(), workers_++;
    task_ = &task;
    done_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::uint64_t generation = (state_.load(std::memory_order_relaxed) >> 32) + 1;
      state_.store(generation << 32 | std::uint64_t(chunks) << 16, std::memory_order_release);
    }
    wake_.notify_all();
    while (claim(state_.load(std::memory_order_acquire))) {}
    while (done_.load(std::memory_order_acquire) < chunks) cpu_relax();
  }

 private:
  ThreadPool() = default;

  // state_ = generation (32 bits) | chunks (16 bits) | next unclaimed chunk (16 bits), in one
  // atomic word, so that a claim always refers to the region that is running. Claim and run one
  // chunk; false when no chunk is left. While a claimed chunk runs its region cannot end, so
  // task_ (written before the region's state was published) stays valid.
  bool claim(std::uint64_t state) {
    for (;;) {
      const std::uint64_t chunks = (state >> 16) & 0xFFFF, next = state & 0xFFFF;
      if (next >= chunks) return false;
      if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
        (*task_)(int(next));
        done_.fetch_add(1, std::memory_order_release);
        return true;
      }
    }
  }

  void work(std::uint64_t state) {
    FlushSubnormals flush;
    for (;;) {
      state = wait_for_region(state >> 32);
      while (claim(state_.load(std::memory_order_acquire))) {}
    }
  }

  std::uint64_t wait_for_region(std::uint64_t seen) {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::microseconds(100)) {
      for (int i = 0; i < 64; i++) {
        std::uint64_t state = state_.load(std::memory_order_acquire);
        if ((state >> 32) != seen) return state;
        cpu_relax();
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return (state_.load(std::memory_order_relaxed) >> 32) != seen; });
    return state_.load(std::memory_order_acquire);
  }

  int workers_ = 0;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<std::uint64_t> state_{0};
  std::atomic<int> done_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// A piece of parallel work: body(first, last) on contiguous ranges of the rows [0, rows), where
// row r costs its number of nonzeros plus one (ptr is a CSR row pointer; nullptr means rows of
// equal cost).
struct RowJob {
  long rows;
  const int* ptr;
  std::function<void(long, long)> body;
};

// Run independent jobs in one parallel region on `threads` threads: one synchronization for all
// of them. Each job is split into ranges of about equal cost, four per thread, so that the others
// can take over the ranges of a thread that is not running.
inline void parallel_jobs(int threads, std::initializer_list<RowJob> jobs) {
  const long parts = threads <= 1 ? 1 : 4L * threads;
  auto chunks_of = [parts](const RowJob& job) { return int(std::min(parts, std::max(job.rows, 0L))); };
  int chunks = 0;
  for (const RowJob& job : jobs) chunks += chunks_of(job);
  ThreadPool::instance().run(threads, chunks, [&](int c) {
    for (const RowJob& job : jobs) {
      const int count = chunks_of(job);
      if (c >= count) {
        c -= count;
        continue;
      }
      auto cost = [&](long r) { return (job.ptr ? job.ptr[r] : 0) + r; };  // cost of the rows [0, r)
      auto boundary = [&](int part) {  // the first row r with cost(r) >= part/count of the total
        long target = (long)((double)cost(job.rows) * part / count), low = 0, high = job.rows;
        while (low < high) {
          long middle = (low + high) / 2;
          if (cost(middle) < target) low = middle + 1; else high = middle;
        }
        return low;
      };
      const long first = boundary(c), last = c + 1 == count ? job.rows : boundary(c + 1);
      if (first < last) job.body(first, last);
      return;
    }
  });
}

// One job: body(first, last) on ranges of the rows [0, rows), in parallel.
inline void parallel_rows(int threads, long rows, const int* ptr, std::function<void(long, long)> body) {
  parallel_jobs(threads, {RowJob{rows, ptr, std::move(body)}});
}

// --- the CSR matrix -----------------------------------------------------------------------------

// A view on a CSR matrix whose arrays are owned by Python (nerva_edu.sparse.CSRMatrix).
// Row i holds the nonzeros k = row_ptr[i], ..., row_ptr[i+1]-1 with columns col_index[k] and
// values values[k]. The same pattern by columns (CSC): column j holds the positions
// k = col_ptr[j], ..., col_ptr[j+1]-1 with rows row_index[k] and values values[position[k]].
struct CsrView {
  CsrView(long rows, long cols, const int* row_ptr, const int* col_index, float* values,
          const int* col_ptr, const int* row_index, const int* position)
      : rows(rows), cols(cols), row_ptr(row_ptr), col_index(col_index), values(values),
        col_ptr(col_ptr), row_index(row_index), position(position) {}

  long rows, cols;
  const int* row_ptr;
  const int* col_index;
  float* values;
  const int* col_ptr;
  const int* row_index;
  const int* position;
};

// --- products ----------------------------------------------------------------------------------

// The small functions and lambdas of the SpMMs' inner loops are always inlined: without it the JIT
// compiler stops inlining inside the nested lambdas of for_each_block, and the forward SpMM of a
// 4096×4096 layer at density 0.0087 took about 1.3 times as long on one thread (the SDDMM's dot
// products were not faster so).
#define NERVA_INLINE inline __attribute__((always_inline))
#define NERVA_LAMBDA_INLINE __attribute__((always_inline))

// 16 floats that the compiler keeps in one or several SIMD registers (GCC/Clang vector extension).
using float16 = float __attribute__((vector_size(64)));

// 8 floats in one AVX register: the unit of the SpMMs' inner loops, which keep arrays of up to 16
// of them in registers (compilers split such arrays of the wider float16 into memory), and of the 8×8
// transposition, whose shuffles stay within 256 bits, where they are single cheap instructions.
using float8 = float __attribute__((vector_size(32)));

// The bits of a float16, as 16 ints: a lane is negative where the float's sign bit is set.
using int16 = std::int32_t __attribute__((vector_size(64)));

// Unaligned load and store of a SIMD vector V (float16 or float8).
template <typename V>
NERVA_INLINE V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename V>
NERVA_INLINE void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }

// The sum of the 16 lanes of v, as a tree of vector additions (a chain of 15 scalar additions
// would cost more than the products of a short row).
inline float lanes_sum(float16 v) {
  using float8 = float __attribute__((vector_size(32)));
  using float4 = float __attribute__((vector_size(16)));
  float8 half = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  float4 quarter = __builtin_shufflevector(half, half, 0, 1, 2, 3) + __builtin_shufflevector(half, half, 4, 5, 6, 7);
  return (quarter[0] + quarter[2]) + (quarter[1] + quarter[3]);
}

// f(0), f(1), ..., f(V - 1), unrolled at compile time: arrays of vectors indexed by v then live in
// registers (compilers at -O2 would otherwise keep them in memory and loop).
template <typename F, int... v>
NERVA_INLINE void unroll(F f, std::integer_sequence<int, v...>) {
  (f(v), ...);
}

template <int V, typename F>
NERVA_INLINE void unroll(F f) {
  unroll(f, std::make_integer_sequence<int, V>{});
}

// Call block(n0, B) for consecutive column blocks [n0, n0 + B) that cover [0, N): blocks of 128
// while they fit, then one block of the largest multiple of 16 that fits, then at most one block
// each of 8, 4, 2 and 1. B is a compile-time constant, so the inner loops over a block have a
// fixed length and live in vector registers: a batch of up to 128 is one pass over the nonzeros.
template <typename Block>
NERVA_INLINE void for_each_block(long N, Block block) {
  long n0 = 0;
  for (; n0 + 128 <= N; n0 += 128) block(n0, std::integral_constant<int, 128>{});
  // the block B, if it is the largest multiple that fits
  auto fits = [&](auto B, long multiple) NERVA_LAMBDA_INLINE {
    if ((N - n0) / multiple * multiple == B) {
      block(n0, B);
      n0 += B;
    }
  };
  fits(std::integral_constant<int, 112>{}, 16);
  fits(std::integral_constant<int, 96>{}, 16);
  fits(std::integral_constant<int, 80>{}, 16);
  fits(std::integral_constant<int, 64>{}, 16);
  fits(std::integral_constant<int, 48>{}, 16);
  fits(std::integral_constant<int, 32>{}, 16);
  fits(std::integral_constant<int, 16>{}, 16);
  fits(std::integral_constant<int, 8>{}, 8);
  fits(std::integral_constant<int, 4>{}, 4);
  fits(std::integral_constant<int, 2>{}, 2);
  fits(std::integral_constant<int, 1>{}, 1);
}

// Software prefetch. The rows of the dense operand that a sparse row meets are scattered (their
// order is the pattern's), so the hardware cannot guess the next one; each product asks for the
// row of the nonzero AHEAD places further on while it works on the current one.
constexpr int AHEAD = 8;

// Prefetch the B floats at p (B/16 cache lines, at least one).
template <int B>
NERVA_INLINE void prefetch_row(const float* p) {
  unroll<(B + 15) / 16>([&](int v) NERVA_LAMBDA_INLINE { __builtin_prefetch(p + 16 * v); });
}

// The values of W by the index k of a nonzero: in CSR order (the forward product), or in the
// order of the column form, values[position[k]] (the transposed product), where a value AHEAD
// places on is scattered in memory and asked for in advance too.
struct RowValues {
  const float* values;
  NERVA_INLINE float operator()(int k) const { return values[k]; }
  NERVA_INLINE void prefetch(int) const {}
};

struct ColumnValues {
  const float* values;
  const int* position;
  NERVA_INLINE float operator()(int k) const { return values[position[k]]; }
  NERVA_INLINE void prefetch(int k) const { __builtin_prefetch(values + position[k]); }
};

// out[n] = init + Σ_k value(k) · Bt[index[k]·N + n] for n in one block [0, B) of the batch, the
// sum over the nonzeros k = begin, ..., end-1 of one sparse row: the block stays in registers,
// B/8 vectors of 8 floats (or B single floats for a block narrower than 8). While nonzero k is
// added, the row of nonzero k + AHEAD (below nnz, the length of index) is asked for.
template <int B, typename Value>
NERVA_INLINE void sparse_row_times_dense(int begin, int end, const int* index, Value value, const float* Bt, long N,
                                         float init, float* out, int nnz) {
  if constexpr (B % 8 == 0) {
    constexpr int V = B / 8;
    float8 acc[V];
    unroll<V>([&](int v) NERVA_LAMBDA_INLINE { acc[v] = float8{} + init; });
    for (int k = begin; k < end; k++) {
      if (k + AHEAD < nnz) prefetch_row<B>(Bt + (long)index[k + AHEAD] * N), value.prefetch(k + AHEAD);
      const float w = value(k);
      const float* x = Bt + (long)index[k] * N;
      unroll<V>([&](int v) NERVA_LAMBDA_INLINE { acc[v] += w * load<float8>(x + 8 * v); });
    }
    unroll<V>([&](int v) NERVA_LAMBDA_INLINE { store(out + 8 * v, acc[v]); });
  } else {
    float acc[B];
    for (int n = 0; n < B; n++) acc[n] = init;
    for (int k = begin; k < end; k++) {
      if (k + AHEAD < nnz) prefetch_row<B>(Bt + (long)index[k + AHEAD] * N), value.prefetch(k + AHEAD);
      const float w = value(k);
      const float* x = Bt + (long)index[k] * N;
      for (int n = 0; n < B; n++) acc[n] += w * x[n];
    }
    for (int n = 0; n < B; n++) out[n] = acc[n];
  }
}

// The rows [first, last) of the forward SpMM Zt = W·Xt + b·1ᵀ, that is Z = X·Wᵀ + 1·b (Xt is D×N,
// Zt is K×N). b may be null.
inline void spmm_rows(const CsrView& W, const float* Xt, const float* b, float* Zt, long N, long first, long last) {
  const int* row_ptr = W.row_ptr;
  const RowValues value{W.values};
  for (long i = first; i < last; i++) {
    for_each_block(N, [&](long n0, auto B) NERVA_LAMBDA_INLINE {
      sparse_row_times_dense<decltype(B)::value>(row_ptr[i], row_ptr[i + 1], W.col_index, value, Xt + n0, N,
                                                 b ? b[i] : 0.0f, Zt + i * N + n0, row_ptr[W.rows]);
    });
  }
}

// The rows [first, last) of the transposed SpMM DXt = Wᵀ·DZt, that is DX = DZ·W (DZt is K×N, DXt
// is D×N). Row j of DXt gathers column j of W (the CSC pattern), so threads write disjoint rows.
inline void spmm_transposed_rows(const CsrView& W, const float* DZt, float* DXt, long N, long first, long last) {
  const int* col_ptr = W.col_ptr;
  const ColumnValues value{W.values, W.position};
  for (long j = first; j < last; j++) {
    for_each_block(N, [&](long n0, auto B) NERVA_LAMBDA_INLINE {
      sparse_row_times_dense<decltype(B)::value>(col_ptr[j], col_ptr[j + 1], W.row_index, value, DZt + n0, N,
                                                 0.0f, DXt + j * N + n0, col_ptr[W.cols]);
    });
  }
}

// out[m] = Σ_n dz[n]·Bt[index[m]·N + n] for m = 0, ..., M-1: M dot products that share the
// loads of dz, 16 products at a time in one vector of 16 floats per dot product (the last N mod 16
// one by one). With AVX-512 such a vector is one register, and a step of the loop one load and one
// multiply-add per dot product; without it the compiler splits it into two of 8 floats, two chains
// of additions. (Two float8 per dot product, written out, ran as fast with AVX and about 1.15 times
// slower with AVX-512, where they take twice the instructions.)
template <int M>
inline void dot_products(const float* dz, const float* Bt, const int* index, long N, float* out) {
  const float* b[M];
  float16 acc[M] = {};
  unroll<M>([&](int m) NERVA_LAMBDA_INLINE { b[m] = Bt + (long)index[m] * N; });
  long n = 0;
  for (; n + 16 <= N; n += 16) {
    const float16 d = load<float16>(dz + n);
    unroll<M>([&](int m) NERVA_LAMBDA_INLINE { acc[m] += d * load<float16>(b[m] + n); });
  }
  for (int m = 0; m < M; m++) {
    float sum = 0.0f;
    for (long r = n; r < N; r++) sum += dz[r] * b[m][r];
    out[m] = sum + lanes_sum(acc[m]);
  }
}

// The rows [first, last) of the SDDMM DW = (DZᵀ·X) ⊙ mask on W's pattern: DW[k] =
// Σ_n DZt[i, n]·Xt[j, n] for each nonzero k = (i, j), one dot product of two contiguous rows of
// length N, 2·N flops per nonzero. The nonzeros of a row are taken four at a time, sharing the
// row i of DZt.
inline void sddmm_rows(const CsrView& W, const float* DZt, const float* Xt, float* DW, long N, long first, long last) {
  const int* row_ptr = W.row_ptr;
  for (long i = first; i < last; i++) {
    const float* dz = DZt + i * N;
    int k = row_ptr[i];
    for (; k + 4 <= row_ptr[i + 1]; k += 4) dot_products<4>(dz, Xt, W.col_index + k, N, DW + k);
    for (; k < row_ptr[i + 1]; k++) dot_products<1>(dz, Xt, W.col_index + k, N, DW + k);
  }
}

// The load ceiling of the products above: out = Σ_k Bt[index[k]·N + n] for n in [0, N), the sum of
// the rows of Bt that the nonzeros k = 0, ..., nnz-1 meet, on `threads` threads (each sums a range
// of k, then adds its part to out). It runs the loop of sparse_row_times_dense, its prefetches
// included, with an addition in place of each multiply-add and no values to load: a product that
// loads one such row per nonzero cannot be faster than this sum over the same rows.
struct UnitValues {
  NERVA_INLINE float operator()(int) const { return 1.0f; }
  NERVA_INLINE void prefetch(int) const {}
};

inline void sum_of_rows(int threads, const int* index, int nnz, const float* Bt, long N, float* out) {
  std::fill(out, out + N, 0.0f);
  std::mutex lock;
  parallel_rows(threads, nnz, nullptr, [&](long first, long last) {
    std::vector<float> part(N);
    for_each_block(N, [&](long n0, auto B) NERVA_LAMBDA_INLINE {
      sparse_row_times_dense<decltype(B)::value>(first, last, index, UnitValues{}, Bt + n0, N, 0.0f, part.data() + n0,
                                                 nnz);
    });
    std::lock_guard<std::mutex> guard(lock);
    for (long n = 0; n < N; n++) out[n] += part[n];
  });
}

// The three products in parallel on `threads` threads, each row range costing its nonzeros.
inline void spmm(int threads, const CsrView& W, const float* Xt, const float* b, float* Zt, long N) {
  parallel_rows(threads, W.rows, W.row_ptr, [&](long first, long last) { spmm_rows(W, Xt, b, Zt, N, first, last); });
}

inline void spmm_transposed(int threads, const CsrView& W, const float* DZt, float* DXt, long N) {
  parallel_rows(threads, W.cols, W.col_ptr,
                [&](long first, long last) { spmm_transposed_rows(W, DZt, DXt, N, first, last); });
}

inline void sddmm(int threads, const CsrView& W, const float* DZt, const float* Xt, float* DW, long N) {
  parallel_rows(threads, W.rows, W.row_ptr,
                [&](long first, long last) { sddmm_rows(W, DZt, Xt, DW, N, first, last); });
}

// Transpose the 8×8 block held in rows r[0..8) in three rounds of shuffles: interleave the pairs
// of rows (2×2 blocks), then the pairs of pairs (4×4 blocks), then swap 4×4 blocks across halves.
inline void transpose_block(float8* r) {
  float8 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int j = 0; j < 2; j++) {
      u[i + 2 * j] = __builtin_shufflevector(t[i + j], t[i + j + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * j + 1] = __builtin_shufflevector(t[i + j], t[i + j + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int j = 0; j < 4; j++) {
    r[j] = __builtin_shufflevector(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    r[j + 4] = __builtin_shufflevector(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// At = Aᵀ for a rows×cols row-major A, where At has rows of length ld, a multiple of 8 at least
// rows; the entries At[c, rows..ld) are set to zero. Each thread takes a range of 16-column strips
// of A; a strip is read 8 rows at a time (one cache line of each row, with a prefetch of the line
// four strips ahead: the rows are 4·cols bytes apart, too far for the hardware to guess), as two
// 8×8 blocks transposed in registers, and written along 16 rows of At, sequentially; the last
// cols mod 16 columns are copied one by one.
inline void transpose(int threads, const float* A, long rows, long cols, float* At, long ld) {
  const long strips = cols / 16;
  parallel_rows(threads, strips + 1, nullptr, [=](long first, long last) {
    for (long c0 = first * 16; c0 < std::min(last, strips) * 16; c0 += 16) {
      for (long r0 = 0; r0 < ld; r0 += 8) {
        float8 left[8], right[8];
        for (int i = 0; i < 8; i++) {
          const float* a = A + (r0 + i) * cols + c0;
          if (r0 + i < rows) __builtin_prefetch(a + 64);
          left[i] = r0 + i < rows ? load<float8>(a) : float8{};
          right[i] = r0 + i < rows ? load<float8>(a + 8) : float8{};
        }
        transpose_block(left);
        transpose_block(right);
        for (int i = 0; i < 8; i++) store(At + (c0 + i) * ld + r0, left[i]);
        for (int i = 0; i < 8; i++) store(At + (c0 + 8 + i) * ld + r0, right[i]);
      }
    }
    if (last == strips + 1)
      for (long c = strips * 16; c < cols; c++)
        for (long r = 0; r < ld; r++) At[c * ld + r] = r < rows ? A[r * cols + c] : 0.0f;
  });
}

// --- optimizers (spec §8) on the n stored values of a parameter ----------------------------------

enum Optimizer { GRADIENT_DESCENT = 0, MOMENTUM = 1, NESTEROV = 2 };

// θ' = θ − η·Dθ;  momentum: Δ' = μ·Δ − η·Dθ, θ' = θ + Δ';  Nesterov: Δ' = μ·Δ − η·Dθ,
// θ' = θ + μ·Δ' − η·Dθ, on the entries [first, last). Delta may be null for gradient descent.
inline void update_range(int optimizer, float* __restrict theta, float* __restrict Delta,
                         const float* __restrict Dtheta, long first, long last, float eta, float mu) {
  if (optimizer == GRADIENT_DESCENT) {
    for (long k = first; k < last; k++) theta[k] -= eta * Dtheta[k];
  } else if (optimizer == MOMENTUM) {
    for (long k = first; k < last; k++) {
      Delta[k] = mu * Delta[k] - eta * Dtheta[k];
      theta[k] += Delta[k];
    }
  } else {
    for (long k = first; k < last; k++) {
      Delta[k] = mu * Delta[k] - eta * Dtheta[k];
      theta[k] += mu * Delta[k] - eta * Dtheta[k];
    }
  }
}

// The update of all n entries, in parallel.
inline void update(int threads, int optimizer, float* theta, float* Delta, const float* Dtheta, long n, float eta,
                   float mu) {
  parallel_rows(threads, n, nullptr,
                [=](long first, long last) { update_range(optimizer, theta, Delta, Dtheta, first, last, eta, mu); });
}

// --- a sparse MLP: one training step in C++ ---------------------------------------------------

enum Activation { LINEAR = 0, RELU = 1, ALL_RELU = 2 };

// The activations of spec §5 share one form: act(z) = z if z ≥ 0, slope·z otherwise, and
// act'(z) = 1 if z ≥ 0, slope otherwise, with slope 0 for relu, α for all-relu and 1 for linear.
inline float negative_slope(int act, float alpha) { return act == RELU ? 0.0f : act == ALL_RELU ? alpha : 1.0f; }

// One layer Y = act(X·Wᵀ + 1·b) of a sparse MLP. The parameters, their gradients and the
// optimizer's Δ (may be null for gradient descent) are NumPy arrays owned by Python.
struct SparseLayer {
  SparseLayer(const CsrView& W, float* b, float* DW, float* Db, float* Delta_W, float* Delta_b, int act, float alpha)
      : W(W), b(b), DW(DW), Db(Db), Delta_W(Delta_W), Delta_b(Delta_b), act(act), alpha(alpha) {}

  CsrView W;
  float* b;
  float* DW;  // on W's pattern: one value per nonzero
  float* Db;
  float* Delta_W;
  float* Delta_b;
  int act;
  float alpha;
};

// A sparse MLP: layers, plus its own buffers for a batch in the feature-major layout, allocated
// when the batch size changes: Yt[l] is the input of layer l (Yt[l + 1] its output), DZt[l] its
// DZ. Their rows have length Np, the batch size N rounded up to a multiple of 16, and start on
// 64-byte boundaries, so the products run over whole vectors of 16 floats. The padding columns
// n ≥ N of the input and of every DZ stay zero, so they add nothing to DW or Db (the padding of Y
// holds the network's output for a zero input, which nothing reads).
//
// Z is not kept: the backward pass needs only act'(Z), which is 1 where Z ≥ 0 and the slope
// where Z < 0, and the forward pass writes Y so that its sign bit is set exactly where Z < 0
// (Y = Z + 0 for Z ≥ 0, which turns −0 into +0; Y = slope·Z otherwise, −0 for ReLU). One buffer
// less per layer is a third less memory to stream through the caches in every step.
//
// A training step runs in few parallel regions (each one synchronization of the threads): the
// transposition of X, one per layer forward (SpMM, then the activation on each row while it is
// in cache), and one per layer backward, in which the transposed SpMM of layer l (then DZ =
// DY ⊙ act'(Z), Db and the update of b, row by row) runs beside the SDDMM of layer l + 1 (then
// the update of its W on the same nonzeros): the two are independent.
class SparseMLP {
 public:
  void add_layer(const SparseLayer& layer) {
    layers_.push_back(layer);
    N_ = 0;
  }
  void clear_layers() {
    layers_.clear();
    N_ = 0;
  }
  long layer_count() const { return (long)layers_.size(); }

  // Y = the network's output for a batch X (N×D, row-major); Y is N×K, row-major.
  void feedforward(int threads, const float* X, long N, float* Y) {
    FlushSubnormals flush;
    forward(threads, X, N);
    const long K = layers_.back().W.rows;
    const float* Yt = data(Yt_.back());
    for (long n = 0; n < N; n++)
      for (long k = 0; k < K; k++) Y[n * K + k] = Yt[k * Np_ + n];
  }

  // One step of minibatch training with softmax cross-entropy on the output Y and targets T
  // (N×K, row-major): forward, loss, backward, and the optimizer's update of every parameter.
  // The loss is averaged over the batch, L = L_SCE(Y, T) / N, so DY = (softmax(Y) ⊙ (T·1·1ᵀ) − T) / N
  // (spec (31)). Returns L before the update.
  float step(int threads, const float* X, const float* T, long N, int optimizer, float eta, float mu) {
    FlushSubnormals flush;
    optimizer_ = optimizer, eta_ = eta, mu_ = mu;
    forward(threads, X, N);
    const long L = layer_count();
    const float loss = softmax_cross_entropy(threads, T, N);
    finish_gradient_row(L - 1, 0, layers_.back().W.rows);
    for (long l = L - 1; l >= 1; l--) parallel_jobs(threads, {propagate(l), weight_gradient(l + 1)});
    parallel_jobs(threads, {weight_gradient(1), weight_gradient(0)});
    return loss;
  }

 private:
  using Buffer = std::vector<float16>;  // whole vectors: 64-byte aligned
  static float* data(Buffer& buffer) { return reinterpret_cast<float*>(buffer.data()); }

  void allocate(long N) {
    const long L = layer_count();
    N_ = N, Np_ = (N + 15) / 16 * 16;
    loss_.assign(N, 0.0);
    Yt_.assign(L + 1, Buffer());
    DZt_.assign(L, Buffer());
    Yt_[0].assign(layers_[0].W.cols * Np_ / 16, float16{});
    for (long l = 0; l < L; l++) {
      const long vectors = layers_[l].W.rows * Np_ / 16;
      Yt_[l + 1].assign(vectors, float16{});
      DZt_[l].assign(vectors, float16{});
    }
  }

  void forward(int threads, const float* X, long N) {
    if (N != N_) allocate(N);
    transpose(threads, X, N, layers_[0].W.cols, data(Yt_[0]), Np_);
    for (long l = 0; l < layer_count(); l++) {
      const SparseLayer& layer = layers_[l];
      const float* Xt = data(Yt_[l]);
      float* Yt = data(Yt_[l + 1]);
      const long Np = Np_;
      const float slope = negative_slope(layer.act, layer.alpha);
      parallel_rows(threads, layer.W.rows, layer.W.row_ptr, [=, &layer](long first, long last) {
        for (long i = first; i < last; i++) {
          spmm_rows(layer.W, Xt, layer.b, Yt, Np, i, i + 1);  // Z, in the rows of Y
          for (long n = i * Np; n < (i + 1) * Np; n += 16) {  // Y = act(Z), its sign bit set exactly where Z < 0
            const float16 z = load<float16>(Yt + n);
            store(Yt + n, z >= 0.0f ? z + 0.0f : slope * z);
          }
        }
      });
    }
  }

  // The rows [first, last) of layer l's DZ, which hold DY: DZ = DY ⊙ act'(Z), then Db[i] =
  // Σ_n DZ[i, n] and the update of b[i] (b is not needed any more in this step).
  void finish_gradient_row(long l, long first, long last) {
    SparseLayer& layer = layers_[l];
    const float slope = negative_slope(layer.act, layer.alpha);
    for (long i = first; i < last; i++) {
      float* DZ = data(DZt_[l]) + i * Np_;
      const float* Y = data(Yt_[l + 1]) + i * Np_;
      float16 sum = {};
      for (long n = 0; n < Np_; n += 16) {
        const float16 dz = load<float16>(DZ + n);
        const int16 y = load<int16>(Y + n);                 // the bits of Y: negative where Z < 0
        const float16 result = y >= 0 ? dz : slope * dz;
        store(DZ + n, result);
        sum += result;
      }
      layer.Db[i] = lanes_sum(sum);
      update_range(optimizer_, layer.b, layer.Delta_b, layer.Db, i, i + 1, eta_, mu_);
    }
  }

  // The job that propagates DZ of layer l back to layer l − 1 (transposed SpMM) and finishes it.
  RowJob propagate(long l) {
    const CsrView& W = layers_[l].W;
    return {W.cols, W.col_ptr, [this, l, &W](long first, long last) {
              for (long j = first; j < last; j++) {
                spmm_transposed_rows(W, data(DZt_[l]), data(DZt_[l - 1]), Np_, j, j + 1);
                finish_gradient_row(l - 1, j, j + 1);
              }
            }};
  }

  // The job that computes DW of layer l (SDDMM) and updates W; none for l beyond the last layer.
  RowJob weight_gradient(long l) {
    if (l >= layer_count()) return {0, nullptr, nullptr};
    SparseLayer& layer = layers_[l];
    return {layer.W.rows, layer.W.row_ptr, [this, l, &layer](long first, long last) {
              sddmm_rows(layer.W, data(DZt_[l]), data(Yt_[l]), layer.DW, Np_, first, last);
              const int* row_ptr = layer.W.row_ptr;
              update_range(optimizer_, layer.W.values, layer.Delta_W, layer.DW, row_ptr[first], row_ptr[last], eta_, mu_);
            }};
  }

  // The loss −(1/N)·Σ T ⊙ log-softmax(Y) and DY = (softmax(Y) ⊙ (T·1·1ᵀ) − T) / N into the last
  // DZ, per column n of Yt (one example each), with the max subtracted for stability. The threads
  // take ranges of 16 examples (whole cache lines of Yt and DYt); each example's loss goes to
  // loss_, summed at the end.
  float softmax_cross_entropy(int threads, const float* T, long N) {
    const long K = layers_.back().W.rows, Np = Np_;
    const float* Yt = data(Yt_.back());
    float* DYt = data(DZt_.back());
    double* loss = loss_.data();
    parallel_rows(threads, Np / 16, nullptr, [=](long first, long last) {
      for (long n = first * 16; n < std::min(last * 16, N); n++) {
        float max = -std::numeric_limits<float>::infinity(), total = 0.0f, t_sum = 0.0f;
        for (long k = 0; k < K; k++) max = std::max(max, Yt[k * Np + n]);
        for (long k = 0; k < K; k++) total += DYt[k * Np + n] = std::exp(Yt[k * Np + n] - max);  // exp(y − max)
        const float log_total = std::log(total);
        loss[n] = 0.0;
        for (long k = 0; k < K; k++) {
          const float t = T[n * K + k];
          loss[n] -= t * (Yt[k * Np + n] - max - log_total);
          t_sum += t;
        }
        for (long k = 0; k < K; k++) DYt[k * Np + n] = (DYt[k * Np + n] / total * t_sum - T[n * K + k]) / N;
      }
    });
    double sum = 0.0;
    for (long n = 0; n < N; n++) sum += loss[n];
    return float(sum / N);
  }

  std::vector<SparseLayer> layers_;
  long N_ = 0, Np_ = 0;
  std::vector<Buffer> Yt_, DZt_;
  std::vector<double> loss_;  // the loss of each example of the batch
  int optimizer_ = GRADIENT_DESCENT;
  float eta_ = 0.0f, mu_ = 0.0f;
};

}  // namespace nerva_edu::sparse

#pragma GCC diagnostic pop
