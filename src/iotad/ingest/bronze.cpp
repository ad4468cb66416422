#include "iotad/ingest/bronze.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/json.h"

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

/// Decompresses gzip (possibly multi-member) fully.
Result<std::string> Gunzip(std::string_view in, std::string_view name) {
  std::string out;
  out.reserve(in.size() * 4);
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Error(Errc::kInternal, "zlib: cannot initialise");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[1 << 16];
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // next gzip member
      continue;
    }
    if (rc != Z_OK) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return Error(Errc::kParse, "'{}' is not a complete gzip file ({})", name, zs.msg ? zs.msg : "truncated");
  }
  return out;
}

/// The hour most of the file's first rows belong to, for the bronze partition. Not simply the
/// first row's: gateways often send held-back (late) rows first.
std::optional<TimestampUs> TypicalEventHour(std::string_view text, FileFormat format) {
  constexpr int kSampleRows = 2000;
  std::map<TimestampUs, int> hours;
  size_t pos = 0;
  int time_col = -1;
  int sampled = 0;
  while (pos < text.size() && sampled < kSampleRows) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view rec = text.substr(pos, end - pos);
    pos = end + 1;
    if (rec.empty()) continue;
    std::optional<TimestampUs> ts;
    if (format == FileFormat::kJsonLines) {
      for (const char* key : {"\"event_time\"", "\"timestamp\"", "\"ts\"", "\"time\""}) {
        const size_t k = rec.find(key);
        if (k == std::string_view::npos) continue;
        size_t v = rec.find(':', k);
        if (v == std::string_view::npos) continue;
        ++v;
        while (v < rec.size() && (rec[v] == ' ' || rec[v] == '"')) ++v;
        size_t e = v;
        while (e < rec.size() && rec[e] != '"' && rec[e] != ',' && rec[e] != '}') ++e;
        if ((ts = ParseTimestamp(rec.substr(v, e - v)))) break;
      }
    } else {
      std::vector<std::string_view> cells;
      size_t start = 0;
      while (true) {
        const size_t comma = rec.find(',', start);
        cells.push_back(rec.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      if (time_col < 0) {
        for (size_t i = 0; i < cells.size(); ++i) {
          const std::string n = LowerName(cells[i]);
          if (n.find("event_time") != std::string::npos || n == "timestamp" || n == "ts" || n == "time") {
            time_col = static_cast<int>(i);
            break;
          }
        }
        if (time_col < 0) return std::nullopt;
        continue;
      }
      if (static_cast<size_t>(time_col) < cells.size()) ts = ParseTimestamp(cells[static_cast<size_t>(time_col)]);
    }
    if (ts) {
      ++hours[HourStart(*ts)];
      ++sampled;
    }
  }
  if (hours.empty()) return std::nullopt;
  return std::max_element(hours.begin(), hours.end(), [](const auto& a, const auto& b) { return a.second < b.second; })
      ->first;
}

Status CollectFiles(const std::string& path, std::vector<fs::path>& files, std::vector<std::string>& skipped) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    std::vector<fs::path> found;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    if (ec) return Error(Errc::kIo, "ingest: cannot read folder '{}': {}", path, ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return Error(Errc::kIo, "ingest: cannot read folder '{}': {}", path, ec.message());
      const std::string name = it->path().filename().string();
      if (!name.empty() && (name[0] == '_' || name[0] == '.')) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (!FormatFromName(name)) {
        skipped.push_back(fmt::format("{}: not a .csv or .jsonl file (optionally .gz)", it->path().string()));
        continue;
      }
      found.push_back(it->path());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
    return Status::Ok();
  }
  if (!fs::exists(p, ec)) return Error(Errc::kNotFound, "ingest: '{}' does not exist", path);
  if (!FormatFromName(p.filename().string())) {
    return Error(Errc::kInvalidArgument, "ingest: '{}' is not a .csv or .jsonl file (optionally .gz)", path);
  }
  files.push_back(p);
  return Status::Ok();
}

