#include "iotad/pipeline/silver.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>

#include "iotad/clean/hour_buffer.h"
#include "iotad/clean/string_dict.h"
#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/json.h"
#include "iotad/ingest/bronze.h"
#include "iotad/ingest/row_parser.h"
#include "iotad/lake/parquet_writer.h"

namespace iotad::pipeline {
namespace {

using clean::HourBuffer;
using ingest::RejectReason;

struct QuarantineRow {
  std::string reason;
  std::string detail;
  uint32_t source;
  int64_t line;
  std::string raw;
};

struct FileCounts {
  int64_t rows = 0, stored = 0, quarantined = 0, duplicates = 0;
};

/// Receives parsed rows of every new bronze file and turns them into hour files.
class SilverBuilder final : public ingest::RowSink {
 public:
  SilverBuilder(lake::Lake& lake, lake::DuckSession& session, std::string batch_id,
                std::string staging, std::map<TimestampUs, std::vector<std::string>> existing)
      : lake_(lake),
        session_(session),
        batch_id_(std::move(batch_id)),
        staging_(std::move(staging)),
        existing_(std::move(existing)),
        dim_names_(lake.config().silver.dimension_columns),
        max_buffered_rows_(static_cast<size_t>(lake.config().silver.max_buffered_rows)) {}

  void BeginFile(uint32_t source) { source_ = source; }

  void OnSchema(const std::vector<std::string>& /*dims*/, const std::vector<std::string>& metrics) override {
    file_metric_map_.clear();
    for (const auto& m : metrics) {
      auto it = std::find(metric_names_.begin(), metric_names_.end(), m);
      if (it == metric_names_.end()) {
        metric_names_.push_back(m);
        it = metric_names_.end() - 1;
      }
      file_metric_map_.push_back(static_cast<size_t>(it - metric_names_.begin()));
    }
  }

  void OnRow(const ingest::ParsedRow& row) override {
    const TimestampUs hour = HourStart(row.ts);
    if (current_ == nullptr || current_->hour_start != hour) {
      auto [it, inserted] = hours_.try_emplace(hour);
      if (inserted) {
        it->second.hour_start = hour;
        it->second.dims.resize(dim_names_.size());
      }
      current_ = &it->second;
    }
    HourBuffer& b = *current_;
    b.EnsureMetrics(metric_names_.size());
    const size_t n = b.size();
    b.device.push_back(devices_.Intern(row.device_id));
    b.offset.push_back(static_cast<uint32_t>(row.ts - hour));
    b.source.push_back(source_);
    b.line.push_back(static_cast<uint32_t>(row.line));
    for (size_t d = 0; d < dim_names_.size(); ++d) b.dims[d].push_back(dim_values_.Intern(row.dimensions[d]));
    for (auto& m : b.metrics) m.push_back(NAN);
    for (size_t i = 0; i < file_metric_map_.size(); ++i) b.metrics[file_metric_map_[i]][n] = row.metrics[i];
    ++buffered_;
  }

  void OnReject(RejectReason reason, std::string_view detail, int64_t line, std::string_view raw) override {
    Quarantine(ingest::ReasonCode(reason), std::string(detail), source_, line, std::string(raw));
  }

  void CountRows(uint32_t source, int64_t rows) {
    if (per_file_.size() <= source) per_file_.resize(source + 1);
    per_file_[source].rows += rows;
    acc_.rows += rows;
  }

