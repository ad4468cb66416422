#include "iotad/core/log.h"

#include <array>
#include <atomic>
#include <memory>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "iotad/core/json.h"

namespace iotad::log {
namespace {

constexpr std::array<std::string_view, 5> kLevelNames = {"debug", "info", "warn", "error", "off"};

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::off;
}

/// The one logger: stderr, no decoration of its own (the line is built here), flushed per record.
struct State {
  State() : logger("iotad", std::make_shared<spdlog::sinks::stderr_sink_mt>()) {
    logger.set_pattern("%v");
    logger.flush_on(spdlog::level::trace);
    logger.set_level(ToSpdlog(Level::kWarn));
  }
  spdlog::logger logger;
  std::atomic<Format> format{Format::kText};
  std::atomic<const Clock*> clock{&SystemClock::Instance()};
};

State& Global() {
  static State state;
  return state;
}

}  // namespace

Result<Level> ParseLevel(std::string_view text) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (text == kLevelNames[i]) return static_cast<Level>(i);
  }
  return iotad::Error(Errc::kInvalidArgument, "log level '{}' is not one of debug, info, warn, error, off", text);
}

std::string_view LevelName(Level level) { return kLevelNames[static_cast<size_t>(level)]; }

Result<Format> ParseFormat(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  return iotad::Error(Errc::kInvalidArgument, "log format '{}' is not text or json", text);
}

void Field::AppendJson(std::string& out) const {
  switch (kind_) {
    case Kind::kString: AppendJsonString(out, text_); return;
    case Kind::kJson: out += text_.empty() ? std::string_view("null") : text_; return;
    case Kind::kInt: out += fmt::format("{}", int_); return;
    case Kind::kBool: out += int_ != 0 ? "true" : "false"; return;
    case Kind::kDouble: {
      JsonWriter w;
      w.Double(double_);  // non-finite as null
      out += w.str();
      return;
    }
  }
}

std::string FormatJsonLine(TimestampUs ts, Level level, std::string_view msg, std::span<const Field> fields) {
  std::string out = "{\"ts\":";
  AppendJsonString(out, FormatTimestamp(ts));
  out += ",\"level\":";
  AppendJsonString(out, LevelName(level));
  out += ",\"msg\":";
  AppendJsonString(out, msg);
  for (const Field& f : fields) {
    if (f.key() == "ts" || f.key() == "level" || f.key() == "msg") continue;
    out += ',';
    AppendJsonString(out, f.key());
    out += ':';
    f.AppendJson(out);
  }
  out += '}';
  return out;
}

std::string FormatTextLine(std::string_view msg) { return fmt::format("iotad: {}", msg); }

void Configure(Format format, Level level, const Clock* clock) {
  State& s = Global();
  s.format.store(format);
  s.clock.store(clock != nullptr ? clock : &SystemClock::Instance());
  s.logger.set_level(ToSpdlog(level));
}

Format CurrentFormat() { return Global().format.load(std::memory_order_relaxed); }

bool Enabled(Level level) { return level != Level::kOff && Global().logger.should_log(ToSpdlog(level)); }

void Write(Level level, std::string_view msg, std::span<const Field> fields) {
  if (!Enabled(level)) return;
  State& s = Global();
  const std::string line = s.format.load(std::memory_order_relaxed) == Format::kJson
                               ? FormatJsonLine(s.clock.load()->NowUs(), level, msg, fields)
                               : FormatTextLine(msg);
  s.logger.log(ToSpdlog(level), "{}", line);
}

}  // namespace iotad::log
