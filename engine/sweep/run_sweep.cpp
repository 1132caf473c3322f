// Running a sweep with resume: the sidecar directory OUT.h5.points/ holds a manifest (what
// sweep this is) and one file per finished point, each renamed into place when complete. A
// later run of the same sweep computes only the missing points; a different sweep is refused.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "incsim/version.h"
#include "sweep/internal.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;
using namespace sweep_detail;

// An exclusive flock on OUT.h5.points.lock for as long as a sweep works on OUT.h5's sidecar,
// so a second sweep on the same output is refused instead of deleting the first one's files.
// The lock file is removed while still held; a lock taken on a file that was removed meanwhile
// is retaken on the new one.
class SidecarLock {
 public:
  SidecarLock(std::string path, const std::string& output) : path_(std::move(path)) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ < 0)
        throw std::runtime_error("cannot create the sweep lock " + path_ + ": " +
                                 std::strerror(errno));
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd_);
        fd_ = -1;
        if (error == EWOULDBLOCK)
          throw SweepMismatch("another incsim sweep is writing " + output + " (it holds " + path_ +
                              "); wait for it to finish, or give this sweep another -o");
        throw std::runtime_error("cannot lock " + path_ + ": " + std::strerror(error));
      }
      struct stat held {
      }, named{};
      if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 &&
          held.st_ino == named.st_ino && held.st_dev == named.st_dev)
        return;
      ::close(fd_);  // removed by the sweep that held it before us: lock the new file
      fd_ = -1;
    }
    throw std::runtime_error("cannot lock " + path_ + ": it keeps being replaced");
  }
  ~SidecarLock() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());
    ::close(fd_);
  }
  SidecarLock(const SidecarLock&) = delete;
  SidecarLock& operator=(const SidecarLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

std::string point_name(std::size_t k) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "point-%06zu.h5", k);
  return buffer;
}

// What identifies a sweep: the fields of the manifest, in the order they are checked.
struct Identity {
  std::string incsim_version = INCSIM_VERSION;
  std::string schema_version = INCSIM_SCHEMA_VERSION;
  std::string sweep_file, sweep_fnv1a64;
  std::string base_file, base_fnv1a64;
  std::vector<std::string> overrides;  // command line
  std::string keep;
  std::size_t points = 0;
};

Identity identity_of(const SweepSpec& spec) {
  Identity id;
  id.sweep_file = spec.file;
  id.sweep_fnv1a64 = fingerprint(spec.text);
  id.base_file = spec.base_file;
  id.base_fnv1a64 = fingerprint(spec.base_text);
  for (const Override& o : spec.command_line) id.overrides.push_back(o.path + "=" + o.value);
  id.keep = spec.table_only ? "table" : "all";
  id.points = spec.points.size();
  return id;
}

std::string manifest_text(const Identity& id) {
  YAML::Emitter out;
  out << YAML::Comment("incsim sweep in progress: finished points are point-<k>.h5")
      << YAML::BeginMap << YAML::Key << "incsim_version" << YAML::Value << id.incsim_version
      << YAML::Key << "schema_version" << YAML::Value << id.schema_version << YAML::Key
      << "sweep_file" << YAML::Value << id.sweep_file << YAML::Key << "sweep_fnv1a64" << YAML::Value
      << id.sweep_fnv1a64 << YAML::Key << "base_scenario" << YAML::Value << id.base_file
      << YAML::Key << "base_fnv1a64" << YAML::Value << id.base_fnv1a64 << YAML::Key << "overrides"
      << YAML::Value << YAML::Flow << id.overrides << YAML::Key << "keep" << YAML::Value << id.keep
      << YAML::Key << "points" << YAML::Value << id.points << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

// Reasons why the sidecar's manifest does not describe `now`; empty if it does.
std::vector<std::string> differences(const std::string& manifest_path, const Identity& now) {
  YAML::Node m;
  try {
    m = YAML::LoadFile(manifest_path);
  } catch (const YAML::Exception& e) {
    return {"its manifest " + manifest_path + " cannot be read (" + e.msg + ")"};
  }
  auto text = [&](const char* key) {
    try {
      return m[key] ? m[key].as<std::string>() : std::string("?");
    } catch (const YAML::Exception&) {
      return std::string("?");
    }
  };
  std::vector<std::string> why;
  if (text("incsim_version") != now.incsim_version ||
      text("schema_version") != now.schema_version) {
    why.push_back("it was computed by incsim " + text("incsim_version") + " (output schema " +
                  text("schema_version") + "), this is incsim " + now.incsim_version +
                  " (output schema " + now.schema_version + ")");
  }
  if (text("base_fnv1a64") != now.base_fnv1a64) {  // its text counts, not the path used
    why.push_back("the base scenario " + now.base_file +
                  " differs from the one the sweep was started with (" + text("base_scenario") +
                  ")");
  }
  if (text("sweep_fnv1a64") != now.sweep_fnv1a64) {
    why.push_back("the sweep file " + now.sweep_file + " has changed since it was started");
  }
  std::vector<std::string> overrides;
  try {
    if (m["overrides"]) overrides = m["overrides"].as<std::vector<std::string>>();
  } catch (const YAML::Exception&) {
    overrides = {"?"};
  }
  if (overrides != now.overrides) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const std::string& o : v) {  // appended piecewise: GCC 12's -Wrestrict
        if (!s.empty()) s += ' ';
        s += "--set ";
        s += o;
      }
      return s.empty() ? std::string("none") : s;
    };
    why.push_back("the command-line overrides differ (started with: " + list(overrides) +
                  "; now: " + list(now.overrides) + ")");
  }
  if (text("keep") != now.keep) {
    why.push_back("it was started keeping " + text("keep") + ", this run keeps " + now.keep +
                  " (--table-only)");
  }
  if (text("points") != std::to_string(now.points)) {
    why.push_back("it has " + text("points") + " points, this sweep " + std::to_string(now.points));
  }
  return why;
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + temp.string());
  }
  fs::rename(temp, path);
}

