#include "iotad/pipeline/silver_write.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <ranges>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <fmt/ranges.h>

#include "iotad/clean/stored_rows.h"
#include "iotad/core/fault.h"
#include "iotad/core/queue.h"
#include "iotad/core/thread.h"
#include "iotad/lake/parquet_encoder.h"
#include "iotad/lake/parquet_writer.h"
#include "iotad/parse/row_parser.h"

namespace iotad::pipeline::silver {
namespace {

using clean::HourBuffer;
using clean::QuarantineRow;

/// Writes the rows `keep` of an hour (in that order) to a local Parquet file with silver's own
/// encoder: lake::kSilverColumns (event_time, device_id), then the dimensions, then the metrics.
Status EncodeHour(const HourTask& task, const std::vector<uint32_t>& keep, lake::ParquetCodec codec,
                  const std::filesystem::path& file) {
  const HourBuffer& b = task.buffer;
  std::vector<lake::ColumnSpec> columns = lake::ColumnSpecs(lake::kSilverColumns);
  for (const auto& d : task.dim_names) columns.push_back({d, lake::ColumnType::kVarchar});
  for (const auto& m : task.metric_names) columns.push_back({m, lake::ColumnType::kDouble});
  lake::ParquetEncoder out(std::move(columns), codec);
  std::vector<int64_t> times;
  std::vector<uint32_t> ids;
  std::vector<double> values;
  for (size_t begin = 0; begin < keep.size(); begin += lake::ParquetEncoder::kRowGroupRows) {
    const size_t n = std::min(lake::ParquetEncoder::kRowGroupRows, keep.size() - begin);
    const uint32_t* rows = keep.data() + begin;
    out.BeginRowGroup(n);
    times.resize(n);
    for (size_t r = 0; r < n; ++r) times[r] = b.hour_start + b.offset[rows[r]];
    out.AddTimestamps(times);
    ids.resize(n);
    for (size_t r = 0; r < n; ++r) ids[r] = b.device[rows[r]];
    out.AddStrings(ids, *task.devices);
    for (size_t d = 0; d < task.dim_names.size(); ++d) {
      if (d < b.dims.size()) {
        for (size_t r = 0; r < n; ++r) ids[r] = b.dims[d][rows[r]];
      } else {
        std::fill(ids.begin(), ids.end(), 0);  // a dimension this hour never saw: NULL
      }
      out.AddStrings(ids, *task.dim_values);
    }
    values.resize(n);
    for (size_t m = 0; m < task.metric_names.size(); ++m) {
      if (m < b.metrics.size()) {
        for (size_t r = 0; r < n; ++r) values[r] = b.metrics[m][rows[r]];
      } else {
        std::fill(values.begin(), values.end(), NAN);
      }
      out.AddDoubles(values);
    }
  }
  return out.WriteTo(file);
}

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

/// Encodes hours into Parquet (EncodeHour) and stages them on kThreads threads, so that encoding
/// and staging overlap the parse worker and the writer. What is staged, and
/// under which name, the writer decides in input order; only the bytes are made here, so the
/// files and the commit do not depend on the threads' timing. One hour waits at most besides the
/// ones being encoded (memory stays bounded).
class HourEncoder {
 public:
  static constexpr int kThreads = 2;
  struct Job {
    HourTask task;
    std::vector<uint32_t> keep;
    std::filesystem::path local;
    std::string staged;
  };

  HourEncoder(lake::Lake& lake, lake::ParquetCodec codec, BufferPool& pool) : lake_(lake), codec_(codec), pool_(pool) {}
  ~HourEncoder() { (void)Stop(); }