  /// Flushes the oldest hours while over the memory bound.
  Status FlushIfOverBudget() {
    while (buffered_ > max_buffered_rows_ && !hours_.empty()) IOTAD_TRY(FlushHour(hours_.begin()));
    if (quarantine_.size() > 100'000) IOTAD_TRY(FlushQuarantine());
    return Status::Ok();
  }

  Status FlushAll() {
    while (!hours_.empty()) IOTAD_TRY(FlushHour(hours_.begin()));
    return FlushQuarantine();
  }

  std::vector<std::pair<std::string, std::string>>& moves() { return moves_; }
  RowAccounting& accounting() { return acc_; }
  const std::vector<FileCounts>& per_file() const { return per_file_; }
  int64_t hours_written() const { return static_cast<int64_t>(hours_touched_.size()); }
  int64_t late_rows() const { return late_rows_; }
  void SetSources(std::vector<std::string> sources) { sources_ = std::move(sources); }

 private:
  void Quarantine(std::string reason, std::string detail, uint32_t source, int64_t line, std::string raw) {
    if (per_file_.size() <= source) per_file_.resize(source + 1);
    ++per_file_[source].quarantined;
    ++acc_.quarantined;
    ++acc_.quarantine_reasons[reason];
    quarantine_.push_back({std::move(reason), std::move(detail), source, line, std::move(raw)});
  }

  std::string RowText(const HourBuffer& b, uint32_t i) {
    std::string out;
    AppendTimestamp(out, b.hour_start + b.offset[i]);
    out += ',';
    out += devices_.Get(b.device[i]);
    for (const auto& d : b.dims) {
      out += ',';
      out += dim_values_.Get(d[i]);
    }
    for (const auto& m : b.metrics) {
      out += ',';
      if (!std::isnan(m[i])) out += fmt::format("{}", m[i]);
    }
    return out;
  }

  /// Rows already stored for an hour (earlier runs, or earlier flushes of this run), keyed by
  /// (device id, offset) with their values in our metric order.
  struct ExistingRows {
    std::unordered_map<uint64_t, uint32_t> index;
    std::vector<std::vector<double>> metrics;  // per our metric
    std::vector<std::vector<uint32_t>> dims;
  };

  Status LoadExisting(TimestampUs hour, const std::vector<std::string>& keys, ExistingRows& out) {
    std::vector<std::string> paths;
    for (const auto& k : keys) paths.push_back(lake_.store().ReadPath(k));
    IOTAD_ASSIGN_OR_RETURN(auto result,
                           session_.Stream(fmt::format("SELECT * FROM read_parquet({}, union_by_name = true)",
                                                       lake::SqlList(paths))));
    const size_t ncols = result.ColumnCount();
    int ts_col = -1, dev_col = -1;
    std::vector<int> metric_of(ncols, -1), dim_of(ncols, -1);
    for (size_t c = 0; c < ncols; ++c) {
      const std::string name = result.ColumnName(c);
      if (name == "event_time") ts_col = static_cast<int>(c);
      else if (name == "device_id") dev_col = static_cast<int>(c);
      for (size_t m = 0; m < metric_names_.size(); ++m) {
        if (metric_names_[m] == name) metric_of[c] = static_cast<int>(m);
      }
      for (size_t d = 0; d < dim_names_.size(); ++d) {
        if (dim_names_[d] == name) dim_of[c] = static_cast<int>(d);
      }
    }
    if (ts_col < 0 || dev_col < 0) {
      return Error(Errc::kCorrupt, "silver: hour {} has a file without event_time/device_id", FormatTimestamp(hour));
    }
    out.metrics.assign(metric_names_.size(), {});
    out.dims.assign(dim_names_.size(), {});
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
      if (!chunk) break;
      const size_t n = chunk.size();
      const auto* ts = chunk.Data<int64_t>(static_cast<size_t>(ts_col));
      const auto* dev = chunk.Data<duckdb_string_t>(static_cast<size_t>(dev_col));
      for (size_t r = 0; r < n; ++r) {
        const uint32_t row = static_cast<uint32_t>(out.index.size());
        const uint64_t key = (static_cast<uint64_t>(devices_.Intern(lake::DuckChunk::StringAt(dev, r))) << 32) |
                             static_cast<uint32_t>(ts[r] - hour);
        out.index.emplace(key, row);
      }
      for (size_t c = 0; c < ncols; ++c) {
        const uint64_t* valid = chunk.Validity(c);
        if (metric_of[c] >= 0) {
          const auto* v = chunk.Data<double>(c);
          auto& col = out.metrics[static_cast<size_t>(metric_of[c])];
          for (size_t r = 0; r < n; ++r) col.push_back(lake::DuckChunk::IsValid(valid, r) ? v[r] : NAN);
        } else if (dim_of[c] >= 0) {
          const auto* v = chunk.Data<duckdb_string_t>(c);
          auto& col = out.dims[static_cast<size_t>(dim_of[c])];
          for (size_t r = 0; r < n; ++r) {
            col.push_back(lake::DuckChunk::IsValid(valid, r) ? dim_values_.Intern(lake::DuckChunk::StringAt(v, r)) : 0);
          }
        }
      }
    }
    // Metrics or dimensions the stored files lack read NULL.
    for (auto& col : out.metrics) col.resize(out.index.size(), NAN);
    for (auto& col : out.dims) col.resize(out.index.size(), 0);
    return Status::Ok();
  }

