#include "iotad/parse/recorded_rows.h"

#include <cstring>
#include <functional>

namespace iotad::parse {

void RecordedRows::Replay(RowSink& sink) const {
  size_t nd = first_dims_, nm = first_metrics_;
  size_t d = 0, m = 0;  // where the next row's dimensions and metrics start
  auto event = events_.begin();
  const auto deliver = [&](size_t before_row) {
    for (; event != events_.end() && event->before_row == before_row; ++event) {
      switch (event->kind) {
        case Kind::kSchema:
          sink.OnSchema(event->dimensions, event->metrics);
          nd = event->dimensions.size();
          nm = event->metrics.size();
          break;
        case Kind::kReject:
          sink.OnReject(event->reason, event->detail, event->line, event->raw);
          break;
        case Kind::kCellReject:
          sink.OnCellReject(event->reason, event->column, event->detail, event->line, event->raw);
          break;
      }
    }
  };
  ParsedRow row;
  for (size_t r = 0; r < ts_.size(); ++r) {
    deliver(r);
    row.ts = ts_[r];
    row.device_id = device_[r];
    row.dimensions = dims_.data() + d;
    row.metrics = metrics_.data() + m;
    row.line = line_[r];
    sink.OnRow(row);
    d += nd;
    m += nm;
  }
  deliver(ts_.size());
}

void RecordedRows::Clear() {
  events_.clear();
  ts_.clear();
  line_.clear();
  device_.clear();
  dims_.clear();
  metrics_.clear();
  owned_.clear();
  first_dims_ = first_metrics_ = 0;
}

RowRecorder::RowRecorder(std::string_view data, size_t max_rows, std::function<void(RecordedRows&&)> on_chunk,
                         BufferPool<RecordedRows>* recycled)
    : data_(data), max_rows_(max_rows == 0 ? 1 : max_rows), on_chunk_(std::move(on_chunk)), recycled_(recycled) {
  if (recycled_ != nullptr) recycled_->Take(chunk_);
}

std::string_view RowRecorder::Keep(std::string_view text) {
  if (text.empty()) return {};
  // A view into the parsed bytes stays one (std::less: a total order on unrelated pointers).
  const std::less<const char*> before;
  if (!before(text.data(), data_.data()) && !before(data_.data() + data_.size(), text.data() + text.size())) {
    return text;
  }
  auto& block = chunk_.owned_.emplace_back(std::make_unique_for_overwrite<char[]>(text.size()));
  std::memcpy(block.get(), text.data(), text.size());
  return {block.get(), text.size()};
}

void RowRecorder::OnSchema(const std::vector<std::string>& dimension_names,
                           const std::vector<std::string>& metric_names) {
  dims_ = dimension_names;
  metrics_ = metric_names;
  schemas_.emplace_back(dimension_names, metric_names);
  RecordedRows::Event& e = NewEvent(RecordedRows::Kind::kSchema);
  e.dimensions = dimension_names;
  e.metrics = metric_names;
}

void RowRecorder::OnRow(const ParsedRow& row) {
  chunk_.ts_.push_back(row.ts);
  chunk_.line_.push_back(row.line);
  chunk_.device_.push_back(Keep(row.device_id));
  for (size_t i = 0; i < dims_.size(); ++i) chunk_.dims_.push_back(Keep(row.dimensions[i]));
  chunk_.metrics_.insert(chunk_.metrics_.end(), row.metrics, row.metrics + metrics_.size());
  if (chunk_.ts_.size() >= max_rows_) Flush();
}

void RowRecorder::OnReject(RejectReason reason, std::string_view detail, int64_t line, std::string_view raw) {
  RecordedRows::Event& e = NewEvent(RecordedRows::Kind::kReject);
  e.reason = reason;
  e.line = line;
  e.detail = detail;
  e.raw = raw;
}

void RowRecorder::OnCellReject(RejectReason reason, std::string_view column, std::string_view detail, int64_t line,
                               std::string_view raw) {
  RecordedRows::Event& e = NewEvent(RecordedRows::Kind::kCellReject);
  e.reason = reason;
  e.line = line;
  e.column = column;
  e.detail = detail;
  e.raw = raw;
}

RecordedRows::Event& RowRecorder::NewEvent(RecordedRows::Kind kind) {
  RecordedRows::Event& e = chunk_.events_.emplace_back();
  e.kind = kind;
  e.before_row = chunk_.ts_.size();
  return e;
}

void RowRecorder::Flush() {
  RecordedRows next;
  if (recycled_ != nullptr) recycled_->Take(next);
  next.first_dims_ = dims_.size();
  next.first_metrics_ = metrics_.size();
  // Room for a full chunk, so the next one does not grow its columns from nothing.
  next.ts_.reserve(max_rows_);
  next.line_.reserve(max_rows_);
  next.device_.reserve(max_rows_);
  next.dims_.reserve(max_rows_ * dims_.size());
  next.metrics_.reserve(max_rows_ * metrics_.size());
  std::swap(chunk_, next);
  on_chunk_(std::move(next));
}

void RowRecorder::Finish() {
  if (!chunk_.empty()) Flush();
}

}  // namespace iotad::parse
