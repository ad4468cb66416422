// libFuzzer target: ParseJsonLines on arbitrary bytes, with default roles and with a shallow
// flatten depth, Latin-1 text and a short line limit (the first input byte picks the variant);
// and each line again as a message (JsonMessageParser, the file as its sample), which must give
// the same calls and counts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iotad/parse/row_parser.h"
#include "parser_sink.h"

namespace {

void CheckMessagesMatchFile(std::string_view data, const iotad::parse::ColumnRoles& roles) {
  using namespace iotad;
  fuzz::EventLog whole;
  const parse::ParseCounts whole_counts = parse::ParseJsonLines(data, roles, whole);
  std::string_view text = data;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  // The sample is the file as it is: the parser drops one BOM from it as ParseJsonLines does (a
  // file starting with two BOMs keeps the second on its first line in both paths).
  parse::JsonMessageParser parser(roles, data);
  fuzz::EventLog messages;
  parse::ParseCounts counts;
  const auto lines = fuzz::SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) counts += parser.Parse(lines[i], static_cast<int64_t>(i) + 1, messages);
  if (lines.empty()) {
    // No line, no message: the file path still sends its schema, and counts a lone BOM as a line.
    if (!data.empty()) counts.physical_lines = counts.blank_lines = 1;
    messages.events = whole.events;
  }
  IOTAD_FUZZ_CHECK(messages.events == whole.events);
  IOTAD_FUZZ_CHECK(counts == whole_counts);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  {
    fuzz::CheckingSink sink(data);
    sink.CheckCounts(parse::ParseJsonLines(data, parse::ColumnRoles(), sink));
  }
  if (size > 0) {
    parse::ColumnRoles roles;
    const auto pick = static_cast<unsigned char>(data[0]);
    roles.json_flatten_depth = pick & 3;
    roles.encoding = (pick & 4) ? parse::TextEncoding::kLatin1 : parse::TextEncoding::kUtf8;
    roles.max_line_bytes = 16 + (pick >> 3);
    roles.known_metrics = {"temp", "a_b"};
    fuzz::CheckingSink sink(data);
    sink.CheckCounts(parse::ParseJsonLines(data, roles, sink));
    CheckMessagesMatchFile(data, roles);
  }
  return 0;
}
