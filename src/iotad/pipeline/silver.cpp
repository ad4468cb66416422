#include "iotad/pipeline/silver.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <fmt/ranges.h>
#include <simdjson.h>

#include "iotad/clean/hour_buffer.h"
#include "iotad/clean/quarantine.h"
#include "iotad/clean/stored_rows.h"
#include "iotad/clean/string_dict.h"
#include "iotad/core/buffer_pool.h"
#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/thread.h"
#include "iotad/core/json.h"
#include "iotad/core/queue.h"
#include "iotad/ingest/bronze.h"
#include "iotad/parse/row_parser.h"
#include "iotad/lake/migrate.h"
#include "iotad/lake/parquet_writer.h"
#include "iotad/lake/snapshot.h"

namespace iotad::pipeline {
namespace {

/// CPU seconds used so far by the calling thread (wall time would count waiting for the other).
double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

using clean::HourBuffer;
using parse::RejectReason;

using clean::QuarantineRow;

/// Per bronze file. rows == stored + quarantined + duplicates + merged; cells (per-cell
/// quarantine records) are not rows.
struct FileCounts {
  int64_t rows = 0, stored = 0, quarantined = 0, duplicates = 0, merged = 0, cells = 0;
  void Add(const FileCounts& o) {
    rows += o.rows, stored += o.stored, quarantined += o.quarantined, duplicates += o.duplicates;
    merged += o.merged, cells += o.cells;
  }
};

constexpr size_t kUnmapped = static_cast<size_t>(-1);

using Strings = std::shared_ptr<const std::vector<std::string>>;

/// One hour handed from the parse thread to the writer thread, with the names its ids refer to.
struct HourTask {
  HourBuffer buffer;
  Strings devices;
  Strings dim_values;
  std::vector<std::string> dim_names;
  std::vector<std::string> metric_names;
  clean::DedupResult dedup;  // computed on the parse thread, which has time to spare
};
struct QuarantineTask {
  std::vector<QuarantineRow> rows;
};
using Task = std::variant<HourTask, QuarantineTask>;

using TaskQueue = BoundedQueue<Task>;
using BufferPool = iotad::BufferPool<HourBuffer>;

/// Streams the kept rows of one hour into the Parquet writer.
class HourSource final : public lake::ChunkSource {
 public:
  HourSource(const HourTask& task, const std::vector<uint32_t>& keep) : task_(task), keep_(keep) {
    // lake::kSilverColumns (event_time, device_id), then the dimensions, then the metrics.
    columns_ = lake::ColumnSpecs(lake::kSilverColumns);
    for (const auto& d : task.dim_names) columns_.push_back({d, lake::ColumnType::kVarchar});
    for (const auto& m : task.metric_names) columns_.push_back({m, lake::ColumnType::kDouble});
  }
  const std::vector<lake::ColumnSpec>& columns() const override { return columns_; }
  size_t Fill(lake::ChunkFiller& out) override {
    const HourBuffer& b = task_.buffer;
    const size_t n = std::min(lake::ChunkFiller::Capacity(), keep_.size() - pos_);
    const uint32_t* rows = keep_.data() + pos_;
    auto* ts = out.Column<int64_t>(0);
    const auto& devices = *task_.devices;
    for (size_t r = 0; r < n; ++r) {
      ts[r] = b.hour_start + b.offset[rows[r]];
      out.SetString(1, r, devices[b.device[rows[r]]]);
    }
    const size_t ndims = b.dims.size();
    for (size_t d = 0; d < ndims; ++d) {
      const auto& col = b.dims[d];
      for (size_t r = 0; r < n; ++r) {
        const uint32_t v = col[rows[r]];
        if (v == 0) out.SetNull(2 + d, r);
        else out.SetString(2 + d, r, (*task_.dim_values)[v]);
      }
    }
    for (size_t m = 0; m < b.metrics.size(); ++m) {
      double* dst = out.Column<double>(2 + ndims + m);
      const double* col = b.metrics[m].data();
      for (size_t r = 0; r < n; ++r) {
        const double v = col[rows[r]];
        dst[r] = v;
        if (std::isnan(v)) out.SetNull(2 + ndims + m, r);
      }
    }
    pos_ += n;
    return n;
  }

 private:
  const HourTask& task_;
  const std::vector<uint32_t>& keep_;
  std::vector<lake::ColumnSpec> columns_;
  size_t pos_ = 0;
};

class QuarantineSource final : public lake::ChunkSource {
 public:
  QuarantineSource(const std::vector<QuarantineRow>& rows, const std::vector<std::string>& sources)
      : rows_(rows), sources_(sources) {}
  const std::vector<lake::ColumnSpec>& columns() const override {
    static const std::vector<lake::ColumnSpec> kColumns = lake::ColumnSpecs(lake::kQuarantineColumns);
    return kColumns;
  }
  size_t Fill(lake::ChunkFiller& out) override {
    const size_t n = std::min(lake::ChunkFiller::Capacity(), rows_.size() - pos_);
    auto* line = out.Column<int64_t>(4);
    for (size_t r = 0; r < n; ++r) {
      const auto& q = rows_[pos_ + r];
      out.SetString(0, r, q.reason);
      if (q.column.empty()) out.SetNull(1, r);
      else out.SetString(1, r, q.column);
      out.SetString(2, r, q.detail);
      out.SetString(3, r, sources_[q.source]);
      line[r] = q.line;
      out.SetString(5, r, q.raw);
    }
    pos_ += n;
    return n;
  }

