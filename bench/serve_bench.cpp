// `iotad serve` under load (bench/serve_bench.sh starts the server on the 10M-row lake and runs
// this): C concurrent clients (libcurl, one keep-alive connection each) call each overview
// endpoint and the device series for one day, first with parameters never asked before (answer
// cache misses), then with one request repeated (hits); median and p99 per endpoint. Then the
// peer: the same aggregates as plain DuckDB SQL over read_parquet('<lake>/.../*.parquet',
// hive_partitioning = true), in this process, over the same parameter variants; median per
// query and the ratio.
//
//   serve_bench --url http://127.0.0.1:PORT/ --lake LAKE [--clients 1,4] [--misses 60] [--hits 200]
//               [--peer-repeats 20] [--duckdb-threads 0] [--token-env NAME] [--json FILE] [--no-keepalive]
//
// Prints a table and, with --json, writes the figures. Exits 1 when a request failed (non-200),
// a "miss" answer came from the cache or a "hit" did not.
#include <curl/curl.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "iotad/core/json.h"
#include "iotad/core/thread.h"
#include "iotad/lake/duck.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string url;
  std::string lake;
  std::vector<int> clients{1, 4};
  int misses = 60;  // unique requests per endpoint and client count
  int hits = 200;   // repeated requests per endpoint and client count
  int peer_repeats = 20;
  int64_t duckdb_threads = 0;
  std::string token;
  std::string json_out;
  bool keepalive = true;  // false: a new connection per request
};

[[noreturn]] void Die(const std::string& msg) {
  fmt::print(stderr, "serve_bench: {}\n", msg);
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    auto number = [&](const std::string& v) {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) Die(a + " needs a whole number, not '" + v + "'");
      return static_cast<int>(n);
    };
    if (a == "--url") {
      f.url = value();
    } else if (a == "--lake") {
      f.lake = value();
    } else if (a == "--clients") {
      f.clients.clear();
      std::string v = value();
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string part = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        int n = number(part);
        if (n < 1) Die("--clients values must be at least 1");
        f.clients.push_back(n);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (a == "--misses") {
      f.misses = number(value());
    } else if (a == "--hits") {
      f.hits = number(value());
    } else if (a == "--peer-repeats") {
      f.peer_repeats = number(value());
    } else if (a == "--duckdb-threads") {
      f.duckdb_threads = number(value());
    } else if (a == "--token-env") {
      // The token is read from the environment, never from the command line (ps would show it).
      const char* t = std::getenv(value().c_str());
      if (t == nullptr || *t == '\0') Die("--token-env names an unset environment variable");
      f.token = t;
    } else if (a == "--no-keepalive") {
      f.keepalive = false;
    } else if (a == "--json") {
      f.json_out = value();
    } else if (a == "-h" || a == "--help") {
      fmt::print("serve_bench --url URL --lake LAKE [--clients 1,4] [--misses N] [--hits N] [--peer-repeats N]\n"
                 "            [--duckdb-threads N] [--token-env NAME] [--json FILE] [--no-keepalive]\n");
      std::exit(0);
    } else {
      Die("unknown argument '" + a + "' (see --help)");
    }
  }
  if (f.url.empty() || f.lake.empty()) Die("--url and --lake are required");
  if (f.url.back() == '/') f.url.pop_back();
  return f;
}

// ---- HTTP ------------------------------------------------------------------------------------

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

class Client {
 public:
  explicit Client(const std::string& token, bool keepalive = true) : curl_(curl_easy_init()) {
    if (curl_ == nullptr) Die("curl_easy_init failed");
    if (!keepalive) curl_easy_setopt(curl_, CURLOPT_FORBID_REUSE, 1L);
    if (!token.empty()) headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + token).c_str());
  }
  ~Client() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// GET url: the status (0 when the request could not be made) and the body.
  long Get(const std::string& url, std::string* body) {
    body->clear();
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(curl_) != CURLE_OK) return 0;
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
};

