// Portfolio pilot (MODEL.md section 8): every household's per-capita income under every
// candidate portfolio, from one set of draws shared by all portfolios. Yields, hazards and
// wages are addressed by household and industry, not by portfolio, so each household's
// per-unit revenue of every candidate industry, its hazard survival and its wages are drawn
// once per pilot replication-year and combined per portfolio; a portfolio's income is
// computed with the kernel's arithmetic, so it is bit-identical to running the kernel
// (Kernel, incsim/simulate.h) on a model where everyone runs that portfolio.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "incsim/model.h"
#include "incsim/rng.h"

namespace incsim {

// The incomes of one batch of households in one pilot replication.
struct PilotBatch {
  std::int64_t replication = 0;
  std::span<const std::uint32_t> households;  // population index of each lane
  std::size_t portfolios = 0;
  int years = 0;
  // income[(p * years + t - 1) * lanes + lane]: y of the lane under portfolio p in year t;
  // NaN where p is infeasible for the household (section 4).
  std::span<const double> income;
  const double& at(std::size_t p, int t, std::size_t lane) const {
    return income[(p * static_cast<std::size_t>(years) + (t - 1)) * households.size() + lane];
  }
};

// The households of `base` in pilot order (by laborer count, then index), and its batches:
// batch b is the households at positions [first, last) = pilot_batch_range(base, b) of that
// order, of which there are pilot_batch_count. Batches are Kernel::kBatch households, but the
// last two batches' worth are cut in quarters, so that workers (or processes) taking batches as
// they finish them end within a quarter batch of each other. A household's certainty
// equivalents do not depend on its batch (its draws are addressed by household).
std::vector<std::uint32_t> pilot_order(const Model& base);
std::size_t pilot_batch_count(const Model& base);
std::pair<std::size_t, std::size_t> pilot_batch_range(const Model& base, std::size_t b);

// Runs `replications` pilot replications of `base` (its portfolios are ignored) on `stream`
// for every (main, aux) portfolio, calling on_batch once per batch of households and
// replication: replications in order within a batch, batches in parallel on up to `threads`
// threads (0 = all), each household in exactly one batch. With `next_batch`, only the batches
// it hands out run (a process's share of a distributed pilot, taken as its workers finish
// batches): each call returns a batch index no other caller received, or -1 (or any index of
// no batch) when none remain; it is called concurrently. A batch's results do not depend on
// which others run, nor where.
void run_portfolio_pilot(const Model& base, const std::vector<std::pair<int, int>>& portfolios,
                         int replications, rng::Stream stream, int threads,
                         const std::function<void(const PilotBatch&)>& on_batch,
                         const std::function<std::int64_t()>& next_batch = {});

}  // namespace incsim