  Status FlushHour(std::map<TimestampUs, HourBuffer>::iterator it) {
    HourBuffer& b = it->second;
    b.EnsureMetrics(metric_names_.size());
    const TimestampUs hour = it->first;
    clean::DedupResult dd = clean::Deduplicate(b, devices_.SortedRanks());
    for (uint32_t i : dd.duplicates) {
      ++per_file_[b.source[i]].duplicates;
      ++acc_.duplicates;
    }
    for (auto [i, kept] : dd.conflicts) {
      Quarantine(ingest::ReasonCode(RejectReason::kConflictingDuplicate),
                 fmt::format("same device and time as line {} of {}, with other values", b.line[kept],
                             sources_[b.source[kept]]),
                 b.source[i], b.line[i], RowText(b, i));
    }
    // Against rows stored earlier for this hour.
    auto& stored_keys = existing_[hour];
    std::vector<uint32_t> keep;
    keep.reserve(dd.keep.size());
    if (!stored_keys.empty()) {
      ExistingRows ex;
      IOTAD_TRY(LoadExisting(hour, stored_keys, ex));
      for (uint32_t i : dd.keep) {
        const uint64_t key = (static_cast<uint64_t>(b.device[i]) << 32) | b.offset[i];
        auto hit = ex.index.find(key);
        if (hit == ex.index.end()) {
          keep.push_back(i);
          continue;
        }
        bool same = true;
        for (size_t m = 0; m < b.metrics.size(); ++m) same = same && clean::SameValue(b.metrics[m][i], ex.metrics[m][hit->second]);
        for (size_t d = 0; d < b.dims.size(); ++d) same = same && b.dims[d][i] == ex.dims[d][hit->second];
        if (same) {
          ++per_file_[b.source[i]].duplicates;
          ++acc_.duplicates;
        } else {
          Quarantine(ingest::ReasonCode(RejectReason::kConflictingDuplicate),
                     "same device and time as a row already in silver, with other values", b.source[i],
                     b.line[i], RowText(b, i));
        }
      }
      late_rows_ += static_cast<int64_t>(keep.size());
    } else {
      keep = std::move(dd.keep);
    }
    if (!keep.empty()) IOTAD_TRY(WriteHour(b, keep, stored_keys));
    buffered_ -= b.size();
    if (current_ == &b) current_ = nullptr;
    hours_.erase(it);
    return Status::Ok();
  }

  Status WriteHour(const HourBuffer& b, const std::vector<uint32_t>& keep, std::vector<std::string>& stored_keys) {
    std::vector<lake::ColumnSpec> cols{{"event_time", DUCKDB_TYPE_TIMESTAMP_TZ}, {"device_id", DUCKDB_TYPE_VARCHAR}};
    for (const auto& d : dim_names_) cols.push_back({d, DUCKDB_TYPE_VARCHAR});
    for (const auto& m : metric_names_) cols.push_back({m, DUCKDB_TYPE_DOUBLE});
    IOTAD_ASSIGN_OR_RETURN(auto writer, lake::ParquetFileWriter::Make(session_, "silver_out", cols,
                                                                        lake_.config().silver.compression));
    auto& app = writer->appender();
    const size_t ndims = dim_names_.size();
    for (size_t start = 0; start < keep.size(); start += lake::ChunkAppender::Capacity()) {
      const size_t n = std::min(lake::ChunkAppender::Capacity(), keep.size() - start);
      auto* ts = app.Column<int64_t>(0);
      for (size_t r = 0; r < n; ++r) {
        const uint32_t i = keep[start + r];
        ts[r] = b.hour_start + b.offset[i];
        app.SetString(1, r, devices_.Get(b.device[i]));
        for (size_t d = 0; d < ndims; ++d) {
          const uint32_t v = b.dims[d][i];
          if (v == 0) app.SetNull(2 + d, r);
          else app.SetString(2 + d, r, dim_values_.Get(v));
        }
      }
      for (size_t m = 0; m < b.metrics.size(); ++m) {
        auto* out = app.Column<double>(2 + ndims + m);
        const auto& col = b.metrics[m];
        for (size_t r = 0; r < n; ++r) {
          const double v = col[keep[start + r]];
          out[r] = v;
          if (std::isnan(v)) app.SetNull(2 + ndims + m, r);
        }
      }
      IOTAD_TRY(writer->CommitChunk(n));
    }
    for (uint32_t i : keep) ++per_file_[b.source[i]].stored;
    acc_.stored += static_cast<int64_t>(keep.size());
    const int k = flush_count_[b.hour_start]++;
    const std::string name = fmt::format("part-{}-{}.parquet", batch_id_, k);
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const auto local = scratch / name;
    IOTAD_TRY(writer->Finish(local));
    const std::string staged = fmt::format("{}silver/{}/{}", staging_, lake::HourPartition(b.hour_start), name);
    const std::string final_key = fmt::format("{}{}/{}", lake::kSilverPrefix, lake::HourPartition(b.hour_start), name);
    IOTAD_TRY(lake_.store().PutFile(staged, local));
    IOTAD_FAULT_POINT("silver.after_hour_file");
    moves_.emplace_back(staged, final_key);
    stored_keys.push_back(staged);  // later flushes of this hour dedup against it
    hours_touched_.insert(b.hour_start);
    return Status::Ok();
  }

