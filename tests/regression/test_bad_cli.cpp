// The bad command-line corpus (issue 14): every tests/bad_cli/*.case is one `incsim` command
// line with bad arguments, inputs or outputs, with the exit status, messages and state of the
// file system it must leave. Each case runs in a fresh directory {dir}, which is also the
// working directory of the command (a default output file would land there), under `timeout`
// so that a hang fails the case instead of the whole test run. A case file holds lines
// `key: value` ('#' starts a comment line):
//
//   args: run {scenario} -o {dir}/out.h5 --threads 5000   the words after `incsim` (a shell
//                                                         fragment: quote as in sh)
//   setup: mkfifo fifo.h5          run by /bin/sh in {dir} before the command (repeatable)
//   env: INCSIM_MAX_INPUT_BYTES=100   set for the command only (repeatable)
//   ulimit-f: 50                   file-size limit (sh `ulimit -f`, 512-byte blocks)
//   as: nobody                     run the command as an unprivileged user (setpriv when root)
//   skip-unless: test -x /usr/bin/python3   skip the case (visibly) when this fails
//   timeout: 20                    seconds (default 20)
//   status: 2                      the exit status (required)
//   stderr: not a regular file     a substring of stderr (repeatable); stdout: likewise
//   stderr-lacks: ...              a substring that must not be in stderr; stdout-lacks: too
//   absent: {dir}/out.h5           must not exist afterwards (not even as a dangling link)
//   exists: {dir}/out.h5           must exist afterwards
//   unchanged: {dir}/target        type and contents (a link's target, a directory's entries)
//                                  are the same after the command as before it
//   no-temporaries: {dir}          no OUT.h5.tmp-<pid> anywhere below the directory
//
// Placeholders (quoted for the shell in args, setup and skip-unless; plain in paths):
//   {dir}            the case's fresh directory
//   {scenario}       scenarios/xianning_2019.yaml {reduce}: a valid scenario that runs in 0.1 s
//   {scenario_file}  scenarios/xianning_2019.yaml alone; {reduce} the --set options alone
//   {sweep}          {dir}/sweep.yaml, a two-point sweep of that scenario
//   {result}         {dir}/result.h5, a valid result of {scenario} (made before setup)
//   {sweep_result}   {dir}/sweep_result.h5, the result of {sweep}
//   {foreign_h5}     {dir}/foreign.h5, an HDF5 file that is not an incsim result
//   {mismatched_h5}  {dir}/mismatched.h5, incsim_version, /year (2) and /income/mean (3 values)
//   {source}         the source tree; {incsim} the binary
//
// Every case also checks that the process ended by itself (no signal, no timeout) and that
// stderr holds no NUL byte (a raw NUL written to a terminal is invisible and garbles it).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "incsim/hdf5.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

const std::string kScenarioFile = std::string(INCSIM_SOURCE_DIR) + "/scenarios/xianning_2019.yaml";
const std::string kReduce =
    "--set population.households=20 --set scenario.replications=2 "
    "--set choice.pilot_replications=2";

struct CliCase {
  std::string name;  // the file stem, as a test name
  fs::path path;
};

void PrintTo(const CliCase& c, std::ostream* os) {
  *os << c.path.filename().string();
}

fs::path corpus_dir() {
  return fs::path(INCSIM_SOURCE_DIR) / "tests" / "bad_cli";
}

std::vector<CliCase> list_cases() {
  std::vector<CliCase> cases;
  for (const auto& entry : fs::directory_iterator(corpus_dir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".case") continue;
    std::string name = entry.path().stem().string();
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    cases.push_back({name, entry.path()});
  }
  std::sort(cases.begin(), cases.end(),
            [](const CliCase& a, const CliCase& b) { return a.name < b.name; });
  return cases;
}

struct Spec {
  std::string text;  // the whole file, to see which placeholders it uses
  std::string args;
  bool has_args = false;
  int status = -1;
  int timeout = 20;
  int ulimit_f = 0;
  bool as_nobody = false;
  std::vector<std::string> setup, env, skip_unless, stderr_has, stdout_has, stderr_lacks,
      stdout_lacks, absent, exists, unchanged, no_temporaries;
};

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

