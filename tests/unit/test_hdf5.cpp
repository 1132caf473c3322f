// Round trips through the HDF5 wrapper: every numeric rank, compression, strings, attributes,
// nested groups, dimension scales, atomic replacement and error messages.
#include <gtest/gtest.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "incsim/hdf5.h"

namespace fs = std::filesystem;
using namespace incsim::h5;

namespace {

fs::path temp_dir() {
  const char* env = std::getenv("INCSIM_TEST_TMP");
  fs::path dir = env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path();
  fs::create_directories(dir);
  return dir;
}

// A file name unique to this test case and process; removed (with its temporaries) on exit.
class TempPath {
 public:
  explicit TempPath(const std::string& stem) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = (temp_dir() / ("h5_" + std::string(info->name()) + "_" + stem + "_" +
                           std::to_string(::getpid()) + ".h5"))
                .string();
    fs::remove(path_);
  }
  ~TempPath() {
    std::error_code ignored;
    fs::remove(path_, ignored);
    fs::remove(path_ + ".tmp-" + std::to_string(::getpid()), ignored);
  }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<double> iota_doubles(std::size_t n) {
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = 0.5 * static_cast<double>(i) - 3.25;
  return values;
}

// Full round trip of one dataset written with `compression` (default: none).
void check_rank_round_trip(const std::vector<hsize_t>& dims, const Compression& compression) {
  TempPath path("rank" + std::to_string(dims.size()));
  std::size_t count = 1;
  for (hsize_t extent : dims) count *= extent;
  const auto doubles = iota_doubles(count);
  std::vector<std::int64_t> ints(count);
  std::vector<float> floats(count);
  std::vector<std::int32_t> int32s(count);
  std::vector<std::uint8_t> bytes(count);
  for (std::size_t i = 0; i < count; ++i) {
    ints[i] = static_cast<std::int64_t>(i) * 1'000'000'007LL - 5;
    floats[i] = static_cast<float>(doubles[i]);
    int32s[i] = static_cast<std::int32_t>(i) - 7;
    bytes[i] = static_cast<std::uint8_t>(i % 256);
  }
  {
    File file = File::create(path.str());
    Group root = file.root();
    root.write<double>("d", doubles, dims, compression);
    root.write<std::int64_t>("i", ints, dims, compression);
    root.write<float>("f", floats, dims, compression);
    root.write<std::int32_t>("i32", int32s, dims, compression);
    root.write<std::uint8_t>("u8", bytes, dims, compression);
    file.close();
  }
  const File file = File::open_read(path.str());
  std::vector<hsize_t> read_dims{999};
  EXPECT_EQ(read_doubles(file, "/d", &read_dims), doubles);
  EXPECT_EQ(read_dims, dims);
  EXPECT_EQ(read_int64s(file, "/i", &read_dims), ints);
  EXPECT_EQ(read_dims, dims);
  const auto floats_back = read_doubles(file, "/f");  // float32 -> double conversion
  ASSERT_EQ(floats_back.size(), count);
  for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(floats_back[i], double{floats[i]});
  const auto int32s_back = read_int64s(file, "/i32");
  const auto bytes_back = read_doubles(file, "/u8");
  for (std::size_t i = 0; i < count; ++i) {
    EXPECT_EQ(int32s_back[i], int32s[i]);
    EXPECT_EQ(bytes_back[i], bytes[i]);
  }
  // Storage layout: chunked + deflate (+ shuffle) exactly when compression is on.
  const hid_t dataset = H5Dopen2(file.id(), "/d", H5P_DEFAULT);
  ASSERT_GE(dataset, 0);
  const hid_t dcpl = H5Dget_create_plist(dataset);
  const bool expect_chunked = compression.enabled && !dims.empty();
  EXPECT_EQ(H5Pget_layout(dcpl) == H5D_CHUNKED, expect_chunked);
  EXPECT_EQ(H5Pget_nfilters(dcpl), expect_chunked ? (compression.shuffle ? 2 : 1) : 0);
  H5Pclose(dcpl);
  H5Dclose(dataset);
}

}  // namespace

