// `iotad score-file`: one NAB-format series through an online detector, in one streaming pass.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "iotad/cli/cli.h"
#include "iotad/detect/registry.h"
#include "iotad/eval/series_csv.h"

namespace iotad::cli {
namespace {

struct ScoreFileFlags {
  std::string input;
  std::string output;
  std::string detector = "default";
  bool explain = false;
};

}  // namespace

void RegisterScoreFileCommand(CLI::App& app, GlobalOptions& /*global*/, CommandOutcome& out) {
  CLI::App* sub =
      app.add_subcommand("score-file",
                         "Score a series file (timestamp,value, the Numenta Anomaly Benchmark's "
                         "format) with an online "
                         "detector: writes timestamp,value,anomaly_score, one row per input row");
  auto flags = std::make_shared<ScoreFileFlags>();
  sub->add_option("--input", flags->input,
                  "The series: CSV with the header timestamp,value (.gz too)")
      ->required();
  sub->add_option("--output", flags->output,
                  "Where to write timestamp,value,anomaly_score (timestamp and value copied byte "
                  "for byte; the score in [0, 1) with 9 significant digits)")
      ->required();
  sub->add_option("--detector", flags->detector,
                  fmt::format("Online detector: {}",
                              fmt::join(detect::DetectorNames(detect::DetectorKind::kOnline), ", ")))
      ->capture_default_str();
  sub->add_flag("--explain", flags->explain,
                "Also write flag,detector,expected,lo,hi,why per row: whether the row is flagged at "
                "the default sensitivity, the detector (for default: the member) behind its score, "
                "the value expected, the range it would not have flagged, and the sentence");
  sub->footer(
      "Row i's score depends only on rows up to i: the scores of a file's first rows do not change "
      "when rows are appended. Repeated or earlier timestamps are simply the next observation. Batch "
      "detectors (zscore, robust_zscore) need the whole series first and run in gold only; running_zscore "
      "is zscore without look-ahead.");
  sub->callback([flags, &out] {
    out.status = eval::WriteScoredCsv(flags->input, flags->output, flags->detector, flags->explain)
                     .WithContext("score-file: ");
  });
}

}  // namespace iotad::cli
