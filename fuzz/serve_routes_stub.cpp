// For fuzz_serve_params only: weak empty definitions of what the API's sources left out of that
// target define (pipeline and metrics routes need the pipeline library, see CMakeLists.txt). A
// strong definition compiled into the target wins.
#include "iotad/serve/api_internal.h"

namespace iotad::serve {

__attribute__((weak)) void RegisterPipelineRoutes(Router&) {}
__attribute__((weak)) void RegisterMetricsRoutes(Router&) {}
__attribute__((weak)) Result<std::string> MetricsText(Context&, const metrics::Registry& http) {
  return http.Exposition();
}

}  // namespace iotad::serve
