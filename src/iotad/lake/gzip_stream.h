#pragma once
// Streaming gzip decompression (multi-member), shared by ingest (checking a gzip is complete
// while copying it) and the bronze_rows view (reading bronze objects line by line); and the one
// gzip writer.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace iotad::lake {

class GzipStream {
 public:
  GzipStream();
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  /// Decompresses the next chunk of compressed bytes, handing the text to `sink` in pieces of at
  /// most 64 KiB (memory stays bounded whatever the compression ratio). False once the data is
  /// corrupt (the text before the damage has been handed over).
  bool Feed(std::string_view in, const std::function<void(std::string_view)>& sink);
  /// The same, appending the text to `out`.
  bool Feed(std::string_view in, std::string& out) {
    return Feed(in, [&out](std::string_view text) { out.append(text); });
  }
  /// True when the bytes fed so far end exactly at the end of a complete gzip member.
  bool Complete() const;
  /// Why it is not complete: "truncated" or zlib's message.
  std::string Problem() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// `text` as one gzip member (zlib level 6): what the reader above takes, for exports and tests.
std::string Gzip(std::string_view text);

}  // namespace iotad::lake
