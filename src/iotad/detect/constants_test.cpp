// Issue 11 asks for every constant of the detectors to be named, documented and justified. The
// table in src/iotad/detect/CONSTANTS.md lists each one; these tests hold the table and the code
// together: every named constant of the detector sources has a row with its value as the code
// writes it, and every row names a constant the code has.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

#ifndef IOTAD_DETECT_SOURCE_DIR
#error "IOTAD_DETECT_SOURCE_DIR must name src/iotad/detect"
#endif

// The detector library's sources whose constants the table covers: the `default` ensemble, its
// checks and their building blocks, and the single detectors.
const std::vector<std::string> kSources = {"ensemble.cpp", "checks.h", "checks.cpp", "online.h",
                                           "detector.h", "detectors.cpp"};

std::string Read(const std::string& name) {
  std::ifstream in(std::string(IOTAD_DETECT_SOURCE_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << "cannot read " << name << " in " << IOTAD_DETECT_SOURCE_DIR;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Squeeze(std::string s) {
  std::string out;
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

// (file, Scope::kName) -> the value as written, whitespace removed.
using Constants = std::multimap<std::pair<std::string, std::string>, std::string>;

// The code's named constants: `constexpr <type> kName = <value>;`, qualified by the innermost
// struct or class around it (a function's own constant takes its struct's, or none). Comments and
// string literals are skipped when braces are counted; a string constant (a message) is no number
// to document.
Constants FromCode() {
  Constants out;
  const std::regex decl(R"(constexpr\s+[A-Za-z_][\w:<>]*\s+(k[A-Z]\w*)\s*=\s*([^;]+);)");
  const std::regex opener(R"((?:struct|class)\s+([A-Za-z_]\w*)[^;{]*$)");
  for (const std::string& file : kSources) {
    const std::string text = Read(file);
    std::vector<std::string> scopes;  // one per open brace: a struct's name or ""
    std::string pending;              // text since the last brace or semicolon
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
        i = text.find('\n', i);
        if (i == std::string::npos) break;
        continue;
      }
      const bool separator = c == '\'' && i > 0 && std::isxdigit(static_cast<unsigned char>(text[i - 1]));
      if ((c == '"' || c == '\'') && !separator) {  // a literal (not 86'400: a digit separator): skip it
        for (++i; i < text.size() && text[i] != c; ++i) {
          if (text[i] == '\\') ++i;
        }
        pending += ' ';
        continue;
      }
      if (c == '{') {
        std::smatch m;
        scopes.push_back(std::regex_search(pending, m, opener) ? m[1].str() : std::string());
        pending.clear();
      } else if (c == '}') {
        if (!scopes.empty()) scopes.pop_back();
        pending.clear();
      } else if (c == ';') {
        pending += c;
        std::smatch m;
        if (std::regex_search(pending, m, decl)) {
          const std::string value = Squeeze(m[2].str());
          std::string scope;
          for (auto it = scopes.rbegin(); it != scopes.rend() && scope.empty(); ++it) scope = *it;
          // A string constant (a message) holds no number: its value was blanked above.
          if (!value.empty()) out.emplace(std::pair{file, scope.empty() ? m[1].str() : scope + "::" + m[1].str()}, value);
        }
        pending.clear();
      } else {
        pending += c;
      }
    }
  }
  return out;
}

struct Row {
  std::string file, name, value, what, evidence;
};

// The table's rows: | `Scope::kName` | `file` | `value` | what it is | evidence |
std::vector<Row> FromTable() {
  std::vector<Row> rows;
  std::istringstream in(Read("CONSTANTS.md"));
  std::string line;
  const auto cell = [](const std::string& s) {
    const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
    std::string t = a == std::string::npos ? "" : s.substr(a, b - a + 1);
    if (t.size() >= 2 && t.front() == '`' && t.back() == '`') t = t.substr(1, t.size() - 2);
    return t;
  };
  while (std::getline(in, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    // Cells between bars; `\|` is a bar inside a cell (a value with ||).
    std::vector<std::string> cells;
    std::string current;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
        current += '|';
        ++i;
      } else if (line[i] == '|') {
        cells.push_back(cell(current));
        current.clear();
      } else {
        current += line[i];
      }
    }
    EXPECT_EQ(cells.size(), 5u) << "a row of CONSTANTS.md has not 5 cells: " << line;
    if (cells.size() != 5) continue;
    rows.push_back(Row{cells[1], cells[0], Squeeze(cells[2]), cells[3], cells[4]});
  }
  return rows;
}

TEST(ConstantsTest, TheSourcesHoldTheConstantsTheTableIsAbout) {
  // The parser finds constants of every kind of place: a struct's, a nested struct's, a
  // namespace's and a class's inside an anonymous namespace.
  const Constants code = FromCode();
  EXPECT_EQ(code.count({"checks.h", "SurpriseCalibration::kMemory"}), 1u);
  EXPECT_EQ(code.count({"checks.h", "Setpoints::kMemory"}), 1u);
  EXPECT_EQ(code.count({"online.h", "kDayUs"}), 1u);
  EXPECT_EQ(code.count({"ensemble.cpp", "Ensemble::kIsolated"}), 1u);
  EXPECT_EQ(code.count({"ensemble.cpp", "Adoption::kAdopt"}), 1u);
  EXPECT_GT(code.size(), 80u);
}

TEST(ConstantsTest, EveryConstantOfTheDetectorsIsDocumentedWithItsValue) {
  const std::vector<Row> rows = FromTable();
  std::set<std::tuple<std::string, std::string, std::string>> documented;
  for (const Row& r : rows) documented.insert({r.file, r.name, r.value});
  for (const auto& [where, value] : FromCode()) {
    EXPECT_TRUE(documented.count({where.first, where.second, value}))
        << where.second << " = " << value << " (" << where.first
        << ") is not in src/iotad/detect/CONSTANTS.md with that value: name it there, say what it is and "
           "what data chose it";
  }
}

TEST(ConstantsTest, EveryRowOfTheTableIsAConstantOfTheCodeAndSaysWhatChoseIt) {
  const Constants code = FromCode();
  const std::vector<Row> rows = FromTable();
  EXPECT_GT(rows.size(), 80u);
  std::set<std::pair<std::string, std::string>> seen;
  for (const Row& r : rows) {
    bool found = false;
    const auto [lo, hi] = code.equal_range({r.file, r.name});
    for (auto it = lo; it != hi; ++it) found = found || it->second == r.value;
    EXPECT_TRUE(found) << r.name << " = " << r.value << " (" << r.file
                       << "): CONSTANTS.md names a constant the code does not have with that value";
    EXPECT_FALSE(r.what.empty()) << r.name << ": no description";
    EXPECT_FALSE(r.evidence.empty()) << r.name << ": no evidence";
    EXPECT_TRUE(seen.insert({r.file, r.name}).second || code.count({r.file, r.name}) > 1)
        << r.name << " (" << r.file << ") has two rows";
  }
}

}  // namespace
