// engine/cli/mpi.h: the MPI calls, or their one-rank stand-ins when incsim is built without MPI.
#include "cli/mpi.h"

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

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
#endif

}  // namespace

Mpi::Mpi(int& argc, char**& argv) {
#ifdef INCSIM_WITH_MPI
  if (!launched_by_mpi()) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);  // MPI from the main thread only
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
#else
  (void)argc;
  (void)argv;
  (void)launched_by_mpi;
#endif
}

Mpi::~Mpi() {
#ifdef INCSIM_WITH_MPI
  if (active_) MPI_Finalize();
#endif
}

void Mpi::abort(int status) const {
#ifdef INCSIM_WITH_MPI
  if (active_) MPI_Abort(MPI_COMM_WORLD, status);
#endif
  std::_Exit(status);
}

std::int64_t Mpi::broadcast(std::int64_t value) const {
#ifdef INCSIM_WITH_MPI
  if (active_) MPI_Bcast(&value, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
#endif
  return value;
}

std::vector<unsigned char> Mpi::broadcast(std::vector<unsigned char> bytes) const {
#ifdef INCSIM_WITH_MPI
  if (!active_) return bytes;
  auto size = static_cast<std::int64_t>(bytes.size());
  MPI_Bcast(&size, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  bytes.resize(static_cast<std::size_t>(size));
  for (std::size_t at = 0; at < bytes.size(); at += kChunk)
    MPI_Bcast(bytes.data() + at, static_cast<int>(std::min(kChunk, bytes.size() - at)), MPI_BYTE, 0,
              MPI_COMM_WORLD);
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
    send(bytes, 0, kTag);
    return out;
  }
  out.resize(static_cast<std::size_t>(size_));
  out[0] = bytes;
  for (int r = 1; r < size_; ++r) out[static_cast<std::size_t>(r)] = receive(r, kTag, nullptr);
#endif
  return out;
}

std::vector<std::vector<unsigned char>> Mpi::all_gather(
    const std::vector<unsigned char>& bytes) const {
  std::vector<std::vector<unsigned char>> out(static_cast<std::size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    std::vector<unsigned char> mine = r == rank_ ? bytes : std::vector<unsigned char>{};
#ifdef INCSIM_WITH_MPI
    if (active_) {
      auto size = static_cast<std::int64_t>(mine.size());
      MPI_Bcast(&size, 1, MPI_INT64_T, r, MPI_COMM_WORLD);
      mine.resize(static_cast<std::size_t>(size));
      for (std::size_t at = 0; at < mine.size(); at += kChunk)
        MPI_Bcast(mine.data() + at, static_cast<int>(std::min(kChunk, mine.size() - at)), MPI_BYTE,
                  r, MPI_COMM_WORLD);
    }
#endif
    out[static_cast<std::size_t>(r)] = std::move(mine);
  }
  return out;
}

void Mpi::send_to_root(const std::vector<unsigned char>& bytes, int tag) const {
#ifdef INCSIM_WITH_MPI
  if (active_) send(bytes, 0, tag);
#else
  (void)bytes;
  (void)tag;
#endif
}

std::vector<unsigned char> Mpi::receive_any(int tag, int* from) const {
#ifdef INCSIM_WITH_MPI
  if (active_) return receive(MPI_ANY_SOURCE, tag, from);
#else
  (void)tag;
#endif
  if (from) *from = 0;
  throw std::logic_error("receive_any without MPI");
}

int Mpi::usable_threads(int requested) const {
  if (!active_ || requested <= 0) return requested;
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

bool Mpi::message_waiting(int tag) const {
#ifdef INCSIM_WITH_MPI
  if (!active_) return false;
  int flag = 0;
  MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
  return flag != 0;
#else
  (void)tag;
  return false;
#endif
}

}  // namespace incsim::cli