 private:
  const std::vector<QuarantineRow>& rows_;
  const std::vector<std::string>& sources_;
  size_t pos_ = 0;
};

/// A local scratch file's name: layer, hour and the object's own name, so no two objects of a
/// run can share one, whichever order they are written in (a name clash is impossible by
/// construction, not by the writer being single-threaded).
std::string ScratchName(std::string_view layer, TimestampUs hour, std::string_view name) {
  std::string part = lake::HourPartition(hour);
  std::replace(part.begin(), part.end(), '/', '-');
  return fmt::format("{}-{}-{}", layer, part, name);
}

/// Writer thread: dedups each hour against itself and against rows already stored, streams it
/// to Parquet in staging, and keeps the moves for the commit. Owns the DuckDB session.
class SilverWriter {
 public:
  SilverWriter(lake::Lake& lake, lake::DuckSession& session, std::string batch_id, std::string staging,
               std::map<TimestampUs, std::vector<std::string>> existing, const std::vector<std::string>& sources)
      : lake_(lake),
        session_(session),
        batch_id_(std::move(batch_id)),
        staging_(std::move(staging)),
        stored_(std::move(existing)),
        sources_(sources),
        per_file_(sources.size()) {}

  Status Handle(Task& task, BufferPool& pool) {
    if (auto* q = std::get_if<QuarantineTask>(&task)) {
      for (auto& row : q->rows) quarantine_.push_back(std::move(row));
      return quarantine_.size() > 100'000 ? FlushQuarantine() : Status::Ok();
    }
    auto& hour = std::get<HourTask>(task);
    Status st = FlushHour(hour);
    pool.Put(std::move(hour.buffer));
    return st;
  }
  Status Finish() { return FlushQuarantine(); }

  std::vector<std::pair<std::string, std::string>>& moves() { return moves_; }
  std::vector<std::string>& deletes() { return deletes_; }
  const std::vector<FileCounts>& per_file() const { return per_file_; }
  int64_t late_rows() const { return late_rows_; }
  int64_t hours_written() const { return static_cast<int64_t>(hours_touched_.size()); }
  std::map<std::string, int64_t>& reasons() { return reasons_; }

 private:
  void Quarantine(QuarantineRow row) {
    ++per_file_[row.source].quarantined;
    ++reasons_[row.reason];
    quarantine_.push_back(std::move(row));
  }

  /// Keys (device id in the task's numbering, offset) of rows already stored for this hour,
  /// sorted. Reads only two columns.
  Result<std::vector<uint64_t>> StoredKeys(const HourTask& t, const std::vector<std::string>& keys,
                                           const std::unordered_map<std::string_view, uint32_t>& device_ids) {
    const std::vector<std::string> paths = lake_.ReadPaths(keys);
    IOTAD_ASSIGN_OR_RETURN(auto result, session_.Query(fmt::format(
                                            "SELECT event_time, device_id FROM read_parquet({})", lake::SqlList(paths))));
    std::vector<uint64_t> out;
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
      if (!chunk) break;
      const auto* ts = chunk.Data<int64_t>(0);
      const auto* dev = chunk.Data<duckdb_string_t>(1);
      for (size_t r = 0; r < chunk.size(); ++r) {
        auto it = device_ids.find(lake::DuckChunk::StringAt(dev, r));
        if (it == device_ids.end()) continue;  // a device this batch does not have: no collision
        out.push_back(clean::RowKey(it->second, static_cast<uint32_t>(ts[r] - t.buffer.hour_start)));
      }
    }
    clean::RadixSort(out);
    return out;
  }

  /// Full stored rows for the colliding keys in `out` (rare: duplicates across flushes or runs).
  Status StoredRows(const HourTask& t, const std::vector<std::string>& keys,
                    const std::unordered_map<std::string_view, uint32_t>& device_ids,
                    std::unordered_map<uint64_t, clean::StoredRow>& out) {
    const std::vector<std::string> paths = lake_.ReadPaths(keys);
    std::set<std::string> wanted_devices;
    for (const auto& [key, unused] : out) wanted_devices.insert((*t.devices)[key >> 32]);
    IOTAD_ASSIGN_OR_RETURN(
        auto result,
        session_.Stream(fmt::format("SELECT * FROM read_parquet({}, union_by_name = true) WHERE device_id IN ({})",
                                    lake::SqlList(paths),
                                    fmt::join(std::vector<std::string>(wanted_devices.begin(), wanted_devices.end()) |
                                                  std::views::transform([](const std::string& d) { return lake::SqlQuote(d); }),
                                              ", "))));
    const size_t ncols = result.ColumnCount();
    int ts_col = -1, dev_col = -1;
    std::vector<int> metric_of(ncols, -1), dim_of(ncols, -1);
    for (size_t c = 0; c < ncols; ++c) {
      const std::string name = result.ColumnName(c);
      if (name == "event_time") ts_col = static_cast<int>(c);
      if (name == "device_id") dev_col = static_cast<int>(c);
      for (size_t m = 0; m < t.metric_names.size(); ++m) {
        if (name == t.metric_names[m]) metric_of[c] = static_cast<int>(m);
      }
      for (size_t d = 0; d < t.dim_names.size(); ++d) {
        if (name == t.dim_names[d]) dim_of[c] = static_cast<int>(d);
      }
    }
    if (ts_col < 0 || dev_col < 0) return Error(Errc::kCorrupt, "silver: a stored file lacks event_time/device_id");
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
      if (!chunk) break;
      const auto* ts = chunk.Data<int64_t>(static_cast<size_t>(ts_col));
      const auto* dev = chunk.Data<duckdb_string_t>(static_cast<size_t>(dev_col));
      for (size_t r = 0; r < chunk.size(); ++r) {
        auto it = device_ids.find(lake::DuckChunk::StringAt(dev, r));
        if (it == device_ids.end()) continue;
        const uint64_t key = clean::RowKey(it->second, static_cast<uint32_t>(ts[r] - t.buffer.hour_start));
        auto hit = out.find(key);
        if (hit == out.end()) continue;
        auto& [metrics, dims] = hit->second;
        metrics.assign(t.metric_names.size(), NAN);
        dims.assign(t.dim_names.size(), "");
        for (size_t c = 0; c < ncols; ++c) {
          if (!lake::DuckChunk::IsValid(chunk.Validity(c), r)) continue;
          if (metric_of[c] >= 0) metrics[static_cast<size_t>(metric_of[c])] = chunk.Data<double>(c)[r];
          if (dim_of[c] >= 0) dims[static_cast<size_t>(dim_of[c])] = lake::DuckChunk::StringAt(chunk.Data<duckdb_string_t>(c), r);
        }
      }
    }
    return Status::Ok();
  }

