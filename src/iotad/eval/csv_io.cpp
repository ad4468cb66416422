#include "iotad/eval/csv_io.h"

#include <fast_float/fast_float.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace iotad::eval {
namespace {

constexpr size_t kBufferBytes = 1 << 20;

Status OpenError(const std::string& path) {
  return Error(errno == ENOENT ? Errc::kNotFound : Errc::kIo, "cannot read '{}': {}", path,
               std::strerror(errno));
}

}  // namespace


Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return OpenError(path);
  gzbuffer(file, kBufferBytes);
  return std::unique_ptr<LineReader>(new LineReader(file, path));
}

LineReader::LineReader(void* file, std::string path) : file_(file), path_(std::move(path)) {
  buffer_.resize(kBufferBytes);
}

LineReader::~LineReader() { gzclose(static_cast<gzFile>(file_)); }

Status LineReader::Refill() {
  // Keep the unfinished line, grow the buffer when one line fills it.
  const size_t kept = end_ - begin_;
  std::memmove(buffer_.data(), buffer_.data() + begin_, kept);
  begin_ = 0;
  end_ = kept;
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  const int n = gzread(static_cast<gzFile>(file_), buffer_.data() + end_,
                       static_cast<unsigned>(buffer_.size() - end_));
  if (n < 0) {
    int code = 0;
    const char* message = gzerror(static_cast<gzFile>(file_), &code);
    return Error(Errc::kIo, "cannot read '{}': {}", path_, message);
  }
  if (n == 0) eof_ = true;
  end_ += static_cast<size_t>(n);
  return Status::Ok();
}

Result<std::optional<std::string_view>> LineReader::Next() {
  size_t scanned = begin_;
  while (true) {
    const void* newline = std::memchr(buffer_.data() + scanned, '\n', end_ - scanned);
    if (newline != nullptr || (eof_ && begin_ < end_)) {
      const size_t stop =
          newline != nullptr ? static_cast<const char*>(newline) - buffer_.data() : end_;
      std::string_view line(buffer_.data() + begin_, stop - begin_);
      begin_ = newline != nullptr ? stop + 1 : end_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++line_number_;
      return std::optional<std::string_view>(line);
    }
    if (eof_) return std::optional<std::string_view>();
    scanned = end_ - begin_;
    IOTAD_TRY(Refill());
  }
}

size_t SplitCsv(std::string_view line, std::span<std::string_view> cells) {
  size_t count = 0;
  while (true) {
    const size_t comma = line.find(',');
    if (count < cells.size()) cells[count] = line.substr(0, comma);
    ++count;
    if (comma == std::string_view::npos) return count;
    line.remove_prefix(comma + 1);
  }
}

std::optional<double> ParseDouble(std::string_view text) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && *first == '+') ++first;  // fast_float rejects a leading '+'
  double value = 0;
  const auto [ptr, ec] = fast_float::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || first == last) return std::nullopt;
  return value;
}

}  // namespace iotad::eval
