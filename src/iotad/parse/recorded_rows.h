#pragma once
// A parse recorded on one thread and handed to a sink on another: RowRecorder is a RowSink that
// keeps every call it gets (schema, rows, rejects, cell rejects) in order, in chunks of a bounded
// number of rows, and RecordedRows::Replay makes the very same calls on another sink later. Silver
// parses bronze files on a reader thread this way while its parse worker files the rows of the
// previous chunk into hour buffers (pipeline/silver_parse.cpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/buffer_pool.h"
#include "iotad/parse/row_parser.h"

namespace iotad::parse {

/// The calls a RowSink got, in order. A row's text views point into the parsed bytes (`data`
/// given to the RowRecorder) when they did, so a recording is valid while those bytes are; text
/// the parser made itself (a quoted cell unescaped into its scratch, a replaced character) and
/// every reject's text are copies owned by the recording.
class RecordedRows {
 public:
  RecordedRows() = default;
  // Move-only: a copy's views would point into the original's text. A move keeps every view
  // valid (owned text lives in heap blocks of its own, which a move hands over).
  RecordedRows(RecordedRows&&) noexcept = default;
  RecordedRows& operator=(RecordedRows&&) noexcept = default;
  RecordedRows(const RecordedRows&) = delete;
  RecordedRows& operator=(const RecordedRows&) = delete;

  /// Makes on `sink` the calls that were recorded, in their order.
  void Replay(RowSink& sink) const;
  size_t rows() const { return ts_.size(); }
  /// Empties it, keeping the columns' capacity (for a BufferPool: refilling warm memory is
  /// cheaper than touching fresh pages).
  void Clear();
  bool empty() const { return ts_.empty() && events_.empty(); }

 private:
  friend class RowRecorder;
  enum class Kind : uint8_t { kSchema, kReject, kCellReject };
  /// A call other than OnRow, made before row `before_row` of this recording.
  struct Event {
    Kind kind = Kind::kSchema;
    RejectReason reason = RejectReason::kBadNumber;
    size_t before_row = 0;
    int64_t line = 0;
    std::string column, detail, raw;                  // rejects
    std::vector<std::string> dimensions, metrics;     // schema
  };
  std::vector<Event> events_;
  // Rows, column by column; each row has as many dimensions and metrics as the schema in force.
  std::vector<TimestampUs> ts_;
  std::vector<int64_t> line_;
  std::vector<std::string_view> device_;
  std::vector<std::string_view> dims_;
  std::vector<double> metrics_;
  // Text not in `data`, one heap block each: a block never moves, so views into it stay valid
  // however the recording is moved (a std::string's short text lives inside the object).
  std::vector<std::unique_ptr<char[]>> owned_;
  // The schema in force where this recording starts (a chunk after the first of a file).
  size_t first_dims_ = 0, first_metrics_ = 0;
};

/// Records what a parser hands its sink. Every `max_rows` rows the recording so far goes to
/// `on_chunk` and a new one starts, so a consumer can start before the file is parsed and memory
/// stays bounded; Finish() hands over the rest.
class RowRecorder final : public RowSink {
 public:
  /// A new chunk is taken from `recycled` when it has one (chunks handed back after replay).
  RowRecorder(std::string_view data, size_t max_rows, std::function<void(RecordedRows&&)> on_chunk,
              BufferPool<RecordedRows>* recycled = nullptr);

  void OnSchema(const std::vector<std::string>& dimension_names, const std::vector<std::string>& metric_names) override;
  void OnRow(const ParsedRow& row) override;
  void OnReject(RejectReason reason, std::string_view detail, int64_t line, std::string_view raw) override;
  void OnCellReject(RejectReason reason, std::string_view column, std::string_view detail, int64_t line,
                    std::string_view raw) override;
  /// Hands over what is left (if anything).
  void Finish();

  /// The last schema seen (what the sink's OnSchema got last); empty names before any.
  const std::vector<std::string>& dimension_names() const { return dims_; }
  const std::vector<std::string>& metric_names() const { return metrics_; }
  /// Every schema seen, in order (a whole-file parse sends one).
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>& schemas() const {
    return schemas_;
  }

 private:
  std::string_view Keep(std::string_view text);
  RecordedRows::Event& NewEvent(RecordedRows::Kind kind);
  void Flush();

  std::string_view data_;
  size_t max_rows_;
  std::function<void(RecordedRows&&)> on_chunk_;
  BufferPool<RecordedRows>* recycled_;
  RecordedRows chunk_;
  std::vector<std::string> dims_, metrics_;
  std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> schemas_;
};

}  // namespace iotad::parse
