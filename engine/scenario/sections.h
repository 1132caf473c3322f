// Private to engine/scenario: readers of the scenario sections that live in their own files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "incsim/scenario.h"
#include "incsim/sweep.h"
#include "scenario/yaml_reader.h"

namespace incsim::scenario_detail {

// Upper bounds where a larger value is meaningless and would only overflow or exhaust memory
// (issue 14): a coefficient of variation of 100 already puts the lognormal's 99.99th
// percentile at ~10^5 times the mean; a yearly log-price volatility of 5 at e^20 after one
// year; calendar years have four digits; a horizon of 1000 years is beyond any programme.
inline constexpr double kMaxCv = 100.0;
inline constexpr double kMaxVolatility = 5.0;
inline constexpr int kMaxCalendarYear = 9999;
inline constexpr int kMaxYears = 1000;

// Whole file as text, or nullopt with the OS reason in `reason` (load.cpp).
// Reads a scenario, csv or sweep file: a regular file of at most max_input_bytes() (default
// kDefaultMaxInputBytes, environment INCSIM_MAX_INPUT_BYTES); else nullopt with the reason.
inline constexpr std::uint64_t kDefaultMaxInputBytes = 64ull << 20;  // 64 MiB
// The input size cap, or nullopt with `reason` when INCSIM_MAX_INPUT_BYTES is not a positive
// whole number.
std::optional<std::uint64_t> max_input_bytes(std::string& reason);
// The offset of the first NUL byte of `text`, if any, and the error naming its line and column
// (checked before YAML parsing, whose message for a NUL is misleading).
std::optional<std::size_t> first_nul(const std::string& text);
Diagnostic nul_byte_error(const std::string& file, const std::string& text, std::size_t at);
std::optional<std::string> read_text_file(const std::string& path, std::string& reason);

// Dotted scenario paths as --set, sweep and calibration files give them (sweep_file.cpp): a
// valid one has non-empty segments and no '='; find_node walks mappings by key and lists by
// index and returns an undefined node where the path leads nowhere.
bool valid_path(const std::string& path);
std::vector<std::string> segments_of(const std::string& path);
YAML::Node find_node(const YAML::Node& root, const std::string& path);
// Shared by the sweep and calibration files (sweep_file.cpp): 1-based positions (0 unknown);
// a value's one-line YAML text as --set takes it (flow style for mappings and lists); the
// `base:` scenario read relative to the including file; a dotted path checked at its key; a
// `set:` mapping of paths to values (at least one when `required`).
int line_of(const YAML::Mark& mark);
int column_of(const YAML::Mark& mark);
std::string yaml_text(const YAML::Node& node);
bool read_base_scenario(const Value& v, std::string& file, std::string& text);
// The YAML tree of a sweep or calibration file (`what`), its text in `text`; throws ScenarioError
// when it cannot be read, holds a NUL byte or is not YAML.
YAML::Node read_yaml_file(const std::string& path, const char* what, std::string& text);
bool check_override_path(const Value& entry, const std::string& path);
std::vector<SweepOverride> read_set_overrides(const Value& v, bool required);

// Reads the `population` section (generated, or `csv: path` resolved against the directory of
// `scenario_file`) into scenario.population; csv main/aux need scenario.industries already read.
// Returns false when the population could not be read, so checks that depend on it are skipped.
bool read_population(const Value& population, const std::string& scenario_file, Scenario& scenario);

// Reads the `hazards` section (risk_sections.cpp); needs scenario.industries and markets read.
// `affects` is sized to the industries, `price_shock` to the markets.
void read_hazards(const Value& hazards, Scenario& scenario);

// Reads the `insurance` section (risk_sections.cpp); needs the industries, hazards and years read
// (a product that can never pay is a warning, an income index guarantee of 0 an error).
void read_insurance(const Value& insurance, Scenario& scenario);

// Reads the `health` section (health_section.cpp) into scenario.health, enabled when present;
// needs scenario.population read (days lost per episode are at most its labor days per laborer).
void read_health(const Value& health, Scenario& scenario);

}  // namespace incsim::scenario_detail
