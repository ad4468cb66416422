#include "iotad/eval/series_csv.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>

#include "iotad/eval/csv_io.h"

namespace iotad::eval {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

Status LineError(const LineReader& reader, std::string_view what) {
  return Error(Errc::kParse, "'{}' line {}: {}", reader.path(), reader.line_number(), what);
}

/// The header line, BOM removed; an empty file is an error.
Result<std::string_view> ReadHeader(LineReader& reader) {
  IOTAD_ASSIGN_OR_RETURN(std::optional<std::string_view> line, reader.Next());
  if (!line) return Error(Errc::kParse, "'{}' is empty: expected a header line", reader.path());
  if (line->starts_with(kUtf8Bom)) line->remove_prefix(kUtf8Bom.size());
  return *line;
}

Result<TimestampUs> ParseTimestampCell(const LineReader& reader, std::string_view cell) {
  if (const auto ts = ParseTimestamp(cell)) return *ts;
  return LineError(reader, fmt::format("'{}' is not a timestamp", cell));
}

/// Reads a `timestamp,value` row into `row` (texts, time, value).
Status ParseSeriesRow(const LineReader& reader, std::string_view line, ScoredRow& row) {
  std::string_view cells[2];
  if (SplitCsv(line, cells) != 2) {
    return LineError(reader, fmt::format("expected 2 cells (timestamp,value), got '{}'", line));
  }
  row.timestamp_text = cells[0];
  row.value_text = cells[1];
  IOTAD_ASSIGN_OR_RETURN(row.ts_us, ParseTimestampCell(reader, cells[0]));
  if (cells[1].empty()) {
    row.value = std::numeric_limits<double>::quiet_NaN();
    return Status::Ok();
  }
  const std::optional<double> value = ParseDouble(cells[1]);
  if (!value) return LineError(reader, fmt::format("the value '{}' is not a number", cells[1]));
  row.value = *value;
  return Status::Ok();
}

/// A file written aside (`<path>.tmp`) and renamed into place by Commit(); removed otherwise.
class AtomicOutput {
 public:
  static Result<std::unique_ptr<AtomicOutput>> Create(const std::string& path) {
    const std::string tmp = path + ".tmp";
    std::FILE* file = std::fopen(tmp.c_str(), "wb");
    if (file == nullptr) {
      return Error(errno == ENOENT ? Errc::kNotFound : Errc::kIo, "cannot write '{}': {}", path,
                   std::strerror(errno));
    }
    return std::unique_ptr<AtomicOutput>(new AtomicOutput(file, path, tmp));
  }
  ~AtomicOutput() {
    if (file_ != nullptr) {
      std::fclose(file_);
      std::remove(tmp_.c_str());
    }
  }
  std::string& buffer() { return buffer_; }
  Status FlushIfFull() { return buffer_.size() >= kFlushBytes ? Flush() : Status::Ok(); }
  Status Commit() {
    IOTAD_TRY(Flush());
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0 || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::remove(tmp_.c_str());
      return Error(Errc::kIo, "cannot write '{}': {}", path_, std::strerror(errno));
    }
    return Status::Ok();
  }

 private:
  AtomicOutput(std::FILE* file, std::string path, std::string tmp)
      : file_(file), path_(std::move(path)), tmp_(std::move(tmp)) {
    buffer_.reserve(kFlushBytes + 4096);
  }
  Status Flush() {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      return Error(Errc::kIo, "cannot write '{}': {}", path_, std::strerror(errno));
    }
    buffer_.clear();
    return Status::Ok();
  }

  std::FILE* file_;
  std::string path_, tmp_;
  std::string buffer_;
};

/// %.9g, as printf would write it; nothing for NaN (an undefined cell).
void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) return;
  if (std::isinf(v)) {
    out.append(v > 0 ? "inf" : "-inf");
    return;
  }
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, v, std::chars_format::general, 9);
  out.append(text, static_cast<size_t>(end - text));
}

void AppendScoredRow(std::string& out, const ScoredRow& row, bool explain) {
  out.append(row.timestamp_text);
  out.push_back(',');
  out.append(row.value_text);
  out.push_back(',');
  AppendNumber(out, row.score.score);
  if (explain) {
    const detect::Explanation& why = row.score.why;
    out.append(row.score.flag ? ",1," : ",0,");
    out.append(why.detector);
    out.push_back(',');
    AppendNumber(out, why.expected);
    out.push_back(',');
    AppendNumber(out, why.lo);
    out.push_back(',');
    AppendNumber(out, why.hi);
    out.append(",\"");
    for (const char ch : detect::Describe(row.score, row.value)) {
      if (ch == '"') out.push_back('"');  // CSV: a quote inside quotes is doubled
      out.push_back(ch);
    }
    out.push_back('"');
  }
  out.push_back('\n');
}

