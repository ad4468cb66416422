#include "iotad/lake/silver_scan.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "iotad/lake/parquet_encoder.h"
#include "iotad/lake/parquet_format.h"

namespace iotad::lake {
namespace {

using parquet_format::Encoding;
using parquet_format::PhysicalType;

/// A DuckDB result as a ChunkStream.
class DuckStream final : public ChunkStream {
 public:
  explicit DuckStream(DuckResult result) : result_(std::move(result)) {}
  size_t ColumnCount() override { return result_.ColumnCount(); }
  std::string ColumnName(size_t col) override { return result_.ColumnName(col); }
  duckdb_type ColumnType(size_t col) override { return result_.ColumnType(col); }
  Result<DuckChunk> Next() override { return result_.Next(); }

 private:
  DuckResult result_;
};

/// Thrift's compact protocol, read: as much as Parquet's footer and page headers need; fields
/// it does not ask for are skipped. Every read is bounds-checked; a short or malformed input
/// sets !ok() and reads zeros from then on.
class ThriftReader {
 public:
  ThriftReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  bool ok() const { return ok_; }
  const uint8_t* position() const { return p_; }

  /// Calls fn(id, type) for each field of a struct; fn reads the value or calls Skip(type).
  template <typename Fn>
  void Struct(Fn&& fn) {
    if (++depth_ > 32) ok_ = false;
    int16_t last = 0;
    while (ok_) {
      const uint8_t b = Byte();
      if (b == 0 || !ok_) break;
      const uint8_t type = b & 0x0F;
      const int16_t id = (b >> 4) != 0 ? static_cast<int16_t>(last + (b >> 4)) : static_cast<int16_t>(Int());
      last = id;
      fn(id, type);
    }
    --depth_;
  }
  /// Calls fn(element type) for each element of a list.
  template <typename Fn>
  void List(Fn&& fn) {
    const uint8_t h = Byte();
    size_t n = h >> 4;
    if (n == 15) n = static_cast<size_t>(Varint());
    const uint8_t type = h & 0x0F;
    for (size_t i = 0; i < n && ok_; ++i) fn(type);
  }
  int64_t Int() {
    const uint64_t v = Varint();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  std::string_view Binary() {
    const uint64_t n = Varint();
    if (!ok_ || n > static_cast<uint64_t>(end_ - p_)) {
      ok_ = false;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  void Skip(uint8_t type) {
    if (++depth_ > 32) ok_ = false;  // nested containers: bounded, whatever the input
    if (ok_) SkipValue(type);
    --depth_;
  }

 private:
  void SkipValue(uint8_t type) {
    switch (type) {
      case 1:
      case 2:
        return;  // a bool field's value is its type
      case 3:
        Byte();
        return;
      case 4:
      case 5:
      case 6:
        Varint();
        return;
      case 7:
        Advance(8);
        return;
      case 8:
        Binary();
        return;
      case 9:
      case 10:
        List([&](uint8_t t) { SkipElement(t); });
        return;
      case 11: {
        const uint64_t n = Varint();
        if (n == 0) return;
        const uint8_t kv = Byte();
        for (uint64_t i = 0; i < n && ok_; ++i) {
          SkipElement(kv >> 4);
          SkipElement(kv & 0x0F);
        }
        return;
      }
      case 12:
        Struct([&](int16_t, uint8_t t) { Skip(t); });
        return;
      default:
        ok_ = false;
    }
  }
  /// A container's element: a bool there is a byte of its own (so every element reads input).
  void SkipElement(uint8_t type) {
    if (type == 1 || type == 2) Byte();
    else Skip(type);
  }
  uint8_t Byte() {
    if (p_ >= end_) {
      ok_ = false;
      return 0;
    }
    return *p_++;
  }
  void Advance(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) ok_ = false;
    else p_ += n;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && ok_; shift += 7) {
      const uint8_t b = Byte();
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
  int depth_ = 0;
};

struct ChunkMeta {
  int32_t type = -1, codec = -1;
  std::string name;
  int64_t values = 0, compressed = 0, data_page = -1, dictionary_page = -1;
  // Statistics min_value / max_value (exact, byte order, as silver's encoder writes them).
  bool has_min = false, has_max = false;
  std::string min, max;
};
struct RowGroupMeta {
  int64_t rows = 0;
  std::vector<ChunkMeta> chunks;
};
struct FileMeta {
  std::string created_by;
  std::vector<std::pair<std::string, int32_t>> columns;  // name, physical type (leaves in order)
  bool flat_optional = true;
  std::vector<RowGroupMeta> groups;
};

FileMeta ParseFooter(ThriftReader& t) {
  FileMeta m;
  t.Struct([&](int16_t id, uint8_t type) {
    if (id == 2 && type == 9) {  // schema
      bool root = true;
      t.List([&](uint8_t) {
        std::string name;
        int32_t physical = -1, repetition = -1, children = 0;
        t.Struct([&](int16_t f, uint8_t ft) {
          if (f == 1) physical = static_cast<int32_t>(t.Int());
          else if (f == 3) repetition = static_cast<int32_t>(t.Int());
          else if (f == 4) name = t.Binary();
          else if (f == 5) children = static_cast<int32_t>(t.Int());
          else t.Skip(ft);
        });
        if (root) {
          root = false;
          return;
        }
        if (children != 0 || repetition != parquet_format::kOptional) m.flat_optional = false;
        m.columns.emplace_back(std::move(name), physical);
      });
    } else if (id == 4 && type == 9) {  // row groups
      t.List([&](uint8_t) {
        RowGroupMeta g;
        t.Struct([&](int16_t f, uint8_t ft) {
          if (f == 1 && ft == 9) {
            t.List([&](uint8_t) {
              ChunkMeta c;
              t.Struct([&](int16_t cf, uint8_t cft) {
                if (cf != 3) return t.Skip(cft);
                t.Struct([&](int16_t mf, uint8_t mft) {
                  switch (mf) {
                    case 1: c.type = static_cast<int32_t>(t.Int()); break;
                    case 3: t.List([&](uint8_t) { c.name = t.Binary(); }); break;
                    case 4: c.codec = static_cast<int32_t>(t.Int()); break;
                    case 5: c.values = t.Int(); break;
                    case 7: c.compressed = t.Int(); break;
                    case 9: c.data_page = t.Int(); break;
                    case 11: c.dictionary_page = t.Int(); break;
                    case 12:
                      if (mft != 12) return t.Skip(mft);
                      t.Struct([&](int16_t sf, uint8_t sft) {
                        if (sf == 5 && sft == 8) c.max = t.Binary(), c.has_max = true;
                        else if (sf == 6 && sft == 8) c.min = t.Binary(), c.has_min = true;
                        else t.Skip(sft);
                      });
                      break;
                    default: t.Skip(mft);
                  }
                });
              });
              g.chunks.push_back(std::move(c));
            });
          } else if (f == 3) {
            g.rows = t.Int();
          } else {
            t.Skip(ft);
          }
        });
        m.groups.push_back(std::move(g));
      });
    } else if (id == 6 && type == 8) {
      m.created_by = t.Binary();
    } else {
      t.Skip(type);
    }
  });
  return m;
}

struct PageHeader {
  int32_t type = -1, uncompressed = 0, compressed = 0, values = 0, encoding = -1;
};

PageHeader ParsePageHeader(ThriftReader& t) {
  PageHeader h;
  t.Struct([&](int16_t id, uint8_t type) {
    if (id == 1) h.type = static_cast<int32_t>(t.Int());
    else if (id == 2) h.uncompressed = static_cast<int32_t>(t.Int());
    else if (id == 3) h.compressed = static_cast<int32_t>(t.Int());
    else if ((id == 5 || id == 7) && type == 12) {  // data page header, dictionary page header
      t.Struct([&](int16_t f, uint8_t ft) {
        if (f == 1) h.values = static_cast<int32_t>(t.Int());
        else if (f == 2) h.encoding = static_cast<int32_t>(t.Int());
        else t.Skip(ft);
      });
    } else {
      t.Skip(type);
    }
  });
  return h;
}

uint64_t ReadVarint(const uint8_t*& p, const uint8_t* end, bool& ok) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) break;
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  ok = false;
  return 0;
}

/// Parquet's RLE/bit-packed hybrid: `count` values of `bw` bits into `out`. False when the
/// input ends early or is malformed.
bool DecodeRleHybrid(const uint8_t* p, const uint8_t* end, int bw, size_t count, uint32_t* out) {
  if (bw < 0 || bw > 32) return false;
  const int value_bytes = (bw + 7) / 8;
  const uint64_t mask = bw == 32 ? 0xFFFFFFFFull : (uint64_t{1} << bw) - 1;
  size_t n = 0;
  bool ok = true;
  while (n < count) {
    const uint64_t h = ReadVarint(p, end, ok);
    if (!ok) return false;
    if ((h & 1) != 0) {
      const uint64_t groups = h >> 1;
      if (groups == 0 || groups > static_cast<uint64_t>(end - p) || groups * static_cast<uint64_t>(bw) >
                                                                         static_cast<uint64_t>(end - p)) {
        return false;
      }
      const size_t take = std::min<size_t>(groups * 8, count - n);
      // Each value from an unaligned 8-byte load at its first byte (bw <= 32 and a shift of at
      // most 7 fit in 64 bits), while 8 bytes remain in the input; the last few byte by byte.
      const auto avail = static_cast<size_t>(end - p);
      size_t k = 0;
      for (; k < take && ((k * static_cast<size_t>(bw)) >> 3) + 8 <= avail; ++k) {
        const size_t bit = k * static_cast<size_t>(bw);
        uint64_t word;
        std::memcpy(&word, p + (bit >> 3), 8);
        out[n + k] = static_cast<uint32_t>((word >> (bit & 7)) & mask);
      }
      for (; k < take; ++k) {
        const size_t bit = k * static_cast<size_t>(bw);
        uint64_t word = 0;
        for (size_t byte = bit >> 3; byte < std::min(avail, ((bit + static_cast<size_t>(bw) + 7) >> 3)); ++byte) {
          word |= static_cast<uint64_t>(p[byte]) << (8 * (byte - (bit >> 3)));
        }
        out[n + k] = static_cast<uint32_t>((word >> (bit & 7)) & mask);
      }
      p += groups * static_cast<uint64_t>(bw);
      n += take;
    } else {
      const uint64_t run = h >> 1;
      if (run == 0 || value_bytes > end - p) return false;
      uint32_t value = 0;
      for (int b = 0; b < value_bytes; ++b) value |= static_cast<uint32_t>(p[b]) << (8 * b);
      if (value > mask) return false;  // wider than the bit width says
      p += value_bytes;
      const size_t take = std::min<size_t>(run, count - n);
      std::fill(out + n, out + n + take, value);
      n += take;
    }
  }
  return true;
}

/// One column of a decoded row group, in DuckDB's cell layout: a value (or a 16-byte string cell)
/// per row, and whether it is valid.
struct DecodedColumn {
  int32_t type = -1;
  bool present = false;    // the file has the column (else every row is NULL)
  bool all_valid = false;  // no NULL in the row group
  std::vector<uint8_t> valid;
  std::vector<uint64_t> fixed;         // INT64 / DOUBLE bits
  std::vector<duckdb_string_t> cells;  // BYTE_ARRAY; long strings point into the stream's kept pages
};

/// DuckDB's cell for `s`: inlined up to 12 bytes (zero-padded), else length, prefix and pointer.
duckdb_string_t StringCell(std::string_view s) {
  duckdb_string_t cell;
  std::memset(&cell, 0, sizeof cell);
  cell.value.inlined.length = static_cast<uint32_t>(s.size());
  if (s.size() <= 12) {
    std::memcpy(cell.value.inlined.inlined, s.data(), s.size());
  } else {
    std::memcpy(cell.value.pointer.prefix, s.data(), 4);
    cell.value.pointer.ptr = const_cast<char*>(s.data());
  }
  return cell;
}

/// Reads silver's files written by ParquetEncoder.
class NativeStream final : public ChunkStream {
 public:
  /// Not ok (kInvalidArgument) when the files are not all silver encoder's: the caller asks DuckDB.
  static Result<std::unique_ptr<NativeStream>> Open(const std::vector<std::string>& files,
                                                    const std::vector<std::string>& wanted,
                                                    const ScanRange* range = nullptr) {
    auto s = std::unique_ptr<NativeStream>(new NativeStream());
    if (range != nullptr) s->range_ = *range;
    for (const auto& path : files) {
      File f;
      f.path = path;
      std::ifstream in(path, std::ios::binary | std::ios::ate);
      if (!in) return Error(Errc::kInvalidArgument, "not a local file: {}", path);
      f.bytes.resize(static_cast<size_t>(in.tellg()));
      in.seekg(0);
      if (!in.read(f.bytes.data(), static_cast<std::streamsize>(f.bytes.size()))) {
        return Error(Errc::kIo, "cannot read {}", path);
      }
      const std::string& b = f.bytes;
      if (b.size() < 12 || b.compare(0, 4, "PAR1") != 0 || b.compare(b.size() - 4, 4, "PAR1") != 0) {
        return Error(Errc::kInvalidArgument, "not a Parquet file: {}", path);
      }
      uint32_t len;
      std::memcpy(&len, b.data() + b.size() - 8, 4);
      if (len > b.size() - 12) return Error(Errc::kInvalidArgument, "bad footer: {}", path);
      const auto* footer = reinterpret_cast<const uint8_t*>(b.data() + b.size() - 8 - len);
      ThriftReader t(footer, footer + len);
      f.meta = ParseFooter(t);
      if (!t.ok() || f.meta.created_by.rfind("iotad version ", 0) != 0 || !f.meta.flat_optional) {
        return Error(Errc::kInvalidArgument, "not written by silver's encoder: {}", path);
      }
      for (const auto& g : f.meta.groups) {
        // Silver's encoder writes at most kRowGroupRows rows per group; anything else is DuckDB's to read.
        if (g.chunks.size() != f.meta.columns.size() || g.rows < 0 ||
            g.rows > static_cast<int64_t>(ParquetEncoder::kRowGroupRows)) {
          return Error(Errc::kInvalidArgument, "not a row group of silver's encoder: {}", path);
        }
      }
      f.inflate_budget = (size_t{64} << 20) + 1000 * f.bytes.size();
      s->files_.push_back(std::move(f));
    }
    // The output: each wanted name some file has, typed alike in every file that has it.
    for (const auto& name : wanted) {
      int32_t type = -1;
      for (const File& f : s->files_) {
        for (const auto& [col, t] : f.meta.columns) {
          if (col != name) continue;
          if (type >= 0 && type != t) return Error(Errc::kInvalidArgument, "column {} changes type", name);
          type = t;
        }
      }
      if (type < 0) continue;
      if (type != PhysicalType::kInt64 && type != PhysicalType::kDouble && type != PhysicalType::kByteArray) {
        return Error(Errc::kInvalidArgument, "column {} has a type silver does not write", name);
      }
      s->names_.push_back(name);
      s->types_.push_back(type);
    }
    return s;
  }

