// MODEL.md sections 10 and 13: a run split into replication ranges and merged equals the
// unsplit run, dataset byte for dataset byte. This is the seam that runs split across
// processes use; it is checked on a scenario with every kind of shock and product, health
// shocks included.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "h5_bytes.h"
#include "incsim/engine.h"
#include "incsim/output.h"
#include "incsim/part.h"
#include "support.h"

namespace incsim {
namespace {

Scenario split_scenario() {
  Scenario s = test::varied_scenario(300, 3, 41, 4, 4);  // 41: the halves differ in size
  s.output.sample_paths = 30;
  for (HazardScope scope : {HazardScope::county, HazardScope::village, HazardScope::household}) {
    Hazard h;
    h.name = std::string{"hazard"};
    h.scope = scope;
    h.probability = 0.2;
    h.severity = {false, 0.0, 2.0, 5.0};
    h.affects = {1.0};
    h.price_shock = {1.0, 1.0};
    s.hazards.push_back(h);
  }
  s.insurance.agricultural = {true, {0}, {2000.0}, 0.1, 0.06, {1.0, 0.5}, {1.0, 0.4}};
  s.insurance.income_index.enabled = true;
  s.insurance.income_index.covers = {0};
  s.insurance.income_index.coverage = 0.8;
  s.insurance.income_index.premium_rate = 0.05;
  return s;
}

TEST(SplitMerge, TwoReplicationRangesMergeIntoTheUnsplitRun) {
  const Scenario s = split_scenario();
  const Model model = build_model(s, 2);
  const std::string whole_path = test::temp_path("whole.h5").string();
  write_results(whole_path, model, run_simulation(model, {2, nullptr}));

  const std::vector<std::int64_t> cuts = part_boundaries(model.replications, 2);
  ASSERT_EQ(cuts.size(), 3u);
  EXPECT_GT(cuts[1], 0);
  EXPECT_LT(cuts[1], model.replications);
  RunPart merged = run_part(model, cuts[0], cuts[1], {1, nullptr});
  merge_parts(merged, run_part(model, cuts[1], cuts[2], {2, nullptr}));
  const std::string split_path = test::temp_path("split.h5").string();
  write_results(split_path, model, finish_run(model, std::move(merged)));

  const auto whole = test::dataset_bytes(whole_path);
  const auto split = test::dataset_bytes(split_path);
  ASSERT_GT(whole.size(), 40u);
  for (const char* name : {"health/cost", "health/impoverished_se", "fiscal/health_reimbursement",
                           "groups/village/health_out_of_pocket"})
    EXPECT_TRUE(whole.count(name)) << name << " missing";
  ASSERT_EQ(whole.size(), split.size());
  for (const auto& [name, bytes] : whole) {
    ASSERT_TRUE(split.count(name)) << name;
    EXPECT_TRUE(split.at(name) == bytes) << name << " differs between the split and whole run";
  }
}

// Bitwise equality (NaN equals NaN of the same bits).
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

TEST(SplitMerge, FourPartsMergeIntoTheUnsplitRun) {
  const Scenario s = split_scenario();
  const Model model = build_model(s, 2);
  const RunResults whole = run_simulation(model, {2, nullptr});
  const std::vector<std::int64_t> cuts = part_boundaries(model.replications, 4);
  ASSERT_EQ(cuts.size(), 5u);
  // Merged along the reduction tree: (0 + 1) + (2 + 3).
  RunPart left = run_part(model, cuts[0], cuts[1], {2, nullptr});
  merge_parts(left, run_part(model, cuts[1], cuts[2], {1, nullptr}));
  RunPart right = run_part(model, cuts[2], cuts[3], {2, nullptr});
  merge_parts(right, run_part(model, cuts[3], cuts[4], {1, nullptr}));
  merge_parts(left, std::move(right));
  const RunResults split = finish_run(model, std::move(left));
  EXPECT_TRUE(same_bits(whole.income_mean.mean, split.income_mean.mean)) << "income_mean.mean";
  EXPECT_TRUE(same_bits(whole.household_mean_income, split.household_mean_income))
      << "household_mean_income";
  EXPECT_TRUE(same_bits(whole.income_quantiles, split.income_quantiles)) << "income_quantiles";
  EXPECT_TRUE(same_bits(whole.per_replication.fgt0, split.per_replication.fgt0))
      << "per_replication.fgt0";
  EXPECT_TRUE(same_bits(whole.sample_paths, split.sample_paths)) << "sample_paths";
  ASSERT_EQ(whole.groups.size(), split.groups.size());
  for (std::size_t g = 0; g < whole.groups.size(); ++g) {
    EXPECT_TRUE(same_bits(whole.groups[g].income_mean.se, split.groups[g].income_mean.se))
        << "groups[g].income_mean.se";
    EXPECT_TRUE(same_bits(whole.groups[g].health_out_of_pocket.mean,
                          split.groups[g].health_out_of_pocket.mean))
        << "groups[g].health_out_of_pocket.mean";
    EXPECT_TRUE(
        same_bits(whole.groups[g].health_out_of_pocket.se, split.groups[g].health_out_of_pocket.se))
        << "groups[g].health_out_of_pocket.se";
  }
  // Health shocks (test::varied_scenario has them).
  ASSERT_TRUE(whole.health_enabled);
  ASSERT_TRUE(split.health_enabled);
  const std::pair<const char*, Estimate HealthResult::*> health[] = {
      {"cost", &HealthResult::cost},
      {"reimbursed", &HealthResult::reimbursed},
      {"out_of_pocket", &HealthResult::out_of_pocket},
      {"episodes_per_person", &HealthResult::episodes_per_person},
      {"impoverished", &HealthResult::impoverished}};
  for (const auto& [name, member] : health) {
    EXPECT_TRUE(same_bits((whole.health.*member).mean, (split.health.*member).mean)) << name;
    EXPECT_TRUE(same_bits((whole.health.*member).se, (split.health.*member).se)) << name;
  }
  EXPECT_TRUE(same_bits(whole.per_replication.health.out_of_pocket,
                        split.per_replication.health.out_of_pocket))
      << "per_replication.health.out_of_pocket";
  EXPECT_TRUE(same_bits(whole.government_cost.mean, split.government_cost.mean))
      << "government_cost.mean";
}

// Any number of parts on the block grid, combined in any grouping: sums are exact.
TEST(SplitMerge, ThreeAndSevenPartsMergeInAnyGrouping) {
  const Scenario s = split_scenario();
  const Model model = build_model(s, 2);
  const RunResults whole = run_simulation(model, {2, nullptr});
  for (int n : {3, 7}) {
    const std::vector<std::int64_t> cuts = part_boundaries(model.replications, n);
    ASSERT_EQ(cuts.size(), static_cast<std::size_t>(n + 1));
    std::vector<RunPart> parts;
    for (int k = 0; k < n; ++k)
      parts.push_back(run_part(model, cuts[k], cuts[k + 1], {2, nullptr}));
    // Right to left: p0 + (p1 + (p2 + ...)).
    for (int k = n - 1; k > 0; --k) merge_parts(parts[k - 1], std::move(parts[k]));
    const RunResults split = finish_run(model, std::move(parts[0]));
    EXPECT_TRUE(same_bits(whole.household_mean_income, split.household_mean_income)) << n;
    EXPECT_TRUE(same_bits(whole.income_quantiles, split.income_quantiles)) << n;
    EXPECT_TRUE(same_bits(whole.fgt0.se, split.fgt0.se)) << n;
    for (std::size_t g = 0; g < whole.groups.size(); ++g) {
      EXPECT_TRUE(same_bits(whole.groups[g].income_mean.se, split.groups[g].income_mean.se)) << n;
      EXPECT_TRUE(same_bits(whole.groups[g].fgt0.se, split.groups[g].fgt0.se)) << n;
    }
  }
}

TEST(SplitMerge, OverlappingOrIncompletePartsAreRefused) {
  const Scenario s = split_scenario();
  const Model model = build_model(s, 2);
  RunPart a = run_part(model, 0, 10, {1, nullptr});
  EXPECT_THROW(merge_parts(a, run_part(model, 5, 12, {1, nullptr})), std::invalid_argument);
  EXPECT_THROW(merge_parts(a, run_part(model, 0, 10, {1, nullptr})), std::invalid_argument);
  merge_parts(a, run_part(model, 20, 41, {1, nullptr}));  // a gap is allowed, not finished
  EXPECT_EQ(a.ranges.size(), 2u);
  EXPECT_THROW(finish_run(model, std::move(a)), std::invalid_argument);
  EXPECT_THROW(part_boundaries(41, 42), std::invalid_argument);  // more parts than blocks
}

// Every dataset of two result files, byte for byte.
void expect_same_datasets(const std::string& a, const std::string& b, const std::string& what) {
  const auto x = test::dataset_bytes(a);
  const auto y = test::dataset_bytes(b);
  ASSERT_GT(x.size(), 40u);
  ASSERT_EQ(x.size(), y.size()) << what;
  for (const auto& [name, bytes] : x) {
    ASSERT_TRUE(y.count(name)) << name << " (" << what << ")";
    EXPECT_TRUE(y.at(name) == bytes) << name << " differs (" << what << ")";
  }
}

// A NextBlock that hands out `blocks` in order, then -1 (thread-safe).
NextBlock hand_out(std::vector<std::int64_t> blocks) {
  auto list = std::make_shared<std::vector<std::int64_t>>(std::move(blocks));
  auto at = std::make_shared<std::atomic<std::size_t>>(0);
  return [list, at] {
    const std::size_t k = at->fetch_add(1);
    return k < list->size() ? (*list)[k] : std::int64_t{-1};
  };
}

// Dynamic balancing (MPI ranks taking blocks as they go): each process's part holds whatever
// blocks it took, in any order; the parts, sent as part images or as part messages (what MPI
// ranks send) and merged in any order, are the unsplit run bit for bit.
TEST(SplitMerge, PartsOfScatteredBlocksMergeIntoTheUnsplitRun) {
  Scenario s = split_scenario();
  s.replications = 150;  // 3 replications a block: blocks of several replications
  const Model model = build_model(s, 2);
  const std::int64_t blocks = block_count(model.replications);
  ASSERT_EQ(reduction_grain(model.replications), 3);
  const std::string whole_path = test::temp_path("blocks_whole.h5").string();
  write_results(whole_path, model, run_simulation(model, {2, nullptr}));
  const std::string fingerprint = model_fingerprint(model);

  // Three "processes": the first takes blocks 0, 3, 6, ... in reverse order, the second the
  // next ones, the third the rest, with one and two workers.
  std::vector<std::vector<std::int64_t>> shares(3);
  for (std::int64_t b = blocks - 1; b >= 0; --b)
    shares[static_cast<std::size_t>(b % 3)].push_back(b);
  std::vector<std::vector<unsigned char>> images, messages;
  for (std::size_t k = 0; k < shares.size(); ++k) {
    const RunPart part =
        run_blocks(model, hand_out(shares[k]), {static_cast<int>(1 + k % 2), nullptr});
    EXPECT_EQ(part.ranges.size(), shares[k].size());  // blocks 3 apart never touch
    images.push_back(part_image(model, part, static_cast<int>(k) + 1, 3));
    messages.push_back(part_message(model, part, fingerprint));
  }
  const auto read = [&](bool message, int k, const std::string& name) {
    const auto i = static_cast<std::size_t>(k);
    return message ? read_part_message(messages[i], name, model, fingerprint)
                   : read_part_image(images[i], name, model);
  };
  for (const bool message : {false, true})
    for (const std::vector<int>& order : {std::vector<int>{0, 1, 2}, std::vector<int>{2, 0, 1}}) {
      RunPart merged = read(message, order[0], "first");
      for (std::size_t k = 1; k < order.size(); ++k)
        merge_parts(merged, read(message, order[k], "next"));
      ASSERT_EQ(merged.ranges.size(), 1u);
      const std::string path = test::temp_path("blocks_split.h5").string();
      write_results(path, model, finish_run(model, std::move(merged)));
      expect_same_datasets(whole_path, path,
                           message ? "scattered blocks, messages" : "scattered blocks, images");
    }
}

// A part message that is cut short, has a byte too many, comes from another model or has an
// array of another length is refused with the sender's name, never read as a part.
TEST(SplitMerge, APartMessageOfAnotherShapeOrModelIsRefused) {
  Scenario s = split_scenario();
  s.replications = 150;
  const Model model = build_model(s, 2);
  const std::string fingerprint = model_fingerprint(model);
  const RunPart part = run_blocks(model, hand_out({0, 4, 7}), {1, nullptr});
  const std::vector<unsigned char> message = part_message(model, part, fingerprint);
  const auto refusal = [&](const std::vector<unsigned char>& bytes, const Model& m,
                           const std::string& print) -> std::string {
    try {
      read_part_message(bytes, "the part of rank 3", m, print);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(refusal(message, model, fingerprint), "");  // the intact message reads
  const auto expect_refused = [&](const std::string& why, const std::string& what) {
    EXPECT_NE(why.find("the part of rank 3 is not a part of this run"), std::string::npos) << why;
    EXPECT_NE(why.find(what), std::string::npos) << why;
  };
  expect_refused(refusal({message.begin(), message.end() - 1}, model, fingerprint), "ends early");
  std::vector<unsigned char> longer = message;
  longer.push_back(0);
  expect_refused(refusal(longer, model, fingerprint), "1 bytes too many");
  std::vector<unsigned char> unmarked = message;
  unmarked[0] ^= 1;
  expect_refused(refusal(unmarked, model, fingerprint), "not a part message");
  expect_refused(refusal(message, model, "0123456789abcdef"), "another model");
  // A fingerprint length of 2^64 - 1 (a corrupt count) is refused before anything is allocated.
  std::vector<unsigned char> huge = message;
  std::fill(huge.begin() + 12, huge.begin() + 20, 0xff);  // after the mark and the byte order
  expect_refused(refusal(huge, model, fingerprint), "fingerprint is malformed");
  // Another model (more households, so other array lengths) with the sender's fingerprint
  // claimed: the first array of another length is named.
  Scenario bigger = s;
  bigger.population.households += 7;
  const Model other = build_model(bigger, 2);
  expect_refused(refusal(message, other, fingerprint), "an accumulator array holds");
}

// Two "processes" running at once and sharing one counter, as MPI ranks share rank 0's: which
// blocks each takes depends on the schedule, the merged result never does.
TEST(SplitMerge, ProcessesSharingACounterMergeIntoTheUnsplitRun) {
  Scenario s = split_scenario();
  s.replications = 150;
  const Model model = build_model(s, 2);
  const std::string whole_path = test::temp_path("counter_whole.h5").string();
  write_results(whole_path, model, run_simulation(model, {1, nullptr}));
  const std::int64_t blocks = block_count(model.replications);
  for (int round = 0; round < 3; ++round) {
    std::atomic<std::int64_t> counter{0};
    const NextBlock next = [&] {
      const std::int64_t b = counter.fetch_add(1);
      return b < blocks ? b : std::int64_t{-1};
    };
    RunPart a, b;
    std::thread other([&] { b = run_blocks(model, next, {2, nullptr}); });
    a = run_blocks(model, next, {1, nullptr});
    other.join();
    merge_parts(b, std::move(a));
    const std::string path = test::temp_path("counter_split.h5").string();
    write_results(path, model, finish_run(model, std::move(b)));
    expect_same_datasets(whole_path, path, "shared counter, round " + std::to_string(round));
  }
}

// A process that is handed no block holds nothing, and merges as nothing.
TEST(SplitMerge, APartOfNoBlocksMergesAsNothing) {
  const Scenario s = split_scenario();
  const Model model = build_model(s, 2);
  RunPart none = run_blocks(model, [] { return std::int64_t{-1}; }, {2, nullptr});
  EXPECT_TRUE(none.ranges.empty());
  RunPart all = run_part(model, 0, model.replications, {2, nullptr});
  merge_parts(all, std::move(none));
  const RunResults merged = finish_run(model, std::move(all));
  const RunResults whole = run_simulation(model, {2, nullptr});
  EXPECT_TRUE(same_bits(whole.household_mean_income, merged.household_mean_income));
  EXPECT_TRUE(same_bits(whole.per_replication.fgt0, merged.per_replication.fgt0));
  EXPECT_THROW(run_blocks(model, hand_out({0, block_count(model.replications)}), {1, nullptr}),
               std::logic_error);
}

}  // namespace
}  // namespace incsim
