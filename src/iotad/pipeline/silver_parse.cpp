#include "iotad/pipeline/silver_parse.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "iotad/clean/string_dict.h"
#include "iotad/ingest/bronze.h"
#include "iotad/core/log.h"
#include "iotad/core/thread.h"
#include "iotad/parse/recorded_rows.h"
#include "iotad/parse/row_parser.h"

namespace iotad::pipeline::silver {
namespace {

using clean::HourBuffer;
using clean::QuarantineRow;
using parse::RejectReason;

constexpr size_t kUnmapped = static_cast<size_t>(-1);

/// The batch's columns as the files' schemas come in: the lake's roles (what each file is parsed
/// with), the batch's metric and dimension lists, and how each file's columns map onto them. It
/// depends on the schemas alone, in file order, so the reader thread keeps a copy of its own a
/// file ahead of the parse worker's and parses each file with the roles the worker will have.
class BatchColumns {
 public:
  /// Where one file's columns go in the batch's lists.
  struct FileMap {
    std::vector<size_t> metric_map;  // file metric -> batch metric (kUnmapped: see below)
    std::vector<size_t> dim_map;     // file dimension -> batch dimension (kUnmapped: a metric's)
    std::vector<std::pair<size_t, std::string>> dropped;  // file metrics past the cap
    std::vector<std::pair<size_t, size_t>> metric_as_dim;  // file metric -> batch dimension
    bool new_dimension = false;  // the batch gained a dimension with this file
  };

  explicit BatchColumns(const SilverPlan& plan) : max_metric_columns_(plan.max_metric_columns), lake_(plan.previous) {
    for (const auto& m : lake_.metrics) lake_metric_set_.insert(m);
    // Declared dimensions first (each file has them), then the ones the lake found earlier. A
    // declared one the lake already stores as a metric stays a metric until --rebuild.
    for (const auto& d : plan.declared_dimensions) {
      if (lake_metric_set_.count(d) == 0 && !Contains(dim_names_, d)) dim_names_.push_back(d);
    }
    std::vector<std::string> dims = dim_names_;
    for (const auto& d : lake_.dimensions) {
      if (lake_metric_set_.count(d) == 0 && !Contains(dims, d)) dims.push_back(d);
    }
    lake_.dimensions = std::move(dims);
  }

  /// Maps a file's columns onto the batch's (new ones are added, up to the metric cap).
  void Map(const std::vector<std::string>& dims, const std::vector<std::string>& metrics, FileMap& f) {
    f.metric_map.clear();
    f.metric_as_dim.clear();
    f.dim_map.clear();
    f.dropped.clear();
    f.new_dimension = false;
    for (const auto& m : metrics) {
      if (auto d = std::find(dim_names_.begin(), dim_names_.end(), m); d != dim_names_.end()) {
        // A text column of this lake holding numbers in this file: kept as text.
        f.metric_as_dim.emplace_back(f.metric_map.size(), static_cast<size_t>(d - dim_names_.begin()));
        f.metric_map.push_back(kUnmapped);
        continue;
      }
      auto it = std::find(metric_names_.begin(), metric_names_.end(), m);
      if (it == metric_names_.end()) {
        if (lake_metric_set_.count(m) == 0) {
          if (lake_metric_set_.size() >= max_metric_columns_) {
            f.dropped.emplace_back(f.metric_map.size(), m);
            f.metric_map.push_back(kUnmapped);
            continue;
          }
          lake_metric_set_.insert(m);
          lake_.metrics.push_back(m);
        }
        metric_names_.push_back(m);
        it = metric_names_.end() - 1;
      }
      f.metric_map.push_back(static_cast<size_t>(it - metric_names_.begin()));
    }
    for (const auto& d : dims) {
      if (lake_metric_set_.count(d) != 0) {
        f.dim_map.push_back(kUnmapped);  // text in a metric column: per-cell bad_number
        continue;
      }
      auto it = std::find(dim_names_.begin(), dim_names_.end(), d);
      if (it == dim_names_.end()) {
        dim_names_.push_back(d);
        it = dim_names_.end() - 1;
        if (!Contains(lake_.dimensions, d)) lake_.dimensions.push_back(d);
        f.new_dimension = true;
      }
      f.dim_map.push_back(static_cast<size_t>(it - dim_names_.begin()));
    }
  }

