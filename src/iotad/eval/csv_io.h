#pragma once
// Reading the eval module's inputs: whole text files, and CSV files line by line through one big
// buffer, gzip or not (zlib reads plain files through unchanged).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "iotad/core/file.h"  // ReadWholeFile
#include "iotad/core/result.h"

namespace iotad::eval {

/// Lines of a text file, `.gz` or plain, without their `\n` / `\r\n`. No allocation per line.
class LineReader {
 public:
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// The next line (valid until the next call), nullopt at the end; a read error is an error.
  Result<std::optional<std::string_view>> Next();
  /// 1-based number of the line last returned.
  int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

 private:
  LineReader(void* file, std::string path);
  Status Refill();

  void* file_;  // gzFile
  std::string path_;
  std::string buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_number_ = 0;
};

/// Splits a CSV line on commas (no quoting: NAB files have none) into at most `cells.size()`
/// cells; returns the number of cells the line has (which may exceed what was stored).
size_t SplitCsv(std::string_view line, std::span<std::string_view> cells);

/// Parses a whole cell as a double (fast_float, correctly rounded); nullopt if it is not one.
std::optional<double> ParseDouble(std::string_view text);

}  // namespace iotad::eval
