#include "iotad/lake/parquet_encoder.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "iotad/lake/parquet_format.h"

namespace iotad::lake {
namespace {

using namespace parquet_format;  // NOLINT: the format's numbers, read like parquet.thrift

int32_t CodecId(ParquetCodec c) {
  switch (c) {
    case ParquetCodec::kUncompressed: return kUncompressed;
    case ParquetCodec::kSnappy: return kSnappy;
    case ParquetCodec::kGzip: return kGzip;
    case ParquetCodec::kZstd: return kZstd;
  }
  return kUncompressed;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

template <typename T>
void PutLe(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86-64 is little-endian, as Parquet is
  out.append(bytes, sizeof(T));
}

/// Thrift's compact protocol, as much of it as Parquet's footer and page headers need. Fields are
/// written in ascending id order within each struct.
class Thrift {
 public:
  enum Type : uint8_t { kTrue = 1, kFalse = 2, kI16 = 4, kI32 = 5, kI64 = 6, kBinary = 8, kList = 9, kStruct = 12 };
  explicit Thrift(std::string& out) : out_(out) {}

  void I32(int16_t id, int32_t v) {
    Field(id, kI32);
    PutVarint(out_, ZigZag(v));
  }
  void I16(int16_t id, int16_t v) {
    Field(id, kI16);
    PutVarint(out_, ZigZag(v));
  }
  void I64(int16_t id, int64_t v) {
    Field(id, kI64);
    PutVarint(out_, ZigZag(v));
  }
  void Binary(int16_t id, std::string_view v) {
    Field(id, kBinary);
    PutVarint(out_, v.size());
    out_ += v;
  }
  void Bool(int16_t id, bool v) { Field(id, v ? kTrue : kFalse); }
  /// A struct field; close it with End().
  void Struct(int16_t id) {
    Field(id, kStruct);
    Push();
  }
  /// A list field of `n` elements of `type`; then n ListI32/ListBinary, or n structs each
  /// opened with ListStruct() and closed with End().
  void List(int16_t id, Type type, size_t n) {
    Field(id, kList);
    if (n < 15) {
      out_ += static_cast<char>(n << 4 | type);
    } else {
      out_ += static_cast<char>(0xF0 | type);
      PutVarint(out_, n);
    }
  }
  void ListI32(int32_t v) { PutVarint(out_, ZigZag(v)); }
  void ListBinary(std::string_view v) {
    PutVarint(out_, v.size());
    out_ += v;
  }
  void ListStruct() { Push(); }
  /// Ends the innermost struct (or the top-level one).
  void End() {
    out_ += '\0';
    if (!stack_.empty()) {
      last_ = stack_.back();
      stack_.pop_back();
    }
  }

 private:
  static uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
  void Push() {
    stack_.push_back(last_);
    last_ = 0;
  }
  void Field(int16_t id, uint8_t type) {
    const int delta = id - last_;
    if (delta > 0 && delta <= 15) {
      out_ += static_cast<char>(delta << 4 | type);
    } else {
      out_ += static_cast<char>(type);
      PutVarint(out_, ZigZag(id));
    }
    last_ = id;
  }
  std::string& out_;
  std::vector<int16_t> stack_;
  int16_t last_ = 0;
};

/// `count` values of `bw` bits, least significant bit first, padded with zeros to `padded`.
void BitPack(const uint32_t* v, size_t count, size_t padded, int bw, std::string& out) {
  uint64_t acc = 0;
  int bits = 0;
  for (size_t k = 0; k < padded; ++k) {
    acc |= static_cast<uint64_t>(k < count ? v[k] : 0) << bits;
    bits += bw;
    while (bits >= 8) {
      out += static_cast<char>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
}

/// Parquet's RLE/bit-packed hybrid of `n` values below 2^bw: a run of 8 or more equal values is
/// one RLE run; the rest are bit-packed in groups of 8 (at most 63 groups per header, as every
/// reader accepts). Only the stream's last group is padded.
void EncodeRleHybrid(const uint32_t* v, size_t n, int bw, std::string& out) {
  const int value_bytes = (bw + 7) / 8;
  size_t lit = 0;  // first value not yet written
  auto flush_literal = [&](size_t end) {
    while (lit < end) {
      const size_t count = std::min(end - lit, size_t{63 * 8});
      const size_t groups = (count + 7) / 8;
      PutVarint(out, groups << 1 | 1);
      BitPack(v + lit, count, groups * 8, bw, out);
      lit += count;
    }
  };
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && v[j] == v[i]) ++j;
    if (j - i >= 8) {
      // The first values of the run complete the literal's last group of 8, if it has one.
      const size_t pad = (8 - (i - lit) % 8) % 8;
      if (j - i - pad >= 8) {
        flush_literal(i + pad);
        PutVarint(out, (j - lit) << 1);
        const uint32_t value = v[i];
        for (int b = 0; b < value_bytes; ++b) out += static_cast<char>(value >> (8 * b));
        i = lit = j;
        continue;
      }
    }
    i = j;
  }
  flush_literal(n);
}

/// A page's values stay under this (Parquet's page sizes are 32-bit; a string may be long).
constexpr size_t kMaxPageBytes = size_t{64} << 20;

int BitWidth(size_t max_value) { return std::max(1, static_cast<int>(std::bit_width(max_value))); }

/// A column chunk's dictionary of 64-bit values (bit patterns), first seen first: open
/// addressing, at most kMaxEntries entries (beyond that the chunk is written PLAIN).
class ValueDict {
 public:
  static constexpr uint32_t kMaxEntries = 1u << 16;
  static constexpr uint32_t kFull = std::numeric_limits<uint32_t>::max();
  void Reset(size_t values) {
    const size_t want = std::bit_ceil(std::max<size_t>(16, 2 * std::min<size_t>(values, kMaxEntries)));
    shift_ = 64 - std::countr_zero(want);
    slots_.assign(want, 0);
    entries_.clear();
  }
  /// The value's index, or kFull when the dictionary is full.
  uint32_t Index(uint64_t key) {
    const size_t mask = slots_.size() - 1;
    size_t h = (key * 0x9E3779B97F4A7C15ull) >> shift_;
    while (uint32_t s = slots_[h]) {
      if (entries_[s - 1] == key) return s - 1;
      h = (h + 1) & mask;
    }
    if (entries_.size() == kMaxEntries) return kFull;
    entries_.push_back(key);
    slots_[h] = static_cast<uint32_t>(entries_.size());
    return static_cast<uint32_t>(entries_.size() - 1);
  }
  const std::vector<uint64_t>& entries() const { return entries_; }

 private:
  std::vector<uint32_t> slots_;  // entry index + 1; 0 is empty
  std::vector<uint64_t> entries_;
  int shift_ = 60;
};

}  // namespace

struct ParquetEncoder::Impl {
  struct Chunk {
    int32_t type = 0;
    bool dictionary = false;
    int64_t values = 0;  // rows, NULLs included
    int64_t start = 0, data_page = -1, dictionary_page = -1;
    int64_t uncompressed = 0, compressed = 0;  // page headers included
    int64_t null_count = 0;
    bool has_stats = false;
    std::string min, max;  // PLAIN bytes of the statistics
  };
  struct RowGroup {
    std::vector<Chunk> chunks;
    int64_t rows = 0;
  };

