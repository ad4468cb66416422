#pragma once
// The dashboard's front end, bundled at build time from web/ (web/build.mjs: the charting
// library from npm, pinned by web/package-lock.json, and our code, into <build>/web) and embedded
// into the binary (cmake/embed_assets.cmake generates assets_data.cpp). Nothing is read from disk
// at run time: a path that is not in this table does not exist for the server.
#include <span>
#include <string_view>

namespace iotad::serve {

struct Asset {
  std::string_view name;          // "index.html", "app.js", "app.css", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view data;
  std::string_view sha256;        // hex, for the ETag
};

/// Every embedded file.
std::span<const Asset> Assets();
/// The asset named exactly `name` (no path resolution of any kind), or nullptr.
const Asset* FindAsset(std::string_view name);

}  // namespace iotad::serve
