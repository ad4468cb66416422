// `iotad verify`: the lake against its commit log (see pipeline/verify.h); `--repair` as a
// recorded run.
#include <cstdio>

#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/cli/recorded_stage.h"
#include "iotad/pipeline/verify.h"

namespace iotad::cli {
namespace {

struct VerifyFlags {
  std::string format = "table";
  bool repair = false;
  bool quick = false;
};

void PrintVerifyTable(const pipeline::VerifyReport& r) {
  std::printf("verify: %lld commits, %lld committed objects, %lld files in the layers%s", static_cast<long long>(r.commits),
              static_cast<long long>(r.objects), static_cast<long long>(r.files_on_disk),
              r.quick ? " (quick: sizes only, no checksums)" : "");
  if (!r.quick) std::printf(", %.1f MB checksummed", static_cast<double>(r.bytes_hashed) / 1e6);
  std::printf("\n");
  if (r.unstamped > 0) {
    std::printf("verify: %lld objects have no recorded size and checksum (committed before iotad recorded them, or "
                "bronze files silver read that no ingest committed): checked for existence only\n",
                static_cast<long long>(r.unstamped));
  }
  for (const auto& p : r.problems) {
    std::printf("%-10s %s: %s\n", std::string(pipeline::ProblemKindName(p.kind)).c_str(), p.key.c_str(), p.message.c_str());
  }
  if (r.ok()) {
    std::printf("verify: ok\n");
  } else {
    std::printf("verify: %zu problem%s\n", r.problems.size(), r.problems.size() == 1 ? "" : "s");
  }
}

void PrintRepairTable(const pipeline::RepairReport& r) {
  for (const auto& m : r.moved_aside) std::printf("repair: moved %s\n", m.c_str());
  if (r.silver_rebuilt) std::printf("repair: silver and quarantine rebuilt from bronze\n");
  if (r.gold_rebuilt) std::printf("repair: gold rebuilt\n");
  for (const auto& k : r.dropped_from_log) {
    std::printf("repair: %s was lost and gold no longer produces it: dropped from the log\n", k.c_str());
  }
  for (const auto& m : r.not_repairable) std::printf("repair: not repaired: %s\n", m.c_str());
}

}  // namespace

void RegisterVerifyCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand(
      "verify", "Check the lake against its commit log: committed files present and intact, no strays, "
                "accounting, gold covers silver; exits 1 when anything is wrong");
  auto flags = std::make_shared<VerifyFlags>();
  sub->add_option("--format", flags->format, "Output: table or json")->check(CLI::IsMember({"table", "json"}));
  sub->add_flag("--repair", flags->repair,
                "Move strays and damaged files to _iotad/, rebuild silver (from bronze) and gold as needed");
  sub->add_flag("--quick", flags->quick, "Sizes only: read no file (what `iotad run` checks)");
  AddLakeOption(*sub, global);
  sub->callback([flags, &global, &out] {
    const pipeline::VerifyOptions options{.quick = flags->quick};
    const bool json = flags->format == "json";
    if (!flags->repair) {
      auto lake = OpenLake(ResolveLakePath(global));
      if (!lake.ok()) {
        out.status = lake.status();
        return;
      }
      // Under the writer lock (after recovery), so no commit is half-applied while verify looks.
      if (out.status = (*lake)->BeginWrite(); !out.status.ok()) return;
      auto report = pipeline::VerifyLake(**lake, options);
      if (!report.ok()) {
        out.status = report.status();
        return;
      }
      if (json) {
        std::printf("%s\n", pipeline::VerifyReportJson(*report).c_str());
      } else {
        PrintVerifyTable(*report);
      }
      if (!report->ok()) out.exit_code = 1;
      return;
    }
    bool clean = false;
    out.status = RunRecordedStage(global, "verify --repair", [&](lake::Lake& lake, const std::string& run_id) -> Result<std::string> {
      IOTAD_ASSIGN_OR_RETURN(auto found, pipeline::VerifyLake(lake, options));
      if (!json) PrintVerifyTable(found);
      pipeline::RepairReport repair;
      pipeline::VerifyReport after = found;
      if (!found.ok()) {
        IOTAD_ASSIGN_OR_RETURN(repair, pipeline::RepairLake(lake, found, run_id));
        if (!json) PrintRepairTable(repair);
        IOTAD_ASSIGN_OR_RETURN(after, pipeline::VerifyLake(lake, options));
        if (!json) {
          std::printf("after repair:\n");
          PrintVerifyTable(after);
        }
      }
      const std::string counts = fmt::format("{{\"found\":{},\"repair\":{},\"after\":{}}}", pipeline::VerifyReportJson(found),
                                             pipeline::RepairReportJson(repair), pipeline::VerifyReportJson(after));
      if (json) std::printf("%s\n", counts.c_str());
      clean = after.ok();
      return counts;
    });
    if (out.status.ok() && !clean) out.exit_code = 1;
  });
}

}  // namespace iotad::cli
