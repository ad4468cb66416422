#include "iotad/pipeline/run_record.h"

#include "iotad/core/json.h"

namespace iotad::pipeline {

Status WriteRunRecord(lake::Lake& lake, const RunRecord& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("run_id").String(r.run_id).Key("command").String(r.command).Key("status").String(r.status);
  w.Key("started_at").Timestamp(r.started_at_us).Key("finished_at").Timestamp(r.finished_at_us);
  w.Key("seconds").Double(static_cast<double>(r.finished_at_us - r.started_at_us) / 1e6);
  w.Key("message").String(r.message);
  w.Key("stages").BeginArray();
  for (const auto& s : r.stages) {
    w.BeginObject().Key("stage").String(s.stage).Key("seconds").Double(s.seconds).Key("counts").Raw(s.counts_json).EndObject();
  }
  w.EndArray();
  w.Key("counts").Raw(r.counts_json);
  w.EndObject();
  return lake.store().Put(fmt::format("{}{}.json", lake::kRunsPrefix, r.run_id), w.Take() + "\n");
}

}  // namespace iotad::pipeline
