// `iotad report`: the dashboard's overview as one self-contained HTML file (to mail or archive).
// It asks the API in-process (serve::Api::Handle, the very answers `iotad serve` gives) for
// /api/filters and /api/overview/*, and writes the embedded index.html with app.css and app.js
// inline and the answers in <script type="application/json" id="iotad-report-data">, keyed by
// endpoint path. The page's script reads them from there (report mode): nothing is fetched.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "iotad/cli/cli.h"
#include "iotad/core/clock.h"
#include "iotad/core/timestamp.h"
#include "iotad/serve/api.h"
#include "iotad/serve/assets.h"

namespace iotad::cli {
namespace {

namespace fs = std::filesystem;

struct ReportOptions {
  std::string from, to, out;
  std::vector<std::string> metric, location, device, detector;
};

/// The overview's endpoints, as the page asks for them (overview.js): the filters on each but
/// /api/filters, and the bar chart's limit.
struct Endpoint {
  const char* path;
  bool filtered;
  const char* extra_name;
  const char* extra_value;
};
constexpr Endpoint kEndpoints[] = {
    {"/api/filters", false, nullptr, nullptr},
    {"/api/overview/totals", true, nullptr, nullptr},
    {"/api/overview/anomalies_over_time", true, nullptr, nullptr},
    {"/api/overview/anomalies_by_device", true, "limit", "20"},
    {"/api/overview/heatmap", true, nullptr, nullptr},
    {"/api/overview/summary", true, nullptr, nullptr},
};

/// The API's error sentence from an error answer (`{"error": "..."}`), else the raw body.
std::string ErrorText(const serve::Response& response) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view message;
  if (parser.parse(response.body).get(doc) == simdjson::SUCCESS && doc["error"].get_string().get(message) == simdjson::SUCCESS) {
    return std::string(message);
  }
  return response.body;
}

/// JSON to sit inside <script>: every '<' as \u003c, so neither "</script" nor "<!--" can occur
/// (in JSON a '<' can only be inside a string, where the escape means the same character).
std::string EscapeJsonForScript(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 64);
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

/// Inline text for a raw-text element (`script` or `style`): "</" becomes "<\/" and "<!--"
/// becomes "<\!--" (the same characters inside JS strings, template literals, regular expressions
/// and CSS strings, the only places the bundle has them), so the element ends only where we
/// close it.
std::string EscapeRawText(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 64);
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] != '<') continue;
    const std::string_view rest = text.substr(i + 1);
    if (rest.starts_with('/') || rest.starts_with("!--")) out += '\\';
  }
  return out;
}

/// Replaces the one occurrence of `marker` in `html`; an error when it is missing (the embedded
/// index.html and this command disagree).
Status ReplaceOnce(std::string& html, std::string_view marker, std::string_view with) {
  const size_t at = html.find(marker);
  if (at == std::string::npos || html.find(marker, at + 1) != std::string::npos) {
    return Error(Errc::kInternal, "report: the embedded index.html does not hold '{}' exactly once", marker);
  }
  html.replace(at, marker.size(), with);
  return Status::Ok();
}

Result<std::string_view> AssetData(std::string_view name) {
  const serve::Asset* asset = serve::FindAsset(name);
  if (asset == nullptr) return Error(Errc::kInternal, "report: the binary embeds no '{}' (the web build did not run)", name);
  return asset->data;
}