  ~NativeStream() override {
    for (auto& t : logical_) duckdb_destroy_logical_type(&t);
  }
  size_t ColumnCount() override { return names_.size(); }
  std::string ColumnName(size_t col) override { return names_[col]; }
  duckdb_type ColumnType(size_t col) override { return LogicalTypeOf(types_[col]); }

  Result<DuckChunk> Next() override {
    while (row_ >= group_rows_) {
      if (!NextRowGroup()) return DuckChunk();
      IOTAD_TRY(DecodeRowGroup());
    }
    if (logical_.empty()) {
      for (const int32_t t : types_) {
        logical_.push_back(duckdb_create_logical_type(LogicalTypeOf(t)));
      }
    }
    const size_t n = std::min<size_t>(duckdb_vector_size(), group_rows_ - row_);
    duckdb_data_chunk chunk = duckdb_create_data_chunk(logical_.data(), logical_.size());
    for (size_t c = 0; c < names_.size(); ++c) Fill(duckdb_data_chunk_get_vector(chunk, c), columns_[c], n);
    duckdb_data_chunk_set_size(chunk, n);
    row_ += n;
    return DuckChunk(chunk);
  }

 private:
  struct File {
    std::string path;
    std::string bytes;
    FileMeta meta;
    // Bytes its pages may decompress to in all: far above any real ratio, but a damaged header
    // cannot make the reader allocate gigabytes.
    size_t inflate_budget = 0;
  };
  NativeStream() = default;