  Status Start() {
    for (int i = 0; i < kThreads; ++i) {
      auto started = StartThread("silver's Parquet encoder", [this] { Run(); });
      if (!started.ok()) return started.status();
      threads_.push_back(std::move(*started));
    }
    return Status::Ok();
  }
  /// Queues the job (waiting for room); its buffer goes back to the pool once it is encoded. The
  /// first error of an earlier job, if any (the job is then dropped).
  Status Submit(Job job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.ok() && !threads_.empty()) {
        ++pending_;
      } else {
        pool_.Put(std::move(job.task.buffer));
        return error_.ok() ? Error(Errc::kInternal, "silver: the encoder is not running") : error_;
      }
    }
    jobs_.Push(std::move(job));
    return Status::Ok();
  }
  /// Waits until every queued hour is staged; the first error.
  Status Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [&] { return pending_ == 0; });
    return error_;
  }
  /// Drains, then ends the threads; the first error.
  Status Stop() {
    if (threads_.empty()) return error_;
    Status st = Drain();
    jobs_.Close();
    for (auto& t : threads_) t.join();
    threads_.clear();
    return st;
  }
  double cpu_seconds() const { return cpu_seconds_; }
  lake::ParquetCodec codec() const { return codec_; }

 private:
  void Run() {
    while (auto job = jobs_.Pop()) {
      const double t0 = ThreadCpuSeconds();
      bool failed;
      {
        std::lock_guard<std::mutex> lock(mu_);
        failed = !error_.ok();
      }
      Status st = failed ? Status::Ok() : Write(*job);  // after a failure, drop the rest
      pool_.Put(std::move(job->task.buffer));
      std::lock_guard<std::mutex> lock(mu_);
      cpu_seconds_ += ThreadCpuSeconds() - t0;
      if (!st.ok() && error_.ok()) error_ = std::move(st);
      if (--pending_ == 0) idle_.notify_all();
    }
  }
  Status Write(const Job& job) {
    IOTAD_TRY(EncodeHour(job.task, job.keep, codec_, job.local));
    IOTAD_TRY(lake_.store().PutFile(job.staged, job.local));
    IOTAD_FAULT_POINT("silver.after_hour_file");
    return Status::Ok();
  }

  lake::Lake& lake_;
  const lake::ParquetCodec codec_;
  BufferPool& pool_;
  BoundedQueue<Job> jobs_{1};
  std::vector<std::jthread> threads_;
  std::mutex mu_;
  std::condition_variable idle_;
  int pending_ = 0;         // queued or being encoded
  Status error_;            // the first failure; later jobs are dropped
  double cpu_seconds_ = 0;  // summed under mu_, read after Stop
};

/// The writer worker's local state: takes each hour, deduplicates it within itself, checks its
/// late rows against rows already stored, names its file and hands it to the HourEncoder, and
/// keeps the moves for the commit. Its DuckDB session reads stored rows back, rewrites merged
/// files and writes the quarantine.
class SilverWriter {
 public:
  SilverWriter(lake::Lake& lake, lake::DuckSession& session, const SilverPlan& plan, HourEncoder& encoder)
      : lake_(lake),
        session_(session),
        plan_(plan),
        encoder_(encoder),
        stored_(plan.stored_files),
        per_file_(plan.inputs.size()) {}

  Status Handle(Task& task, BufferPool& pool) {
    if (auto* q = std::get_if<QuarantineTask>(&task)) {
      for (auto& row : q->rows) quarantine_.push_back(std::move(row));
      return quarantine_.size() > 100'000 ? FlushQuarantine() : Status::Ok();
    }
    auto& hour = std::get<HourTask>(task);
    handed_off_ = false;
    Status st = FlushHour(hour);
    if (!handed_off_) pool.Put(std::move(hour.buffer));
    return st;
  }
  Status Finish() {
    IOTAD_TRY(encoder_.Stop());
    return FlushQuarantine();
  }

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
    clean::DedupResult dd = clean::Deduplicate(b, *t.ranks);
    for (uint32_t i : dd.duplicates) ++per_file_[b.source[i]].duplicates;
    for (uint32_t i : dd.merged) ++per_file_[b.source[i]].merged;
    for (auto [i, kept] : dd.conflicts) {
      Quarantine(clean::BatchConflictRecord(b, i, kept, plan_.inputs, *t.devices, *t.dim_values));
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
        // The stored files of this hour are read below, and one may still be on its way to
        // staging. (The keys above come from files of earlier runs, or from memory.)
        IOTAD_TRY(encoder_.Drain());
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
    const std::string name = fmt::format("part-{}-{}.parquet", plan_.batch_id, k);
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const auto local = scratch / ScratchName("silver", hour, name);
    const std::string part = lake::HourPartition(hour);
    const std::string staged = fmt::format("{}silver/{}/{}", plan_.staging, part, name);
    moves_.emplace_back(staged, fmt::format("{}{}/{}", lake::kSilverPrefix, part, name));
    stored_.AddWritten(hour, staged, b, keep);  // later flushes of this hour dedup against it
    hours_touched_.insert(hour);
    handed_off_ = true;  // the encoder returns the buffer to the pool
    return encoder_.Submit({std::move(t), std::move(keep), local, staged});
  }

