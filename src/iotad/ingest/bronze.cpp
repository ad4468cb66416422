#include "iotad/ingest/bronze.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/json.h"
#include "iotad/core/thread.h"
#include "iotad/ingest/parse_options.h"
#include "iotad/lake/commit_meta.h"
#include "iotad/lake/gzip_stream.h"

namespace iotad::ingest {
namespace fs = std::filesystem;
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string LowerName(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Decompresses gzip fully into `out`; on damaged data returns kParse and leaves the prefix in `out`.
Status Gunzip(std::string_view in, std::string_view name, std::string& out) {
  out.clear();
  out.reserve(in.size() * 4);
  lake::GzipStream gz;
  gz.Feed(in, out);
  if (!gz.Complete()) {
    return Error(Errc::kParse, "'{}' is not a complete gzip file ({})", name, gz.Problem());
  }
  return Status::Ok();
}

/// Counts the hours of the rows the parser stores; rejects do not count.
class EventHourSink final : public parse::RowSink {
 public:
  void OnSchema(const std::vector<std::string>&, const std::vector<std::string>&) override {}
  void OnRow(const parse::ParsedRow& row) override { ++hours_[HourStart(row.ts)]; }
  void OnReject(parse::RejectReason, std::string_view, int64_t, std::string_view) override {}
  void OnCellReject(parse::RejectReason, std::string_view, std::string_view, int64_t, std::string_view) override {}
  /// The most common hour (the earliest of equals), if any row had one.
  std::optional<TimestampUs> Typical() const {
    if (hours_.empty()) return std::nullopt;
    return std::max_element(hours_.begin(), hours_.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; })
        ->first;
  }

 private:
  std::map<TimestampUs, int64_t> hours_;
};

}  // namespace

std::optional<TimestampUs> TypicalEventHour(std::string_view text, FileFormat format, const parse::ColumnRoles& roles) {
  // The first lines are enough (the header and ~2000 rows), and bound the work per file.
  constexpr size_t kSampleLines = 2001;
  size_t end = 0;
  for (size_t lines = 0; lines < kSampleLines && end < text.size(); ++lines) {
    const size_t nl = text.find('\n', end);
    end = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  EventHourSink sink;
  if (format == FileFormat::kCsv) {
    parse::ParseCsv(text.substr(0, end), roles, sink);
  } else {
    parse::ParseJsonLines(text.substr(0, end), roles, sink);
  }
  return sink.Typical();
}

namespace {

/// Walks a folder (sorted, depth first); entries it cannot read are reported, not fatal.
void WalkFolder(const fs::path& dir, std::vector<fs::path>& files, std::vector<std::string>& skipped,
                std::vector<BadFile>& bad) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    bad.push_back({dir.string(), fmt::format("cannot read folder: {}", ec.message())});
    return;
  }
  std::vector<fs::directory_entry> entries;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      bad.push_back({dir.string(), fmt::format("cannot read folder: {}", ec.message())});
      break;
    }
    entries.push_back(*it);
  }
  std::sort(entries.begin(), entries.end(),
            [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path() < b.path(); });
  for (const auto& e : entries) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && (name[0] == '_' || name[0] == '.')) continue;
    std::error_code sec;
    const auto st = e.status(sec);  // follows links
    if (st.type() == fs::file_type::directory) {
      WalkFolder(e.path(), files, skipped, bad);
      continue;
    }
    const bool data_name = FormatFromName(name).has_value();
    if (st.type() == fs::file_type::regular) {
      if (data_name) {
        files.push_back(e.path());
      } else {
        skipped.push_back(fmt::format("{}: not a .csv, .tsv, .txt or .jsonl/.ndjson/.json file (optionally .gz)", e.path().string()));
      }
      continue;
    }
    // A broken link, or a file whose type cannot be read: a data file we cannot read.
    if (data_name && (sec || st.type() == fs::file_type::not_found)) {
      bad.push_back({e.path().string(), fmt::format("cannot read: {}",
                                                    sec ? sec.message() : std::string("broken link"))});
    }
  }
}