/// Positions of the named columns in a results header.
struct ResultsColumns {
  size_t timestamp = SIZE_MAX, score = SIZE_MAX, count = 0;
};

Result<ResultsColumns> FindResultsColumns(const LineReader& reader, std::string_view header) {
  ResultsColumns c;
  std::string_view cells[64];
  c.count = SplitCsv(header, cells);
  for (size_t i = 0; i < std::min(c.count, std::size(cells)); ++i) {
    if (cells[i] == "timestamp") c.timestamp = i;
    if (cells[i] == "anomaly_score") c.score = i;
  }
  if (c.timestamp == SIZE_MAX || c.score == SIZE_MAX) {
    return Error(Errc::kParse, "'{}': the header has no timestamp and anomaly_score columns: '{}'",
                 reader.path(), header);
  }
  return c;
}

Status ParseResultsRow(const LineReader& reader, std::string_view line, const ResultsColumns& c,
                       SeriesScores& out) {
  std::string_view cells[64];
  if (SplitCsv(line, cells) != c.count) {
    return LineError(reader, fmt::format("expected {} cells like the header", c.count));
  }
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs ts, ParseTimestampCell(reader, cells[c.timestamp]));
  const std::optional<double> score = ParseDouble(cells[c.score]);
  if (!score) {
    return LineError(reader, fmt::format("the anomaly score '{}' is not a number", cells[c.score]));
  }
  out.timestamps.push_back(ts);
  out.scores.push_back(*score);
  return Status::Ok();
}

}  // namespace

Status ScoreSeriesFile(const std::string& path, std::string_view detector,
                       const ScoredRowSink& sink) {
  IOTAD_ASSIGN_OR_RETURN(auto model,
                         detect::MakeSeriesDetector(detector, detect::DetectorOptions{}));
  IOTAD_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  IOTAD_ASSIGN_OR_RETURN(const std::string_view header, ReadHeader(*reader));
  if (header != kSeriesCsvHeader) {
    return Error(Errc::kParse, "'{}' does not start with the header '{}' (got '{}')", path,
                 kSeriesCsvHeader, header);
  }
  ScoredRow row;
  while (true) {
    IOTAD_ASSIGN_OR_RETURN(const std::optional<std::string_view> line, reader->Next());
    if (!line) return Status::Ok();
    if (line->empty()) continue;
    IOTAD_TRY(ParseSeriesRow(*reader, *line, row));
    row.score = model->Update(row.ts_us, row.value);
    IOTAD_TRY(sink(row));
  }
}

Status WriteScoredCsv(const std::string& input, const std::string& output,
                      std::string_view detector, bool explain) {
  return WriteScoredCsv(input, output, detector, explain, [](const ScoredRow&) { return Status::Ok(); });
}

Status WriteScoredCsv(const std::string& input, const std::string& output,
                      std::string_view detector, bool explain, const ScoredRowSink& also) {
  IOTAD_ASSIGN_OR_RETURN(auto out, AtomicOutput::Create(output));
  out->buffer().append(explain ? kExplainedCsvHeader : kScoredCsvHeader);
  out->buffer().push_back('\n');
  IOTAD_TRY(ScoreSeriesFile(input, detector, [&out, explain, &also](const ScoredRow& row) {
    AppendScoredRow(out->buffer(), row, explain);
    IOTAD_TRY(also(row));
    return out->FlushIfFull();
  }));
  return out->Commit();
}

Result<SeriesScores> ReadResultsCsv(const std::string& path) {
  IOTAD_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  IOTAD_ASSIGN_OR_RETURN(const std::string_view header, ReadHeader(*reader));
  IOTAD_ASSIGN_OR_RETURN(const ResultsColumns columns, FindResultsColumns(*reader, header));
  SeriesScores out;
  while (true) {
    IOTAD_ASSIGN_OR_RETURN(const std::optional<std::string_view> line, reader->Next());
    if (!line) return out;
    if (line->empty()) continue;
    IOTAD_TRY(ParseResultsRow(*reader, *line, columns, out));
  }
}

}  // namespace iotad::eval