  /// Late partial rows that add values to rows already stored (earlier flushes or runs): each
  /// stored file holding such a row is rewritten with the values filled in (a new file; the old
  /// one is deleted in the same commit, or dropped from staging when this run wrote it).
  Status MergeIntoStored(HourTask& t, const std::vector<uint32_t>& merging) {
    const TimestampUs hour = t.buffer.hour_start;
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const int k0 = flush_count_[hour]++;
    const auto rows_file = scratch / ScratchName("merge", hour, fmt::format("part-{}-{}.parquet", plan_.batch_id, k0));
    IOTAD_TRY(EncodeHour(t, merging, encoder_.codec(), rows_file));
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
      const std::string name = fmt::format("part-{}-{}.parquet", plan_.batch_id, flush_count_[hour]++);
      const auto local = scratch / ScratchName("silver", hour, name);
      IOTAD_TRY(session_.Exec(fmt::format(
          "COPY (SELECT {} FROM {} o LEFT JOIN {} n ON o.device_id = n.device_id AND o.event_time = n.event_time "
          "ORDER BY o.device_id, o.event_time) TO {} (FORMAT parquet, COMPRESSION {})",
          select, old_sql, rows_sql, lake::SqlQuote(local.string()), plan_.compression)));
      const std::string part = lake::HourPartition(hour);
      const std::string staged = fmt::format("{}silver/{}/{}", plan_.staging, part, name);
      IOTAD_TRY(lake_.store().PutFile(staged, local));
      moves_.emplace_back(staged, fmt::format("{}{}/{}", lake::kSilverPrefix, part, name));
      if (old_key.compare(0, plan_.staging.size(), plan_.staging) == 0) {
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
    const std::string name = fmt::format("part-{}-{}.parquet", plan_.batch_id, quarantine_flushes_++);
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const auto local = scratch / fmt::format("quarantine-{}", name);
    QuarantineSource source(quarantine_, plan_.inputs);
    IOTAD_TRY(lake::WriteParquet(session_, source, local, plan_.compression));
    const std::string staged = fmt::format("{}quarantine/{}", plan_.staging, name);
    IOTAD_TRY(lake_.store().PutFile(staged, local));
    moves_.emplace_back(staged, fmt::format("{}{}", lake::kQuarantinePrefix, name));
    quarantine_.clear();
    return Status::Ok();
  }

  lake::Lake& lake_;
  lake::DuckSession& session_;
  const SilverPlan& plan_;
  HourEncoder& encoder_;
  bool handed_off_ = false;  // the current hour went to the encoder with its buffer
  clean::StoredHours stored_;  // hour -> stored files, and the keys this run wrote
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

}  // namespace

WriteResult WriteSilver(lake::Lake& lake, lake::DuckSession& session, const SilverPlan& plan, GlobalState& state) {
  WriteResult out;
  auto codec = lake::ParquetCodecNamed(plan.compression);
  HourEncoder encoder(lake, codec.ok() ? *codec : lake::ParquetCodec::kZstd, state.pool);
  out.status = codec.ok() ? encoder.Start() : codec.status();
  SilverWriter writer(lake, session, plan, encoder);
  while (auto task = state.queue.Pop()) {
    if (!out.status.ok()) continue;  // drain so the producer never blocks
    const double w0 = ThreadCpuSeconds();
    out.status = writer.Handle(*task, state.pool);
    out.cpu_seconds += ThreadCpuSeconds() - w0;
  }
  if (out.status.ok()) out.status = writer.Finish();
  if (Status st = encoder.Stop(); out.status.ok()) out.status = std::move(st);
  out.cpu_seconds += encoder.cpu_seconds();
  out.per_file = writer.per_file();
  out.reasons = std::move(writer.reasons());
  out.moves = std::move(writer.moves());
  out.deletes = std::move(writer.deletes());
  out.late_rows = writer.late_rows();
  out.hours_written = writer.hours_written();
  return out;
}

}  // namespace iotad::pipeline::silver