bool process_alive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// Removes "<name>.tmp-<pid>" files left by a killed run: every one in the sidecar, and those of
// `output` whose process is gone.
void remove_stale_temporaries(const fs::path& sidecar, const fs::path& output) {
  std::error_code ec;
  if (fs::is_directory(sidecar, ec)) {
    for (const auto& entry : fs::directory_iterator(sidecar, ec)) {
      if (entry.path().filename().string().find(".tmp-") != std::string::npos)
        fs::remove(entry.path(), ec);
    }
  }
  const fs::path dir = fs::absolute(output).parent_path();
  const std::string prefix = output.filename().string() + ".tmp-";
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (end != nullptr && *end == '\0' && pid != ::getpid() && !process_alive(pid))
      fs::remove(entry.path(), ec);
  }
}

std::size_t count_points(const fs::path& sidecar, std::size_t points) {
  std::size_t found = 0;
  for (std::size_t k = 0; k < points; ++k) found += fs::exists(sidecar / point_name(k));
  return found;
}

// Makes the sidecar ready for `spec`: created with its manifest, or checked against it.
void prepare_sidecar(const fs::path& sidecar, const fs::path& output, const SweepSpec& spec,
                     bool restart) {
  const Identity now = identity_of(spec);
  const fs::path manifest = sidecar / "manifest.yaml";
  if (fs::exists(sidecar) && !fs::is_directory(sidecar)) {
    throw SweepMismatch(sidecar.string() + " exists and is not a directory");
  }
  if (fs::is_directory(sidecar) && !restart) {
    remove_stale_temporaries(sidecar, output);
    if (fs::exists(manifest)) {
      const std::vector<std::string> why = differences(manifest.string(), now);
      if (why.empty()) return;
      std::string message = sidecar.string() + "/ holds " +
                            std::to_string(count_points(sidecar, spec.points.size())) +
                            " finished points of a different sweep: ";
      for (std::size_t i = 0; i < why.size(); ++i) message += (i ? "; " : "") + why[i];
      throw SweepMismatch(message +
                          ". Run again with --restart to discard them and start over, or "
                          "restore what changed to resume.");
    }
    if (!fs::is_empty(sidecar)) {
      throw SweepMismatch(sidecar.string() +
                          "/ has no manifest.yaml, so its points cannot be checked against "
                          "this sweep; run again with --restart to discard it");
    }
  }
  if (restart) fs::remove_all(sidecar);
  remove_stale_temporaries(sidecar, output);
  fs::create_directories(sidecar);
  write_text_atomically(manifest, manifest_text(now));
}

SweepEvent event_of(SweepEvent::Kind kind, std::size_t point) {
  SweepEvent e;
  e.kind = kind;
  e.point = point;
  return e;
}

}  // namespace