Status CollectFiles(const std::string& path, std::vector<fs::path>& files, std::vector<std::string>& skipped,
                    std::vector<BadFile>& bad) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    WalkFolder(p, files, skipped, bad);
    return Status::Ok();
  }
  if (!fs::exists(p, ec)) return Error(Errc::kNotFound, "ingest: '{}' does not exist", path);
  if (!FormatFromName(p.filename().string())) {
    return Error(Errc::kInvalidArgument, "ingest: '{}' is not a .csv, .tsv, .txt or .jsonl/.ndjson/.json file (optionally .gz)", path);
  }
  files.push_back(p);
  return Status::Ok();
}

/// Bytes of a file's (decompressed) start kept to find its typical event hour.
constexpr size_t kSampleBytes = 4 << 20;

/// One input file streamed to a scratch copy: its hash, size, whether gzip, and a text sample.
struct StreamedFile {
  Hash128 hash;
  uint64_t bytes = 0;
  uint64_t text_bytes = 0;  // decompressed size (== bytes when not gzip)
  bool gzip = false;
  std::string sample;       // the text's first kSampleBytes, cut after its last complete line
};

/// Copies `path` to `tmp` in chunks while hashing it; gzip is decompressed on the way to check
/// it is complete. Returns the reason as a kParse/kIo error when the file is a bad input, or
/// kInternal when the scratch copy cannot be written.
Result<StreamedFile> StreamToScratch(const fs::path& path, const fs::path& tmp, bool named_gz, std::string& chunk) {
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Error(Errc::kIo, "cannot read: {}", std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } in_closer{in};
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return Error(Errc::kInternal, "ingest: cannot write '{}': {}", tmp.string(), std::strerror(errno));
  Closer out_closer{out};
  StreamedFile f;
  ContentHasher hasher;
  std::unique_ptr<lake::GzipStream> inflater;
  bool inflate_ok = true;
  auto keep_text = [&](std::string_view text) {
    f.text_bytes += text.size();
    if (f.sample.size() < kSampleBytes) f.sample.append(text.substr(0, kSampleBytes - f.sample.size()));
  };
  chunk.resize(1 << 20);
  while (true) {
    const ssize_t n = ::read(in, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Errc::kIo, "cannot read: {}", std::strerror(errno));
    }
    if (n == 0) break;
    const std::string_view data(chunk.data(), static_cast<size_t>(n));
    if (f.bytes == 0) {
      f.gzip = data.size() >= 2 && data.compare(0, 2, "\x1f\x8b") == 0;
      if (named_gz && !f.gzip) return Error(Errc::kParse, "named .gz but is not gzip data");
      if (f.gzip) inflater = std::make_unique<lake::GzipStream>();
    }
    f.bytes += data.size();
    hasher.Update(data);
    if (f.gzip) {
      if (inflate_ok) inflate_ok = inflater->Feed(data, keep_text);
    } else {
      keep_text(data);
    }
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t w = ::write(out, data.data() + off, data.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Error(Errc::kInternal, "ingest: cannot write '{}': {}", tmp.string(), std::strerror(errno));
      }
      off += static_cast<size_t>(w);
    }
  }
  if (f.bytes == 0) return Error(Errc::kParse, "empty file");
  if (f.gzip && !inflater->Complete()) {
    return Error(Errc::kParse, "not a complete gzip file ({})", inflater->Problem());
  }
  if (f.text_bytes == 0) return Error(Errc::kParse, "empty file (decompresses to nothing)");
  if (f.text_bytes > f.sample.size()) {
    const size_t nl = f.sample.rfind('\n');
    f.sample.resize(nl == std::string::npos ? 0 : nl + 1);
  }
  // Durable before it is renamed into the store (the store's own fsync then finds it clean):
  // done here, on the copying thread, so the next file's copy overlaps this file's writeback.
  if (::fdatasync(out) != 0) {
    return Error(Errc::kInternal, "ingest: cannot sync '{}': {}", tmp.string(), std::strerror(errno));
  }
  f.hash = hasher.Finish();
  return f;
}