  bool NextRowGroup() {
    while (file_ < files_.size()) {
      if (++group_ < files_[file_].meta.groups.size()) {
        if (OutOfRange(files_[file_], files_[file_].meta.groups[group_])) continue;
        return true;
      }
      ++file_;
      group_ = static_cast<size_t>(-1);
    }
    return false;
  }

  /// Whether the group's statistics show that no row has the range's column within it.
  bool OutOfRange(const File& f, const RowGroupMeta& g) const {
    if (!range_) return false;
    for (size_t i = 0; i < f.meta.columns.size(); ++i) {
      if (f.meta.columns[i].first != range_->column || f.meta.columns[i].second != PhysicalType::kByteArray) continue;
      const ChunkMeta& c = g.chunks[i];
      return (c.has_max && c.max < range_->lo) || (c.has_min && c.min > range_->hi);
    }
    return false;  // no such column: its NULLs are for the caller to judge
  }

  void Fill(duckdb_vector v, const DecodedColumn& col, size_t n) {
    const size_t base = row_;
    void* out = duckdb_vector_get_data(v);
    const size_t width = col.type == PhysicalType::kByteArray ? sizeof(duckdb_string_t) : sizeof(uint64_t);
    if (!col.present) {
      std::memset(out, 0, n * width);
    } else if (col.type == PhysicalType::kByteArray) {
      std::memcpy(out, col.cells.data() + base, n * width);
    } else {
      std::memcpy(out, col.fixed.data() + base, n * width);
    }
    if (col.present && col.all_valid) return;
    duckdb_vector_ensure_validity_writable(v);
    uint64_t* mask = duckdb_vector_get_validity(v);
    const uint8_t* valid = col.present ? col.valid.data() + base : nullptr;
    for (size_t w = 0; w < (n + 63) / 64; ++w) {
      uint64_t word = 0;
      for (size_t j = 0; valid != nullptr && j < 64 && w * 64 + j < n; j += 8) {
        if (w * 64 + j + 8 <= n) {
          // Eight 0/1 bytes to eight bits: the multiply gathers byte i's low bit into bit 56 + i.
          uint64_t bytes;
          std::memcpy(&bytes, valid + w * 64 + j, 8);
          word |= ((bytes * 0x0102040810204080ull) >> 56) << j;
        } else {
          for (size_t i = j; w * 64 + i < n; ++i) word |= static_cast<uint64_t>(valid[w * 64 + i]) << i;
        }
      }
      mask[w] = word;
    }
  }

