// The bad-input corpus: every tests/bad_inputs/*.yaml is an otherwise valid scenario with one
// defect; its first line states where the error must be reported and part of the message:
//   # expect: line 12: unknown key 'volatilty'
//   # expect: line 4 in data/bad_row.csv: column 'size': expected an integer
// Each file is checked through the library and through the `incsim` command line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "incsim/load.h"
#include "support.h"

namespace {

namespace fs = std::filesystem;

struct BadInput {
  std::string name;  // test case name: the file stem
  fs::path path;
};

// Shown by gtest and ctest instead of the object's bytes.
void PrintTo(const BadInput& input, std::ostream* os) {
  *os << input.path.filename().string();
}

struct Expectation {
  std::string file;  // as the diagnostic names it
  int line = 0;
  std::string substring;
};

fs::path corpus_dir() {
  return fs::path(INCSIM_SOURCE_DIR) / "tests" / "bad_inputs";
}

std::vector<BadInput> list_bad_inputs() {
  std::vector<BadInput> inputs;
  for (const auto& entry : fs::directory_iterator(corpus_dir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      std::string name = entry.path().stem().string();
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      inputs.push_back({name, entry.path()});
    }
  }
  std::sort(inputs.begin(), inputs.end(),
            [](const BadInput& a, const BadInput& b) { return a.name < b.name; });
  return inputs;
}

Expectation read_expectation(const fs::path& path) {
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  static const std::regex pattern(R"(^# expect: line (\d+)(?: in (\S+))?: (.+)$)");
  std::smatch match;
  if (!std::regex_match(first, match, pattern)) {
    ADD_FAILURE() << path << ": first line is not '# expect: line N[ in FILE]: text': " << first;
    return {};
  }
  Expectation e;
  e.line = std::stoi(match[1].str());
  e.file = match[2].matched ? (path.parent_path() / match[2].str()).string() : path.string();
  e.substring = match[3].str();
  return e;
}

std::string all_formatted(const std::vector<incsim::Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) text += "  " + d.format() + "\n";
  return text;
}

// Files left next to `output`: the output itself or its temporary siblings (name.tmp-*).
std::vector<std::string> leftovers(const fs::path& output) {
  std::vector<std::string> found;
  const std::string prefix = output.filename().string() + ".tmp-";
  for (const auto& entry : fs::directory_iterator(output.parent_path())) {
    const std::string name = entry.path().filename().string();
    if (name == output.filename().string() || name.rfind(prefix, 0) == 0) found.push_back(name);
  }
  return found;
}

void remove_leftovers(const fs::path& output) {
  for (const std::string& name : leftovers(output)) fs::remove(output.parent_path() / name);
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, LibraryReportsLineAndMessage) {
  const BadInput& input = GetParam();
  const Expectation expected = read_expectation(input.path);
  try {
    incsim::load_scenario(input.path.string());
    FAIL() << input.path << " loaded without error; expected " << expected.file << ":"
           << expected.line << ": ..." << expected.substring;
  } catch (const incsim::ScenarioError& error) {
    const auto& diagnostics = error.diagnostics();
    const bool found = std::any_of(diagnostics.begin(), diagnostics.end(), [&](const auto& d) {
      return d.file == expected.file && d.line == expected.line &&
             d.format().find(expected.substring) != std::string::npos;
    });
    EXPECT_TRUE(found) << "file: " << input.path << "\nexpected: " << expected.file << ":"
                       << expected.line << ": ... " << expected.substring << "\ngot:\n"
                       << all_formatted(diagnostics);
  }
}

TEST_P(BadInputTest, CommandLineRunExitsWithStatus2AndWritesNothing) {
  const BadInput& input = GetParam();
  const Expectation expected = read_expectation(input.path);
  const fs::path dir = incsim::test::temp_dir();
  const fs::path output = dir / ("bad_input_" + input.name + ".h5");
  remove_leftovers(output);
  const incsim::test::CommandResult result =
      incsim::test::run_incsim("run " + incsim::test::shell_quote(input.path.string()) + " -o " +
                               incsim::test::shell_quote(output.string()));
  const std::string location = expected.file + ":" + std::to_string(expected.line) + ":";
  EXPECT_EQ(result.exit_status, 2) << "incsim run " << input.path << "\nstderr:\n" << result.err;
  EXPECT_NE(result.err.find(location), std::string::npos)
      << "expected " << location << " in stderr:\n"
      << result.err;
  EXPECT_NE(result.err.find(expected.substring), std::string::npos)
      << "expected '" << expected.substring << "' in stderr:\n"
      << result.err;
  const auto left = leftovers(output);
  EXPECT_TRUE(left.empty()) << "files left behind in " << dir << ": " << left.front();
  remove_leftovers(output);
}

TEST_P(BadInputTest, CommandLineValidateExitsWithStatus2) {
  const BadInput& input = GetParam();
  const incsim::test::CommandResult result =
      incsim::test::run_incsim("validate " + incsim::test::shell_quote(input.path.string()));
  EXPECT_EQ(result.exit_status, 2) << "incsim validate " << input.path << "\nstderr:\n"
                                   << result.err;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInputTest, ::testing::ValuesIn(list_bad_inputs()),
                         [](const ::testing::TestParamInfo<BadInput>& param_info) {
                           return param_info.param.name;
                         });

TEST(BadInputCorpus, HasAtLeastSixteenFiles) {
  EXPECT_GE(list_bad_inputs().size(), 16u);
}

}  // namespace
