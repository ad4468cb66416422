#include "iotad/lake/bronze_lines.h"

#include <duckdb.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "iotad/lake/gzip_stream.h"

namespace iotad::lake {
namespace {

struct Files {
  std::vector<std::string> keys, paths;
};

/// Reads the files one after the other, one physical line at a time, in bounded memory.
class LineReader {
 public:
  explicit LineReader(const Files& files) : files_(files) {}
  ~LineReader() { Close(); }

  /// The next line (text capped at kMaxLineText); false after the last file.
  bool Next(std::string& text, uint64_t& bytes, int64_t& line, size_t& file) {
    text.clear();
    bytes = 0;
    bool any = false;  // a line has started (so the end of the file ends it)
    while (true) {
      if (fd_ < 0 && !OpenNext()) return false;
      const char* begin = buf_.data() + pos_;
      const size_t avail = buf_.size() - pos_;
      const void* nl = avail > 0 ? std::memchr(begin, '\n', avail) : nullptr;
      const size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - begin) : avail;
      if (text.size() < kMaxLineText) text.append(begin, std::min(take, kMaxLineText - text.size()));
      bytes += take;
      any = any || take > 0;
      if (nl) {
        pos_ += take + 1;
        break;
      }
      buf_.clear();
      pos_ = 0;
      if (!Fill()) {  // end of this file: a last line without LF still counts
        Close();
        if (!any) continue;
        break;
      }
    }
    line = ++line_;
    file = file_;
    return Finish(text, bytes);
  }

 private:
  bool Finish(std::string& text, uint64_t& bytes) {
    if (bytes > 0 && bytes <= text.size() && text.back() == '\r') {
      text.pop_back();
      --bytes;
    }
    return true;
  }

  bool OpenNext() {
    while (true) {
      if (started_) ++file_;
      started_ = true;
      if (file_ >= files_.paths.size()) return false;
      line_ = 0;
      fd_ = ::open(files_.paths[file_].c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) continue;  // gone or unreadable: no lines
      gzip_.reset();
      first_chunk_ = true;
      buf_.clear();
      pos_ = 0;
      return true;
    }
  }