  Status FlushQuarantine() {
    if (quarantine_.empty()) return Status::Ok();
    IOTAD_ASSIGN_OR_RETURN(auto writer, lake::ParquetFileWriter::Make(
                                            session_, "quarantine_out",
                                            {{"reason", DUCKDB_TYPE_VARCHAR}, {"detail", DUCKDB_TYPE_VARCHAR},
                                             {"source_file", DUCKDB_TYPE_VARCHAR}, {"line", DUCKDB_TYPE_BIGINT},
                                             {"raw", DUCKDB_TYPE_VARCHAR}},
                                            lake_.config().silver.compression));
    auto& app = writer->appender();
    for (size_t start = 0; start < quarantine_.size(); start += lake::ChunkAppender::Capacity()) {
      const size_t n = std::min(lake::ChunkAppender::Capacity(), quarantine_.size() - start);
      auto* line = app.Column<int64_t>(3);
      for (size_t r = 0; r < n; ++r) {
        const auto& q = quarantine_[start + r];
        app.SetString(0, r, q.reason);
        app.SetString(1, r, q.detail);
        app.SetString(2, r, sources_[q.source]);
        line[r] = q.line;
        app.SetString(4, r, q.raw);
      }
      IOTAD_TRY(writer->CommitChunk(n));
    }
    const std::string name = fmt::format("part-{}-{}.parquet", batch_id_, quarantine_flushes_++);
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const auto local = scratch / name;
    IOTAD_TRY(writer->Finish(local, "source_file, line, reason"));
    const std::string staged = fmt::format("{}quarantine/{}", staging_, name);
    IOTAD_TRY(lake_.store().PutFile(staged, local));
    moves_.emplace_back(staged, fmt::format("{}{}", lake::kQuarantinePrefix, name));
    quarantine_.clear();
    return Status::Ok();
  }

  lake::Lake& lake_;
  lake::DuckSession& session_;
  std::string batch_id_;
  std::string staging_;
  std::map<TimestampUs, std::vector<std::string>> existing_;  // hour -> stored file keys
  std::vector<std::string> dim_names_;
  std::vector<std::string> metric_names_;
  std::vector<size_t> file_metric_map_;
  size_t max_buffered_rows_;
  clean::StringDict devices_;
  clean::StringDict dim_values_;
  std::map<TimestampUs, HourBuffer> hours_;
  HourBuffer* current_ = nullptr;
  size_t buffered_ = 0;
  uint32_t source_ = 0;
  std::vector<std::string> sources_;
  std::vector<QuarantineRow> quarantine_;
  int quarantine_flushes_ = 0;
  std::map<TimestampUs, int> flush_count_;
  std::set<TimestampUs> hours_touched_;
  std::vector<std::pair<std::string, std::string>> moves_;
  std::vector<FileCounts> per_file_;
  RowAccounting acc_;
  int64_t late_rows_ = 0;
};

}  // namespace

std::string AccountingJson(const RowAccounting& a) {
  JsonWriter w;
  w.BeginObject().Key("rows").Int(a.rows).Key("stored").Int(a.stored).Key("quarantined").Int(a.quarantined)
      .Key("duplicates").Int(a.duplicates).Key("quarantine_reasons").BeginObject();
  for (const auto& [reason, n] : a.quarantine_reasons) w.Key(reason).Int(n);
  w.EndObject().EndObject();
  return w.Take();
}

Result<SilverReport> RunSilver(lake::Lake& lake, const SilverOptions& options, const std::string& run_id) {
  const auto t0 = std::chrono::steady_clock::now();
  SilverReport report;
  IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits("silver"));
  std::set<std::string> processed;
  if (!options.rebuild) {
    for (const auto& c : commits) processed.insert(c.inputs.begin(), c.inputs.end());
  }
  IOTAD_ASSIGN_OR_RETURN(auto bronze, lake.store().List(lake::kBronzePrefix));
  std::vector<std::string> todo;
  for (const auto& o : bronze) {
    if (processed.count(o.key) == 0 && ingest::FormatFromName(o.key)) todo.push_back(o.key);
  }
  if (todo.empty() && !options.rebuild) return report;