  std::vector<ColumnSpec> columns;
  ParquetCodec codec;
  std::string out = "PAR1";
  std::vector<RowGroup> groups;
  size_t rows = 0;  // of the open row group
  // Scratch, reused chunk after chunk.
  std::string page, body, compressed;
  std::vector<uint32_t> indices, defs;
  std::vector<uint64_t> bits;
  ValueDict dict;
  std::vector<uint32_t> local;       // string id -> dictionary index + 1 (0: not in it)
  std::vector<uint32_t> local_ids;   // the string ids in the dictionary, first seen first
  ZSTD_CCtx* zstd = nullptr;
  Status error;  // the first failure, returned by WriteTo

  ~Impl() { ZSTD_freeCCtx(zstd); }

  Chunk& NextChunk(int32_t type) {
    RowGroup& g = groups.back();
    g.chunks.emplace_back();
    Chunk& c = g.chunks.back();
    c.type = type;
    c.values = static_cast<int64_t>(rows);
    c.start = static_cast<int64_t>(out.size());
    return c;
  }

  void Fail(std::string what) {
    if (error.ok()) error = Error(Errc::kInternal, "parquet encoder: {}", what);
  }

  /// `compressed` = `in` compressed with the file's codec.
  void Compress(std::string_view in) {
    switch (codec) {
      case ParquetCodec::kUncompressed:
        compressed.assign(in);
        return;
      case ParquetCodec::kZstd: {
        if (!zstd) zstd = ZSTD_createCCtx();
        compressed.resize(ZSTD_compressBound(in.size()));
        const size_t n = ZSTD_compressCCtx(zstd, compressed.data(), compressed.size(), in.data(), in.size(), 3);
        if (ZSTD_isError(n)) return Fail(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
        compressed.resize(n);
        return;
      }
      case ParquetCodec::kSnappy: {
        size_t n = snappy_max_compressed_length(in.size());
        compressed.resize(n);
        if (snappy_compress(in.data(), in.size(), compressed.data(), &n) != SNAPPY_OK) return Fail("snappy failed");
        compressed.resize(n);
        return;
      }
      case ParquetCodec::kGzip: {
        z_stream z{};
        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
          return Fail("gzip: deflateInit2 failed");
        }
        compressed.resize(deflateBound(&z, in.size()) + 32);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        z.next_out = reinterpret_cast<Bytef*>(compressed.data());
        z.avail_out = static_cast<uInt>(compressed.size());
        const int rc = deflate(&z, Z_FINISH);
        deflateEnd(&z);
        if (rc != Z_STREAM_END) return Fail("gzip: deflate failed");
        compressed.resize(z.total_out);
        return;
      }
    }
  }