std::string Escape(const std::string& s) {
  CURL* c = curl_easy_init();
  char* e = curl_easy_escape(c, s.data(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  curl_easy_cleanup(c);
  return out;
}

// ---- what to ask -----------------------------------------------------------------------------

struct Variant {  // one set of filter values
  std::string from, to, metric, location, device;
};

struct LakeFacts {
  std::string first_hour, last_hour;  // RFC 3339
  std::vector<std::string> metrics, locations, devices;
};

std::string Str(simdjson::ondemand::value v) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

LakeFacts ReadFacts(Client& client, const Flags& f) {
  LakeFacts facts;
  std::string body;
  long st = client.Get(f.url + "/api/filters", &body);
  if (st != 200) Die(fmt::format("/api/filters answered {}: {}", st, body.substr(0, 300)));
  simdjson::ondemand::parser parser;
  simdjson::padded_string p1(body);
  auto doc = parser.iterate(p1);
  for (auto v : doc["metrics"].get_array()) facts.metrics.push_back(Str(v.value()));
  for (auto v : doc["locations"].get_array()) {
    auto val = v.value();
    if (!val.is_null()) facts.locations.push_back(Str(val));
  }
  facts.first_hour = Str(doc["first_hour"].value());
  facts.last_hour = Str(doc["last_hour"].value());
  if (facts.first_hour.empty()) Die("the lake has no data (/api/filters: first_hour null)");
  st = client.Get(f.url + "/api/devices?limit=500", &body);
  if (st != 200) Die(fmt::format("/api/devices answered {}: {}", st, body.substr(0, 300)));
  simdjson::padded_string p2(body);
  auto doc2 = parser.iterate(p2);
  for (auto d : doc2["devices"].get_array()) facts.devices.push_back(Str(d.value()["device_id"].value()));
  if (facts.devices.empty()) Die("/api/devices listed no device");
  return facts;
}

// RFC 3339 "2024-01-01T05:00:00Z" <-> epoch seconds (UTC).
int64_t ParseTime(const std::string& s) {
  std::tm tm{};
  if (sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec) != 6) {
    Die("cannot read the time '" + s + "'");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}
std::string FormatTime(int64_t secs) {
  std::time_t t = secs;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/// Filter variants never asked twice: every start hour x (no metric, each metric) x (no location,
/// each location), shuffled with a fixed seed; `to` is the last hour's end.
std::vector<Variant> OverviewVariants(const LakeFacts& facts) {
  int64_t lo = ParseTime(facts.first_hour), hi = ParseTime(facts.last_hour) + 3600;
  std::vector<std::string> metrics{""}, locations{""};
  metrics.insert(metrics.end(), facts.metrics.begin(), facts.metrics.end());
  locations.insert(locations.end(), facts.locations.begin(), facts.locations.end());
  std::vector<Variant> out;
  for (int64_t t = lo; t < hi; t += 3600) {
    for (const auto& m : metrics) {
      for (const auto& l : locations) out.push_back({FormatTime(t), FormatTime(hi), m, l, ""});
    }
  }
  std::mt19937 rng(7);
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

/// One device each, over the day (UTC) of the lake's last hour.
std::vector<Variant> SeriesVariants(const LakeFacts& facts) {
  int64_t day = ParseTime(facts.last_hour) / 86400 * 86400;
  std::vector<Variant> out;
  for (const auto& d : facts.devices) out.push_back({FormatTime(day), FormatTime(day + 86400), "", "", d});
  std::mt19937 rng(7);
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

std::string Query(const Variant& v) {
  std::string q;
  auto add = [&](const char* k, const std::string& val) {
    if (val.empty()) return;
    q += q.empty() ? "?" : "&";
    q += k;
    q += "=";
    q += Escape(val);
  };
  add("id", v.device);
  add("from", v.from);
  add("to", v.to);
  add("metric", v.metric);
  add("location", v.location);
  return q;
}

// ---- load ------------------------------------------------------------------------------------

struct Sample {
  double ms = 0;
  long status = 0;
  int cached = -1;  // -1: unknown (no meta.cached)
};

struct Row {
  std::string endpoint, mode;
  int clients = 0;
  size_t n = 0;
  double median = 0, p99 = 0, max = 0, rps = 0;
  size_t errors = 0, cached = 0, uncached = 0;
  std::string first_error;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // nearest rank
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

int CachedFlag(const std::string& body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string p(body);
  auto doc = parser.iterate(p);
  bool cached = false;
  if (doc["meta"]["cached"].get_bool().get(cached) != simdjson::SUCCESS) return -1;
  return cached ? 1 : 0;
}

Row RunPhase(const Flags& f, const std::string& endpoint, const std::string& mode, int clients,
             const std::vector<std::string>& urls) {
  std::vector<Sample> samples(urls.size());
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  std::string first_error;
  auto t0 = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (int c = 0; c < clients; ++c) {
      auto th = iotad::StartThread("a benchmark client", [&] {
        Client client(f.token, f.keepalive);
        std::string body;
        for (size_t i = next++; i < urls.size(); i = next++) {
          auto s = Clock::now();
          long st = client.Get(urls[i], &body);
          samples[i].ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
          samples[i].status = st;
          if (st == 200) {
            samples[i].cached = CachedFlag(body);
          } else {
            std::lock_guard lock(err_mu);
            if (first_error.empty()) first_error = fmt::format("{} -> {} {}", urls[i], st, body.substr(0, 200));
          }
        }
      });
      if (!th.ok()) Die(th.status().message());
      threads.push_back(std::move(*th));
    }
  }  // joined
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Row r;
  r.endpoint = endpoint;
  r.mode = mode;
  r.clients = clients;
  r.n = urls.size();
  std::vector<double> ms;
  for (const auto& s : samples) {
    ms.push_back(s.ms);
    if (s.status != 200) ++r.errors;
    if (s.cached == 1) ++r.cached;
    if (s.cached == 0) ++r.uncached;
  }
  r.median = Percentile(ms, 50);
  r.p99 = Percentile(ms, 99);
  r.max = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
  r.rps = wall > 0 ? static_cast<double>(urls.size()) / wall : 0;
  r.first_error = first_error;
  return r;
}

// ---- the peer: plain DuckDB SQL --------------------------------------------------------------

std::string Lit(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

struct PeerRow {
  std::string endpoint;
  size_t n = 0;
  double median = 0, p99 = 0;
};

/// The SQL for `endpoint` under variant `v`: what the API computes, written as a user would
/// with DuckDB over the lake's Parquet files (no partition pruning by time, no cache).
std::string PeerSql(const std::string& lake, const std::string& endpoint, const Variant& v) {
  std::string g = fmt::format("read_parquet({}, hive_partitioning = true)", Lit(lake + "/gold_summary/**/*.parquet"));
  std::string a = fmt::format("read_parquet({}, hive_partitioning = true)", Lit(lake + "/gold/**/*.parquet"));
  std::string s = fmt::format("read_parquet({}, hive_partitioning = true)", Lit(lake + "/silver/**/*.parquet"));
  auto where = [&](const char* time_col, bool metric_col) {
    std::string w = fmt::format("{} >= {}::TIMESTAMPTZ AND {} < {}::TIMESTAMPTZ", time_col, Lit(v.from), time_col,
                                Lit(v.to));
    if (!v.location.empty()) w += " AND location = " + Lit(v.location);
    if (!v.device.empty()) w += " AND device_id = " + Lit(v.device);
    if (metric_col && !v.metric.empty()) w += " AND metric = " + Lit(v.metric);
    return w;
  };
  if (endpoint == "overview/totals") {
    std::string silver_where = where("event_time", false);
    if (!v.metric.empty()) silver_where += fmt::format(" AND \"{}\" IS NOT NULL", v.metric);
    return fmt::format(
        "SELECT (SELECT count(DISTINCT device_id) FROM {} WHERE {}), (SELECT count(*) FROM {} WHERE {}), "
        "(SELECT count(*) FROM {} WHERE {})",
        g, where("hour_start", true), s, silver_where, a, where("event_time", true));
  }
  if (endpoint == "overview/anomalies_over_time") {
    return fmt::format("SELECT time_bucket(INTERVAL 1 hour, event_time) AS t, count(*) FROM {} WHERE {} GROUP BY 1 ORDER BY 1",
                       a, where("event_time", true));
  }
  if (endpoint == "overview/anomalies_by_device") {
    return fmt::format(
        "SELECT device_id, count(*) AS n, count(*) OVER () FROM {} WHERE {} GROUP BY 1 ORDER BY n DESC, device_id LIMIT 20", a,
        where("event_time", true));
  }
  if (endpoint == "overview/heatmap") {
    return fmt::format("SELECT location, metric, sum(mean * rows) / sum(rows), sum(rows) FROM {} WHERE {} GROUP BY ALL", g,
                       where("hour_start", true));
  }
  if (endpoint == "overview/summary") {
    return fmt::format(
        "WITH s AS (SELECT metric, count(DISTINCT device_id) AS devices, sum(rows) AS n, sum(mean * rows) / sum(rows) AS mean, "
        "sum(coalesce((rows - 1) * std * std, 0) + rows * mean * mean) AS ss, min(min) AS lo, max(max) AS hi "
        "FROM {} WHERE {} GROUP BY 1), x AS (SELECT metric, count(*) AS anomalies FROM {} WHERE {} GROUP BY 1) "
        "SELECT s.metric, devices, n, mean, sqrt(greatest(0, (ss - n * mean * mean) / nullif(n - 1, 0))), lo, hi, "
        "coalesce(anomalies, 0) FROM s LEFT JOIN x USING (metric) ORDER BY 1",
        g, where("hour_start", true), a, where("event_time", true));
  }
  if (endpoint == "device/series") {
    return fmt::format(
        "SELECT event_time, temp_c, humidity_pc, vibration_g, NULL FROM {} WHERE {} UNION ALL "
        "SELECT event_time, value, expected_lo, expected_hi, detector FROM {} WHERE {} ORDER BY 1",
        s, where("event_time", false), a, where("event_time", false));
  }
  Die("no peer SQL for " + endpoint);
}

PeerRow RunPeer(iotad::lake::DuckSession& duck, const std::string& lake, const std::string& endpoint,
                const std::vector<Variant>& variants, int repeats) {
  std::vector<double> ms;
  for (int i = 0; i < repeats && !variants.empty(); ++i) {
    const Variant& v = variants[static_cast<size_t>(i) % variants.size()];
    std::string q = PeerSql(lake, endpoint, v);
    auto s = Clock::now();
    auto r = duck.Query(q);
    if (!r.ok()) Die("the peer's SQL failed: " + r.status().message() + "\n" + q);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  return {endpoint, ms.size(), Percentile(ms, 50), Percentile(ms, 99)};
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Client probe(f.token);
  LakeFacts facts = ReadFacts(probe, f);
  fmt::print(stderr, "[serve_bench] lake {} .. {}: {} metrics, {} locations, {} devices listed\n", facts.first_hour,
             facts.last_hour, facts.metrics.size(), facts.locations.size(), facts.devices.size());

  const std::vector<std::string> overview{"overview/totals", "overview/anomalies_over_time",
                                          "overview/anomalies_by_device", "overview/heatmap", "overview/summary"};
  std::vector<Variant> ov = OverviewVariants(facts), sv = SeriesVariants(facts);
  size_t need = static_cast<size_t>(f.misses) * f.clients.size();
  if (ov.size() < need || sv.size() < need) {
    Die(fmt::format("only {} overview and {} series variants for {} unique requests per endpoint: lower --misses",
                    ov.size(), sv.size(), need));
  }

  std::vector<Row> rows;
  auto endpoints = overview;
  endpoints.push_back("device/series");
  for (const auto& ep : endpoints) {
    const auto& variants = ep == "device/series" ? sv : ov;
    size_t used = 0;
    for (int c : f.clients) {
      std::vector<std::string> urls;
      for (int i = 0; i < f.misses; ++i) urls.push_back(f.url + "/api/" + ep + Query(variants[used++]));
      rows.push_back(RunPhase(f, ep, "miss", c, urls));
      // hits: one request (the unfiltered view; the first series device) asked again and again,
      // after one warm-up answer filled the cache
      std::string hit = f.url + "/api/" + ep + (ep == "device/series" ? Query(sv[0]) : "");
      std::string body;
      probe.Get(hit, &body);
      rows.push_back(RunPhase(f, ep, "hit", c, std::vector<std::string>(static_cast<size_t>(f.hits), hit)));
      fmt::print(stderr, "[serve_bench] {} x{} clients done\n", ep, c);
    }
  }

  // The peer, over the same variants as the first client count's misses.
  iotad::lake::DuckSessionOptions dopts;
  dopts.threads = f.duckdb_threads;
  auto duck = iotad::lake::DuckSession::Open(dopts);
  if (!duck.ok()) Die(duck.status().message());
  std::vector<PeerRow> peer;
  for (const auto& ep : endpoints) {
    peer.push_back(RunPeer(**duck, f.lake, ep, ep == "device/series" ? sv : ov, f.peer_repeats));
  }

  bool bad = false;
  fmt::print("\n{:<32} {:>5} {:>7} {:>5} {:>10} {:>10} {:>10} {:>9} {:>8}\n", "endpoint", "mode", "clients", "n",
             "median ms", "p99 ms", "max ms", "req/s", "cached");
  fmt::print("{}\n", std::string(104, '-'));
  for (const auto& r : rows) {
    fmt::print("{:<32} {:>5} {:>7} {:>5} {:>10.2f} {:>10.2f} {:>10.2f} {:>9.1f} {:>4}/{:<3}\n", r.endpoint, r.mode,
               r.clients, r.n, r.median, r.p99, r.max, r.rps, r.cached, r.n);
    if (r.errors > 0) {
      fmt::print("  {} failed requests; first: {}\n", r.errors, r.first_error);
      bad = true;
    }
    if (r.mode == "miss" && r.cached > 0) {
      fmt::print("  {} of the unique requests were answered from the cache\n", r.cached);
      bad = true;
    }
    if (r.mode == "hit" && r.uncached > 0) {
      fmt::print("  {} of the repeated requests were not answered from the cache\n", r.uncached);
      bad = true;
    }
  }
  fmt::print("\npeer: the same aggregates as plain DuckDB SQL over read_parquet(..., hive_partitioning = true), "
             "in-process, {} variants each\n",
             f.peer_repeats);
  fmt::print("{:<32} {:>12} {:>12} {:>26}\n", "query", "median ms", "p99 ms", "peer / iotad (miss, x1)");
  for (const auto& p : peer) {
    double mine = 0;
    for (const auto& r : rows) {
      if (r.endpoint == p.endpoint && r.mode == "miss" && r.clients == f.clients.front()) mine = r.median;
    }
    // > 1: iotad (HTTP included) answers faster than the plain SQL takes in-process
    fmt::print("{:<32} {:>12.2f} {:>12.2f} {:>25.2f}x\n", p.endpoint, p.median, p.p99, mine > 0 ? p.median / mine : 0.0);
  }

  if (!f.json_out.empty()) {
    iotad::JsonWriter w;
    w.BeginObject();
    w.Key("rows");
    w.BeginArray();
    for (const auto& r : rows) {
      w.BeginObject();
      w.Key("endpoint"); w.String(r.endpoint);
      w.Key("mode"); w.String(r.mode);
      w.Key("clients"); w.Int(r.clients);
      w.Key("n"); w.Int(static_cast<int64_t>(r.n));
      w.Key("median_ms"); w.Double(r.median);
      w.Key("p99_ms"); w.Double(r.p99);
      w.Key("max_ms"); w.Double(r.max);
      w.Key("requests_per_s"); w.Double(r.rps);
      w.Key("cached"); w.Int(static_cast<int64_t>(r.cached));
      w.Key("errors"); w.Int(static_cast<int64_t>(r.errors));
      w.EndObject();
    }
    w.EndArray();
    w.Key("peer");
    w.BeginArray();
    for (const auto& p : peer) {
      w.BeginObject();
      w.Key("query"); w.String(p.endpoint);
      w.Key("n"); w.Int(static_cast<int64_t>(p.n));
      w.Key("median_ms"); w.Double(p.median);
      w.Key("p99_ms"); w.Double(p.p99);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::ofstream out(f.json_out);
    out << w.str() << "\n";
    if (!out) Die("cannot write " + f.json_out);
  }
  curl_global_cleanup();
  return bad ? 1 : 0;
}
