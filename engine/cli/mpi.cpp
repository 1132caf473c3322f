// engine/cli/mpi.h: the MPI calls on MPI's own thread, or their one-rank stand-ins when incsim
// is built without MPI or not started by an MPI launcher.
#include "cli/mpi.h"

#include <sched.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#ifdef INCSIM_WITH_MPI
#include <mpi.h>
#endif

namespace incsim::cli {
namespace {

// Whether an MPI launcher started this process (Open MPI's mpirun, PMIx as under srun, or
// PMI-1/2 launchers): only then is MPI initialised, so a plain `incsim run` never is.
bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

// A non-negative integer from the environment, or -1.
int env_int(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return -1;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  return (*end == '\0' && v >= 0 && v < (1L << 30)) ? static_cast<int>(v) : -1;
}

// This rank and the world's size as the launcher gives them, or -1 where it does not.
std::pair<int, int> launcher_rank_and_size() {
  int rank = env_int("OMPI_COMM_WORLD_RANK"), size = env_int("OMPI_COMM_WORLD_SIZE");
  if (rank < 0 || size < 0) {
    rank = env_int("PMI_RANK");
    size = env_int("PMI_SIZE");
  }
  return {rank, size};
}

// Every rank on this node (Open MPI's launcher says so).
bool one_node() {
  const int size = env_int("OMPI_COMM_WORLD_SIZE");
  const int local = env_int("OMPI_COMM_WORLD_LOCAL_SIZE");
  return size > 0 && size == local;
}

// When every rank of an Open MPI job is on this node, its ranks talk through shared memory:
// the ob1 messaging layer over shared memory starts several times faster than the default
// selection, which also probes for network layers (UCX) the job does not use (MPI_Init 0.27 s
// against 0.07 s on a bench run). A user's own OMPI_MCA_pml is kept.
void prefer_shared_memory_on_one_node() {
  if (one_node() && !std::getenv("OMPI_MCA_pml")) setenv("OMPI_MCA_pml", "ob1", 0);
}

// Whether rank 0's MPI thread pokes MPI's progress engine while a counter is open: across
// nodes (a window over the network may need it), not on one node (shared-memory windows do
// not, and the wake-ups cost the ranks' work: 6-9% of the choice step with polling every
// 1 ms on every rank, two ranks on two cores). INCSIM_MPI_POLL=1 forces it (the tests).
bool poll_progress() {
  const char* forced = std::getenv("INCSIM_MPI_POLL");
  return (forced && std::string(forced) == "1") || !one_node();
}

#ifdef INCSIM_WITH_MPI
// Messages larger than an int count of bytes go in chunks of 1 GiB.
constexpr std::size_t kChunk = std::size_t{1} << 30;

void send(const std::vector<unsigned char>& bytes, int to, int tag) {
  const auto size = static_cast<std::uint64_t>(bytes.size());
  MPI_Send(&size, 1, MPI_UINT64_T, to, tag, MPI_COMM_WORLD);
  for (std::size_t at = 0; at < bytes.size(); at += kChunk)
    MPI_Send(bytes.data() + at, static_cast<int>(std::min(kChunk, bytes.size() - at)), MPI_BYTE, to,
             tag, MPI_COMM_WORLD);
}

std::vector<unsigned char> receive(int from, int tag, int* source) {
  std::uint64_t size = 0;
  MPI_Status status;
  MPI_Recv(&size, 1, MPI_UINT64_T, from, tag, MPI_COMM_WORLD, &status);
  if (source) *source = status.MPI_SOURCE;
  std::vector<unsigned char> bytes(size);
  for (std::size_t at = 0; at < bytes.size(); at += kChunk)
    MPI_Recv(bytes.data() + at, static_cast<int>(std::min<std::size_t>(kChunk, bytes.size() - at)),
             MPI_BYTE, status.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return bytes;
}

void broadcast_bytes(std::vector<unsigned char>& bytes, int from) {
  auto size = static_cast<std::int64_t>(bytes.size());
  MPI_Bcast(&size, 1, MPI_INT64_T, from, MPI_COMM_WORLD);
  bytes.resize(static_cast<std::size_t>(size));
  for (std::size_t at = 0; at < bytes.size(); at += kChunk)
    MPI_Bcast(bytes.data() + at, static_cast<int>(std::min(kChunk, bytes.size() - at)), MPI_BYTE,
              from, MPI_COMM_WORLD);
}
#endif

}  // namespace

// MPI's thread: it initialises MPI, runs the calls handed to it one at a time, and finalises
// MPI when told to stop.
struct Mpi::World {
  std::thread thread;
  std::mutex serial;  // one caller at a time
  std::mutex m;
  std::condition_variable cv;
  const std::function<void()>* call = nullptr;  // the call to run, while one is pending
  std::exception_ptr error;                     // what it threw
  bool ready = false, stop = false, call_done = false;
  int rank = -1, size = -1;
  int windows = 0;    // counters' windows alive: while any is, MPI's thread drives progress
  bool poll = false;  // ... if poll_progress() (rank 0 only)