TEST(Hdf5, RoundTripEveryRankUncompressed) {
  for (const auto& dims : std::vector<std::vector<hsize_t>>{{}, {7}, {3, 4}, {2, 3, 5}}) {
    SCOPED_TRACE("rank " + std::to_string(dims.size()));
    check_rank_round_trip(dims, {});
  }
}

TEST(Hdf5, RoundTripEveryRankCompressed) {
  Compression automatic{.enabled = true, .chunk = {}, .gzip_level = 6, .shuffle = true};
  for (const auto& dims : std::vector<std::vector<hsize_t>>{{}, {7}, {3, 4}, {2, 3, 5}}) {
    SCOPED_TRACE("auto chunks, rank " + std::to_string(dims.size()));
    check_rank_round_trip(dims, automatic);
  }
  // Explicit chunks, one larger than the dataset (clipped), and no shuffle.
  check_rank_round_trip({2, 3, 5},
                        {.enabled = true, .chunk = {1, 3, 8}, .gzip_level = 1, .shuffle = false});
}

TEST(Hdf5, ScalarAndEmptyDatasets) {
  TempPath path("scalar");
  {
    File file = File::create(path.str());
    Group root = file.root();
    root.write_scalar<double>("ever_poor", 0.125);
    root.write_scalar<std::int64_t>("count", -42);
    root.write<double>("empty", std::vector<double>{});
    root.write_strings("no_strings", {});
  }
  const File file = File::open_read(path.str());
  std::vector<hsize_t> dims{1, 2};
  EXPECT_EQ(read_doubles(file, "/ever_poor", &dims), std::vector<double>{0.125});
  EXPECT_TRUE(dims.empty());
  EXPECT_EQ(read_int64s(file, "/count"), std::vector<std::int64_t>{-42});
  EXPECT_TRUE(read_doubles(file, "/empty", &dims).empty());
  EXPECT_EQ(dims, std::vector<hsize_t>{0});
  EXPECT_TRUE(read_strings(file, "/no_strings").empty());
}

TEST(Hdf5, LargeCompressedDatasetShrinksAndRoundTrips) {
  TempPath path("paths");
  const std::vector<hsize_t> dims{4, 300, 40};  // (S, H, T) float32 sample paths
  std::vector<float> paths(4 * 300 * 40, 0.0f);
  for (std::size_t i = 0; i < paths.size(); ++i) paths[i] = static_cast<float>(i % 40);
  {
    File file = File::create(path.str());
    file.root().group("paths").write<float>(
        "income", paths, dims, {.enabled = true, .chunk = {1, 300, 40}, .gzip_level = 4});
  }
  EXPECT_LT(fs::file_size(path.str()), paths.size() * sizeof(float) / 4);
  const File file = File::open_read(path.str());
  std::vector<hsize_t> read_dims;
  const auto back = read_doubles(file, "/paths/income", &read_dims);
  EXPECT_EQ(read_dims, dims);
  ASSERT_EQ(back.size(), paths.size());
  for (std::size_t i = 0; i < back.size(); ++i) ASSERT_EQ(back[i], paths[i]) << i;
}

TEST(Hdf5, StringDatasetsRoundTrip) {
  TempPath path("strings");
  const std::vector<std::string> villages{"0", "Xianning 咸宁", "", std::string(300, 'x'),
                                          "tab\tand \"quotes\""};
  {
    File file = File::create(path.str());
    file.root().group("households").write_strings("village", villages);
  }
  const File file = File::open_read(path.str());
  EXPECT_EQ(read_strings(file, "/households/village"), villages);

  // Stored as variable-length UTF-8.
  const hid_t dataset = H5Dopen2(file.id(), "/households/village", H5P_DEFAULT);
  const hid_t type = H5Dget_type(dataset);
  EXPECT_GT(H5Tis_variable_str(type), 0);
  EXPECT_EQ(H5Tget_cset(type), H5T_CSET_UTF8);
  H5Tclose(type);
  H5Dclose(dataset);
}

