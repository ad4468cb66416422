// `iotad generate-series`: labelled univariate series in NAB's layout, for `iotad eval --data`.
#include <cstdio>
#include <memory>
#include <string>

#include "iotad/cli/cli.h"
#include "iotad/gen/series.h"

namespace iotad::cli {
namespace {

struct GenerateSeriesFlags {
  gen::SeriesOptions series;
  std::string families = "counts,percent,sensor,traffic,hourly,latency";
  std::string out_dir;
};

Status RunGenerateSeries(GenerateSeriesFlags& flags, const GlobalOptions& global) {
  IOTAD_ASSIGN_OR_RETURN(flags.series.families, gen::ParseSeriesFamilies(flags.families));
  IOTAD_ASSIGN_OR_RETURN(const gen::SeriesReport report,
                         gen::GenerateSeriesSet(flags.series, flags.out_dir));
  if (!global.quiet) std::printf("%s\n", gen::FormatSeriesSummary(report).c_str());
  return Status::Ok();
}

}  // namespace

void RegisterGenerateSeriesCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  CLI::App* sub = app.add_subcommand(
      "generate-series",
      "Write labelled univariate series in NAB's layout (DIR/data/<family>/<family>_<k>.csv, "
      "DIR/labels/combined_windows.json, combined_labels.json, anomalies.json (each anomaly's "
      "kind and window) and a README of what was injected), for checking a detector on data it "
      "was not tuned on: iotad eval --labels DIR/labels/combined_windows.json --data DIR/data");
  auto flags = std::make_shared<GenerateSeriesFlags>();
  sub->add_option("--out", flags->out_dir, "Folder to write into (created)")->required();
  sub->add_option("--seed", flags->series.seed,
                  "Random seed; the same flags give byte-identical files")
      ->capture_default_str();
  sub->add_option("--families", flags->families,
                  "Comma-separated families: counts (event counts), percent (utilisation, "
                  "clipped), sensor (quantised, irregular clock), traffic (irregular, "
                  "heavy-tailed), hourly (short, lognormal), latency (heavy right tail); also regime (a "
                  "machine switching between setpoints), not written unless named")
      ->capture_default_str();
  sub->add_option("--files-per-family", flags->series.files_per_family,
                  "Files per family (about one in six has no anomaly)")
      ->capture_default_str();
  sub->add_option("--length", flags->series.length,
                  "Each file's rows times this, 1 to 10 (long series: months of readings at the "
                  "family's cadence); 1 writes the same bytes as before")
      ->capture_default_str();
  sub->callback([flags, &global, &out] { out.status = RunGenerateSeries(*flags, global); });
}

}  // namespace iotad::cli