  /// Appends the next piece of text to buf_; false at the end of the file (or on damage).
  bool Fill() {
    while (buf_.empty()) {
      raw_.resize(1 << 16);
      ssize_t n;
      do n = ::read(fd_, raw_.data(), raw_.size());
      while (n < 0 && errno == EINTR);
      if (n <= 0) return false;
      const std::string_view data(raw_.data(), static_cast<size_t>(n));
      if (first_chunk_) {
        first_chunk_ = false;
        if (data.size() >= 2 && data.compare(0, 2, "\x1f\x8b") == 0) gzip_ = std::make_unique<GzipStream>();
      }
      if (!gzip_) {
        buf_.assign(data);
      } else if (!gzip_->Feed(data, buf_) && buf_.empty()) {
        return false;  // damaged gzip: what it gave so far was all
      }
    }
    return true;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  const Files& files_;
  size_t file_ = 0;
  bool started_ = false;
  int fd_ = -1;
  int64_t line_ = 0;
  bool first_chunk_ = true;
  std::unique_ptr<GzipStream> gzip_;
  std::string raw_, buf_;
  size_t pos_ = 0;
};

/// `text` as valid UTF-8 with no NUL: invalid bytes and NULs become U+FFFD. False if anything changed.
bool Sanitize(const std::string& text, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  bool exact = true;
  out.clear();
  size_t copied = 0;  // text[copied, i) is valid and not yet in out
  auto replace = [&](size_t bad_len) {
    if (exact) out.reserve(n + 16);
    exact = false;
    out.append(text, copied, i - copied);
    out.append("\xEF\xBF\xBD");
    i += bad_len;
    copied = i;
  };
  while (i < n) {
    const unsigned char c = p[i];
    if (c >= 0x01 && c < 0x80) {
      ++i;
      continue;
    }
    if (c == 0) {
      replace(1);
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    if (len == 0 || i + len > n) {
      replace(1);
      continue;
    }
    bool ok = true;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (!ok || (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      replace(1);
      continue;
    }
    i += len;
  }
  if (!exact) out.append(text, copied, n - copied);
  return exact;
}

struct ScanState {
  explicit ScanState(const Files& files) : reader(files) {}
  LineReader reader;
  std::string text, clean;
};

void Bind(duckdb_bind_info info) {
  auto files = std::make_unique<Files>();
  for (idx_t param = 0; param < 2; ++param) {
    duckdb_value list = duckdb_bind_get_parameter(info, param);
    const idx_t n = duckdb_get_list_size(list);
    auto& out = param == 0 ? files->keys : files->paths;
    for (idx_t i = 0; i < n; ++i) {
      duckdb_value v = duckdb_get_list_child(list, i);
      char* s = duckdb_get_varchar(v);
      out.emplace_back(s ? s : "");
      duckdb_free(s);
      duckdb_destroy_value(&v);
    }
    duckdb_destroy_value(&list);
  }
  if (files->keys.size() != files->paths.size()) {
    duckdb_bind_set_error(info, "iotad_bronze_lines: keys and paths differ in length");
    return;
  }
  for (const Column& c : kBronzeLineColumns) {
    duckdb_logical_type t = duckdb_create_logical_type(DuckTypeOf(c.type));
    duckdb_bind_add_result_column(info, std::string(c.name).c_str(), t);
    duckdb_destroy_logical_type(&t);
  }
  duckdb_bind_set_bind_data(info, files.release(), [](void* p) { delete static_cast<Files*>(p); });
}

void Init(duckdb_init_info info) {
  const auto* files = static_cast<const Files*>(duckdb_init_get_bind_data(info));
  duckdb_init_set_init_data(info, new ScanState(*files), [](void* p) { delete static_cast<ScanState*>(p); });
  duckdb_init_set_max_threads(info, 1);
}

void Produce(duckdb_function_info info, duckdb_data_chunk output) {
  auto* state = static_cast<ScanState*>(duckdb_function_get_init_data(info));
  const auto* files = static_cast<const Files*>(duckdb_function_get_bind_data(info));
  duckdb_vector key = duckdb_data_chunk_get_vector(output, 0);
  auto* line = static_cast<int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 1)));
  auto* bytes = static_cast<int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 2)));
  duckdb_vector text = duckdb_data_chunk_get_vector(output, 3);
  auto* exact = static_cast<bool*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 4)));
  const idx_t capacity = duckdb_vector_size();
  idx_t rows = 0;
  uint64_t chunk_text = 0;  // keep one chunk's strings to a sane size when lines are long
  while (rows < capacity && chunk_text < (64u << 20)) {
    uint64_t n = 0;
    int64_t no = 0;
    size_t file = 0;
    if (!state->reader.Next(state->text, n, no, file)) break;
    const std::string& k = files->keys[file];
    duckdb_vector_assign_string_element_len(key, rows, k.data(), k.size());
    line[rows] = no;
    bytes[rows] = static_cast<int64_t>(n);
    const bool valid = Sanitize(state->text, state->clean);
    const std::string& t = valid ? state->text : state->clean;
    duckdb_vector_assign_string_element_len(text, rows, t.data(), t.size());
    exact[rows] = valid && n == state->text.size();
    chunk_text += t.size();
    ++rows;
  }
  duckdb_data_chunk_set_size(output, rows);
}

}  // namespace

Status RegisterBronzeLines(DuckSession& session) {
  if (session.HasTableFunction("iotad_bronze_lines")) return Status::Ok();
  duckdb_table_function tf = duckdb_create_table_function();
  duckdb_table_function_set_name(tf, "iotad_bronze_lines");
  duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_logical_type list = duckdb_create_list_type(varchar);
  duckdb_table_function_add_parameter(tf, list);
  duckdb_table_function_add_parameter(tf, list);
  duckdb_destroy_logical_type(&list);
  duckdb_destroy_logical_type(&varchar);
  duckdb_table_function_set_bind(tf, Bind);
  duckdb_table_function_set_init(tf, Init);
  duckdb_table_function_set_function(tf, Produce);
  const duckdb_state rc = duckdb_register_table_function(session.connection(), tf);
  duckdb_destroy_table_function(&tf);
  if (rc != DuckDBSuccess) {
    return Error(Errc::kInternal, "duckdb: cannot register the iotad_bronze_lines table function");
  }
  session.MarkTableFunction("iotad_bronze_lines");
  return Status::Ok();
}

}  // namespace iotad::lake