TEST(Hdf5, ReadsFixedLengthAsciiStrings) {
  TempPath path("fixed");
  {  // A fixed-length, space-padded ASCII dataset as another tool might write it.
    const hid_t file = H5Fcreate(path.str().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 6);
    H5Tset_strpad(type, H5T_STR_SPACEPAD);
    const hsize_t n = 3;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t dataset =
        H5Dcreate2(file, "labels", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char data[] = "poor  other ab    ";
    ASSERT_GE(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
    H5Dclose(dataset);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(file);
  }
  const File file = File::open_read(path.str());
  EXPECT_EQ(read_strings(file, "/labels"), (std::vector<std::string>{"poor", "other", "ab"}));
}

TEST(Hdf5, AttributesRoundTripAndOverwrite) {
  TempPath path("attrs");
  const std::string yaml = "seed: 7\nyears: 10\n# 中文注释\n" + std::string(100000, '#');
  {
    File file = File::create(path.str());
    Group root = file.root();
    root.attr("scenario", yaml)
        .attr("schema_version", "1.0")
        .attr("seed", std::uint64_t{18'000'000'000'000'000'000ULL})
        .attr("replications", std::int64_t{-3})
        .attr("years", 10)  // int: stored as int64
        .attr("discount", 0.97);
    Dataset prices = root.group("prices").write<double>("mean", iota_doubles(6), {3, 2});
    prices.attr("markets", std::vector<std::string>{"rice", "tea"})
        .attr("levels", std::vector<double>{0.05, 0.5, 0.95})
        .attr("counts", std::vector<std::int64_t>{1, -2})
        .attr("none", std::vector<double>{})
        .attr("units", "yuan");
    // Overwrite with a different type and shape.
    prices.attr("units", 2.5).attr("markets", std::vector<std::string>{"a", "b", "c"});
    root.attr("schema_version", "2.0");
  }
  const File file = File::open_read(path.str());
  EXPECT_EQ(read_string_attribute(file, "/", "scenario"), yaml);
  EXPECT_EQ(read_string_attribute(file, "/", "schema_version"), "2.0");
  EXPECT_EQ(read_int64_attribute(file, "/", "replications"), -3);
  EXPECT_EQ(read_int64_attribute(file, "/", "years"), 10);
  EXPECT_EQ(read_double_attribute(file, "/", "discount"), 0.97);
  EXPECT_EQ(read_double_attribute(file, "/prices/mean", "units"), 2.5);
  EXPECT_EQ(read_strings_attribute(file, "/prices/mean", "markets"),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(read_doubles_attribute(file, "/prices/mean", "levels"),
            (std::vector<double>{0.05, 0.5, 0.95}));
  EXPECT_EQ(read_doubles_attribute(file, "/prices/mean", "counts"), (std::vector<double>{1, -2}));
  EXPECT_TRUE(read_doubles_attribute(file, "/prices/mean", "none").empty());

  // The seed keeps all 64 bits as an unsigned attribute.
  const hid_t attribute = H5Aopen_by_name(file.id(), "/", "seed", H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attribute, 0);
  std::uint64_t seed = 0;
  ASSERT_GE(H5Aread(attribute, H5T_NATIVE_UINT64, &seed), 0);
  EXPECT_EQ(seed, 18'000'000'000'000'000'000ULL);
  const hid_t type = H5Aget_type(attribute);
  EXPECT_EQ(H5Tget_sign(type), H5T_SGN_NONE);
  H5Tclose(type);
  H5Aclose(attribute);

  // Scalar string attributes are variable-length UTF-8 with a scalar dataspace.
  const hid_t scenario = H5Aopen_by_name(file.id(), "/", "scenario", H5P_DEFAULT, H5P_DEFAULT);
  const hid_t scenario_type = H5Aget_type(scenario);
  const hid_t scenario_space = H5Aget_space(scenario);
  EXPECT_GT(H5Tis_variable_str(scenario_type), 0);
  EXPECT_EQ(H5Tget_cset(scenario_type), H5T_CSET_UTF8);
  EXPECT_EQ(H5Sget_simple_extent_type(scenario_space), H5S_SCALAR);
  H5Sclose(scenario_space);
  H5Tclose(scenario_type);
  H5Aclose(scenario);
}

TEST(Hdf5, NestedGroups) {
  TempPath path("groups");
  {
    File file = File::create(path.str());
    Group root = file.root();
    Group guard = root.group("insurance/poverty_guard");
    EXPECT_EQ(guard.path(), "/insurance/poverty_guard");
    guard.write<double>("premium", {1.0, 2.0});
    Group again = root.group("insurance").group("poverty_guard");  // opens, not recreates
    EXPECT_TRUE(again.exists("premium"));
    Dataset loss = root.write<double>("insurance/agricultural/loss_ratio", {0.5});
    EXPECT_EQ(loss.path(), "/insurance/agricultural/loss_ratio");
    root.group("a").group("b/c");

    EXPECT_TRUE(root.exists("insurance"));
    EXPECT_TRUE(root.exists("insurance/poverty_guard/premium"));
    EXPECT_TRUE(root.exists("/insurance/agricultural"));
    EXPECT_TRUE(root.exists("a/b/c"));
    EXPECT_FALSE(root.exists("a/x/c"));
    EXPECT_FALSE(root.exists("missing"));
    EXPECT_FALSE(root.exists("insurance/poverty_guard/premium/deeper"));  // through a dataset
    EXPECT_FALSE(root.exists(""));
  }
  const File file = File::open_read(path.str());
  EXPECT_EQ(read_doubles(file, "/insurance/poverty_guard/premium"),
            (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(read_doubles(file, "/insurance/agricultural/loss_ratio"), std::vector<double>{0.5});
}

TEST(Hdf5, DimensionScalesAreAttached) {
  TempPath path("scales");
  {
    File file = File::create(path.str());
    Group root = file.root();
    Dataset year = root.write<std::int64_t>("year", {2019, 2020, 2021}).make_scale();
    Dataset quantile = root.write<double>("quantile", {0.1, 0.5}).make_scale("probability");
    Group income = root.group("income");
    income.write<double>("mean", {1.0, 2.0, 3.0})
        .attach_scale(year, 0)
        .label_dimension(0, "year")
        .attr("units", "yuan/person/year");
    income.write<double>("quantiles", iota_doubles(6), {3, 2})
        .attach_scale(year, 0)
        .attach_scale(quantile, 1);
    // A scale whose length differs from the dimension is refused (netCDF readers need them
    // to agree).
    Dataset mean = income.open_dataset("mean");
    EXPECT_THROW(mean.attach_scale(quantile, 0), H5Error);
    EXPECT_THROW(mean.attach_scale(year, 1), H5Error);
  }
  const File file = File::open_read(path.str());
  const hid_t year = H5Dopen2(file.id(), "/year", H5P_DEFAULT);
  const hid_t quantile = H5Dopen2(file.id(), "/quantile", H5P_DEFAULT);
  const hid_t quantiles = H5Dopen2(file.id(), "/income/quantiles", H5P_DEFAULT);
  const hid_t mean = H5Dopen2(file.id(), "/income/mean", H5P_DEFAULT);
  EXPECT_GT(H5DSis_scale(year), 0);
  EXPECT_GT(H5DSis_attached(quantiles, year, 0), 0);
  EXPECT_GT(H5DSis_attached(quantiles, quantile, 1), 0);
  EXPECT_EQ(H5DSis_attached(quantiles, quantile, 0), 0);
  EXPECT_GT(H5DSis_attached(mean, year, 0), 0);
  EXPECT_EQ(H5DSget_num_scales(mean, 0), 1);
  char name[64] = {};
  ASSERT_GT(H5DSget_scale_name(year, name, sizeof name), 0);
  EXPECT_STREQ(name, "year");
  ASSERT_GT(H5DSget_scale_name(quantile, name, sizeof name), 0);
  EXPECT_STREQ(name, "probability");
  ASSERT_GT(H5DSget_label(mean, 0, name, sizeof name), 0);
  EXPECT_STREQ(name, "year");
  EXPECT_EQ(read_string_attribute(file, "/income/mean", "units"), "yuan/person/year");
  H5Dclose(mean);
  H5Dclose(quantiles);
  H5Dclose(quantile);
  H5Dclose(year);
}

// Writes a small file laid out like MODEL.md section 11 and checks what h5dump (hdf5-tools)
// reports. The file is kept as h5_interop_example.h5 in the test directory for manual checks
// with other readers (h5py, R, netCDF).
TEST(Hdf5, InteropExampleAsSeenByH5dump) {
  const std::string path = (temp_dir() / "h5_interop_example.h5").string();
  {
    AtomicFile out(path);
    Group root = out.file().root();
    root.attr("schema_version", "1").attr("seed", std::uint64_t{42}).attr("years", 3);
    Dataset year =
        root.write<std::int64_t>("year", {2019, 2020, 2021}).make_scale().attr("units", "year");
    Dataset quantile = root.write<double>("quantile", {0.05, 0.5, 0.95}).make_scale();
    Group income = root.group("income");
    income.write<double>("mean", {1.5, 2.5, 3.5})
        .attach_scale(year, 0)
        .label_dimension(0, "year")
        .attr("units", "yuan/person/year")
        .attr("description", "person-weighted mean per-capita net income");
    income.write<double>("quantiles", iota_doubles(9), {3, 3})
        .attach_scale(year, 0)
        .attach_scale(quantile, 1)
        .label_dimension(0, "year")
        .label_dimension(1, "quantile");
    root.group("households").write_strings("village", {"0", "咸宁"});
    out.commit();
  }
  if (std::system("command -v h5dump > /dev/null 2>&1") != 0) GTEST_SKIP() << "no h5dump";
  std::string dump;
  {
    FILE* pipe = ::popen(("h5dump -A '" + path + "' 2>&1").c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) dump += buffer;
    ASSERT_EQ(::pclose(pipe), 0) << dump;
  }
  for (const char* expected :
       {"ATTRIBUTE \"DIMENSION_LIST\"", "(DATASET", "\"/year\"", "\"/quantile\"",
        "ATTRIBUTE \"CLASS\"", "\"DIMENSION_SCALE\"", "ATTRIBUTE \"REFERENCE_LIST\"",
        "CSET H5T_CSET_UTF8", "\"yuan/person/year\"", "H5T_STD_U64LE"}) {
    EXPECT_NE(dump.find(expected), std::string::npos) << "missing " << expected << "\n" << dump;
  }
}

TEST(Hdf5, FileUsesOnlyHdf5_18Formats) {
  TempPath path("libver");
  {
    File file = File::create(path.str());
    file.root().write<double>("x", iota_doubles(100), {10, 10}, {.enabled = true, .chunk = {5, 5}});
  }
  const File file = File::open_read(path.str());
  const hid_t fcpl = H5Fget_create_plist(file.id());
  unsigned superblock = 99, freelist = 0, symbol_table = 0, shared_header = 0;
  ASSERT_GE(H5Pget_version(fcpl, &superblock, &freelist, &symbol_table, &shared_header), 0);
  EXPECT_LE(superblock, 2u);  // superblock v3 is 1.10-only
  H5Pclose(fcpl);
}

TEST(Hdf5, AtomicFileCommitCreatesFinalFile) {
  TempPath path("atomic_commit");
  {
    AtomicFile out(path.str());
    EXPECT_EQ(out.temporary_path(), path.str() + ".tmp-" + std::to_string(::getpid()));
    Group root = out.file().root();  // still alive at commit: strong close handles it
    root.write<double>("x", {1.0, 2.0}).attr("units", "1");
    EXPECT_TRUE(fs::exists(out.temporary_path()));
    EXPECT_FALSE(fs::exists(path.str()));
    out.commit();
    EXPECT_FALSE(fs::exists(out.temporary_path()));
    EXPECT_TRUE(fs::exists(path.str()));
    out.commit();  // idempotent
    // Readable at once, while `root` still exists.
    const File file = File::open_read(path.str());
    EXPECT_EQ(read_doubles(file, "/x"), (std::vector<double>{1.0, 2.0}));
  }
  EXPECT_TRUE(fs::exists(path.str()));
}

TEST(Hdf5, AtomicFileWithoutCommitLeavesNothing) {
  TempPath path("atomic_abandon");
  std::string temporary;
  {
    AtomicFile out(path.str());
    temporary = out.temporary_path();
    out.file().root().write<double>("x", {1.0});
  }
  EXPECT_FALSE(fs::exists(path.str()));
  EXPECT_FALSE(fs::exists(temporary));
}

TEST(Hdf5, AtomicFileLeavesExistingFileAloneUnlessCommitted) {
  TempPath path("atomic_replace");
  { std::ofstream(path.str()) << "previous run"; }
  try {
    AtomicFile out(path.str());
    out.file().root().write<double>("x", {1.0});
    out.file().root().write<double>("x", {2.0});  // throws: name exists
    out.commit();
    FAIL() << "expected H5Error";
  } catch (const H5Error&) {
  }
  EXPECT_EQ(read_text(path.str()), "previous run");
  EXPECT_FALSE(fs::exists(path.str() + ".tmp-" + std::to_string(::getpid())));

  {
    AtomicFile out(path.str());
    out.file().root().write<double>("x", {3.0});
    EXPECT_EQ(read_text(path.str()), "previous run");  // untouched until commit
    out.commit();
  }
  const File file = File::open_read(path.str());
  EXPECT_EQ(read_doubles(file, "/x"), std::vector<double>{3.0});
}

TEST(Hdf5, ErrorsNameThePathAndFile) {
  TempPath path("errors");
  File file = File::create(path.str());
  Group root = file.root();
  Group income = root.group("income");
  income.write<double>("mean", {1.0});
  auto message_of = [](auto&& action) -> std::string {
    try {
      action();
    } catch (const H5Error& error) {
      return error.what();
    }
    return "(no exception)";
  };
  const std::string twice = message_of([&] { income.write<double>("mean", {2.0}); });
  EXPECT_NE(twice.find("HDF5: cannot create dataset /income/mean in " + path.str()),
            std::string::npos)
      << twice;
  const std::string twice_strings = message_of([&] { income.write_strings("mean", {"a"}); });
  EXPECT_NE(twice_strings.find("/income/mean"), std::string::npos) << twice_strings;
  const std::string shape = message_of([&] { root.write<double>("bad", {1.0, 2.0}, {3}); });
  EXPECT_NE(shape.find("/bad"), std::string::npos) << shape;
  EXPECT_NE(shape.find("(3) holds 3 values but 2 were given"), std::string::npos) << shape;
  const std::string group_over_dataset = message_of([&] { income.group("mean"); });
  EXPECT_NE(group_over_dataset.find("/income/mean"), std::string::npos) << group_over_dataset;
  const std::string missing = message_of([&] { income.open_dataset("median"); });
  EXPECT_NE(missing.find("open dataset /income/median in " + path.str()), std::string::npos)
      << missing;
  const std::string chunk = message_of([&] {
    root.write<double>("c", {1.0, 2.0}, {2}, {.enabled = true, .chunk = {1, 1}});
  });
  EXPECT_NE(chunk.find("/c"), std::string::npos) << chunk;
  file.close();
  file.close();  // idempotent

  const std::string no_file =
      message_of([&] { File::open_read((temp_dir() / "does_not_exist.h5").string()); });
  EXPECT_NE(no_file.find("HDF5: cannot open file "), std::string::npos) << no_file;
  EXPECT_NE(no_file.find("does_not_exist.h5"), std::string::npos) << no_file;

  const File reader = File::open_read(path.str());
  const std::string not_text = message_of([&] { read_strings(reader, "/income/mean"); });
  EXPECT_NE(not_text.find("/income/mean"), std::string::npos) << not_text;
  const std::string no_attr =
      message_of([&] { read_double_attribute(reader, "/income/mean", "units"); });
  EXPECT_NE(no_attr.find("attribute units of /income/mean"), std::string::npos) << no_attr;
}

TEST(Hdf5, HandleIsMoveOnlyAndClosesOnce) {
  static_assert(!std::is_copy_constructible_v<Handle>);
  static_assert(std::is_nothrow_move_constructible_v<Handle>);
  Handle a(H5Screate(H5S_SCALAR), H5Sclose, "create dataspace");
  const hid_t id = a.id();
  Handle b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.id(), id);
  Handle c;
  c = std::move(b);
  EXPECT_EQ(c.id(), id);
  EXPECT_GT(H5Iis_valid(id), 0);
  c = Handle();
  EXPECT_LE(H5Iis_valid(id), 0);
  EXPECT_THROW(Handle(-1, H5Sclose, "open nothing"), H5Error);
}
