// webhook, slack, alertmanager, pagerduty: option tables and validation (helper "http" fills this).
#include "iotad/config/alert_config.h"

namespace iotad::config {

std::vector<ComponentType> HttpSinkTypes() { return {}; }

}  // namespace iotad::config