  Status FlushHour(HourTask& t) {
    HourBuffer& b = t.buffer;
    const TimestampUs hour = b.hour_start;
    clean::DedupResult& dd = t.dedup;
    for (uint32_t i : dd.duplicates) ++per_file_[b.source[i]].duplicates;
    for (uint32_t i : dd.merged) ++per_file_[b.source[i]].merged;
    for (auto [i, kept] : dd.conflicts) {
      Quarantine(clean::BatchConflictRecord(b, i, kept, sources_, *t.devices, *t.dim_values));
    }
    std::vector<uint32_t> keep;
    if (!stored_.HasRows(hour)) {
      keep = std::move(dd.keep);
    } else {
      // Late rows: this hour already has files (earlier runs or earlier flushes of this one).
      // Keys this run wrote are cached; only files without cached keys are read.
      std::unordered_map<std::string_view, uint32_t> device_ids;
      for (uint32_t id = 1; id < t.devices->size(); ++id) device_ids.emplace((*t.devices)[id], id);
      std::vector<uint64_t> read_back;
      if (const auto& unread = stored_.Unread(hour); !unread.empty()) {
        IOTAD_ASSIGN_OR_RETURN(read_back, StoredKeys(t, unread, device_ids));
      }
      clean::LateSplit split = clean::SplitLateRows(b, dd.keep, stored_.Keys(hour, std::move(read_back)));
      keep = std::move(split.fresh);
      if (!split.colliding.empty()) {
        std::unordered_map<uint64_t, clean::StoredRow> rows;
        for (uint32_t i : split.colliding) rows[clean::RowKey(b, i)];
        IOTAD_TRY(StoredRows(t, stored_.Files(hour), device_ids, rows));
        std::vector<uint32_t> merging;
        for (uint32_t i : split.colliding) {
          switch (clean::MatchStored(b, i, *t.dim_values, rows[clean::RowKey(b, i)])) {
            case clean::StoredMatch::kDuplicate:
              ++per_file_[b.source[i]].duplicates;
              break;
            case clean::StoredMatch::kMerge:
              merging.push_back(i);
              break;
            case clean::StoredMatch::kConflict:
              Quarantine(clean::StoredConflictRecord(b, i, *t.devices, *t.dim_values));
              break;
          }
        }
        if (!merging.empty()) IOTAD_TRY(MergeIntoStored(t, merging));
      }
      late_rows_ += static_cast<int64_t>(keep.size());
    }
    if (keep.empty()) return Status::Ok();
    for (uint32_t i : keep) ++per_file_[b.source[i]].stored;
    const int k = flush_count_[hour]++;
    const std::string name = fmt::format("part-{}-{}.parquet", batch_id_, k);
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const auto local = scratch / ScratchName("silver", hour, name);
    HourSource source(t, keep);
    IOTAD_TRY(lake::WriteParquet(session_, source, local, lake_.config().silver.compression));
    const std::string part = lake::HourPartition(hour);
    const std::string staged = fmt::format("{}silver/{}/{}", staging_, part, name);
    IOTAD_TRY(lake_.store().PutFile(staged, local));
    IOTAD_FAULT_POINT("silver.after_hour_file");
    moves_.emplace_back(staged, fmt::format("{}{}/{}", lake::kSilverPrefix, part, name));
    stored_.AddWritten(hour, staged, b, keep);  // later flushes of this hour dedup against it
    hours_touched_.insert(hour);
    return Status::Ok();
  }