Spec read_spec(const fs::path& path) {
  Spec spec;
  spec.text = test::read_file(path);
  std::istringstream in(spec.text);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped[0] == '#') continue;
    const auto colon = stripped.find(':');
    if (colon == std::string::npos) {
      ADD_FAILURE() << path << ":" << number << ": expected 'key: value', found: " << line;
      continue;
    }
    const std::string key = trim(stripped.substr(0, colon));
    const std::string value = trim(stripped.substr(colon + 1));
    const std::map<std::string, std::vector<std::string>*> lists = {
        {"setup", &spec.setup},
        {"env", &spec.env},
        {"skip-unless", &spec.skip_unless},
        {"stderr", &spec.stderr_has},
        {"stdout", &spec.stdout_has},
        {"stderr-lacks", &spec.stderr_lacks},
        {"stdout-lacks", &spec.stdout_lacks},
        {"absent", &spec.absent},
        {"exists", &spec.exists},
        {"unchanged", &spec.unchanged},
        {"no-temporaries", &spec.no_temporaries}};
    if (const auto it = lists.find(key); it != lists.end()) {
      it->second->push_back(value);
    } else if (key == "args") {
      EXPECT_FALSE(spec.has_args) << path << ":" << number << ": a second 'args:'";
      spec.args = value;
      spec.has_args = true;
    } else if (key == "status") {
      spec.status = std::stoi(value);
    } else if (key == "timeout") {
      spec.timeout = std::stoi(value);
    } else if (key == "ulimit-f") {
      spec.ulimit_f = std::stoi(value);
    } else if (key == "as") {
      EXPECT_EQ(value, "nobody") << path << ":" << number << ": only 'as: nobody' is known";
      spec.as_nobody = true;
    } else {
      ADD_FAILURE() << path << ":" << number << ": unknown key '" << key << "'";
    }
  }
  EXPECT_TRUE(spec.has_args) << path << ": no 'args:' line";
  EXPECT_GE(spec.status, 0) << path << ": no 'status:' line";
  return spec;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// The placeholders of `dir`, shell-quoted (`quoted`) or as plain paths.
std::string expand(const std::string& text, const fs::path& dir, bool quoted) {
  const auto word = [&](const std::string& s) { return quoted ? test::shell_quote(s) : s; };
  std::string out = text;
  out = replace_all(out, "{scenario}", word(kScenarioFile) + " " + kReduce);
  out = replace_all(out, "{scenario_file}", word(kScenarioFile));
  out = replace_all(out, "{reduce}", kReduce);
  out = replace_all(out, "{sweep}", word((dir / "sweep.yaml").string()));
  out = replace_all(out, "{result}", word((dir / "result.h5").string()));
  out = replace_all(out, "{sweep_result}", word((dir / "sweep_result.h5").string()));
  out = replace_all(out, "{foreign_h5}", word((dir / "foreign.h5").string()));
  out = replace_all(out, "{mismatched_h5}", word((dir / "mismatched.h5").string()));
  out = replace_all(out, "{source}", word(INCSIM_SOURCE_DIR));
  out = replace_all(out, "{incsim}", word(INCSIM_BINARY));
  out = replace_all(out, "{dir}", word(dir.string()));
  return out;
}