/// Streams the input files to scratch copies (StreamToScratch) on worker threads, kInFlight at a
/// time, and hands the results back in input order: what lands, and in which order, does not
/// depend on the threads. On two cores, two files are copied, hashed and synced at once.
class ScratchWindow {
 public:
  static constexpr size_t kInFlight = 2;
  ScratchWindow(const std::vector<fs::path>& files, fs::path scratch, std::string_view run_id)
      : files_(files), scratch_(std::move(scratch)), run_id_(run_id) {}

  fs::path Tmp(size_t i) const { return scratch_ / fmt::format("ingest-{}-{}.tmp", run_id_, i); }

  /// File i's copy (in order: i is the next index not yet taken). Its scratch file is the
  /// caller's from then on.
  Result<Result<StreamedFile>> Take(size_t i) {
    while (next_ < files_.size() && window_.size() < kInFlight) IOTAD_TRY(Launch());
    if (window_.empty() || window_.front()->index != i) return Error(Errc::kInternal, "ingest: files taken out of order");
    std::unique_ptr<Job> job = std::move(window_.front());
    window_.pop_front();
    job->thread.join();
    job->taken = true;
    return std::move(*job->result);
  }

 private:
  struct Job {
    size_t index = 0;
    fs::path tmp;
    std::jthread thread;
    std::optional<Result<StreamedFile>> result;
    bool taken = false;
    ~Job() {
      if (thread.joinable()) thread.join();
      std::error_code ec;
      if (!taken) fs::remove(tmp, ec);  // left behind by an early return
    }
  };
  Status Launch() {
    auto job = std::make_unique<Job>();
    job->index = next_;
    job->tmp = Tmp(next_);
    const fs::path& path = files_[next_];
    Job* j = job.get();
    IOTAD_ASSIGN_OR_RETURN(j->thread, StartThread("ingest's file copy", [j, &path] {
                             std::string chunk;
                             j->result = StreamToScratch(path, j->tmp, IsGzipName(path.filename().string()), chunk);
                           }));
    window_.push_back(std::move(job));
    ++next_;
    return Status::Ok();
  }

  const std::vector<fs::path>& files_;
  const fs::path scratch_;
  const std::string run_id_;
  std::deque<std::unique_ptr<Job>> window_;
  size_t next_ = 0;
};

}  // namespace

std::optional<FileFormat> FormatFromName(std::string_view name) {
  std::string n = LowerName(name);
  if (EndsWith(n, ".gz")) n.resize(n.size() - 3);
  // .tsv and .txt are CSV-like text: the parser detects the delimiter (, ; TAB |).
  if (EndsWith(n, ".csv") || EndsWith(n, ".tsv") || EndsWith(n, ".txt")) return FileFormat::kCsv;
  if (EndsWith(n, ".jsonl") || EndsWith(n, ".ndjson") || EndsWith(n, ".json")) return FileFormat::kJsonLines;
  return std::nullopt;
}

bool IsGzipName(std::string_view name) { return EndsWith(LowerName(name), ".gz"); }