  std::string joined;
  for (const auto& k : todo) joined += k + "\n";
  const std::string batch_id = HashBytes(joined, options.rebuild ? 0x5eed : 0x10Ad).Hex().substr(0, 16);

  lake::Commit commit;
  commit.stage = "silver";
  commit.run_id = run_id;
  std::map<TimestampUs, std::vector<std::string>> existing;
  IOTAD_ASSIGN_OR_RETURN(auto silver_files, lake.store().List(lake::kSilverPrefix));
  for (const auto& o : silver_files) {
    if (options.rebuild) {
      commit.deletes.push_back(o.key);
    } else if (auto hour = lake::HourFromKey(o.key)) {
      existing[*hour].push_back(o.key);
    }
  }
  if (options.rebuild) {
    IOTAD_ASSIGN_OR_RETURN(auto q_files, lake.store().List(lake::kQuarantinePrefix));
    for (const auto& o : q_files) commit.deletes.push_back(o.key);
  }

  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(/*with_views=*/false));
  SilverBuilder builder(lake, *session, batch_id, lake::Lake::StagingPrefix(run_id), std::move(existing));
  builder.SetSources(todo);
  ingest::ColumnRoles roles;
  roles.time_columns = lake.config().silver.time_columns;
  roles.device_columns = lake.config().silver.device_columns;
  roles.dimension_columns = lake.config().silver.dimension_columns;
  for (uint32_t s = 0; s < todo.size(); ++s) {
    IOTAD_ASSIGN_OR_RETURN(std::string data, ingest::ReadBronzeObject(lake, todo[s]));
    builder.BeginFile(s);
    const auto format = *ingest::FormatFromName(todo[s]);
    const ingest::ParseCounts counts = format == ingest::FileFormat::kCsv
                                           ? ingest::ParseCsv(data, roles, builder)
                                           : ingest::ParseJsonLines(data, roles, builder);
    builder.CountRows(s, counts.rows);
    IOTAD_TRY(builder.FlushIfOverBudget());
  }
  IOTAD_TRY(builder.FlushAll());

  RowAccounting& acc = builder.accounting();
  if (!acc.Balanced()) {
    return Error(Errc::kInternal,
                 "silver: row accounting does not balance ({} rows != {} stored + {} quarantined + {} "
                 "duplicates); nothing was committed",
                 acc.rows, acc.stored, acc.quarantined, acc.duplicates);
  }
  for (const auto& [from, to] : builder.moves()) {
    if (to.compare(0, lake::kSilverPrefix.size(), lake::kSilverPrefix) == 0) ++report.files_written;
  }
  commit.moves = std::move(builder.moves());
  commit.inputs = todo;
  JsonWriter meta;
  meta.BeginObject().Key("batch").String(batch_id).Key("rebuild").Bool(options.rebuild)
      .Key("accounting").Raw(AccountingJson(acc)).Key("files").BeginArray();
  const auto& per_file = builder.per_file();
  for (size_t s = 0; s < todo.size(); ++s) {
    const FileCounts fc = s < per_file.size() ? per_file[s] : FileCounts{};
    meta.BeginObject().Key("key").String(todo[s]).Key("rows").Int(fc.rows).Key("stored").Int(fc.stored)
        .Key("quarantined").Int(fc.quarantined).Key("duplicates").Int(fc.duplicates).EndObject();
  }
  meta.EndArray().EndObject();
  commit.meta_json = meta.Take();
  IOTAD_FAULT_POINT("silver.before_commit");
  IOTAD_ASSIGN_OR_RETURN(report.commit_seq, lake.Publish(std::move(commit)));
  report.bronze_files = static_cast<int64_t>(todo.size());
  report.hours_written = builder.hours_written();
  report.late_rows = builder.late_rows();
  report.accounting = acc;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::pipeline