int shell_in(const fs::path& dir, const std::string& command) {
  const std::string line = "cd " + test::shell_quote(dir.string()) + " && (" + command + ")";
  const int status = std::system(line.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The files a case refers to, made before its setup.
void prepare(const Spec& spec, const fs::path& dir) {
  const auto uses = [&](const char* name) { return spec.text.find(name) != std::string::npos; };
  if (uses("{sweep}") || uses("{sweep_result}")) {
    test::write_file(dir / "sweep.yaml",
                     "base: " + kScenarioFile +
                         "\nset: {population.households: 20, scenario.replications: 2,"
                         " choice.pilot_replications: 2}\n"
                         "parameters: {income.transfers_per_capita: [200, 300]}\n");
  }
  if (uses("{result}")) {
    ASSERT_EQ(
        shell_in(dir, test::shell_quote(INCSIM_BINARY) + " run " + expand("{scenario}", dir, true) +
                          " -q -o result.h5 >/dev/null 2>&1"),
        0)
        << "cannot make {result}";
  }
  if (uses("{sweep_result}")) {
    ASSERT_EQ(shell_in(dir, test::shell_quote(INCSIM_BINARY) +
                                " sweep sweep.yaml -q -o sweep_result.h5 >/dev/null 2>&1"),
              0)
        << "cannot make {sweep_result}";
  }
  if (uses("{foreign_h5}")) {
    h5::File f = h5::File::create((dir / "foreign.h5").string());
    f.root().write<double>("x", std::vector<double>{1.0, 2.0});
  }
  if (uses("{mismatched_h5}")) {
    h5::File f = h5::File::create((dir / "mismatched.h5").string());
    f.root().attr("incsim_version", std::string("0.1.0"));
    f.root().write<std::int64_t>("year", std::vector<std::int64_t>{2019, 2020});
    f.root().write<double>("income/mean", std::vector<double>{1.0, 2.0, 3.0});
  }
}

// What `unchanged:` compares: the kind of file and what it holds.
std::string snapshot(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  switch (st.type()) {
    case fs::file_type::not_found:
      return "(absent)";
    case fs::file_type::symlink:
      return "symlink -> " + fs::read_symlink(path, ec).string();
    case fs::file_type::regular:
      return "file of " + std::to_string(fs::file_size(path, ec)) +
             " bytes: " + test::read_file(path);
    case fs::file_type::directory: {
      std::vector<std::string> names;
      for (const auto& e : fs::directory_iterator(path, ec))
        names.push_back(e.path().filename().string());
      std::sort(names.begin(), names.end());
      std::string text = "directory:";
      for (const std::string& n : names) text += " " + n;
      return text;
    }
    case fs::file_type::fifo:
      return "fifo";
    case fs::file_type::socket:
      return "socket";
    default:
      return "other";
  }
}

std::string abbreviated(const std::string& text, std::size_t n = 3000) {
  std::string shown = text.size() > n ? text.substr(0, n) + "\n[... " +
                                            std::to_string(text.size() - n) + " more bytes]"
                                      : text;
  return replace_all(shown, std::string(1, '\0'), "\\0");
}

void clear_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    const std::string chmod = "chmod -R u+rwX " + test::shell_quote(dir.string()) + " 2>/dev/null";
    (void)std::system(chmod.c_str());  // a read-only directory of an earlier run
    fs::remove_all(dir, ec);
  }
}

class BadCliTest : public ::testing::TestWithParam<CliCase> {};