  void run([[maybe_unused]] int expected_rank, [[maybe_unused]] int expected_size) {
#ifdef INCSIM_WITH_MPI
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    int r = 0, s = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    if ((expected_rank >= 0 && expected_rank != r) || (expected_size >= 0 && expected_size != s)) {
      std::fprintf(stderr,
                   "incsim: the launcher says rank %d of %d, MPI says rank %d of %d: mixed MPI "
                   "installations?\n",
                   expected_rank, expected_size, r, s);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    std::unique_lock lock(m);
    rank = r;
    size = s;
    ready = true;
    cv.notify_all();
    for (;;) {
      const auto pending = [&] { return call != nullptr || stop; };
      if (windows == 0 || rank != 0 || !poll) {
        cv.wait(lock, pending);
      } else if (!cv.wait_for(lock, std::chrono::milliseconds(5), pending)) {
        // Another rank's Fetch_and_op on the window rank 0 holds may need rank 0's MPI
        // progress engine (transports without hardware atomics): poke it while idle, every
        // 5 ms, rank 0 only, across nodes (poll_progress).
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        continue;
      }
      if (call) {
        try {
          (*call)();
        } catch (...) {
          error = std::current_exception();
        }
        call = nullptr;
        call_done = true;
        cv.notify_all();
        continue;
      }
      break;
    }
    lock.unlock();
    MPI_Finalize();
#endif
  }
};

Mpi::Mpi() {
#ifdef INCSIM_WITH_MPI
  if (!launched_by_mpi()) return;
  prefer_shared_memory_on_one_node();
  const auto [rank, size] = launcher_rank_and_size();
  world_ = std::make_unique<World>();
  world_->poll = poll_progress();
  world_->thread = std::thread([w = world_.get(), rank, size] { w->run(rank, size); });
  if (rank >= 0 && size >= 1) {
    rank_ = rank;
    size_ = size;
    return;  // MPI comes up while the process goes on
  }
  std::unique_lock lock(world_->m);  // the launcher did not say: wait for MPI
  world_->cv.wait(lock, [&] { return world_->ready; });
  rank_ = world_->rank;
  size_ = world_->size;
#else
  (void)launched_by_mpi;
  (void)launcher_rank_and_size;
  (void)prefer_shared_memory_on_one_node;
  (void)poll_progress;
#endif
}

Mpi::~Mpi() {
  if (!world_) return;
  finish();
  world_->thread.join();
}

void Mpi::on_mpi(const std::function<void()>& call) const {
  if (!world_) return;
  World& w = *world_;
  std::lock_guard serial(w.serial);
  std::unique_lock lock(w.m);
  if (w.stop) throw std::logic_error("an MPI call after this rank finished with MPI");
  w.call = &call;
  w.call_done = false;
  w.cv.notify_all();
  w.cv.wait(lock, [&] { return w.call_done; });
  if (std::exception_ptr e = std::exchange(w.error, nullptr)) std::rethrow_exception(e);
}

void Mpi::finish() const {
  if (!world_) return;
  std::lock_guard serial(world_->serial);
  std::lock_guard lock(world_->m);
  world_->stop = true;
  world_->cv.notify_all();
}

void Mpi::abort(int status) const {
#ifdef INCSIM_WITH_MPI
  if (world_) {
    bool finished = false;
    {
      std::lock_guard lock(world_->m);
      finished = world_->stop;
    }
    if (!finished) on_mpi([status] { MPI_Abort(MPI_COMM_WORLD, status); });
  }
#endif
  std::_Exit(status);
}

std::int64_t Mpi::broadcast(std::int64_t value) const {
#ifdef INCSIM_WITH_MPI
  on_mpi([&] { MPI_Bcast(&value, 1, MPI_INT64_T, 0, MPI_COMM_WORLD); });
#endif
  return value;
}

std::vector<unsigned char> Mpi::broadcast(std::vector<unsigned char> bytes) const {
#ifdef INCSIM_WITH_MPI
  on_mpi([&] { broadcast_bytes(bytes, 0); });
#endif
  return bytes;
}

std::vector<std::vector<unsigned char>> Mpi::gather(const std::vector<unsigned char>& bytes) const {
  std::vector<std::vector<unsigned char>> out;
  if (!distributed()) {
    out.push_back(bytes);
    return out;
  }
#ifdef INCSIM_WITH_MPI
  constexpr int kTag = 17;
  if (!root()) {
    on_mpi([&] { send(bytes, 0, kTag); });
    return out;
  }
  out.resize(static_cast<std::size_t>(size_));
  out[0] = bytes;
  on_mpi([&] {
    for (int r = 1; r < size_; ++r) out[static_cast<std::size_t>(r)] = receive(r, kTag, nullptr);
  });
#endif
  return out;
}

std::vector<std::vector<unsigned char>> Mpi::all_gather(std::vector<unsigned char> bytes) const {
  std::vector<std::vector<unsigned char>> out(static_cast<std::size_t>(size_));
  out[static_cast<std::size_t>(rank_)] = std::move(bytes);
#ifdef INCSIM_WITH_MPI
  on_mpi([&] {
    for (int r = 0; r < size_; ++r) broadcast_bytes(out[static_cast<std::size_t>(r)], r);
  });
#endif
  return out;
}

void Mpi::send_to_root(const std::vector<unsigned char>& bytes, int tag) const {
#ifdef INCSIM_WITH_MPI
  on_mpi([&] { send(bytes, 0, tag); });
#else
  (void)bytes;
  (void)tag;
#endif
}

std::vector<unsigned char> Mpi::receive_any(int tag, int* from) const {
  if (from) *from = 0;
  if (!world_) throw std::logic_error("receive_any without MPI");
  std::vector<unsigned char> bytes;
#ifdef INCSIM_WITH_MPI
  on_mpi([&] { bytes = receive(MPI_ANY_SOURCE, tag, from); });
#else
  (void)tag;
#endif
  return bytes;
}

bool Mpi::message_waiting(int tag) const {
  int flag = 0;
#ifdef INCSIM_WITH_MPI
  on_mpi([&] { MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE); });
#else
  (void)tag;
#endif
  return flag != 0;
}

int Mpi::usable_threads(int requested) const {
  if (!world_ || requested <= 0) return requested;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return requested;
  const int cpus = CPU_COUNT(&set);
  if (cpus <= 0 || requested <= cpus) return requested;
  if (rank_ == 0)
    std::fprintf(stderr,
                 "warning: --threads %d, but each MPI rank may run on %d CPU%s here (mpirun binds "
                 "ranks to cores by default: add --bind-to none, or --map-by slot:PE=%d); using "
                 "%d\n",
                 requested, cpus, cpus == 1 ? "" : "s", requested, cpus);
  return cpus;
}

std::unique_ptr<Mpi::Counter> Mpi::make_counter() const {
  return std::unique_ptr<Counter>(new Counter(*this));
}

Mpi::Counter::Counter(const Mpi& mpi) : mpi_(mpi) {
#ifdef INCSIM_WITH_MPI
  if (!mpi.world_) return;
  mpi.on_mpi([&] {
    std::int64_t* base = nullptr;
    MPI_Win window;
    const MPI_Aint bytes = mpi.root() ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0;
    MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &base, &window);
    if (mpi.root()) {  // the count starts at 0 before any rank adds to it
      MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, window);
      *base = 0;
      MPI_Win_unlock(0, window);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, window);
    window_ = new MPI_Win(window);
    ++mpi.world_->windows;  // on MPI's thread, under its lock
  });
#endif
}

Mpi::Counter::~Counter() {
#ifdef INCSIM_WITH_MPI
  delete static_cast<MPI_Win*>(window_);  // a window not released is reclaimed by MPI_Finalize
#endif
}

void Mpi::Counter::release() {
#ifdef INCSIM_WITH_MPI
  std::lock_guard lock(mutex_);
  if (!window_) return;
  auto* window = static_cast<MPI_Win*>(window_);
  mpi_.on_mpi([&] {
    MPI_Win_unlock_all(*window);
    MPI_Win_free(window);
    --mpi_.world_->windows;
  });
  delete window;
  window_ = nullptr;
#endif
}

std::int64_t Mpi::Counter::take(std::int64_t add) {
  std::lock_guard lock(mutex_);
  std::int64_t before = local_;
#ifdef INCSIM_WITH_MPI
  if (window_) {
    auto* window = static_cast<MPI_Win*>(window_);
    mpi_.on_mpi([&] {
      MPI_Fetch_and_op(&add, &before, MPI_INT64_T, 0, 0, MPI_SUM, *window);
      MPI_Win_flush(0, *window);
    });
    return before;
  }
#endif
  local_ += add;
  return before;
}

}  // namespace incsim::cli