  /// Late partial rows that add values to rows already stored (earlier flushes or runs): each
  /// stored file holding such a row is rewritten with the values filled in (a new file; the old
  /// one is deleted in the same commit, or dropped from staging when this run wrote it).
  Status MergeIntoStored(HourTask& t, const std::vector<uint32_t>& merging) {
    const TimestampUs hour = t.buffer.hour_start;
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const int k0 = flush_count_[hour]++;
    const auto rows_file = scratch / ScratchName("merge", hour, fmt::format("part-{}-{}.parquet", batch_id_, k0));
    HourSource source(t, merging);
    IOTAD_TRY(lake::WriteParquet(session_, source, rows_file, lake_.config().silver.compression));
    const std::string rows_sql = fmt::format("read_parquet({}, hive_partitioning = false)", lake::SqlQuote(rows_file.string()));
    auto columns = [&](const std::string& from) -> Result<std::vector<std::string>> {
      IOTAD_ASSIGN_OR_RETURN(auto r, session_.Query(fmt::format("SELECT * FROM {} LIMIT 0", from)));
      std::vector<std::string> names;
      for (size_t c = 0; c < r.ColumnCount(); ++c) names.push_back(r.ColumnName(c));
      return names;
    };
    IOTAD_ASSIGN_OR_RETURN(const auto new_columns, columns(rows_sql));
    const std::vector<std::string> stored = stored_.Files(hour);
    for (const std::string& old_key : stored) {
      const std::string old_sql =
          fmt::format("read_parquet({}, hive_partitioning = false)", lake::SqlQuote(lake_.ReadPaths({old_key})[0]));
      IOTAD_ASSIGN_OR_RETURN(int64_t hits, session_.QueryInt(fmt::format(
                                               "SELECT count(*) FROM {} o JOIN {} n ON o.device_id = n.device_id AND "
                                               "o.event_time = n.event_time",
                                               old_sql, rows_sql)));
      if (hits == 0) continue;
      IOTAD_ASSIGN_OR_RETURN(const auto old_columns, columns(old_sql));
      std::string select;
      for (const auto& c : old_columns) {
        const std::string q = lake::SqlIdent(c);
        const bool shared = c != "event_time" && c != "device_id" &&
                            std::find(new_columns.begin(), new_columns.end(), c) != new_columns.end();
        select += fmt::format("{}{}", select.empty() ? "" : ", ",
                              shared ? fmt::format("coalesce(o.{0}, n.{0}) AS {0}", q) : "o." + q);
      }
      for (const auto& c : new_columns) {
        if (std::find(old_columns.begin(), old_columns.end(), c) == old_columns.end()) {
          select += ", n." + lake::SqlIdent(c);
        }
      }
      const std::string name = fmt::format("part-{}-{}.parquet", batch_id_, flush_count_[hour]++);
      const auto local = scratch / ScratchName("silver", hour, name);
      IOTAD_TRY(session_.Exec(fmt::format(
          "COPY (SELECT {} FROM {} o LEFT JOIN {} n ON o.device_id = n.device_id AND o.event_time = n.event_time "
          "ORDER BY o.device_id, o.event_time) TO {} (FORMAT parquet, COMPRESSION {})",
          select, old_sql, rows_sql, lake::SqlQuote(local.string()), lake_.config().silver.compression)));
      const std::string part = lake::HourPartition(hour);
      const std::string staged = fmt::format("{}silver/{}/{}", staging_, part, name);
      IOTAD_TRY(lake_.store().PutFile(staged, local));
      moves_.emplace_back(staged, fmt::format("{}{}/{}", lake::kSilverPrefix, part, name));
      if (old_key.compare(0, staging_.size(), staging_) == 0) {
        std::erase_if(moves_, [&](const auto& move) { return move.first == old_key; });
        IOTAD_TRY(lake_.store().Delete(old_key));
      } else {
        deletes_.push_back(old_key);
      }
      stored_.Replace(hour, old_key, staged);
    }
    std::error_code ec;
    std::filesystem::remove(rows_file, ec);
    for (uint32_t i : merging) ++per_file_[t.buffer.source[i]].merged;
    hours_touched_.insert(hour);
    return Status::Ok();
  }

  Status FlushQuarantine() {
    if (quarantine_.empty()) return Status::Ok();
    clean::SortRecords(quarantine_);
    const std::string name = fmt::format("part-{}-{}.parquet", batch_id_, quarantine_flushes_++);
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const auto local = scratch / fmt::format("quarantine-{}", name);
    QuarantineSource source(quarantine_, sources_);
    IOTAD_TRY(lake::WriteParquet(session_, source, local, lake_.config().silver.compression));
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
  clean::StoredHours stored_;  // hour -> stored files, and the keys this run wrote
  const std::vector<std::string>& sources_;
  std::vector<FileCounts> per_file_;
  std::vector<QuarantineRow> quarantine_;
  std::map<std::string, int64_t> reasons_;
  int quarantine_flushes_ = 0;
  std::map<TimestampUs, int> flush_count_;
  std::set<TimestampUs> hours_touched_;
  std::vector<std::pair<std::string, std::string>> moves_;
  std::vector<std::string> deletes_;  // committed files replaced by a rewrite (late partial rows)
  int64_t late_rows_ = 0;
};

/// The lake's columns and their roles, in first-seen order. A column keeps its role for the life
/// of the lake (until `--rebuild`), so every silver file types it the same way and the
/// union_by_name views never see DOUBLE and VARCHAR for one name. Stored in each silver commit.
struct LakeColumns {
  std::vector<std::string> metrics;
  std::vector<std::string> dimensions;
};

/// Parse thread: receives parsed rows of every new bronze file into per-hour buffers and hands
/// full hours to the writer.
class SilverParser final : public parse::RowSink {
 public:
  SilverParser(const config::SilverConfig& config, LakeColumns lake_columns, size_t num_sources, BufferPool& pool,
               std::function<void(Task)> emit)
      : pool_(pool),
        max_metric_columns_(static_cast<size_t>(std::max<int64_t>(1, config.max_metric_columns))),
        max_buffered_rows_(static_cast<size_t>(config.max_buffered_rows)),
        lake_(std::move(lake_columns)),
        per_file_(num_sources),
        emit_(std::move(emit)) {
    for (const auto& m : lake_.metrics) lake_metric_set_.insert(m);
    // Declared dimensions first (each file has them), then the ones the lake found earlier. A
    // declared one the lake already stores as a metric stays a metric until --rebuild.
    for (const auto& d : config.dimension_columns) {
      if (lake_metric_set_.count(d) == 0 && !Contains(dim_names_, d)) dim_names_.push_back(d);
    }
    std::vector<std::string> dims = dim_names_;
    for (const auto& d : lake_.dimensions) {
      if (lake_metric_set_.count(d) == 0 && !Contains(dims, d)) dims.push_back(d);
    }
    lake_.dimensions = std::move(dims);
  }