TEST_P(BadCliTest, ExitStatusMessagesAndFiles) {
  const CliCase& c = GetParam();
  const Spec spec = read_spec(c.path);
  if (::testing::Test::HasFailure()) return;
  const fs::path dir = test::temp_path("_dir");
  clear_directory(dir);
  fs::create_directories(dir);

  for (const std::string& check : spec.skip_unless)
    if (shell_in(dir, expand(check, dir, true) + " >/dev/null 2>&1") != 0)
      GTEST_SKIP() << c.path.filename().string() << " needs `" << check << "`";
  std::string user;
  if (spec.as_nobody && ::geteuid() == 0) {
    if (std::system("command -v setpriv >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "running as root and setpriv is missing: cannot run "
                   << c.path.filename().string() << " unprivileged";
    user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }

  prepare(spec, dir);
  if (::testing::Test::HasFatalFailure()) return;
  for (const std::string& step : spec.setup)
    ASSERT_EQ(shell_in(dir, expand(step, dir, true)), 0) << "setup failed: " << step;
  std::map<std::string, std::string> before;
  for (const std::string& p : spec.unchanged) {
    const std::string path = expand(p, dir, false);
    before[path] = snapshot(path);
  }

  const fs::path out_file = test::temp_path(".stdout"), err_file = test::temp_path(".stderr");
  std::string command = "cd " + test::shell_quote(dir.string()) + " && ";
  if (spec.ulimit_f > 0) command += "ulimit -f " + std::to_string(spec.ulimit_f) + " && ";
  command += "exec env";
  for (const std::string& e : spec.env) command += " " + test::shell_quote(e);
  command += " timeout -k 5 " + std::to_string(spec.timeout) + " " + user +
             test::shell_quote(INCSIM_BINARY) + " " + expand(spec.args, dir, true) + " >" +
             test::shell_quote(out_file.string()) + " 2>" + test::shell_quote(err_file.string()) +
             " </dev/null";
  const int raw = std::system(command.c_str());
  const std::string out = test::read_file(out_file), err = test::read_file(err_file);
  const std::string context = "\ncase: " + c.path.string() + "\n$ incsim " +
                              expand(spec.args, dir, true) + " (in " + dir.string() + ")" +
                              "\n--- stdout:\n" + abbreviated(out) + "\n--- stderr:\n" +
                              abbreviated(err);

  ASSERT_TRUE(raw != -1 && WIFEXITED(raw))
      << "killed by signal " << (WIFSIGNALED(raw) ? WTERMSIG(raw) : -1) << context;
  const int status = WEXITSTATUS(raw);
  EXPECT_TRUE(status != 124) << "timed out after " << spec.timeout << " s (a hang?)" << context;
  EXPECT_TRUE(status < 125) << "ended by a signal (status " << status << ")" << context;
  EXPECT_EQ(status, spec.status) << "exit status" << context;
  const auto contains = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  for (const std::string& s : spec.stderr_has)
    EXPECT_TRUE(contains(err, expand(s, dir, false))) << "expected in stderr: " << s << context;
  for (const std::string& s : spec.stdout_has)
    EXPECT_TRUE(contains(out, expand(s, dir, false))) << "expected in stdout: " << s << context;
  for (const std::string& s : spec.stderr_lacks)
    EXPECT_FALSE(contains(err, expand(s, dir, false)))
        << "not expected in stderr: " << s << context;
  for (const std::string& s : spec.stdout_lacks)
    EXPECT_FALSE(contains(out, expand(s, dir, false)))
        << "not expected in stdout: " << s << context;
  EXPECT_FALSE(contains(err, std::string(1, '\0'))) << "a raw NUL byte on stderr" << context;

  std::error_code ec;
  for (const std::string& p : spec.absent) {
    const std::string path = expand(p, dir, false);
    EXPECT_FALSE(fs::exists(fs::symlink_status(path, ec))) << "left behind: " << path << context;
  }
  for (const std::string& p : spec.exists) {
    const std::string path = expand(p, dir, false);
    EXPECT_TRUE(fs::exists(fs::symlink_status(path, ec))) << "missing: " << path << context;
  }
  for (const auto& [path, was] : before) {
    const std::string now = snapshot(path);
    EXPECT_TRUE(now == was) << "changed: " << path << "\nbefore: " << abbreviated(was, 200)
                            << "\nafter:  " << abbreviated(now, 200) << context;
  }
  for (const std::string& p : spec.no_temporaries) {
    const std::string root = expand(p, dir, false);
    for (const auto& e : fs::recursive_directory_iterator(root, ec))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos)
          << "temporary left behind: " << e.path() << context;
  }
  if (!::testing::Test::HasFailure()) clear_directory(dir);  // kept for a look when failing
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadCliTest, ::testing::ValuesIn(list_cases()),
                         [](const ::testing::TestParamInfo<CliCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(BadCliCorpus, HasAtLeastSixtyCases) {
  EXPECT_GE(list_cases().size(), 60u);
}

}  // namespace
}  // namespace incsim
