#pragma once
// The numbers of Parquet's format (parquet.thrift) that silver's encoder writes and its scan
// reads: physical types, encodings, page types, codecs.
#include <cstdint>

namespace iotad::lake::parquet_format {

enum PhysicalType : int32_t { kInt64 = 2, kDouble = 5, kByteArray = 6 };
enum Encoding : int32_t { kPlain = 0, kPlainDictionary = 2, kRle = 3, kRleDictionary = 8 };
enum PageType : int32_t { kDataPage = 0, kDictionaryPage = 2 };
enum ConvertedType : int32_t { kUtf8 = 0, kTimestampMicros = 10 };
enum Codec : int32_t { kUncompressed = 0, kSnappy = 1, kGzip = 2, kZstd = 6 };
constexpr int32_t kOptional = 1;  // FieldRepetitionType

}  // namespace iotad::lake::parquet_format
