#include "iotad/alert/curl_api.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>
#include <string>

#include <fmt/format.h>

namespace iotad::alert::curl {
namespace {

internal::Api g_api;
Status g_status;
std::atomic<bool> g_loaded{false};

/// Sets `out` to the library's function `name`; the first one missing is named in `missing`.
template <typename Fn>
void Bind(void* lib, const char* name, Fn& out, std::string& missing) {
  out = reinterpret_cast<Fn>(dlsym(lib, name));
  if (out == nullptr && missing.empty()) missing = name;
}

Status Open() {
  void* lib = dlopen(LibraryName(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    return Error(Errc::kInternal, "cannot load {} (needed to send alerts over HTTP and SMTP): {}; install "
                 "Debian's libcurl4 (scripts/setup.sh does)", LibraryName(), why != nullptr ? why : "unknown error");
  }
  internal::Api api;
  std::string missing;
  Bind(lib, "curl_global_init", api.global_init, missing);
  Bind(lib, "curl_easy_init", api.easy_init, missing);
  Bind(lib, "curl_easy_cleanup", api.easy_cleanup, missing);
  Bind(lib, "curl_easy_perform", api.easy_perform, missing);
  Bind(lib, "curl_easy_strerror", api.easy_strerror, missing);
  Bind(lib, "curl_easy_setopt", api.easy_setopt, missing);
  Bind(lib, "curl_easy_getinfo", api.easy_getinfo, missing);
  Bind(lib, "curl_slist_append", api.slist_append, missing);
  Bind(lib, "curl_slist_free_all", api.slist_free_all, missing);
  if (!missing.empty()) {
    dlclose(lib);
    return Error(Errc::kInternal, "{} has no function {}: it is not the libcurl iotad was built for",
                 LibraryName(), missing);
  }
  const CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    // The library stays open (never unloaded): curl_global_init may have started something.
    return Error(Errc::kInternal, "{}: curl_global_init failed ({})", LibraryName(), api.easy_strerror(rc));
  }
  g_api = api;  // the library is never closed: its functions are used until the process ends
  return Status();
}

}  // namespace

const char* LibraryName() { return "libcurl.so.4"; }

Status Load() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_status = Open();
    g_loaded = g_status.ok();
  });
  return g_status;
}

bool Loaded() {
  return g_loaded.load();
}

namespace internal {
const Api& Get() { return g_api; }
}  // namespace internal

CURL* EasyInit() { return g_api.easy_init(); }
void EasyCleanup(CURL* h) { g_api.easy_cleanup(h); }
CURLcode EasyPerform(CURL* h) { return g_api.easy_perform(h); }
const char* EasyStrerror(CURLcode code) { return g_api.easy_strerror(code); }
curl_slist* SlistAppend(curl_slist* list, const char* s) { return g_api.slist_append(list, s); }
void SlistFreeAll(curl_slist* list) { g_api.slist_free_all(list); }

}  // namespace iotad::alert::curl