  /// Appends one page (header, then `body` compressed) to the file and counts it in `c`.
  void WritePage(Chunk& c, PageType type, int32_t values, int32_t encoding) {
    Compress(body);
    page.clear();
    Thrift t(page);
    t.I32(1, type);
    t.I32(2, static_cast<int32_t>(body.size()));
    t.I32(3, static_cast<int32_t>(compressed.size()));
    if (type == kDataPage) {
      t.Struct(5);
      t.I32(1, values);
      t.I32(2, encoding);
      t.I32(3, kRle);
      t.I32(4, kRle);
      t.End();
    } else {
      t.Struct(7);
      t.I32(1, values);
      t.I32(2, encoding);
      t.End();
    }
    t.End();
    int64_t& first = type == kDataPage ? c.data_page : c.dictionary_page;
    if (first < 0) first = static_cast<int64_t>(out.size());
    c.uncompressed += static_cast<int64_t>(page.size() + body.size());
    c.compressed += static_cast<int64_t>(page.size() + compressed.size());
    out += page;
    out += compressed;
  }

  /// Starts a data page's body with the definition levels of its `n` rows: `levels` (1 = a
  /// value, 0 = NULL), or nullptr when every row has a value.
  void BeginDataBody(const uint32_t* levels, size_t n) {
    body.clear();
    body.resize(4);  // the levels' byte length, filled in below
    if (levels == nullptr) {
      PutVarint(body, static_cast<uint64_t>(n) << 1);
      body += '\1';
    } else {
      EncodeRleHybrid(levels, n, 1, body);
    }
    const auto len = static_cast<uint32_t>(body.size() - 4);
    std::memcpy(body.data(), &len, 4);
  }

  const uint32_t* Levels(const Chunk& c) const { return c.null_count == 0 ? nullptr : defs.data(); }

  /// The data page of dictionary indices (`indices`, one per value) after the dictionary page
  /// already in `body`'s place.
  void WriteDictionaryChunk(Chunk& c, size_t entries) {
    WritePage(c, kDictionaryPage, static_cast<int32_t>(entries), kPlainDictionary);
    BeginDataBody(Levels(c), static_cast<size_t>(c.values));
    const int bw = BitWidth(entries - 1);
    body += static_cast<char>(bw);
    EncodeRleHybrid(indices.data(), indices.size(), bw, body);
    WritePage(c, kDataPage, static_cast<int32_t>(c.values), kPlainDictionary);
    c.dictionary = true;
  }