std::vector<unsigned char> compute_point_image(const SweepSpec& spec, std::size_t k, int threads) {
  const Scenario scenario =
      load_scenario_text(spec.base_text, spec.base_file, spec.overrides_of(k));
  const Model model = build_model(scenario, threads);
  const RunResults results = run_simulation(model, {threads, nullptr});
  return point_file_image(spec, k, model, results);
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options) {
  const fs::path output(options.output);
  const fs::path sidecar(sweep_sidecar(options.output));
  const SidecarLock lock(sidecar.string() + ".lock", options.output);  // before touching it
  prepare_sidecar(sidecar, output, spec, options.restart);

  SweepSummary summary;
  summary.points = spec.points.size();
  std::vector<std::string> files;
  std::size_t done = 0;
  auto notify = [&](SweepEvent event) {
    event.points = summary.points;
    event.done = done;
    if (options.on_event) options.on_event(event);
  };
  for (std::size_t k = 0; k < summary.points; ++k) {
    const fs::path file = sidecar / point_name(k);
    files.push_back(file.string());
    if (!fs::exists(file)) continue;
    // A file is trusted only if it is this point's: index, overrides and scenario text.
    const Scenario scenario =
        load_scenario_text(spec.base_text, spec.base_file, spec.overrides_of(k));
    const std::string problem = point_file_problem(file.string(), spec, k, scenario.text_as_run);
    if (problem.empty()) {
      ++done;
      ++summary.reused;
      notify(event_of(SweepEvent::reused, k));
      continue;
    }
    fs::remove(file);
    SweepEvent rejected = event_of(SweepEvent::rejected, k);
    rejected.reason = problem;
    rejected.file = file.string();
    notify(rejected);
  }
  if (options.distribute) {
    std::vector<std::size_t> missing;
    for (std::size_t k = 0; k < summary.points; ++k)
      if (!fs::exists(files[k])) missing.push_back(k);
    options.distribute(
        missing, [&](std::size_t k, const std::vector<unsigned char>& image, double seconds) {
          if (k >= summary.points || fs::exists(files[k]))
            throw std::runtime_error("distributed sweep: point " + std::to_string(k + 1) +
                                     " delivered twice or out of range");
          h5::write_text_file(files[k], std::string(image.begin(), image.end()));
          const Scenario scenario =
              load_scenario_text(spec.base_text, spec.base_file, spec.overrides_of(k));
          const std::string problem = point_file_problem(files[k], spec, k, scenario.text_as_run);
          if (!problem.empty()) {
            fs::remove(files[k]);
            throw std::runtime_error("distributed sweep: the file computed for point " +
                                     std::to_string(k + 1) + " is not usable: " + problem);
          }
          ++done;
          ++summary.computed;
          SweepEvent finished = event_of(SweepEvent::finished, k);
          finished.replications = scenario.replications;
          finished.seconds = seconds;
          notify(finished);
        });
  }
  for (std::size_t k = 0; k < summary.points; ++k) {
    if (fs::exists(files[k])) continue;
    if (options.stop != nullptr && options.stop->load()) return summary;
    const Scenario scenario =
        load_scenario_text(spec.base_text, spec.base_file, spec.overrides_of(k));
    SweepEvent start = event_of(SweepEvent::starting, k);
    start.replications = scenario.replications;
    start.households = scenario.population.households;
    start.pilot_replications =
        scenario.choice.rule == ChoiceRule::fixed ? 0 : scenario.choice.pilot_replications;
    if (options.choice_progress != nullptr) options.choice_progress->store(0);
    notify(start);
    const auto began = std::chrono::steady_clock::now();
    const Model model = build_model(scenario, options.threads, options.choice_progress);
    if (options.progress != nullptr) options.progress->store(0);
    SweepEvent simulating = event_of(SweepEvent::simulating, k);
    simulating.replications = scenario.replications;
    notify(simulating);
    const RunResults results = run_simulation(model, {options.threads, options.progress});
    write_point_file(files[k], spec, k, model, results);
    ++done;
    ++summary.computed;
    SweepEvent finished = event_of(SweepEvent::finished, k);
    finished.replications = scenario.replications;
    finished.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    notify(finished);
  }
  if (options.stop != nullptr && options.stop->load() && done < summary.points) return summary;
  assemble_sweep(spec, files, options.output);
  std::error_code ignored;
  fs::remove_all(sidecar, ignored);
  summary.complete = true;
  return summary;
}

}  // namespace incsim