  Status Corrupt(const File& f, std::string_view what) const {
    return Error(Errc::kCorrupt, "silver file {} is damaged: {}", f.path, what);
  }

  /// Decompresses a page body into a buffer of its own; the view stays valid while the stream lives.
  Result<std::string_view> Uncompress(File& f, int32_t codec, std::string_view in, size_t size,
                                      std::string& out) {
    if (size > f.inflate_budget) return Corrupt(f, "a page larger than the file can hold");
    f.inflate_budget -= size;
    out.resize(size);
    switch (codec) {
      case parquet_format::kUncompressed:
        if (in.size() != size) return Corrupt(f, "page size");
        return in;
      case parquet_format::kZstd:
        if (ZSTD_decompress(out.data(), size, in.data(), in.size()) != size) return Corrupt(f, "zstd page");
        return std::string_view(out);
      case parquet_format::kSnappy: {
        size_t n = size;
        if (snappy_uncompress(in.data(), in.size(), out.data(), &n) != SNAPPY_OK || n != size) {
          return Corrupt(f, "snappy page");
        }
        return std::string_view(out);
      }
      case parquet_format::kGzip: {
        z_stream z{};
        if (inflateInit2(&z, 15 + 32) != Z_OK) return Corrupt(f, "gzip page");
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(size);
        const int rc = inflate(&z, Z_FINISH);
        const size_t got = z.total_out;
        inflateEnd(&z);
        if (rc != Z_STREAM_END || got != size) return Corrupt(f, "gzip page");
        return std::string_view(out);
      }
      default:
        return Corrupt(f, "unknown codec");
    }
  }