Result<std::string> BuildReport(const std::string& lake_root, const ReportOptions& options) {
  IOTAD_ASSIGN_OR_RETURN(auto api, serve::Api::Open(lake_root, serve::ApiOptions{}));
  std::vector<std::pair<std::string, std::string>> filters;
  if (!options.from.empty()) filters.emplace_back("from", options.from);
  if (!options.to.empty()) filters.emplace_back("to", options.to);
  for (const auto& [name, values] : {std::pair{"metric", &options.metric}, std::pair{"location", &options.location},
                                     std::pair{"device", &options.device}, std::pair{"detector", &options.detector}}) {
    for (const auto& v : *values) filters.emplace_back(name, v);
  }

  std::string data = "{";
  for (const Endpoint& e : kEndpoints) {
    serve::Request request;
    request.path = e.path;
    if (e.filtered) request.params = filters;
    if (e.extra_name != nullptr) request.params.emplace_back(e.extra_name, e.extra_value);
    serve::Response response = api->Handle(request);
    if (response.status != 200) {
      return Error(response.status == 400 ? Errc::kInvalidArgument : Errc::kIo, "report: {} answered {}: {}", e.path,
                   response.status, ErrorText(response));
    }
    if (data.size() > 1) data += ',';
    data += '"';
    data += e.path;
    data += "\":";
    data += response.body;
  }
  data += '}';

  IOTAD_ASSIGN_OR_RETURN(std::string_view index, AssetData("index.html"));
  IOTAD_ASSIGN_OR_RETURN(std::string_view css, AssetData("app.css"));
  IOTAD_ASSIGN_OR_RETURN(std::string_view js, AssetData("app.js"));
  std::string html(index);
  // The file has no server behind it: its own policy allows its inline script and styles, the
  // data-URL icon, and nothing to fetch.
  IOTAD_TRY(ReplaceOnce(html, "<meta charset=\"utf-8\">",
                        "<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"));
  IOTAD_TRY(ReplaceOnce(html, "<title>iotad dashboard</title>", "<title>iotad report</title>"));
  IOTAD_TRY(ReplaceOnce(html, "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/assets/favicon.svg\">",
                        "<link rel=\"icon\" href=\"data:,\">"));
  IOTAD_TRY(ReplaceOnce(html, "<link rel=\"stylesheet\" href=\"/assets/app.css\">",
                        "<style>" + EscapeRawText(css) + "</style>"));
  const std::string generated = FormatTimestamp(SystemClock::Instance().NowUs());
  IOTAD_TRY(ReplaceOnce(html, "<script src=\"/assets/app.js\"></script>",
                        "<script type=\"application/json\" id=\"iotad-report-data\" data-generated=\"" + generated + "\">" +
                            EscapeJsonForScript(data) + "</script>\n<script>" + EscapeRawText(js) + "</script>"));
  return html;
}

/// Writes `text` to `path` through a temporary file in the same folder and a rename, so a reader
/// never sees half a report.
Status WriteAtomically(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error(Errc::kIo, "report: cannot write '{}'", tmp.string());
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) return Error(Errc::kIo, "report: cannot write '{}'", tmp.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error(Errc::kIo, "report: cannot write '{}'", path.string());
  }
  return Status::Ok();
}

}  // namespace

void RegisterReportCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("report", "Write the dashboard's overview as one self-contained HTML file (data inline, nothing fetched)");
  auto options = std::make_shared<ReportOptions>();
  sub->add_option("--out", options->out, "The HTML file to write")->required();
  sub->add_option("--from", options->from, "Start of the range (RFC 3339 or YYYY-MM-DD; default: the lake's last 7 days of data)");
  sub->add_option("--to", options->to, "End of the range, exclusive (RFC 3339 or YYYY-MM-DD)");
  sub->add_option("--metric", options->metric, "Only these metrics (repeatable or a comma list)");
  sub->add_option("--location", options->location, "Only these locations (repeatable or a comma list)");
  sub->add_option("--device", options->device, "Only these devices (repeatable or a comma list)");
  sub->add_option("--detector", options->detector, "Only anomalies of these detectors (repeatable or a comma list)");
  AddLakeOption(*sub, global);
  sub->callback([options, &global, &out] {
    auto html = BuildReport(ResolveLakePath(global), *options);
    if (!html.ok()) {
      out.status = html.status();
      return;
    }
    out.status = WriteAtomically(options->out, *html);
    if (out.status.ok()) std::printf("report: %s (%zu bytes)\n", options->out.c_str(), html->size());
  });
}

}  // namespace iotad::cli
