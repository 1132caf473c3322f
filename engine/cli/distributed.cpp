// engine/cli/distributed.h.
#include "cli/distributed.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "cli/cli.h"
#include "incsim/choice.h"
#include "incsim/engine.h"
#include "incsim/output.h"
#include "incsim/part.h"

namespace incsim::cli {
namespace {

std::vector<unsigned char> bytes_of(const std::string& text) {
  return {text.begin(), text.end()};
}

// Fault injection for the test suite: INCSIM_TEST_FAIL_RANK=r makes rank r fail after
// simulating its part, as a rank that runs out of memory or loses its node would.
void maybe_fail(const Mpi& mpi) {
  const char* fail = std::getenv("INCSIM_TEST_FAIL_RANK");
  if (fail && std::atoi(fail) == mpi.rank())
    throw std::runtime_error("injected failure (INCSIM_TEST_FAIL_RANK=" + std::string(fail) + ")");
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

bool simulate_distributed(const Mpi& mpi, const Scenario& scenario, int threads, bool progress,
                          bool finish, DistributedRun& out) {
  const auto choice_start = std::chrono::steady_clock::now();
  // The ranks split the choice pilot's households and exchange their certainty equivalents.
  PilotShare share;
  share.rank = mpi.rank();
  share.ranks = mpi.size();
  share.all_gather = [&mpi](std::vector<unsigned char> mine) {
    return mpi.all_gather(std::move(mine));
  };
  // The ranks' workers take pilot batches from one counter as they finish them.
  std::unique_ptr<Mpi::Counter> pilot_batches;
  if (scenario.choice.rule != ChoiceRule::fixed) {
    pilot_batches = mpi.make_counter();
    share.next_batch = [&pilot_batches] { return pilot_batches->take(1); };
  }
  out.model = build_model(scenario, threads, nullptr, &share);
  if (pilot_batches) pilot_batches->release();  // every rank is past the pilot's exchange
  const Model& model = out.model;
  out.choice_seconds = seconds_since(choice_start);
  // Every rank must have built the same model.
  out.fingerprint = model_fingerprint(model);
  const auto prints = mpi.gather(bytes_of(out.fingerprint));
  std::int64_t agree = 1;
  if (mpi.root())
    for (std::size_t r = 1; r < prints.size(); ++r)
      if (prints[r] != prints[0]) {
        std::cerr << "incsim: rank " << r << " built another model (fingerprint "
                  << std::string(prints[r].begin(), prints[r].end()) << ", rank 0 "
                  << out.fingerprint
                  << "): the ranks run different incsim builds or read different files\n";
        agree = 0;
        break;
      }
  if (!mpi.broadcast(agree)) return false;

  // Dynamic balancing: every worker thread of every rank takes the next block of
  // replications from one counter (an MPI window on rank 0) when it finishes one, so a rank
  // slowed by a busy node simply takes fewer blocks. Which rank ran a block does not matter:
  // the parts merge exactly (MODEL.md section 13).
  const std::unique_ptr<Mpi::Counter> counter = mpi.make_counter();
  const std::int64_t blocks = block_count(model.replications);
  const std::int64_t grain = reduction_grain(model.replications);
  std::atomic<std::int64_t> started{0};  // rank 0's view of the job's progress
  const NextBlock next = [&]() -> std::int64_t {
    const std::int64_t b = counter->take(1);
    if (b >= blocks) return -1;
    std::int64_t seen = started.load();
    const std::int64_t now = std::min(model.replications, b * grain);
    while (seen < now && !started.compare_exchange_weak(seen, now)) {
    }
    return b;
  };
  const auto start = std::chrono::steady_clock::now();
  RunPart part;
  {
    // Rank 0 shows the replications the job has started (blocks handed out to any rank).
    Progress bar(mpi.root() && progress ? model.replications : 0, started);
    part = run_blocks(model, next, {threads, nullptr});
  }
  out.part_seconds = seconds_since(start);
  maybe_fail(mpi);
  // Rank 0 keeps its own part; the others send theirs as part messages (none when a
  // rank took no block).
  std::vector<unsigned char> image;
  if (!mpi.root() && !part.ranges.empty()) image = part_message(model, part, out.fingerprint);
  const auto images = mpi.gather(image);
  counter->release();  // no rank takes any more blocks
  if (finish) mpi.finish();
  out.replications_per_rank.assign(static_cast<std::size_t>(mpi.size()), 0);
  if (!mpi.root()) return true;
  const auto count = [](const RunPart& p) {
    std::int64_t n = 0;
    for (const auto& [first, last] : p.ranges) n += last - first;
    return n;
  };
  out.replications_per_rank[0] = count(part);
  for (int r = 1; r < mpi.size(); ++r) {
    const std::vector<unsigned char>& bytes = images[static_cast<std::size_t>(r)];
    if (bytes.empty()) continue;
    RunPart theirs =
        read_part_message(bytes, "the part of rank " + std::to_string(r), model, out.fingerprint);
    out.replications_per_rank[static_cast<std::size_t>(r)] = count(theirs);
    merge_parts(part, std::move(theirs));
  }
  out.seconds = seconds_since(start);
  out.results = finish_run(model, std::move(part));
  return true;
}

int run_distributed(const Mpi& mpi, const Scenario& scenario, const std::string& output,
                    int threads, bool quiet) {
  DistributedRun run;
  if (!simulate_distributed(mpi, scenario, threads, true, true, run)) return 1;
  if (!mpi.root()) return 0;
  write_results(output, run.model, run.results);
  if (!quiet) print_summary(std::cout, run.model, run.results, run.seconds, run.choice_seconds);
  std::ostringstream shares;
  for (std::size_t r = 0; r < run.replications_per_rank.size(); ++r)
    shares << (r ? ", " : "") << run.replications_per_rank[r];
  std::cout << "\n"
            << mpi.size() << " MPI ranks (model " << run.fingerprint
            << ") took blocks of replications as they finished them: " << shares.str()
            << " replications by rank; rank 0's share " << run.part_seconds
            << " s, gathering and merging the parts " << run.seconds - run.part_seconds
            << " s\nwrote " << output << "\n";
  return 0;
}

std::optional<CalibrationEvaluation> evaluate_distributed(const Mpi& mpi,
                                                          const CalibrationSpec& spec,
                                                          const std::vector<double>& x,
                                                          int replications, int threads,
                                                          const std::atomic<bool>* stop) {
  // Rank 0's Ctrl-C stops every rank before the evaluation, all at once.
  if (mpi.broadcast(mpi.root() && stop && stop->load() ? 1 : 0) != 0) return std::nullopt;
  const auto t0 = std::chrono::steady_clock::now();
  const Scenario scenario =
      load_scenario_text(spec.base_text, spec.base_file, spec.overrides_at(x, replications));
  DistributedRun run;
  if (!simulate_distributed(mpi, scenario, threads, false, false, run))
    throw std::runtime_error("the MPI ranks built different models");
  // Rank 0 reads the targets and sends the evaluation (or that a target is bad) to every rank.
  CalibrationEvaluation e;
  e.x = x;
  std::vector<unsigned char> message;
  std::optional<ScenarioError> bad;
  if (mpi.root()) {
    h5::File file = h5::File::create_in_memory("calibration-evaluation");
    write_results(file.root(), run.model, run.results);
    try {
      read_target_estimates(spec, file, e.estimate, e.standard_error);
    } catch (const ScenarioError& error) {
      bad = error;
    }
    std::vector<double> values;
    if (!bad) {
      values = e.estimate;
      values.insert(values.end(), e.standard_error.begin(), e.standard_error.end());
    }
    message.resize(values.size() * sizeof(double));
    if (!values.empty()) std::memcpy(message.data(), values.data(), message.size());
  }
  message = mpi.broadcast(message);
  if (bad) throw *bad;
  const std::size_t nt = spec.targets.size();
  if (message.size() != 2 * nt * sizeof(double))  // rank 0 found a bad target (and says so)
    throw ScenarioError({Diagnostic{spec.file, 0, 0, "a target is not in the result"}});
  std::vector<double> values(2 * nt);
  std::memcpy(values.data(), message.data(), message.size());
  e.estimate.assign(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(nt));
  e.standard_error.assign(values.begin() + static_cast<std::ptrdiff_t>(nt), values.end());
  e.objective = calibration_objective(spec, e.estimate);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

namespace {

constexpr int kPointTag = 23;

std::vector<unsigned char> pack_indices(const std::vector<std::size_t>& v) {
  std::vector<unsigned char> out(v.size() * sizeof(std::uint64_t));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto x = static_cast<std::uint64_t>(v[i]);
    std::memcpy(out.data() + i * sizeof x, &x, sizeof x);
  }
  return out;
}

std::vector<std::size_t> unpack_indices(const std::vector<unsigned char>& bytes) {
  std::vector<std::size_t> out(bytes.size() / sizeof(std::uint64_t));
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint64_t x = 0;
    std::memcpy(&x, bytes.data() + i * sizeof x, sizeof x);
    out[i] = static_cast<std::size_t>(x);
  }
  return out;
}

// A computed point for rank 0: its index, seconds and whether it was computed (a rank asked to
// stop skips its remaining points), then the file's bytes.
std::vector<unsigned char> point_message(std::size_t k, double seconds, bool computed,
                                         const std::vector<unsigned char>& file) {
  std::vector<unsigned char> out(24 + file.size());
  const auto index = static_cast<std::uint64_t>(k);
  const std::uint64_t flag = computed ? 1 : 0;
  std::memcpy(out.data(), &index, 8);
  std::memcpy(out.data() + 8, &seconds, 8);
  std::memcpy(out.data() + 16, &flag, 8);
  std::copy(file.begin(), file.end(), out.begin() + 24);
  return out;
}

// The points of `missing` that rank `rank` of `size` computes: every size-th, from its rank.
std::vector<std::size_t> share_of(const std::vector<std::size_t>& missing, int rank, int size) {
  std::vector<std::size_t> out;
  for (std::size_t j = static_cast<std::size_t>(rank); j < missing.size();
       j += static_cast<std::size_t>(size))
    out.push_back(missing[j]);
  return out;
}

}  // namespace

void distribute_points(const Mpi& mpi, const SweepSpec& spec, int threads,
                       const std::atomic<bool>* stop, const std::vector<std::size_t>& missing,
                       const SweepOptions::StorePoint& store) {
  mpi.broadcast(pack_indices(missing));
  std::size_t remote = 0;
  for (int r = 1; r < mpi.size(); ++r) remote += share_of(missing, r, mpi.size()).size();
  auto receive = [&] {
    int from = 0;
    const std::vector<unsigned char> m = mpi.receive_any(kPointTag, &from);
    std::uint64_t index = 0, flag = 0;
    double seconds = 0.0;
    std::memcpy(&index, m.data(), 8);
    std::memcpy(&seconds, m.data() + 8, 8);
    std::memcpy(&flag, m.data() + 16, 8);
    --remote;
    if (flag) store(static_cast<std::size_t>(index), {m.begin() + 24, m.end()}, seconds);
  };
  for (std::size_t k : share_of(missing, 0, mpi.size())) {
    if (stop && stop->load()) break;
    const auto start = std::chrono::steady_clock::now();
    const std::vector<unsigned char> file = compute_point_image(spec, k, threads);
    store(k, file, seconds_since(start));
    while (remote > 0 && mpi.message_waiting(kPointTag)) receive();
  }
  while (remote > 0) receive();
}

void sweep_worker(const Mpi& mpi, const SweepSpec& spec, int threads,
                  const std::atomic<bool>* stop) {
  const std::vector<std::size_t> missing =
      unpack_indices(mpi.broadcast(std::vector<unsigned char>{}));
  for (std::size_t k : share_of(missing, mpi.rank(), mpi.size())) {
    if (stop && stop->load()) {
      mpi.send_to_root(point_message(k, 0.0, false, {}), kPointTag);
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    const std::vector<unsigned char> file = compute_point_image(spec, k, threads);
    mpi.send_to_root(point_message(k, seconds_since(start), true, file), kPointTag);
  }
}

}  // namespace incsim::cli
