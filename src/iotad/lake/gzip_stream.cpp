#include "iotad/lake/gzip_stream.h"

#include <zlib.h>

namespace iotad::lake {

struct GzipStream::Impl {
  z_stream zs{};
  bool ok = false;
  bool failed = false;
  bool ended = false;
  std::string message;
  char buf[1 << 16];
};

GzipStream::GzipStream() : impl_(std::make_unique<Impl>()) {
  impl_->ok = inflateInit2(&impl_->zs, 15 + 32) == Z_OK;
}

GzipStream::~GzipStream() {
  if (impl_->ok) inflateEnd(&impl_->zs);
}

bool GzipStream::Feed(std::string_view in, const std::function<void(std::string_view)>& sink) {
  Impl& s = *impl_;
  if (!s.ok || s.failed) return false;
  s.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.zs.avail_in = static_cast<uInt>(in.size());
  while (s.zs.avail_in > 0) {
    if (s.ended) {  // another gzip member follows
      inflateReset(&s.zs);
      s.ended = false;
    }
    s.zs.next_out = reinterpret_cast<Bytef*>(s.buf);
    s.zs.avail_out = sizeof s.buf;
    const int rc = inflate(&s.zs, Z_NO_FLUSH);
    const size_t produced = sizeof s.buf - s.zs.avail_out;
    if (produced > 0) sink(std::string_view(s.buf, produced));
    if (rc == Z_STREAM_END) {
      s.ended = true;
      continue;
    }
    if (rc == Z_BUF_ERROR && produced == 0) break;  // needs more input
    if (rc != Z_OK) {
      s.failed = true;
      s.message = s.zs.msg ? s.zs.msg : "corrupt data";
      return false;
    }
  }
  return true;
}

bool GzipStream::Complete() const { return impl_->ok && !impl_->failed && impl_->ended; }

std::string GzipStream::Problem() const {
  if (!impl_->ok) return "zlib cannot initialise";
  return impl_->failed ? impl_->message : "truncated";
}

std::string Gzip(std::string_view text) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);  // the bound fits the whole output: one call ends the stream
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace iotad::lake
