// libFuzzer target: ParseCsv on arbitrary bytes, with default roles and with a fixed delimiter,
// Latin-1 text and a short line limit (the first input byte picks the variant).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iotad/parse/row_parser.h"
#include "parser_sink.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  {
    fuzz::CheckingSink sink(data);
    sink.CheckCounts(parse::ParseCsv(data, parse::ColumnRoles(), sink));
  }
  if (size > 0) {
    parse::ColumnRoles roles;
    const auto pick = static_cast<unsigned char>(data[0]);
    roles.delimiter = ",;\t|"[pick & 3];
    roles.encoding = (pick & 4) ? parse::TextEncoding::kLatin1 : parse::TextEncoding::kUtf8;
    roles.max_line_bytes = 16 + (pick >> 3);
    roles.known_metrics = {"temp", "a"};
    roles.default_utc_offset_minutes = (pick & 1) ? 330 : -480;
    fuzz::CheckingSink sink(data);
    sink.CheckCounts(parse::ParseCsv(data, roles, sink));
  }
  return 0;
}
