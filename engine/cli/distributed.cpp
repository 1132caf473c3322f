// engine/cli/distributed.h.
#include "cli/distributed.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
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

}  // namespace

bool simulate_distributed(const Mpi& mpi, const Scenario& scenario, int threads, bool progress,
                          DistributedRun& out) {
  const auto choice_start = std::chrono::steady_clock::now();
  // The ranks split the choice pilot's households and exchange their certainty equivalents.
  PilotShare share;
  share.rank = mpi.rank();
  share.ranks = mpi.size();
  share.all_gather = [&mpi](const std::vector<double>& mine) {
    std::vector<unsigned char> bytes(mine.size() * sizeof(double));
    if (!mine.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
    std::vector<std::vector<double>> all;
    for (const std::vector<unsigned char>& b : mpi.all_gather(bytes)) {
      std::vector<double> values(b.size() / sizeof(double));
      if (!values.empty()) std::memcpy(values.data(), b.data(), values.size() * sizeof(double));
      all.push_back(std::move(values));
    }
    return all;
  };
  out.model = build_model(scenario, threads, nullptr, &share);
  const Model& model = out.model;
  out.choice_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - choice_start).count();
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

  const int parts =
      static_cast<int>(std::min<std::int64_t>(mpi.size(), block_count(model.replications)));
  out.parts = parts;
  const std::vector<std::int64_t> cuts = part_boundaries(model.replications, parts);
  std::atomic<std::int64_t> done{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<unsigned char> image;
  if (mpi.rank() < parts) {
    const std::int64_t begin = cuts[static_cast<std::size_t>(mpi.rank())];
    const std::int64_t end = cuts[static_cast<std::size_t>(mpi.rank()) + 1];
    RunPart part;
    {
      // Rank 0 shows its own part's progress (the ranks' parts are within a block of each
      // other, so it stands for the job).
      Progress bar(mpi.root() && progress ? end - begin : 0, done);
      part = run_part(model, begin, end, {threads, &done});
    }
    out.part_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    maybe_fail(mpi);
    image = part_image(model, part, mpi.rank() + 1, parts);
  }
  const auto images = mpi.gather(image);
  if (!mpi.root()) return true;
  RunPart whole = read_part_image(images[0], "the part of rank 0", model);
  for (int r = 1; r < parts; ++r)
    merge_parts(whole, read_part_image(images[static_cast<std::size_t>(r)],
                                       "the part of rank " + std::to_string(r), model));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.results = finish_run(model, std::move(whole));
  return true;
}

int run_distributed(const Mpi& mpi, const Scenario& scenario, const std::string& output,
                    int threads, bool quiet) {
  DistributedRun run;
  if (!simulate_distributed(mpi, scenario, threads, true, run)) return 1;
  if (!mpi.root()) return 0;
  write_results(output, run.model, run.results);
  if (!quiet) print_summary(std::cout, run.model, run.results, run.seconds, run.choice_seconds);
  std::cout << "\n"
            << run.parts << " MPI rank" << (run.parts == 1 ? "" : "s") << " of " << mpi.size()
            << " simulated (model " << run.fingerprint << "); rank 0's part " << run.part_seconds
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
  if (!simulate_distributed(mpi, scenario, threads, false, run))
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

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
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