Result<std::string> ReadLocalFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(Errc::kIo, "ingest: cannot read '{}': {}", path.string(), std::strerror(errno));
  std::string data;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec) data.resize(size);
  size_t got = 0;
  while (true) {
    if (got == data.size()) data.resize(std::max<size_t>(data.size() * 2, 1 << 16));
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Error(Errc::kIo, "ingest: cannot read '{}': {}", path.string(), std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

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
  for (const auto& p : paths) IOTAD_TRY(CollectFiles(p, files, report.skipped));

  // Content hashes already in bronze (whatever their partition).
  IOTAD_ASSIGN_OR_RETURN(auto existing, lake.store().List(lake::kBronzePrefix));
  std::set<std::string> known;
  for (const auto& o : existing) {
    const size_t slash = o.key.rfind('/');
    known.insert(o.key.substr(slash + 1, 32));
  }
  const bool by_arrival = lake.config().ingest.partition_by == "arrival";
  const std::string staging = lake::Lake::StagingPrefix(run_id);
  lake::Commit commit;
  commit.stage = "ingest";
  commit.run_id = run_id;
  JsonWriter meta;
  meta.BeginObject().Key("files").BeginArray();
  IOTAD_ASSIGN_OR_RETURN(auto scratch, lake.store().ScratchDir());
  for (const auto& path : files) {
    IOTAD_ASSIGN_OR_RETURN(std::string bytes, ReadLocalFile(path));
    const std::string name = path.filename().string();
    LandedFile landed;
    landed.source = path.string();
    landed.bytes = bytes.size();
    if (bytes.empty()) {
      report.skipped.push_back(fmt::format("{}: empty file", path.string()));
      continue;
    }
    const std::string hash = HashBytes(bytes).Hex();
    const FileFormat format = *FormatFromName(name);
    const bool gz = bytes.size() >= 2 && bytes.compare(0, 2, "\x1f\x8b") == 0;
    if (IsGzipName(name) && !gz) {
      return Error(Errc::kParse, "ingest: '{}' is named .gz but is not gzip data", path.string());
    }
    if (known.count(hash) > 0) {
      landed.already_present = true;
      ++report.duplicate_files;
      for (const auto& o : existing) {
        if (o.key.find(hash) != std::string::npos) landed.key = o.key;
      }
      report.files.push_back(std::move(landed));
      continue;
    }
    std::optional<TimestampUs> first;
    if (!by_arrival) {
      if (gz) {
        auto text = Gunzip(bytes, path.string());
        if (!text.ok()) return text.status().WithContext("ingest: ");
        first = TypicalEventHour(*text, format);
      } else {
        first = TypicalEventHour(bytes, format);
      }
    }
    std::string ext = format == FileFormat::kCsv ? ".csv" : ".jsonl";
    if (gz) ext += ".gz";
    landed.key = fmt::format("{}{}/{}{}", lake::kBronzePrefix, lake::BronzePartition(first.value_or(NowUs())),
                             hash, ext);
    const std::string staged = staging + hash + ext;
    const fs::path tmp = scratch / (hash + ext);
    {
      const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return Error(Errc::kIo, "ingest: cannot write '{}': {}", tmp.string(), std::strerror(errno));
      size_t off = 0;
      while (off < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (n < 0) {
          if (errno == EINTR) continue;
          const int err = errno;
          ::close(fd);
          return Error(Errc::kIo, "ingest: cannot write '{}': {}", tmp.string(), std::strerror(err));
        }
        off += static_cast<size_t>(n);
      }
      ::close(fd);
    }
    IOTAD_TRY(lake.store().PutFile(staged, tmp));
    IOTAD_FAULT_POINT("ingest.after_stage_file");
    known.insert(hash);
    commit.moves.emplace_back(staged, landed.key);
    commit.inputs.push_back(landed.source);
    meta.BeginObject().Key("source").String(landed.source).Key("key").String(landed.key)
        .Key("bytes").Int(static_cast<int64_t>(landed.bytes)).EndObject();
    ++report.new_files;
    report.new_bytes += landed.bytes;
    report.files.push_back(std::move(landed));
  }
  meta.EndArray().EndObject();
  if (!commit.moves.empty()) {
    commit.meta_json = meta.Take();
    IOTAD_ASSIGN_OR_RETURN(int64_t seq, lake.Publish(std::move(commit)));
    (void)seq;
  }
  return report;
}

Status ReadBronzeObject(lake::Lake& lake, const std::string& key, std::string& out, std::string& scratch) {
  IOTAD_TRY(lake.store().GetInto(key, out));
  if (out.compare(0, 2, "\x1f\x8b") != 0) return Status::Ok();
  auto text = Gunzip(out, key);
  if (!text.ok()) return text.status();
  scratch = std::move(*text);
  out.swap(scratch);
  return Status::Ok();
}

}  // namespace iotad::ingest
