// Temporary (api helper): what i10-alerts implements, until that branch is merged. Delete then.
#include "iotad/serve/api_internal.h"

namespace iotad::serve {

void RegisterAlertRoutes(Router&) {}
void RegisterPipelineRoutes(Router&) {}
void RegisterMetricsRoutes(Router&) {}
void WriteAlertJson(JsonWriter& json, const LakeState&, const alert::Alert& alert, TimestampUs) {
  json.BeginObject().Key("id").String(alert.id).EndObject();
}
Result<std::string> MetricsText(Context&, const metrics::Registry& http) { return http.Exposition(); }

}  // namespace iotad::serve
