#pragma once
// Series files in NAB's format: data files (`timestamp,value`) scored by an online detector in
// one streaming pass, and published result files (`timestamp,value,anomaly_score,...`, gzip or
// not). `iotad score-file` and `iotad eval --data` share ScoreSeriesFile.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/detect/detector.h"

namespace iotad::eval {

inline constexpr std::string_view kSeriesCsvHeader = "timestamp,value";
inline constexpr std::string_view kScoredCsvHeader = "timestamp,value,anomaly_score";
/// With explanations: whether the point is flagged at the detector's default sensitivity, the
/// detector (for `default`, the member) that drove the score, the value it expected, the range it
/// would not have flagged, and the explanation's sentence.
inline constexpr std::string_view kExplainedCsvHeader =
    "timestamp,value,anomaly_score,flag,detector,expected,lo,hi,why";

/// One row of a data file with the detector's answer; the texts are the row's own bytes.
struct ScoredRow {
  std::string_view timestamp_text;
  std::string_view value_text;
  TimestampUs ts_us = 0;
  double value = 0;
  detect::Score score;
};
using ScoredRowSink = std::function<Status(const ScoredRow&)>;

/// Streams a `timestamp,value` file through a new detector named `detector`, handing each row to
/// `sink` in file order. An empty value is a missing reading (NaN). Errors name the line.
Status ScoreSeriesFile(const std::string& path, std::string_view detector,
                       const ScoredRowSink& sink);

/// Writes `output` as `timestamp,value,anomaly_score`: one row per input row, timestamp and value
/// copied byte for byte, the score as %.9g. Written aside and renamed, so a failure leaves nothing.
/// `explain`: the columns of kExplainedCsvHeader (numbers as %.9g, empty when undefined; the
/// sentence quoted as CSV quotes).
Status WriteScoredCsv(const std::string& input, const std::string& output,
                      std::string_view detector, bool explain = false);
/// The same, handing each row to `also` as well once it is written (one pass: `iotad eval
/// --write-results` keeps the scores it evaluates). An error from `also` stops it: nothing is left.
Status WriteScoredCsv(const std::string& input, const std::string& output,
                      std::string_view detector, bool explain, const ScoredRowSink& also);

/// The timestamps and anomaly scores of a result file (columns found by name in the header).
struct SeriesScores {
  std::vector<TimestampUs> timestamps;
  std::vector<double> scores;
};
Result<SeriesScores> ReadResultsCsv(const std::string& path);

}  // namespace iotad::eval