  Status DecodeRowGroup() {
    File& f = files_[file_];
    const RowGroupMeta& g = f.meta.groups[group_];
    group_rows_ = static_cast<size_t>(g.rows);
    row_ = 0;
    columns_.resize(names_.size());  // buffers reused row group after row group
    for (size_t c = 0; c < names_.size(); ++c) {
      DecodedColumn& col = columns_[c];
      col.type = types_[c];
      col.present = false;
      size_t index = f.meta.columns.size();
      for (size_t i = 0; i < f.meta.columns.size(); ++i) {
        if (f.meta.columns[i].first == names_[c]) index = i;
      }
      if (index == f.meta.columns.size()) continue;  // NULLs
      col.present = true;
      IOTAD_TRY(DecodeChunk(f, g.chunks[index], col));
    }
    return Status::Ok();
  }

  Status DecodeChunk(File& f, const ChunkMeta& c, DecodedColumn& col) {
    const size_t rows = group_rows_;
    const bool text = col.type == PhysicalType::kByteArray;
    if (static_cast<size_t>(c.values) != rows) return Corrupt(f, "column chunk length");
    col.valid.resize(rows);
    col.all_valid = true;
    if (text) col.cells.resize(rows);
    else col.fixed.resize(rows);
    const int64_t start = c.dictionary_page >= 0 ? std::min(c.dictionary_page, c.data_page) : c.data_page;
    const auto size = static_cast<int64_t>(f.bytes.size());
    if (start < 4 || c.compressed < 0 || start + c.compressed > size) return Corrupt(f, "column chunk offsets");
    const auto* p = reinterpret_cast<const uint8_t*>(f.bytes.data()) + start;
    const uint8_t* end = p + c.compressed;
    dict_fixed_.clear();
    dict_cells_.clear();
    bool have_dict = false;
    size_t row = 0;
    while (row < rows) {
      ThriftReader t(p, end);
      const PageHeader h = ParsePageHeader(t);
      if (!t.ok() || h.compressed < 0 || h.uncompressed < 0 || h.compressed > end - t.position()) {
        return Corrupt(f, "page header");
      }
      const std::string_view raw(reinterpret_cast<const char*>(t.position()), static_cast<size_t>(h.compressed));
      p = t.position() + h.compressed;
      // A string page's bytes stay for the stream's life (long strings' cells point into them);
      // a number page's are copied out, so one buffer serves them all.
      std::string& buffer = text ? kept_.emplace_back() : scratch_;
      IOTAD_ASSIGN_OR_RETURN(const std::string_view body,
                             Uncompress(f, c.codec, raw, static_cast<size_t>(h.uncompressed), buffer));
      const auto* b = reinterpret_cast<const uint8_t*>(body.data());
      const uint8_t* b_end = b + body.size();
      if (h.type == parquet_format::kDictionaryPage) {
        if (h.values < 0) return Corrupt(f, "dictionary size");
        IOTAD_TRY(PlainValues(f, text, b, b_end, static_cast<size_t>(h.values), dict_fixed_, dict_cells_));
        have_dict = true;
        continue;
      }
      if (h.type != parquet_format::kDataPage) return Corrupt(f, "page type");
      const size_t n = static_cast<size_t>(h.values);
      if (h.values < 0 || n > rows - row || b_end - b < 4) return Corrupt(f, "data page size");
      uint32_t level_bytes;
      std::memcpy(&level_bytes, b, 4);
      b += 4;
      if (level_bytes > static_cast<size_t>(b_end - b)) return Corrupt(f, "definition levels");
      levels_.resize(n);
      if (!DecodeRleHybrid(b, b + level_bytes, 1, n, levels_.data())) return Corrupt(f, "definition levels");
      b += level_bytes;
      size_t present = 0;
      {
        // Through local pointers: a byte store may alias anything, vectors' own pointers too, so
        // indexing the vectors here would reload them at every row and not vectorise.
        const uint32_t* const levels = levels_.data();
        uint8_t* const valid = col.valid.data() + row;
        for (size_t i = 0; i < n; ++i) {
          present += levels[i];
          valid[i] = static_cast<uint8_t>(levels[i]);
        }
      }
      if (present != n) col.all_valid = false;
      const std::vector<uint64_t>* fixed_values = &dict_fixed_;
      const std::vector<duckdb_string_t>* cell_values = &dict_cells_;
      if (h.encoding == Encoding::kPlain) {
        IOTAD_TRY(PlainValues(f, text, b, b_end, present, page_fixed_, page_cells_));
        fixed_values = &page_fixed_;
        cell_values = &page_cells_;
        indices_.resize(present);
        for (size_t k = 0; k < present; ++k) indices_[k] = static_cast<uint32_t>(k);
      } else if (h.encoding == Encoding::kPlainDictionary || h.encoding == Encoding::kRleDictionary) {
        if (!have_dict || b >= b_end) return Corrupt(f, "dictionary indices");
        const int bw = *b++;
        indices_.resize(present);
        if (!DecodeRleHybrid(b, b_end, bw, present, indices_.data())) return Corrupt(f, "dictionary indices");
        const size_t entries = text ? dict_cells_.size() : dict_fixed_.size();
        uint32_t top = 0;
        for (size_t k = 0; k < present; ++k) top = std::max(top, indices_[k]);
        if (present > 0 && top >= entries) return Corrupt(f, "dictionary index");
      } else {
        return Corrupt(f, "page encoding");
      }
      if (text) Gather(col.cells.data() + row, *cell_values, n, present);
      else Gather(col.fixed.data() + row, *fixed_values, n, present);
      row += n;
    }
    return Status::Ok();
  }

