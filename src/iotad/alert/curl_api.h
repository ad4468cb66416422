#pragma once
// libcurl, loaded on first use. Only the sinks that send (HTTP, SNS, SMTP) need it, and its
// dependencies (TLS, Kerberos, LDAP, ... some 30 libraries) cost every iotad process about 5 ms
// of start-up when linked: `iotad sql`, `status` and each scheduled task would pay for a library
// they never call. So it is opened with dlopen (RTLD_LOCAL: its symbols stay out of the global
// scope) the first time a sink sends, and curl_global_init runs then, once.
//
// The calls mirror libcurl's own (curl_easy_setopt -> curl::EasySetopt, ...). Types and constants
// come from <curl/curl.h> as before; only the functions go through the loaded library.
#include <curl/curl.h>

#include <memory>

#include "iotad/core/result.h"

namespace iotad::alert::curl {

/// The soname opened ("libcurl.so.4").
const char* LibraryName();

/// Opens libcurl and runs curl_global_init, once per process (thread-safe); later calls return
/// the first call's outcome. An error is one sentence naming the library and why it failed.
Status Load();

/// Whether Load succeeded (for tests: whether the library is open in this process).
bool Loaded();

// The functions, valid after Load() succeeded.
CURL* EasyInit();
void EasyCleanup(CURL* h);
CURLcode EasyPerform(CURL* h);
const char* EasyStrerror(CURLcode code);
curl_slist* SlistAppend(curl_slist* list, const char* s);
void SlistFreeAll(curl_slist* list);
/// curl_easy_setopt / curl_easy_getinfo: variadic, the argument's type as libcurl documents it
/// for the option (long, pointer, function pointer or curl_off_t).
template <typename T>
CURLcode EasySetopt(CURL* h, CURLoption option, T value);
template <typename T>
CURLcode EasyGetinfo(CURL* h, CURLINFO info, T* out);

/// Owners of an easy handle and of a string list (the sinks' one way to hold them).
struct EasyFree {
  void operator()(CURL* h) const { EasyCleanup(h); }
};
struct SlistFree {
  void operator()(curl_slist* list) const { SlistFreeAll(list); }
};
using Easy = std::unique_ptr<CURL, EasyFree>;
using Slist = std::unique_ptr<curl_slist, SlistFree>;

// ---- implementation ----------------------------------------------------------------------
namespace internal {
struct Api {
  CURLcode (*global_init)(long flags) = nullptr;
  CURL* (*easy_init)() = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;
};
/// The loaded functions (all null before Load succeeded).
const Api& Get();
}  // namespace internal

template <typename T>
CURLcode EasySetopt(CURL* h, CURLoption option, T value) {
  return internal::Get().easy_setopt(h, option, value);
}
template <typename T>
CURLcode EasyGetinfo(CURL* h, CURLINFO info, T* out) {
  return internal::Get().easy_getinfo(h, info, out);
}

}  // namespace iotad::alert::curl
