// libFuzzer target: ParseCsv on arbitrary bytes, with default roles and with a fixed delimiter,
// Latin-1 text and a short line limit (the first input byte picks the variant); and, for inputs
// without quotes (a quoted cell may span lines), each data line again as a message
// (CsvHeader + CsvMessageParser), which must give the same calls and counts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iotad/parse/row_parser.h"
#include "parser_sink.h"

namespace {

void CheckMessagesMatchFile(std::string_view data, const iotad::parse::ColumnRoles& roles) {
  using namespace iotad;
  std::string_view text = data;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const size_t nl = text.find('\n');
  // The header must be the first line (no blank lines before it) and have lines after it.
  if (text.find('"') != std::string_view::npos || nl == std::string_view::npos ||
      text.substr(0, nl).find_first_not_of(" \t\r") == std::string_view::npos) {
    return;
  }
  fuzz::EventLog whole;
  const parse::ParseCounts whole_counts = parse::ParseCsv(data, roles, whole);
  const std::string_view rest = text.substr(nl + 1);
  // The header line as the file path reads it: without its line end's '\r'.
  std::string_view header_line = text.substr(0, nl);
  if (!header_line.empty() && header_line.back() == '\r') header_line.remove_suffix(1);
  const parse::CsvHeader header = parse::CsvHeader::Make(header_line, roles, rest);
  parse::CsvMessageParser parser(header);
  fuzz::EventLog messages;
  parse::ParseCounts counts;
  counts.physical_lines = 1;
  counts.replaced_characters = header.replaced_characters();
  const auto lines = fuzz::SplitLines(rest);
  for (size_t i = 0; i < lines.size(); ++i) counts += parser.Parse(lines[i], static_cast<int64_t>(i) + 2, messages);
  if (lines.empty()) messages.events = whole.events;  // the file path still sends its schema
  IOTAD_FUZZ_CHECK(messages.events == whole.events);
  IOTAD_FUZZ_CHECK(counts == whole_counts);
}

}  // namespace

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
    CheckMessagesMatchFile(data, roles);
  }
  return 0;
}
