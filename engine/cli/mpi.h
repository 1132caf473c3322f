// The MPI world of one `incsim` process (MODEL.md section 13): initialised only when incsim was
// built with MPI and the process was started by an MPI launcher (mpirun, srun); otherwise a
// world of one rank, and every call is a no-op. The few collectives the distributed run and
// sweep need, on MPI_COMM_WORLD. Passed explicitly: no global state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace incsim::cli {

class Mpi {
 public:
  Mpi(int& argc, char**& argv);
  ~Mpi();
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }  // more than one rank
  bool root() const { return rank_ == 0; }

  // Ends every rank of the job with `status` (a failing rank: no rank writes anything more).
  [[noreturn]] void abort(int status) const;
  // Rank 0's value, on every rank.
  std::int64_t broadcast(std::int64_t value) const;
  std::vector<unsigned char> broadcast(std::vector<unsigned char> bytes) const;
  // Every rank's bytes at rank 0, in rank order (empty on the other ranks).
  std::vector<std::vector<unsigned char>> gather(const std::vector<unsigned char>& bytes) const;
  // Every rank's bytes on every rank, in rank order.
  std::vector<std::vector<unsigned char>> all_gather(const std::vector<unsigned char>& bytes) const;
  // Rank r sends `bytes` to rank 0; rank 0 receives from any rank (its index in `from`).
  void send_to_root(const std::vector<unsigned char>& bytes, int tag) const;
  std::vector<unsigned char> receive_any(int tag, int* from) const;
  // Whether a message with `tag` waits to be received (on rank 0).
  bool message_waiting(int tag) const;
  // `requested` worker threads (0: all) within the CPUs this rank may run on: mpirun binds each
  // rank to one core by default, and asking for more threads than that only oversubscribes
  // it. Warns once (rank 0) when it cuts a request.
  int usable_threads(int requested) const;

 private:
  bool active_ = false;
  int rank_ = 0, size_ = 1;
};

}  // namespace incsim::cli