  /// Keeps the parser's roles in step with the batch: a column typed by an earlier file keeps
  /// its role in the next one.
  void SyncRoles(parse::ColumnRoles& roles) {
    for (; synced_metrics_ < lake_.metrics.size(); ++synced_metrics_) {
      roles.known_metrics.push_back(lake_.metrics[synced_metrics_]);
    }
    for (; synced_dims_ < lake_.dimensions.size(); ++synced_dims_) {
      if (!Contains(roles.dimension_columns, lake_.dimensions[synced_dims_])) {
        roles.dimension_columns.push_back(lake_.dimensions[synced_dims_]);
      }
    }
  }

  const std::vector<std::string>& dim_names() const { return dim_names_; }
  const std::vector<std::string>& metric_names() const { return metric_names_; }
  const LakeColumns& lake() const { return lake_; }
  size_t max_metric_columns() const { return max_metric_columns_; }

  static bool Contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

 private:
  size_t max_metric_columns_;
  std::vector<std::string> dim_names_;     // the batch's dimensions: the config's, then new ones
  std::vector<std::string> metric_names_;  // the batch's metrics, first-seen order
  LakeColumns lake_;                       // the lake's roles: earlier commits' and this batch's
  std::unordered_set<std::string> lake_metric_set_;
  size_t synced_metrics_ = 0, synced_dims_ = 0;
};

/// Parse worker's local state: receives parsed rows of every new bronze file into per-hour buffers and hands
/// full hours to the writer.
class SilverParser final : public parse::RowSink {
 public:
  SilverParser(const SilverPlan& plan, BufferPool& pool, std::function<void(Task)> emit)
      : pool_(pool),
        columns_(plan),
        max_buffered_rows_(plan.max_buffered_rows),
        per_file_(plan.inputs.size()),
        emit_(std::move(emit)) {}

  void BeginFile(uint32_t source) { source_ = source; }

  /// Maps the file's columns onto the batch's (new ones are added, up to the metric cap).
  void OnSchema(const std::vector<std::string>& dims, const std::vector<std::string>& metrics) override {
    columns_.Map(dims, metrics, file_);
    if (file_.new_dimension) last_dims_.clear();  // its layout depends on the number of dimensions
    file_dims_names_ = dims;
    identity_map_ = file_.metric_as_dim.empty() && file_.dropped.empty();
    for (size_t i = 0; identity_map_ && i < file_.metric_map.size(); ++i) identity_map_ = file_.metric_map[i] == i;
    identity_dims_ = file_.dim_map.size() == columns_.dim_names().size();
    for (size_t i = 0; identity_dims_ && i < file_.dim_map.size(); ++i) identity_dims_ = file_.dim_map[i] == i;
  }

  void OnRow(const parse::ParsedRow& row) override {
    const TimestampUs hour = HourStart(row.ts);
    if (current_ == nullptr || current_->hour_start != hour) {
      auto [it, inserted] = hours_.try_emplace(hour);
      if (inserted) {
        // A buffer for late rows of an hour already handed over stays small: it must not hold
        // a recycled full-hour buffer until the end of the run.
        if (emitted_hours_.count(hour) == 0) pool_.Take(it->second);
        it->second.hour_start = hour;
      }
      current_ = &it->second;
    }
    HourBuffer& b = *current_;
    if (b.metrics.size() < columns_.metric_names().size()) b.EnsureMetrics(columns_.metric_names().size());
    const size_t ndims = columns_.dim_names().size();
    if (b.dims.size() < ndims) b.EnsureDims(ndims);
    const uint32_t device = devices_.Intern(row.device_id);
    b.device.push_back(device);
    b.offset.push_back(static_cast<uint32_t>(row.ts - hour));
    b.source.push_back(source_);
    b.line.push_back(static_cast<uint32_t>(row.line));
    const size_t n = b.device.size() - 1;
    // A device's location rarely changes: compare with its last one before hashing.
    if (last_dims_.size() < (device + 1) * ndims) last_dims_.resize((device + 1) * ndims, 0);
    if (identity_dims_) {
      for (size_t d = 0; d < ndims; ++d) b.dims[d].push_back(DimId(device * ndims + d, row.dimensions[d]));
    } else {
      for (size_t d = 0; d < ndims; ++d) b.dims[d].push_back(0);
      for (size_t i = 0; i < file_.dim_map.size(); ++i) {
        const size_t d = file_.dim_map[i];
        if (d != kUnmapped) {
          b.dims[d][n] = DimId(device * ndims + d, row.dimensions[i]);
        } else if (!row.dimensions[i].empty()) {
          TextInMetric(file_dim_name(i), row, row.dimensions[i]);
        }
      }
    }
    const size_t nm = b.metrics.size();
    if (nm == file_.metric_map.size() && identity_map_) {
      for (size_t m = 0; m < nm; ++m) b.metrics[m].push_back(row.metrics[m]);
    } else {
      for (auto& m : b.metrics) m.push_back(NAN);
      for (size_t i = 0; i < file_.metric_map.size(); ++i) {
        if (file_.metric_map[i] != kUnmapped) b.metrics[file_.metric_map[i]][n] = row.metrics[i];
      }
      if (!identity_map_) UnmappedMetrics(b, n, row);
    }
    ++buffered_;
  }