Result<IngestReport> IngestPaths(lake::Lake& lake, const std::vector<std::string>& paths,
                                 const std::string& run_id) {
  if (paths.empty()) return Error(Errc::kInvalidArgument, "ingest: give at least one file or folder");
  IngestReport report;
  std::vector<fs::path> files;
  for (const auto& p : paths) IOTAD_TRY(CollectFiles(p, files, report.skipped, report.bad_files));

  // Content hashes already in bronze (whatever their partition) -> their key.
  IOTAD_ASSIGN_OR_RETURN(auto existing, lake.store().List(lake::kBronzePrefix));
  std::map<std::string, std::string, std::less<>> known;
  for (const auto& o : existing) {
    const size_t slash = o.key.rfind('/');
    known.emplace(o.key.substr(slash + 1, 32), o.key);
  }
  const bool by_arrival = lake.config().ingest.partition == config::PartitionBy::kArrival;
  // The event hour is read the way silver reads the rows: the same parser and options.
  const parse::ColumnRoles roles = ColumnRolesFromConfig(lake.config().silver);
  const std::string staging = lake::Lake::StagingPrefix(run_id);
  lake::Commit commit;
  commit.stage = "ingest";
  commit.run_id = run_id;
  lake::IngestCommitMeta meta;
  IOTAD_ASSIGN_OR_RETURN(auto scratch, lake.store().ScratchDir());
  ScratchWindow window(files, scratch, run_id);
  for (size_t i = 0; i < files.size(); ++i) {
    const fs::path& path = files[i];
    const std::string name = path.filename().string();
    const fs::path tmp = window.Tmp(i);
    IOTAD_ASSIGN_OR_RETURN(auto streamed, window.Take(i));
    if (!streamed.ok()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      const std::string& why = streamed.status().message();
      if (streamed.status().code() == Errc::kInternal) return Error(Errc::kIo, "{}", why);  // the lake's disk
      report.bad_files.push_back({path.string(), why});
      continue;
    }
    const StreamedFile& f = *streamed;
    LandedFile landed;
    landed.source = path.string();
    landed.bytes = f.bytes;
    const std::string hash = f.hash.Hex();
    if (auto k = known.find(hash); k != known.end()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      landed.already_present = true;
      landed.key = k->second;
      ++report.duplicate_files;
      report.files.push_back(std::move(landed));
      continue;
    }
    const FileFormat format = *FormatFromName(name);
    // A file whose sample has no parseable time lands under its arrival hour.
    std::optional<TimestampUs> first;
    if (!by_arrival) first = TypicalEventHour(f.sample, format, roles);
    std::string ext = format == FileFormat::kCsv ? ".csv" : ".jsonl";
    if (f.gzip) ext += ".gz";
    landed.key = fmt::format("{}{}/{}{}", lake::kBronzePrefix, lake::BronzePartition(first.value_or(lake.clock().NowUs())),
                             hash, ext);
    const std::string staged = staging + hash + ext;
    IOTAD_TRY(lake.store().PutFile(staged, tmp));
    IOTAD_FAULT_POINT("ingest.after_stage_file");
    known.emplace(hash, landed.key);
    commit.moves.emplace_back(staged, landed.key);
    // Hashed while copied (the same hash ObjectHashHex gives): Publish need not read it again.
    commit.stamps[landed.key] = lake::ObjectStamp{f.bytes, hash};
    commit.inputs.push_back(landed.source);
    meta.files.push_back({landed.source, landed.key, static_cast<int64_t>(landed.bytes)});
    ++report.new_files;
    report.new_bytes += landed.bytes;
    report.files.push_back(std::move(landed));
  }
  if (!commit.moves.empty()) {
    commit.meta_json = meta.ToJson();
    IOTAD_ASSIGN_OR_RETURN(int64_t seq, lake.Publish(std::move(commit)));
    (void)seq;
  }
  return report;
}

std::string BadFilesJson(const IngestReport& report) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& b : report.bad_files) {
    w.BeginObject().Key("path").String(b.path).Key("reason").String(b.reason).EndObject();
  }
  w.EndArray();
  return w.Take();
}

Status ReadBronzeObject(lake::Lake& lake, const std::string& key, std::string& out, std::string& scratch) {
  IOTAD_TRY(lake.store().GetInto(key, out));
  if (out.compare(0, 2, "\x1f\x8b") != 0) return Status::Ok();
  const Status st = Gunzip(out, key, scratch);
  out.swap(scratch);  // the text, or its prefix when the gzip is damaged
  return st;
}

}  // namespace iotad::ingest