  /// out[i] = values[indices_[k]] for the k-th valid row i of the page (levels_), zero for NULLs.
  template <typename T>
  void Gather(T* out, const std::vector<T>& values, size_t n, size_t present) {
    const T* const from = values.data();
    const uint32_t* const index = indices_.data();
    if (present == n) {
      for (size_t i = 0; i < n; ++i) out[i] = from[index[i]];
      return;
    }
    const uint32_t* const levels = levels_.data();
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      if (levels[i] != 0) {
        out[i] = from[index[k++]];
      } else {
        out[i] = T{};
      }
    }
  }

  /// `count` PLAIN values: 8-byte numbers, or length-prefixed strings as cells pointing into the body.
  Status PlainValues(const File& f, bool text, const uint8_t* b, const uint8_t* end, size_t count,
                     std::vector<uint64_t>& fixed, std::vector<duckdb_string_t>& cells) {
    if (!text) {
      if (count > static_cast<size_t>(end - b) / 8) return Corrupt(f, "plain values");
      fixed.resize(count);
      if (count > 0) std::memcpy(fixed.data(), b, count * 8);  // data() may be null when empty
      return Status::Ok();
    }
    if (count > static_cast<size_t>(end - b) / 4) return Corrupt(f, "plain strings");
    cells.resize(count);
    for (size_t i = 0; i < count; ++i) {
      uint32_t len;
      if (end - b < 4) return Corrupt(f, "plain strings");
      std::memcpy(&len, b, 4);
      b += 4;
      if (len > static_cast<size_t>(end - b)) return Corrupt(f, "plain strings");
      cells[i] = StringCell(std::string_view(reinterpret_cast<const char*>(b), len));
      b += len;
    }
    return Status::Ok();
  }