  void OnReject(RejectReason reason, std::string_view detail, int64_t line, std::string_view raw) override {
    ++per_file_[source_].quarantined;
    ++reasons_[parse::ReasonCode(reason)];
    quarantine_.push_back(clean::RowRecord(reason, std::string(detail), source_, line, std::string(raw)));
  }

  void OnCellReject(RejectReason reason, std::string_view column, std::string_view detail, int64_t line,
                    std::string_view raw) override {
    ++per_file_[source_].cells;
    ++cell_reasons_[parse::ReasonCode(reason)];
    quarantine_.push_back(clean::CellRecord(reason, std::string(column), std::string(detail), source_, line, std::string(raw)));
  }

  void EndFile(int64_t rows) {
    per_file_[source_].rows += rows;
    identity_map_ = false;
    identity_dims_ = false;
  }
  /// Keeps the parser's roles in step with the batch (BatchColumns::SyncRoles).
  void SyncRoles(parse::ColumnRoles& roles) { columns_.SyncRoles(roles); }

  /// Hands hours the input has moved past to the writer, so it starts early: an hour is
  /// complete enough once rows of a newer hour have arrived (the rest of it, late rows, waits in
  /// a small buffer until the end of the run: one late file per hour, not one per input file).
  /// Then, while over the memory bound, the biggest buffers go, whatever their hour.
  void FlushIfOverBudget() {
    if (!hours_.empty()) {
      const TimestampUs newest = hours_.rbegin()->first;
      size_t biggest = 0;
      for (const auto& [hour, b] : hours_) biggest = std::max(biggest, b.size());
      for (auto it = hours_.begin(); it != hours_.end() && it->first + kMicrosPerHour <= newest;) {
        auto next = std::next(it);
        // Small buffers are late rows for hours whose bulk has not come yet, or has gone: they wait.
        if (emitted_hours_.count(it->first) == 0 && it->second.size() * 2 >= biggest) EmitHour(it);
        it = next;
      }
    }
    while (buffered_ > max_buffered_rows_ && !hours_.empty()) {
      auto biggest = hours_.begin();
      for (auto it = hours_.begin(); it != hours_.end(); ++it) {
        if (it->second.size() > biggest->second.size()) biggest = it;
      }
      EmitHour(biggest);
    }
    if (quarantine_.size() > 100'000) EmitQuarantine();
  }
  void FlushAll() {
    while (!hours_.empty()) EmitHour(hours_.begin());
    EmitQuarantine();
  }

  /// A whole-file record: the unreadable part of a bronze object, counted as one quarantined row.
  void QuarantineFileTail(std::string detail, int64_t line, std::string_view tail) {
    ++per_file_[source_].rows;
    ++per_file_[source_].quarantined;
    ++reasons_[parse::ReasonCode(RejectReason::kUnreadableFile)];
    quarantine_.push_back(clean::UnreadableTailRecord(std::move(detail), source_, line, tail));
  }

  const std::vector<FileCounts>& per_file() const { return per_file_; }
  std::map<std::string, int64_t>& reasons() { return reasons_; }
  std::map<std::string, int64_t>& cell_reasons() { return cell_reasons_; }
  const LakeColumns& lake_columns() const { return columns_.lake(); }

 private:
  uint32_t DimId(size_t cache_slot, std::string_view value) {
    uint32_t& cached = last_dims_[cache_slot];
    if (dim_values_.Get(cached) != value) cached = dim_values_.Intern(value);
    return cached;
  }
  const std::string& file_dim_name(size_t i) const { return file_dims_names_[i]; }

  /// Cells of metric columns the batch does not store as metrics (rare): past the cap, they are
  /// per-cell column_limit records; a number in a text column is kept as its text.
  void UnmappedMetrics(HourBuffer& b, size_t n, const parse::ParsedRow& row) {
    for (const auto& [i, name] : file_.dropped) {
      const double v = row.metrics[i];
      if (std::isnan(v)) continue;
      ++per_file_[source_].cells;
      ++cell_reasons_[parse::ReasonCode(RejectReason::kColumnLimit)];
      quarantine_.push_back(clean::CellRecord(RejectReason::kColumnLimit, name,
                                              fmt::format("the lake already has {} metric columns "
                                                          "(silver.max_metric_columns); column '{}' is not stored",
                                                          columns_.max_metric_columns(), name),
                                              source_, row.line, fmt::format("{}", v)));
    }
    for (const auto& [i, d] : file_.metric_as_dim) {
      const double v = row.metrics[i];
      if (!std::isnan(v)) b.dims[d][n] = dim_values_.Intern(fmt::format("{}", v));
    }
  }
  void TextInMetric(const std::string& name, const parse::ParsedRow& row, std::string_view text) {
    ++per_file_[source_].cells;
    ++cell_reasons_[parse::ReasonCode(RejectReason::kBadNumber)];
    quarantine_.push_back(clean::CellRecord(RejectReason::kBadNumber, name,
                                            fmt::format("column '{}' holds numbers in this lake; text is not stored", name),
                                            source_, row.line, std::string(text)));
  }

  void EmitHour(std::map<TimestampUs, HourBuffer>::iterator it) {
    if (!device_snapshot_ || device_snapshot_->size() != devices_.size()) {
      device_snapshot_ = std::make_shared<const std::vector<std::string>>(devices_.Snapshot());
    }
    if (!dim_snapshot_ || dim_snapshot_->size() != dim_values_.size()) {
      dim_snapshot_ = std::make_shared<const std::vector<std::string>>(dim_values_.Snapshot());
    }
    if (!ranks_ || ranks_->size() != device_snapshot_->size()) {
      ranks_ = std::make_shared<const std::vector<uint32_t>>(clean::SortedRanks(*device_snapshot_));
    }
    buffered_ -= it->second.size();
    emitted_hours_.insert(it->first);
    if (current_ == &it->second) current_ = nullptr;
    it->second.EnsureMetrics(columns_.metric_names().size());
    it->second.EnsureDims(columns_.dim_names().size());
    emit_(HourTask{std::move(it->second), device_snapshot_, dim_snapshot_, columns_.dim_names(), columns_.metric_names(), ranks_});
    hours_.erase(it);
  }
  void EmitQuarantine() {
    if (quarantine_.empty()) return;
    emit_(QuarantineTask{std::move(quarantine_)});
    quarantine_.clear();
  }

  BufferPool& pool_;
  BatchColumns columns_;
  // This file's columns -> the batch's (kUnmapped: not stored as such, see UnmappedMetrics).
  BatchColumns::FileMap file_;
  std::vector<std::string> file_dims_names_;
  bool identity_map_ = false;
  bool identity_dims_ = false;
  size_t max_buffered_rows_;
  clean::StringDict devices_;
  clean::StringDict dim_values_;
  std::vector<uint32_t> last_dims_;  // per device and dimension: the last value's id
  Strings device_snapshot_;
  Strings dim_snapshot_;
  std::shared_ptr<const std::vector<uint32_t>> ranks_;  // sorted-order rank of each device id
  std::map<TimestampUs, HourBuffer> hours_;
  std::set<TimestampUs> emitted_hours_;
  HourBuffer* current_ = nullptr;
  size_t buffered_ = 0;
  uint32_t source_ = 0;
  std::vector<QuarantineRow> quarantine_;
  std::map<std::string, int64_t> reasons_;
  std::map<std::string, int64_t> cell_reasons_;
  std::vector<FileCounts> per_file_;
  std::function<void(Task)> emit_;
};

/// A bronze object's bytes, ready to parse: an unreadable object keeps its readable prefix's
/// complete lines, and the rest becomes one quarantined record.
struct BronzeInput {
  std::optional<Status> unreadable;
  std::string tail;  // the unreadable part's first bytes, for the record
};

BronzeInput ReadInput(lake::Lake& lake, const std::string& key, std::string& data, std::string& gunzip_scratch) {
  BronzeInput in;
  if (Status read = ingest::ReadBronzeObject(lake, key, data, gunzip_scratch); !read.ok()) {
    // One unreadable object must not stop the others: its readable prefix (a truncated gzip's
    // complete lines) is parsed, and the rest is one quarantined record naming the error.
    in.unreadable = read;
    // Still compressed bytes (a reader that keeps no decompressed prefix): nothing to parse.
    if (data.compare(0, 2, "\x1f\x8b") == 0) data.clear();
    const size_t complete = data.rfind('\n');
    const size_t keep = complete == std::string::npos ? 0 : complete + 1;
    in.tail.assign(data, keep, clean::kMaxRawBytes);
    data.resize(keep);
  }
  return in;
}

parse::ParseCounts ParseInput(const std::string& key, std::string_view data, const BronzeInput& in,
                              const parse::ColumnRoles& roles, parse::RowSink& sink) {
  if (data.empty() && in.unreadable) return {};
  return *ingest::FormatFromName(key) == ingest::FileFormat::kCsv ? parse::ParseCsv(data, roles, sink)
                                                                  : parse::ParseJsonLines(data, roles, sink);
}

/// What the reader thread hands the parse worker, in file order: a file's start (with the roles
/// it was parsed with), chunks of its recorded rows, its end.
struct ParsedPart {
  enum Kind { kBegin, kRows, kEnd };
  ParsedPart(Kind k, uint32_t s) : kind(k), source(s) {}
  Kind kind;
  uint32_t source;
  std::shared_ptr<const std::string> data;  // what the rows' views point into (kept alive by them)
  parse::RecordedRows rows;                                 // kRows
  std::vector<std::string> known_metrics, dimension_columns;  // kBegin: the roles parsed with
  BronzeInput input;                                        // kEnd
  parse::ParseCounts counts;                                // kEnd
  double cpu_seconds = 0;                                   // kEnd: the reader's, for this file
};

/// Rows per recorded chunk (about 5 MB with a few metrics): the parse worker starts on a file
/// while the reader is still parsing it, and the reader runs at most kPartsAhead chunks ahead.
constexpr size_t kChunkRows = 65536;
constexpr size_t kPartsAhead = 4;

/// The reader thread: reads and parses each bronze file in turn, with the roles the parse worker
/// will have when it gets there (its own BatchColumns, fed the same schemas), and hands the
/// recorded calls on. Closes the queue when done.
void ReadAndParse(lake::Lake& lake, const SilverPlan& plan, BoundedQueue<ParsedPart>& parts,
                  iotad::BufferPool<std::string>& buffers, iotad::BufferPool<parse::RecordedRows>& chunks) {
  BatchColumns columns(plan);
  parse::ColumnRoles roles = plan.roles;
  columns.SyncRoles(roles);
  BatchColumns::FileMap unused;
  std::string gunzip_scratch;
  for (uint32_t s = 0; s < plan.inputs.size(); ++s) {
    const double p0 = ThreadCpuSeconds();
    ParsedPart begin(ParsedPart::kBegin, s);
    begin.known_metrics = roles.known_metrics;
    begin.dimension_columns = roles.dimension_columns;
    if (!parts.Push(std::move(begin))) return;
    // The file's bytes go back to the pool when the last chunk that points into them is done.
    auto bytes = std::make_unique<std::string>();
    buffers.Take(*bytes);
    ParsedPart end(ParsedPart::kEnd, s);
    end.input = ReadInput(lake, plan.inputs[s], *bytes, gunzip_scratch);
    std::shared_ptr<const std::string> data(bytes.release(), [&buffers](const std::string* b) {
      buffers.Put(std::move(*const_cast<std::string*>(b)));
      delete b;
    });
    parse::RowRecorder recorder(*data, kChunkRows, [&](parse::RecordedRows&& rows) {
      ParsedPart part(ParsedPart::kRows, s);
      part.data = data;
      part.rows = std::move(rows);
      parts.Push(std::move(part));
    }, &chunks);
    end.counts = ParseInput(plan.inputs[s], *data, end.input, roles, recorder);
    recorder.Finish();
    for (const auto& [dims, metrics] : recorder.schemas()) columns.Map(dims, metrics, unused);
    columns.SyncRoles(roles);
    end.cpu_seconds = ThreadCpuSeconds() - p0;
    if (!parts.Push(std::move(end))) return;
  }
  parts.Close();
}

}  // namespace

ParseResult ParseBronze(lake::Lake& lake, const SilverPlan& plan, BufferPool& pool,
                        const std::function<void(Task)>& emit) {
  ParseResult out;
  SilverParser parser(plan, pool, emit);
  parse::ColumnRoles roles = plan.roles;
  parser.SyncRoles(roles);
  const auto end_file = [&](const BronzeInput& in, const parse::ParseCounts& counts) {
    if (in.unreadable) {
      parser.QuarantineFileTail(fmt::format("bronze object cannot be read past line {}: {}", counts.physical_lines,
                                            in.unreadable->message()),
                                counts.physical_lines + 1, in.tail);
    }
    parser.EndFile(counts.rows);
    out.totals.zoneless_timestamps += counts.zoneless_timestamps;
    out.totals.rounded_timestamps += counts.rounded_timestamps;
    out.totals.null_cells += counts.null_cells;
    out.totals.replaced_characters += counts.replaced_characters;
    parser.SyncRoles(roles);
  };
  // A file read and parsed on this thread (the reader thread's fallback).
  std::string data, gunzip_scratch;
  const auto parse_here = [&](uint32_t s) {
    const double p0 = ThreadCpuSeconds();
    parser.BeginFile(s);
    const BronzeInput in = ReadInput(lake, plan.inputs[s], data, gunzip_scratch);
    const parse::ParseCounts counts = ParseInput(plan.inputs[s], data, in, roles, parser);
    end_file(in, counts);
    out.cpu_seconds += ThreadCpuSeconds() - p0;
    parser.FlushIfOverBudget();
  };

  // The bronze files are read and parsed on a reader thread while this one files the previous
  // chunk's rows into hour buffers and hands hours to the writer: the two halves of what was
  // silver's one serial chain.
  BoundedQueue<ParsedPart> parts(kPartsAhead);
  iotad::BufferPool<std::string> buffers;
  iotad::BufferPool<parse::RecordedRows> chunks(kPartsAhead + 2);  // replayed chunks, for the reader to refill
  auto reader = StartThread("silver's bronze reader", [&] { ReadAndParse(lake, plan, parts, buffers, chunks); });
  if (!reader.ok()) {
    log::Warn("silver: parsing on one thread", {{"reason", reader.status().message()}});
    for (uint32_t s = 0; s < plan.inputs.size(); ++s) parse_here(s);
  } else {
    bool here = false;  // this file is parsed here: the reader's roles were not this thread's
    while (auto part = parts.Pop()) {
      switch (part->kind) {
        case ParsedPart::kBegin:
          // The reader's roles follow the same schemas through the same BatchColumns, so they
          // agree; were they ever not to, the file is parsed again here with the right ones.
          here = part->known_metrics != roles.known_metrics || part->dimension_columns != roles.dimension_columns;
          if (here) {
            log::Warn("silver: a bronze file is parsed again with the batch's column roles",
                      {{"file", plan.inputs[part->source]}});
            parse_here(part->source);
            ++out.files_parsed_again;
          } else {
            parser.BeginFile(part->source);
          }
          break;
        case ParsedPart::kRows: {
          if (here) break;
          const double p0 = ThreadCpuSeconds();
          part->rows.Replay(parser);
          chunks.Put(std::move(part->rows));
          out.cpu_seconds += ThreadCpuSeconds() - p0;
          break;
        }
        case ParsedPart::kEnd:
          if (here) break;
          end_file(part->input, part->counts);
          out.cpu_seconds += part->cpu_seconds;
          parser.FlushIfOverBudget();
          break;
      }
    }
  }
  parser.FlushAll();
  out.per_file = parser.per_file();
  out.reasons = std::move(parser.reasons());
  out.cell_reasons = std::move(parser.cell_reasons());
  out.lake_columns = parser.lake_columns();
  return out;
}

}  // namespace iotad::pipeline::silver
