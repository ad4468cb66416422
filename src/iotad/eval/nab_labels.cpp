#include "iotad/eval/nab_labels.h"

#include <simdjson.h>

#include "iotad/eval/csv_io.h"

namespace iotad::eval {
namespace {

Result<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser, std::string_view json,
                                          std::string_view source) {
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get(object) != simdjson::SUCCESS) {
    return Error(Errc::kParse, "'{}' is not a JSON object", source);
  }
  return object;
}

Result<TimestampUs> ParseWindowEdge(simdjson::dom::element edge, std::string_view file,
                                    std::string_view source) {
  std::string_view text;
  if (edge.get_string().get(text) == simdjson::SUCCESS) {
    if (const auto ts = ParseTimestamp(text)) return *ts;
  }
  return Error(Errc::kParse, "'{}': a window of '{}' has an edge that is not a timestamp: {}",
               source, file, simdjson::minify(edge));
}

Result<std::vector<NabWindow>> ParseFileWindows(simdjson::dom::element list, std::string_view file,
                                                std::string_view source) {
  simdjson::dom::array windows;
  if (list.get_array().get(windows) != simdjson::SUCCESS) {
    return Error(Errc::kParse, "'{}': the windows of '{}' are not a list", source, file);
  }
  std::vector<NabWindow> out;
  for (simdjson::dom::element w : windows) {
    simdjson::dom::array pair;
    if (w.get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2) {
      return Error(Errc::kParse, "'{}': a window of '{}' is not a [start, end] pair", source, file);
    }
    NabWindow window;
    IOTAD_ASSIGN_OR_RETURN(window.start_us, ParseWindowEdge(pair.at(0).value(), file, source));
    IOTAD_ASSIGN_OR_RETURN(window.end_us, ParseWindowEdge(pair.at(1).value(), file, source));
    if (window.end_us < window.start_us) {
      return Error(Errc::kParse, "'{}': a window of '{}' ends before it starts", source, file);
    }
    out.push_back(window);
  }
  return out;
}

Result<double> CostWeight(simdjson::dom::element profile, std::string_view key,
                          std::string_view name, std::string_view source) {
  double weight = 0;
  if (profile["CostMatrix"][key].get_double().get(weight) != simdjson::SUCCESS) {
    return Error(Errc::kParse, "'{}': profile '{}' has no number CostMatrix.{}", source, name, key);
  }
  return weight;
}

}  // namespace

Result<std::vector<NabFileWindows>> ParseNabWindows(std::string_view json,
                                                    std::string_view source) {
  simdjson::dom::parser parser;
  IOTAD_ASSIGN_OR_RETURN(const simdjson::dom::object object, ParseObject(parser, json, source));
  std::vector<NabFileWindows> out;
  for (const auto field : object) {
    NabFileWindows file{std::string(field.key), {}};
    IOTAD_ASSIGN_OR_RETURN(file.windows, ParseFileWindows(field.value, field.key, source));
    out.push_back(std::move(file));
  }
  return out;
}

Result<std::vector<NabProfile>> ParseNabProfiles(std::string_view json, std::string_view source) {
  simdjson::dom::parser parser;
  IOTAD_ASSIGN_OR_RETURN(const simdjson::dom::object object, ParseObject(parser, json, source));
  std::vector<NabProfile> out;
  for (const auto field : object) {
    NabProfile profile{std::string(field.key)};
    IOTAD_ASSIGN_OR_RETURN(profile.tp_weight,
                           CostWeight(field.value, "tpWeight", field.key, source));
    IOTAD_ASSIGN_OR_RETURN(profile.fp_weight,
                           CostWeight(field.value, "fpWeight", field.key, source));
    IOTAD_ASSIGN_OR_RETURN(profile.fn_weight,
                           CostWeight(field.value, "fnWeight", field.key, source));
    out.push_back(std::move(profile));
  }
  if (out.empty()) return Error(Errc::kParse, "'{}' holds no profile", source);
  return out;
}

Result<std::vector<NabFileWindows>> ReadNabWindows(const std::string& path) {
  IOTAD_ASSIGN_OR_RETURN(const std::string json, ReadWholeFile(path));
  return ParseNabWindows(json, path);
}

Result<std::vector<NabProfile>> ReadNabProfiles(const std::string& path) {
  IOTAD_ASSIGN_OR_RETURN(const std::string json, ReadWholeFile(path));
  return ParseNabProfiles(json, path);
}

}  // namespace iotad::eval