  /// Writes a chunk of 64-bit values (`bits`, NULLs left out; defs set when some are NULL):
  /// dictionary-encoded when that is smaller.
  void WriteFixed(Chunk& c, const uint64_t* bits, size_t n) {
    dict.Reset(n);
    indices.resize(n);
    bool fits = n > 0;
    for (size_t i = 0; i < n && fits; ++i) {
      indices[i] = dict.Index(bits[i]);
      fits = indices[i] != ValueDict::kFull;
    }
    const size_t entries = dict.entries().size();
    if (fits && entries * 8 + (n * static_cast<size_t>(BitWidth(entries - 1)) + 7) / 8 < n * 8) {
      body.assign(reinterpret_cast<const char*>(dict.entries().data()), entries * 8);
      WriteDictionaryChunk(c, entries);
      return;
    }
    BeginDataBody(Levels(c), static_cast<size_t>(c.values));
    body.append(reinterpret_cast<const char*>(bits), n * 8);
    WritePage(c, kDataPage, static_cast<int32_t>(c.values), kPlain);
  }
};

Result<ParquetCodec> ParquetCodecNamed(std::string_view name) {
  if (name == "zstd") return ParquetCodec::kZstd;
  if (name == "snappy") return ParquetCodec::kSnappy;
  if (name == "gzip") return ParquetCodec::kGzip;
  if (name == "uncompressed") return ParquetCodec::kUncompressed;
  return Error(Errc::kInvalidArgument, "unknown Parquet compression '{}'", name);
}

ParquetEncoder::ParquetEncoder(std::vector<ColumnSpec> columns, ParquetCodec codec) : impl_(std::make_unique<Impl>()) {
  impl_->columns = std::move(columns);
  impl_->codec = codec;
}

ParquetEncoder::~ParquetEncoder() = default;

void ParquetEncoder::BeginRowGroup(size_t rows) {
  impl_->groups.emplace_back();
  impl_->groups.back().rows = static_cast<int64_t>(rows);
  impl_->rows = rows;
}

void ParquetEncoder::AddTimestamps(std::span<const int64_t> values) {
  Impl& m = *impl_;
  Impl::Chunk& c = m.NextChunk(kInt64);
  if (!values.empty()) {
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    c.has_stats = true;
    PutLe(c.min, *lo);
    PutLe(c.max, *hi);
  }
  static_assert(sizeof(int64_t) == sizeof(uint64_t));
  m.WriteFixed(c, reinterpret_cast<const uint64_t*>(values.data()), values.size());
}

void ParquetEncoder::AddDoubles(std::span<const double> values) {
  Impl& m = *impl_;
  Impl::Chunk& c = m.NextChunk(kDouble);
  std::vector<uint64_t>& bits = m.bits;
  bits.clear();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  m.defs.clear();
  for (const double v : values) {
    if (std::isnan(v)) continue;
    bits.push_back(std::bit_cast<uint64_t>(v));
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  c.null_count = static_cast<int64_t>(values.size() - bits.size());
  if (c.null_count > 0) {
    m.defs.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) m.defs[i] = std::isnan(values[i]) ? 0 : 1;
  }
  if (!bits.empty()) {
    // Parquet's rule for zeros: a minimum of zero is written -0.0, a maximum +0.0.
    if (lo == 0) lo = -0.0;
    if (hi == 0) hi = 0.0;
    c.has_stats = true;
    PutLe(c.min, lo);
    PutLe(c.max, hi);
  }
  m.WriteFixed(c, bits.data(), bits.size());
}

void ParquetEncoder::AddStrings(std::span<const uint32_t> ids, std::span<const std::string> table) {
  Impl& m = *impl_;
  Impl::Chunk& c = m.NextChunk(kByteArray);
  if (m.local.size() < table.size()) m.local.resize(table.size(), 0);
  m.local_ids.clear();
  m.indices.clear();
  m.defs.clear();
  size_t plain_bytes = 0;
  for (const uint32_t id : ids) {
    if (id == 0) {
      ++c.null_count;
      continue;
    }
    uint32_t& slot = m.local[id];
    if (slot == 0) {
      m.local_ids.push_back(id);
      slot = static_cast<uint32_t>(m.local_ids.size());
    }
    m.indices.push_back(slot - 1);
    plain_bytes += 4 + table[id].size();
  }
  if (c.null_count > 0) {
    m.defs.resize(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) m.defs[i] = ids[i] != 0;
  }
  size_t dict_bytes = 0;
  std::string_view lo, hi;
  for (size_t k = 0; k < m.local_ids.size(); ++k) {
    const std::string_view s = table[m.local_ids[k]];
    dict_bytes += 4 + s.size();
    if (k == 0 || s < lo) lo = s;
    if (k == 0 || s > hi) hi = s;
  }
  // Statistics of very long strings would bloat the footer; without them a reader only loses pruning.
  constexpr size_t kMaxStatBytes = 256;
  if (!m.local_ids.empty() && lo.size() <= kMaxStatBytes && hi.size() <= kMaxStatBytes) {
    c.has_stats = true;
    c.min = lo;
    c.max = hi;
  }
  const size_t entries = m.local_ids.size();
  const bool use_dict = entries > 0 && entries <= ValueDict::kMaxEntries && dict_bytes <= kMaxPageBytes &&
                        dict_bytes + (m.indices.size() * static_cast<size_t>(BitWidth(entries - 1)) + 7) / 8 < plain_bytes;
  if (use_dict) {
    m.body.clear();
    m.body.reserve(dict_bytes);
    for (const uint32_t id : m.local_ids) {
      PutLe(m.body, static_cast<uint32_t>(table[id].size()));
      m.body += table[id];
    }
    m.WriteDictionaryChunk(c, entries);
  } else {
    // PLAIN, in pages of at most kMaxPageBytes of values (a page's size is a 32-bit number), each
    // with its rows' definition levels.
    for (size_t begin = 0; begin < ids.size();) {
      size_t end = begin, bytes = 0;
      while (end < ids.size() && (end == begin || bytes + 4 + table[ids[end]].size() <= kMaxPageBytes)) {
        if (ids[end] != 0) bytes += 4 + table[ids[end]].size();
        ++end;
      }
      m.BeginDataBody(m.Levels(c) == nullptr ? nullptr : m.defs.data() + begin, end - begin);
      m.body.reserve(m.body.size() + bytes);
      for (size_t i = begin; i < end; ++i) {
        if (ids[i] == 0) continue;
        PutLe(m.body, static_cast<uint32_t>(table[ids[i]].size()));
        m.body += table[ids[i]];
      }
      m.WritePage(c, kDataPage, static_cast<int32_t>(end - begin), kPlain);
      begin = end;
    }
  }
  for (const uint32_t id : m.local_ids) m.local[id] = 0;
}

Status ParquetEncoder::WriteTo(const std::filesystem::path& file) {
  Impl& m = *impl_;
  if (!m.error.ok()) return m.error;
  for (const auto& g : m.groups) {
    if (g.chunks.size() != m.columns.size()) {
      return Error(Errc::kInternal, "parquet encoder: a row group has {} of {} columns", g.chunks.size(),
                   m.columns.size());
    }
  }
  std::string footer;
  Thrift t(footer);
  t.I32(1, 1);  // version
  t.List(2, Thrift::kStruct, m.columns.size() + 1);
  t.ListStruct();
  t.Binary(4, "duckdb_schema");  // the root's name, as DuckDB's files have it
  t.I32(5, static_cast<int32_t>(m.columns.size()));
  t.End();
  for (const auto& col : m.columns) {
    const bool timestamp = col.type == ColumnType::kTimestampTz, text = col.type == ColumnType::kVarchar;
    if (!timestamp && !text && col.type != ColumnType::kDouble) {
      return Error(Errc::kInternal, "parquet encoder: column '{}' is {}, not TIMESTAMPTZ, VARCHAR or DOUBLE", col.name,
                   SqlTypeName(col.type));
    }
    t.ListStruct();
    t.I32(1, timestamp ? kInt64 : (text ? kByteArray : kDouble));
    t.I32(3, kOptional);
    t.Binary(4, col.name);
    if (timestamp || text) {
      t.I32(6, timestamp ? kTimestampMicros : kUtf8);
      t.Struct(10);  // LogicalType (a union: one field set)
      if (timestamp) {
        t.Struct(8);      // TIMESTAMP
        t.Bool(1, true);  // isAdjustedToUTC
        t.Struct(2);      // unit
        t.Struct(2);      // MICROS
        t.End();
        t.End();
      } else {
        t.Struct(1);  // STRING
      }
      t.End();
      t.End();
    }
    t.End();
  }
  int64_t total_rows = 0;
  for (const auto& g : m.groups) total_rows += g.rows;
  t.I64(3, total_rows);
  t.List(4, Thrift::kStruct, m.groups.size());
  for (size_t gi = 0; gi < m.groups.size(); ++gi) {
    const auto& g = m.groups[gi];
    t.ListStruct();
    t.List(1, Thrift::kStruct, g.chunks.size());
    int64_t uncompressed = 0, compressed = 0;
    for (size_t ci = 0; ci < g.chunks.size(); ++ci) {
      const auto& c = g.chunks[ci];
      uncompressed += c.uncompressed;
      compressed += c.compressed;
      t.ListStruct();
      t.I64(2, 0);  // file_offset: deprecated, 0 as parquet.thrift asks (no metadata outside the footer)
      t.Struct(3);        // ColumnMetaData
      t.I32(1, c.type);
      if (c.dictionary) {
        t.List(2, Thrift::kI32, 2);
        t.ListI32(kPlainDictionary);
        t.ListI32(kRle);
      } else {
        t.List(2, Thrift::kI32, 2);
        t.ListI32(kPlain);
        t.ListI32(kRle);
      }
      t.List(3, Thrift::kBinary, 1);
      t.ListBinary(m.columns[ci].name);
      t.I32(4, CodecId(m.codec));
      t.I64(5, c.values);
      t.I64(6, c.uncompressed);
      t.I64(7, c.compressed);
      t.I64(9, c.data_page);
      if (c.dictionary) t.I64(11, c.dictionary_page);
      t.Struct(12);  // Statistics
      // The deprecated min/max too, for readers that know only those: they hold for numbers
      // (signed order) but not for strings (byte order), so strings get only min_value/max_value.
      if (c.has_stats && c.type != kByteArray) {
        t.Binary(1, c.max);
        t.Binary(2, c.min);
      }
      t.I64(3, c.null_count);
      if (c.has_stats) {
        t.Binary(5, c.max);
        t.Binary(6, c.min);
      }
      t.End();
      t.End();  // ColumnMetaData
      t.End();  // ColumnChunk
    }
    t.I64(2, uncompressed);
    t.I64(3, g.rows);
    t.I64(5, g.chunks.empty() ? 4 : g.chunks.front().start);
    t.I64(6, compressed);
    t.I16(7, static_cast<int16_t>(gi));
    t.End();
  }
  t.Binary(6, "iotad version " IOTAD_VERSION);
  t.List(7, Thrift::kStruct, m.columns.size());
  for (size_t i = 0; i < m.columns.size(); ++i) {
    t.ListStruct();
    t.Struct(1);  // TYPE_ORDER
    t.End();
    t.End();
  }
  t.End();

  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(m.out.data(), static_cast<std::streamsize>(m.out.size()));
  f.write(footer.data(), static_cast<std::streamsize>(footer.size()));
  const auto len = static_cast<uint32_t>(footer.size());
  f.write(reinterpret_cast<const char*>(&len), 4);
  f.write("PAR1", 4);
  f.close();
  if (!f) return Error(Errc::kIo, "cannot write {}", file.string());
  return Status::Ok();
}

}  // namespace iotad::lake
