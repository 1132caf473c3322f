// The MPI world of one `incsim` process (MODEL.md section 13): initialised only when incsim was
// built with MPI and the process was started by an MPI launcher (mpirun, srun); otherwise a
// world of one rank, and every call is a no-op. The few collectives the distributed run and
// sweep need, on MPI_COMM_WORLD. Passed explicitly: no global state.
//
// MPI lives on a thread of its own: it is initialised there while the process reads its
// scenario and builds its population (MPI_Init takes a tenth of a second, a twentieth of a
// bench run), every call is handed to that thread and waited for (MPI_THREAD_FUNNELED: any
// thread of incsim may call, one call at a time), and it is finalised there, so a rank can end
// its part in MPI (finish) and go on writing while the others leave.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace incsim::cli {

class Mpi {
 public:
  Mpi();
  ~Mpi();
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;

  // Known before MPI_Init returns when the launcher says (Open MPI's OMPI_COMM_WORLD_RANK and
  // _SIZE, PMI_RANK and PMI_SIZE), checked against MPI once it is up.
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }  // more than one rank
  bool root() const { return rank_ == 0; }

  // Ends every rank of the job with `status` (a failing rank: no rank writes anything more).
  // After finish, ends this process only.
  [[noreturn]] void abort(int status) const;
  // This rank takes no further part in MPI: MPI_Finalize runs on MPI's thread while the caller
  // goes on (rank 0 writes the result while the ranks leave). Any later call is a logic error.
  void finish() const;
  // Rank 0's value, on every rank.
  std::int64_t broadcast(std::int64_t value) const;
  std::vector<unsigned char> broadcast(std::vector<unsigned char> bytes) const;
  // Every rank's bytes at rank 0, in rank order (empty on the other ranks).
  std::vector<std::vector<unsigned char>> gather(const std::vector<unsigned char>& bytes) const;
  // Every rank's bytes on every rank, in rank order.
  std::vector<std::vector<unsigned char>> all_gather(std::vector<unsigned char> bytes) const;
  // Rank r sends `bytes` to rank 0; rank 0 receives from any rank (its index in `from`).
  void send_to_root(const std::vector<unsigned char>& bytes, int tag) const;
  std::vector<unsigned char> receive_any(int tag, int* from) const;
  // Whether a message with `tag` waits to be received (on rank 0).
  bool message_waiting(int tag) const;
  // `requested` worker threads (0: all) within the CPUs this rank may run on: mpirun binds each
  // rank to one core by default, and asking for more threads than that only oversubscribes
  // it. Warns once (rank 0) when it cuts a request.
  int usable_threads(int requested) const;

  // A counter every rank of the job adds to and reads atomically, held by rank 0 (a one-sided
  // MPI window: no rank waits for another to hand it out). Made by every rank together
  // (make_counter is collective); thread-safe. In a world of one, a local counter.
  class Counter {
   public:
    ~Counter();
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;
    // Adds `add` and returns the value before.
    std::int64_t take(std::int64_t add = 1);
    // Frees the window: collective, every rank at the same point of the run once no rank
    // takes any more (not in a destructor: a rank unwinding from an error would wait there
    // for the others instead of ending the job).
    void release();

   private:
    friend class Mpi;
    explicit Counter(const Mpi& mpi);
    const Mpi& mpi_;
    std::mutex mutex_;
    std::int64_t local_ = 0;
    void* window_ = nullptr;  // MPI_Win, when MPI is up
  };
  std::unique_ptr<Counter> make_counter() const;

 private:
  struct World;  // MPI's thread and the call it runs
  // Runs `call` on MPI's thread and waits for it (rethrowing what it throws); a no-op in a
  // world of one.
  void on_mpi(const std::function<void()>& call) const;
  std::unique_ptr<World> world_;
  int rank_ = 0, size_ = 1;
};

}  // namespace incsim::cli
