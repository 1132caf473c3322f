# Reads incsim results with R's hdf5r the way README.md shows, and checks the values against
# h5py's (tests/python/r_fixture.py writes the results and expected.csv): a run in both layouts
# of the category coordinates (labels in the dimension scales, schema 2.0; or integer scales with
# the labels in /markets/name, /groups/<grouping>/labels, ..., schema 1.0), one point of a
# sweep, and the sweep table. hdf5r returns every array transposed: a (group, year) dataset is a
# year x group matrix in R.
#
# Usage: Rscript read_result.R FIXTURE_DIR
suppressMessages(library(hdf5r))

args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
expected <- read.csv(file.path(dir, "expected.csv"), stringsAsFactors = FALSE)
passed <- 0
failed <- 0
check <- function(ok, what) {
  if (isTRUE(ok)) {
    passed <<- passed + 1
  } else {
    failed <<- failed + 1
    cat("FAIL:", what, "\n")
  }
}
want <- function(file, key) {
  v <- expected$value[expected$file == file & expected$key == key]
  if (length(v) != 1) stop(paste("no expected value", file, key))
  v
}

# The labels of a category dimension: the scale itself (2.0) or the 1.0 label dataset.
labels_of <- function(g, scale, legacy) {
  v <- g[[scale]]$read()
  if (is.character(v)) v else g[[legacy]]$read()
}

read_run <- function(g) {
  years <- g[["year"]]$read()
  fgt0 <- g[["poverty/fgt0"]]$read()
  # /groups/poor/fgt0 is (group_poor, year) in the file: hdf5r gives year x group
  poor <- g[["groups/poor/fgt0"]]$read()
  dimnames(poor) <- list(year = years, group = labels_of(g, "group_poor", "groups/poor/labels"))
  # /income/quantiles is (year, quantile): quantile x year in R
  q <- g[["income/quantiles"]]$read()
  dimnames(q) <- list(quantile = g[["quantile"]]$read(), year = years)
  # /prices/mean is (year, market): market x year in R
  prices <- g[["prices/mean"]]$read()
  dimnames(prices) <- list(market = labels_of(g, "market", "markets/name"), year = years)
  villages <- g[["groups/village/income_mean"]]$read()
  village_names <- labels_of(g, "group_village", "groups/village/labels")
  dimnames(villages) <- list(year = years, village = village_names)
  list(years = years, fgt0 = fgt0, fgt0_se = g[["poverty/fgt0_se"]]$read(),
       ever_poor = g[["poverty/ever_poor"]]$read(), poor = poor, q = q, prices = prices,
       villages = villages, last_village = village_names[length(village_names)])
}

check_run <- function(r, file) {
  check(r$fgt0[length(r$fgt0)] == want(file, "fgt0_last"), paste(file, "fgt0 last year"))
  check(r$fgt0_se[length(r$fgt0_se)] == want(file, "fgt0_se_last"), paste(file, "fgt0_se"))
  check(r$ever_poor == want(file, "ever_poor"), paste(file, "ever_poor"))
  check(identical(dim(r$poor), as.integer(c(want(file, "years"), want(file, "poor_groups")))),
        paste(file, "groups/poor/fgt0 is not read transposed (year x group):",
              paste(dim(r$poor), collapse = " x ")))
  check(r$poor["2021", "poor"] == want(file, "poor_fgt0_year"), paste(file, "poor fgt0 2021"))
  check(r$q["0.5", "2021"] == want(file, "median_income_year"), paste(file, "median 2021"))
  check(r$prices["crayfish", "2021"] == want(file, "crayfish_price_year"),
        paste(file, "crayfish price 2021"))
  check(r$villages["2021", r$last_village] == want(file, "last_village_income_year"),
        paste(file, "village", r$last_village, "income 2021"))
}

for (name in c("run_integer_scales.h5", "run_string_scales.h5")) {
  f <- H5File$new(file.path(dir, name), mode = "r")
  check(nchar(h5attr(f, "scenario_name")) > 0, paste(name, "scenario_name attribute"))
  check_run(read_run(f), name)
  f$close_all()
}

f <- H5File$new(file.path(dir, "sweep.h5"), mode = "r")
check_run(read_run(f[["points/1"]]), "sweep.h5:points/1")
# /sweep/fgt0_diff is (point, year): year x point in R
diff <- f[["sweep/fgt0_diff"]]$read()
diff_se <- f[["sweep/fgt0_diff_se"]]$read()
last <- nrow(diff)
check(diff[last, 2] == want("sweep.h5", "fgt0_diff_1_last"), "sweep fgt0_diff point 1")
check(diff_se[last, 2] == want("sweep.h5", "fgt0_diff_se_1_last"), "sweep fgt0_diff_se point 1")
check(identical(f[["sweep/markets.crayfish.volatility"]]$read(), c(0.15, 0.35)),
      "sweep parameter values")
f$close_all()

cat(passed, "passed,", failed, "failed\n")
quit(status = if (failed > 0 || passed == 0) 1 else 0)
