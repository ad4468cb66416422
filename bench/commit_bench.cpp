// Commit cost over a long log: N small commits (default 500) through the real Lake on a local
// folder, each publishing one new silver file and replacing one gold file, as a stream committing
// every few seconds would. Prints the time of the first 50 and the last 50 commits, the store calls
// per commit, and what a reader pays to build a snapshot (from the checkpoint, and by replaying
// the whole log as before checkpoints existed). Run:
//   build/bench/commit_bench [--commits N] [--dir FOLDER]
// Issue 8: the last commits must take no longer than the first (Publish used to list the log,
// and every stage re-read all of it, so the cost grew with the log).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "iotad/lake/counting_store.h"
#include "iotad/lake/lake.h"
#include "iotad/lake/snapshot.h"

namespace {

using iotad::lake::Lake;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Summary {
  double median_ms = 0, mean_ms = 0, max_ms = 0;
};

Summary Summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  s.mean_ms = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.max_ms = *std::max_element(v.begin(), v.end());
  std::sort(v.begin(), v.end());
  s.median_ms = v[v.size() / 2];
  return s;
}

int Fail(const iotad::Status& st) {
  std::fprintf(stderr, "commit_bench: %s\n", st.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int commits = 500;
  fs::path dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--commits") == 0) commits = std::max(100, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::random_device rd;
    dir = fs::temp_directory_path() / fmt::format("iotad-commit-bench-{}-{:08x}", ::getpid(), rd());
  }
  const fs::path root = dir / "lake";
  if (auto st = Lake::Init(root); !st.ok()) return Fail(st);
  auto counts = std::make_shared<iotad::lake::StoreCounts>();
  auto local = iotad::store::OpenLocalStore(root);
  if (!local.ok()) return Fail(local.status());
  auto opened = Lake::Open(root, std::make_unique<iotad::lake::CountingStore>(std::move(*local), counts));
  if (!opened.ok()) return Fail(opened.status());
  Lake& lake = **opened;
  if (auto st = lake.BeginWrite(); !st.ok()) return Fail(st);

  std::vector<double> publish_ms;
  std::vector<int64_t> calls;
  const iotad::TimestampUs t0 = 1'704'067'200LL * iotad::kMicrosPerSecond;
  for (int i = 0; i < commits; ++i) {
    const std::string staging = Lake::StagingPrefix(fmt::format("run-{}", i));
    const std::string hour = iotad::lake::HourPartition(t0 + i * iotad::kMicrosPerHour);
    iotad::lake::Commit c;
    c.stage = i % 2 == 0 ? "silver" : "gold";
    c.run_id = fmt::format("run-{}", i);
    for (const char* layer : {"silver", "gold"}) {
      const std::string staged = fmt::format("{}{}-{}.parquet", staging, layer, i);
      if (auto st = lake.store().Put(staged, fmt::format("{} file {}", layer, i)); !st.ok()) return Fail(st);
      c.moves.emplace_back(staged, fmt::format("{}/{}/part-{}.parquet", layer, hour, i));
    }
    if (i > 0) {
      const std::string prev = iotad::lake::HourPartition(t0 + (i - 1) * iotad::kMicrosPerHour);
      c.deletes.push_back(fmt::format("gold/{}/part-{}.parquet", prev, i - 1));
    }
    c.meta_json = c.stage == "gold" ? fmt::format(R"({{"silver_seq":{},"fingerprint":"bench"}})", i)
                                    : R"({"accounting":{"rows":1,"stored":1,"quarantined":0,"duplicates":0}})";
    const int64_t before = counts->Total();
    const auto start = Clock::now();
    auto seq = lake.Publish(std::move(c));
    publish_ms.push_back(Ms(Clock::now() - start));
    calls.push_back(counts->Total() - before);
    if (!seq.ok()) return Fail(seq.status());
  }
  opened->reset();

  // A reader: the applied marker, the checkpoint, the commits after it.
  auto reader = Lake::Open(root);
  if (!reader.ok()) return Fail(reader.status());
  const auto snap_start = Clock::now();
  auto snapshot = (*reader)->snapshot();
  const double snapshot_ms = Ms(Clock::now() - snap_start);
  if (!snapshot.ok()) return Fail(snapshot.status());
  // What it cost before checkpoints: every record read and parsed.
  const auto replay_start = Clock::now();
  auto all = (*reader)->ReadCommits();
  const double replay_ms = Ms(Clock::now() - replay_start);
  if (!all.ok()) return Fail(all.status());

  const std::vector<double> first(publish_ms.begin(), publish_ms.begin() + 50);
  const std::vector<double> last(publish_ms.end() - 50, publish_ms.end());
  const Summary f = Summarize(first), l = Summarize(last);
  const int64_t first_calls = *std::max_element(calls.begin(), calls.begin() + 50);
  const int64_t last_calls = *std::max_element(calls.end() - 50, calls.end());
  std::printf("commit_bench: %d small commits (1 new silver file + 1 replaced gold file each), live files at the end: %zu\n",
              commits, (*snapshot)->files().size());
  std::printf("  %-22s %10s %10s %10s %14s\n", "", "median ms", "mean ms", "max ms", "store calls max");
  std::printf("  %-22s %10.3f %10.3f %10.3f %14lld\n", "first 50 commits", f.median_ms, f.mean_ms, f.max_ms,
              static_cast<long long>(first_calls));
  std::printf("  %-22s %10.3f %10.3f %10.3f %14lld\n", fmt::format("last 50 commits").c_str(), l.median_ms, l.mean_ms,
              l.max_ms, static_cast<long long>(last_calls));
  std::printf("  log records read by Publish: %lld; log listings: %zu\n",
              static_cast<long long>(counts->GetsUnder(iotad::lake::kLogPrefix)),
              counts->lists_by_prefix.count(std::string(iotad::lake::kLogPrefix)));
  std::printf("  snapshot for a reader (checkpoint + commits after it): %.3f ms\n", snapshot_ms);
  std::printf("  the whole log read and parsed (%zu records, verify's path): %.3f ms\n", all->size(), replay_ms);
  if (own_dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