  void BeginFile(uint32_t source) { source_ = source; }

  /// Maps the file's columns onto the batch's (new ones are added, up to the metric cap).
  void OnSchema(const std::vector<std::string>& dims, const std::vector<std::string>& metrics) override {
    file_metric_map_.clear();
    file_metric_as_dim_.clear();
    file_dim_map_.clear();
    dropped_metric_names_.clear();
    file_dims_names_ = dims;
    for (const auto& m : metrics) {
      if (auto d = std::find(dim_names_.begin(), dim_names_.end(), m); d != dim_names_.end()) {
        // A text column of this lake holding numbers in this file: kept as text.
        file_metric_as_dim_.emplace_back(file_metric_map_.size(), static_cast<size_t>(d - dim_names_.begin()));
        file_metric_map_.push_back(kUnmapped);
        continue;
      }
      auto it = std::find(metric_names_.begin(), metric_names_.end(), m);
      if (it == metric_names_.end()) {
        if (lake_metric_set_.count(m) == 0) {
          if (lake_metric_set_.size() >= max_metric_columns_) {
            dropped_metric_names_.emplace_back(file_metric_map_.size(), m);
            file_metric_map_.push_back(kUnmapped);
            continue;
          }
          lake_metric_set_.insert(m);
          lake_.metrics.push_back(m);
        }
        metric_names_.push_back(m);
        it = metric_names_.end() - 1;
      }
      file_metric_map_.push_back(static_cast<size_t>(it - metric_names_.begin()));
    }
    for (const auto& d : dims) {
      if (lake_metric_set_.count(d) != 0) {
        file_dim_map_.push_back(kUnmapped);  // text in a metric column: per-cell bad_number
        continue;
      }
      auto it = std::find(dim_names_.begin(), dim_names_.end(), d);
      if (it == dim_names_.end()) {
        dim_names_.push_back(d);
        it = dim_names_.end() - 1;
        if (!Contains(lake_.dimensions, d)) lake_.dimensions.push_back(d);
        last_dims_.clear();  // its layout depends on the number of dimensions
      }
      file_dim_map_.push_back(static_cast<size_t>(it - dim_names_.begin()));
    }
    identity_map_ = file_metric_as_dim_.empty() && dropped_metric_names_.empty();
    for (size_t i = 0; identity_map_ && i < file_metric_map_.size(); ++i) identity_map_ = file_metric_map_[i] == i;
    identity_dims_ = file_dim_map_.size() == dim_names_.size();
    for (size_t i = 0; identity_dims_ && i < file_dim_map_.size(); ++i) identity_dims_ = file_dim_map_[i] == i;
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
    if (b.metrics.size() < metric_names_.size()) b.EnsureMetrics(metric_names_.size());
    const size_t ndims = dim_names_.size();
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
      for (size_t i = 0; i < file_dim_map_.size(); ++i) {
        const size_t d = file_dim_map_[i];
        if (d != kUnmapped) {
          b.dims[d][n] = DimId(device * ndims + d, row.dimensions[i]);
        } else if (!row.dimensions[i].empty()) {
          TextInMetric(file_dim_name(i), row, row.dimensions[i]);
        }
      }
    }
    const size_t nm = b.metrics.size();
    if (nm == file_metric_map_.size() && identity_map_) {
      for (size_t m = 0; m < nm; ++m) b.metrics[m].push_back(row.metrics[m]);
    } else {
      for (auto& m : b.metrics) m.push_back(NAN);
      for (size_t i = 0; i < file_metric_map_.size(); ++i) {
        if (file_metric_map_[i] != kUnmapped) b.metrics[file_metric_map_[i]][n] = row.metrics[i];
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
  const LakeColumns& lake_columns() const { return lake_; }

 private:
  static bool Contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  uint32_t DimId(size_t cache_slot, std::string_view value) {
    uint32_t& cached = last_dims_[cache_slot];
    if (dim_values_.Get(cached) != value) cached = dim_values_.Intern(value);
    return cached;
  }
  const std::string& file_dim_name(size_t i) const { return file_dims_names_[i]; }

  /// Cells of metric columns the batch does not store as metrics (rare): past the cap, they are
  /// per-cell column_limit records; a number in a text column is kept as its text.
  void UnmappedMetrics(HourBuffer& b, size_t n, const parse::ParsedRow& row) {
    for (const auto& [i, name] : dropped_metric_names_) {
      const double v = row.metrics[i];
      if (std::isnan(v)) continue;
      ++per_file_[source_].cells;
      ++cell_reasons_[parse::ReasonCode(RejectReason::kColumnLimit)];
      quarantine_.push_back(clean::CellRecord(RejectReason::kColumnLimit, name,
                                              fmt::format("the lake already has {} metric columns "
                                                          "(silver.max_metric_columns); column '{}' is not stored",
                                                          max_metric_columns_, name),
                                              source_, row.line, fmt::format("{}", v)));
    }
    for (const auto& [i, d] : file_metric_as_dim_) {
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
    it->second.EnsureMetrics(metric_names_.size());
    it->second.EnsureDims(dim_names_.size());
    clean::DedupResult dedup = clean::Deduplicate(it->second, *ranks_);
    emit_(HourTask{std::move(it->second), device_snapshot_, dim_snapshot_, dim_names_, metric_names_, std::move(dedup)});
    hours_.erase(it);
  }
  void EmitQuarantine() {
    if (quarantine_.empty()) return;
    emit_(QuarantineTask{std::move(quarantine_)});
    quarantine_.clear();
  }

  BufferPool& pool_;
  std::vector<std::string> dim_names_;     // the batch's dimensions: the config's, then new ones
  std::vector<std::string> metric_names_;  // the batch's metrics, first-seen order
  size_t max_metric_columns_;
  // This file's columns -> the batch's (kUnmapped: not stored as such, see UnmappedMetrics).
  std::vector<size_t> file_metric_map_;
  std::vector<size_t> file_dim_map_;
  std::vector<std::string> file_dims_names_;
  std::vector<std::pair<size_t, std::string>> dropped_metric_names_;  // past the cap
  std::vector<std::pair<size_t, size_t>> file_metric_as_dim_;        // file metric -> batch dimension
  bool identity_map_ = false;
  bool identity_dims_ = false;
  size_t max_buffered_rows_;
  LakeColumns lake_;  // the lake's roles: earlier commits' and this batch's
  std::unordered_set<std::string> lake_metric_set_;
  size_t synced_metrics_ = 0, synced_dims_ = 0;
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

}  // namespace

std::string AccountingJson(const RowAccounting& a, const ParseTotals* parse) {
  JsonWriter w;
  w.BeginObject().Key("rows").Int(a.rows).Key("stored").Int(a.stored).Key("quarantined").Int(a.quarantined)
      .Key("duplicates").Int(a.duplicates).Key("merged").Int(a.merged).Key("quarantine_reasons").BeginObject();
  for (const auto& [reason, n] : a.quarantine_reasons) w.Key(reason).Int(n);
  w.EndObject().Key("cells_quarantined").Int(a.cells_quarantined).Key("cell_reasons").BeginObject();
  for (const auto& [reason, n] : a.cell_reasons) w.Key(reason).Int(n);
  w.EndObject();
  if (parse != nullptr) {
    w.Key("zoneless_timestamps").Int(parse->zoneless_timestamps).Key("rounded_timestamps")
        .Int(parse->rounded_timestamps).Key("null_cells").Int(parse->null_cells).Key("replaced_characters")
        .Int(parse->replaced_characters);
  }
  w.EndObject();
  return w.Take();
}

std::string ParseTotalsJson(const ParseTotals& p) {
  JsonWriter w;
  w.BeginObject().Key("zoneless_timestamps").Int(p.zoneless_timestamps).Key("rounded_timestamps")
      .Int(p.rounded_timestamps).Key("null_cells").Int(p.null_cells).Key("replaced_characters")
      .Int(p.replaced_characters).EndObject();
  return w.Take();
}

namespace {

/// The lake's column roles as the last silver commit recorded them; nullopt when it has no such
/// record (a new lake, or one written before the record existed).
Result<std::optional<LakeColumns>> RecordedColumns(const lake::Snapshot& snapshot) {
  IOTAD_ASSIGN_OR_RETURN(auto meta, snapshot.LastSilverMeta());
  if (!meta || !meta->columns) return std::optional<LakeColumns>{};
  LakeColumns out;
  out.metrics = meta->columns->metrics;
  out.dimensions = meta->columns->dimensions;
  return std::optional<LakeColumns>(std::move(out));
}

/// The roles the lake's columns already have: the last commit's record, or for a lake written
/// before the record existed, the types of its silver files (DOUBLE: metric, VARCHAR: dimension).
Result<LakeColumns> PreviousColumns(const lake::Snapshot& snapshot, lake::Lake& lake, lake::DuckSession& session,
                                    const std::map<TimestampUs, std::vector<std::string>>& existing) {
  IOTAD_ASSIGN_OR_RETURN(auto recorded, RecordedColumns(snapshot));
  if (recorded) return *recorded;
  LakeColumns out;
  std::vector<std::string> keys;
  for (const auto& [hour, files] : existing) keys.insert(keys.end(), files.begin(), files.end());
  if (keys.empty()) return out;
  IOTAD_ASSIGN_OR_RETURN(auto r, session.Query(fmt::format(
                                     "SELECT * FROM read_parquet({}, union_by_name = true, hive_partitioning = false) LIMIT 0",
                                     lake::SqlList(lake.ReadPaths(keys)))));
  for (size_t c = 0; c < r.ColumnCount(); ++c) {
    const std::string name = r.ColumnName(c);
    const duckdb_type type = r.ColumnType(c);
    if (type == DUCKDB_TYPE_DOUBLE) out.metrics.push_back(name);
    else if (type == DUCKDB_TYPE_VARCHAR && name != "device_id") out.dimensions.push_back(name);
  }
  return out;
}

std::optional<char> DelimiterFromConfig(const std::string& d) {
  if (d == "auto") return char{0};
  if (d == "tab" || d == "\t") return '\t';
  if (d.size() == 1) return d[0];
  return std::nullopt;
}

}  // namespace

Result<SilverReport> RunSilver(lake::Lake& lake, const SilverOptions& options, const std::string& run_id) {
  const auto t0 = std::chrono::steady_clock::now();
  SilverReport report;
  // The bookmark (bronze keys earlier silver commits consumed) and the live silver files come
  // from the lake's snapshot; bronze is listed, so a raw file put there by hand is read too.
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  std::set<std::string> processed;
  if (!options.rebuild) {
    // In Spark's spelling: inputs recorded before the layout migration name padded folders.
    for (const auto& k : snapshot->silver_inputs()) processed.insert(lake::SparkPartitionKey(k));
  }
  IOTAD_ASSIGN_OR_RETURN(auto bronze, lake.store().List(lake::kBronzePrefix));
  std::vector<std::string> todo;
  for (const auto& o : bronze) {
    if (processed.count(lake::SparkPartitionKey(o.key)) == 0 && ingest::FormatFromName(o.key)) todo.push_back(o.key);
  }
  // In time order (dt, then hour as a number: `hour=10` lists before `hour=2`), so rows are
  // "late" when they arrive after their hour in time, whatever the folders' spelling.
  std::sort(todo.begin(), todo.end(), [](const std::string& a, const std::string& b) {
    return std::pair(lake::PartitionOrderKey(a), std::string_view(a)) < std::pair(lake::PartitionOrderKey(b), std::string_view(b));
  });
  if (todo.empty() && !options.rebuild) return report;

  std::string joined;
  for (const auto& k : todo) joined += k + "\n";
  // Names derive from the inputs, so a re-run after a crash writes the very same files.
  const std::string batch_id = HashBytes(joined, options.rebuild ? 0x5eed : 0x10Ad).Hex().substr(0, 16);

  lake::Commit commit;
  commit.stage = "silver";
  commit.run_id = run_id;
  std::map<TimestampUs, std::vector<std::string>> existing;
  if (options.rebuild) {
    // A rebuild replaces both folders as they are on disk (what the log lost track of too).
    for (auto prefix : {lake::kSilverPrefix, lake::kQuarantinePrefix}) {
      IOTAD_ASSIGN_OR_RETURN(auto files, lake.store().List(prefix));
      for (const auto& o : files) commit.deletes.push_back(o.key);
    }
  } else {
    // Live in the snapshot (a stray is not silver's) and on disk (a lost one has no rows to read
    // back: verify names it).
    IOTAD_ASSIGN_OR_RETURN(auto on_disk, lake.store().List(lake::kSilverPrefix));
    for (const auto& o : on_disk) {
      if (snapshot->files().count(o.key) == 0) continue;
      if (auto hour = lake::HourFromKey(o.key)) existing[*hour].push_back(o.key);
    }
  }

  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(/*with_views=*/false));
  // The writer thread is DuckDB's only source; extra DuckDB workers would only take CPU from the
  // parse thread.
  IOTAD_TRY(session->Exec("SET threads = 1"));
  LakeColumns previous;
  if (!options.rebuild) {
    IOTAD_ASSIGN_OR_RETURN(previous, PreviousColumns(*snapshot, lake, *session, existing));
  }
  SilverWriter writer(lake, *session, batch_id, lake::Lake::StagingPrefix(run_id), std::move(existing), todo);
  // Two hours in flight at most besides the open buffers: memory stays bounded.
  TaskQueue queue(1);
  BufferPool pool;
  Status writer_status;
  double write_seconds = 0;
  auto write_loop = [&] {
    while (auto task = queue.Pop()) {
      if (!writer_status.ok()) continue;  // drain so the producer never blocks
      const double w0 = ThreadCpuSeconds();
      writer_status = writer.Handle(*task, pool);
      write_seconds += ThreadCpuSeconds() - w0;
    }
    if (writer_status.ok()) writer_status = writer.Finish();
  };
  // Nothing below returns before the queue is closed and the thread joined.
  IOTAD_ASSIGN_OR_RETURN(std::jthread writer_thread, StartThread("silver's Parquet writer", write_loop));
  // A column keeps its role for the life of the lake; --rebuild starts from the config alone.
  const config::SilverConfig& cfg = lake.config().silver;
  SilverParser parser(cfg, std::move(previous), todo.size(), pool,
                      [&](Task t) { queue.Push(std::move(t)); });
  parse::ColumnRoles roles;
  roles.time_columns = cfg.time_columns;
  roles.device_columns = cfg.device_columns;
  roles.dimension_columns.clear();
  parser.SyncRoles(roles);
  roles.delimiter = DelimiterFromConfig(cfg.delimiter).value_or(char{0});
  roles.encoding = cfg.encoding == "latin-1" ? parse::TextEncoding::kLatin1 : parse::TextEncoding::kUtf8;
  roles.null_tokens = cfg.null_values;
  roles.max_line_bytes = static_cast<size_t>(cfg.max_line_bytes);
  roles.json_flatten_depth = static_cast<int>(cfg.json_flatten_depth);
  roles.default_utc_offset_minutes = cfg.default_utc_offset_minutes;
  Status parse_status;
  double parse_seconds = 0;
  std::string data, gunzip_scratch, tail_bytes;
  for (uint32_t s = 0; s < todo.size(); ++s) {
    const double p0 = ThreadCpuSeconds();
    parser.BeginFile(s);
    std::optional<Status> unreadable;
    std::string_view tail;
    if (Status read = ingest::ReadBronzeObject(lake, todo[s], data, gunzip_scratch); !read.ok()) {
      // One unreadable object must not stop the others: its readable prefix (a truncated gzip's
      // complete lines) is parsed, and the rest is one quarantined record naming the error.
      unreadable = read;
      // Still compressed bytes (a reader that keeps no decompressed prefix): nothing to parse.
      if (data.compare(0, 2, "\x1f\x8b") == 0) data.clear();
      const size_t complete = data.rfind('\n');
      const size_t keep = complete == std::string::npos ? 0 : complete + 1;
      tail_bytes.assign(data, keep, clean::kMaxRawBytes);
      tail = tail_bytes;
      data.resize(keep);
    }
    const auto format = *ingest::FormatFromName(todo[s]);
    parse::ParseCounts counts;
    if (!data.empty() || !unreadable) {
      counts = format == ingest::FileFormat::kCsv ? parse::ParseCsv(data, roles, parser)
                                                  : parse::ParseJsonLines(data, roles, parser);
    }
    if (unreadable) {
      parser.QuarantineFileTail(fmt::format("bronze object cannot be read past line {}: {}", counts.physical_lines,
                                            unreadable->message()),
                                counts.physical_lines + 1, std::move(tail));
    }
    parser.EndFile(counts.rows);
    report.parse.zoneless_timestamps += counts.zoneless_timestamps;
    report.parse.rounded_timestamps += counts.rounded_timestamps;
    report.parse.null_cells += counts.null_cells;
    report.parse.replaced_characters += counts.replaced_characters;
    parser.SyncRoles(roles);
    parse_seconds += ThreadCpuSeconds() - p0;
    parser.FlushIfOverBudget();
  }
  if (parse_status.ok()) parser.FlushAll();
  queue.Close();
  writer_thread.join();
  IOTAD_TRY(parse_status);
  IOTAD_TRY(writer_status);

  RowAccounting& acc = report.accounting;
  for (size_t s = 0; s < todo.size(); ++s) {
    FileCounts fc = parser.per_file()[s];
    fc.Add(writer.per_file()[s]);
    acc.rows += fc.rows;
    acc.stored += fc.stored;
    acc.quarantined += fc.quarantined;
    acc.duplicates += fc.duplicates;
    acc.merged += fc.merged;
    acc.cells_quarantined += fc.cells;
  }
  acc.quarantine_reasons = parser.reasons();
  for (const auto& [r, n] : writer.reasons()) acc.quarantine_reasons[r] += n;
  acc.cell_reasons = parser.cell_reasons();
  if (!acc.Balanced()) {
    return Error(Errc::kInternal,
                 "silver: row accounting does not balance ({} rows != {} stored + {} quarantined + {} "
                 "duplicates + {} merged); nothing was committed",
                 acc.rows, acc.stored, acc.quarantined, acc.duplicates, acc.merged);
  }
  for (const auto& [from, to] : writer.moves()) {
    if (to.compare(0, lake::kSilverPrefix.size(), lake::kSilverPrefix) == 0) ++report.files_written;
  }
  commit.moves = std::move(writer.moves());
  for (auto& key : writer.deletes()) commit.deletes.push_back(std::move(key));
  commit.inputs = todo;
  lake::SilverCommitMeta meta;
  meta.batch = batch_id;
  meta.rebuild = options.rebuild;
  meta.accounting = lake::SilverRowCounts{acc.rows, acc.stored, acc.quarantined, acc.duplicates, acc.merged,
                                          acc.cells_quarantined};
  meta.quarantine_reasons = {acc.quarantine_reasons.begin(), acc.quarantine_reasons.end()};
  meta.cell_reasons = {acc.cell_reasons.begin(), acc.cell_reasons.end()};
  meta.parse = {{"zoneless_timestamps", report.parse.zoneless_timestamps},
                {"rounded_timestamps", report.parse.rounded_timestamps},
                {"null_cells", report.parse.null_cells},
                {"replaced_characters", report.parse.replaced_characters}};
  meta.columns = lake::SilverCommitMeta::Columns{parser.lake_columns().metrics, parser.lake_columns().dimensions};
  for (size_t s = 0; s < todo.size(); ++s) {
    FileCounts fc = parser.per_file()[s];
    fc.Add(writer.per_file()[s]);
    lake::SilverFileCounts f;
    f.key = todo[s];
    f.rows = fc.rows;
    f.stored = fc.stored;
    f.quarantined = fc.quarantined;
    f.duplicates = fc.duplicates;
    f.merged = fc.merged;
    f.cells_quarantined = fc.cells;
    meta.files.push_back(std::move(f));
  }
  commit.meta_json = meta.ToJson();
  IOTAD_FAULT_POINT("silver.before_commit");
  IOTAD_ASSIGN_OR_RETURN(report.commit_seq, lake.Publish(std::move(commit)));
  report.bronze_files = static_cast<int64_t>(todo.size());
  report.hours_written = writer.hours_written();
  report.late_rows = writer.late_rows();
  report.parse_seconds = parse_seconds;
  report.write_seconds = write_seconds;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::pipeline
