// sns, email, exec, file: option tables and validation (helper "aws" fills this).
#include "iotad/config/alert_config.h"

namespace iotad::config {

std::vector<ComponentType> OtherSinkTypes() { return {}; }

}  // namespace iotad::config