  /// What a column of silver's physical type reads as (Open admits no other physical type).
  static duckdb_type LogicalTypeOf(int32_t physical) {
    return physical == PhysicalType::kInt64    ? DUCKDB_TYPE_TIMESTAMP_TZ
           : physical == PhysicalType::kDouble ? DUCKDB_TYPE_DOUBLE
                                               : DUCKDB_TYPE_VARCHAR;
  }

  std::vector<File> files_;
  std::vector<std::string> names_;
  std::vector<int32_t> types_;
  std::vector<duckdb_logical_type> logical_;
  size_t file_ = 0, group_ = static_cast<size_t>(-1);
  std::optional<ScanRange> range_;
  size_t group_rows_ = 0, row_ = 0;
  std::vector<DecodedColumn> columns_;
  std::deque<std::string> kept_;  // decompressed string pages: chunks point into them
  std::string scratch_;           // a decompressed number page
  std::vector<uint32_t> levels_, indices_;
  std::vector<uint64_t> dict_fixed_, page_fixed_;
  std::vector<duckdb_string_t> dict_cells_, page_cells_;
};

}  // namespace

Result<std::unique_ptr<ChunkStream>> ScanSilverFiles(DuckSession& session, const std::vector<std::string>& files,
                                                     const std::vector<std::string>& columns, const ScanRange* range) {
  auto native = NativeStream::Open(files, columns, range);
  if (native.ok()) return std::unique_ptr<ChunkStream>(std::move(*native));
  if (native.status().code() != Errc::kInvalidArgument) return native.status();
  IOTAD_ASSIGN_OR_RETURN(auto result, session.Stream(fmt::format(
                                          "SELECT COLUMNS(c -> list_contains({}, c)) FROM read_parquet({}, "
                                          "union_by_name = true)",
                                          SqlList(columns), SqlList(files))));
  return std::unique_ptr<ChunkStream>(std::make_unique<DuckStream>(std::move(result)));
}

bool ScansNatively(const std::vector<std::string>& files, const std::vector<std::string>& columns) {
  return NativeStream::Open(files, columns).ok();
}

}  // namespace iotad::lake
