// TEMPORARY (deleted at merge): a stand-in for helper engine's gold_reader.cpp so the outbox
// links before it is committed. It reads nothing.
#include "iotad/alert/gold_reader.h"

namespace iotad::alert {

Result<GoldDelta> ReadGoldDelta(lake::Lake&, const AlertState&, const std::vector<config::AlertRule>&) {
  return GoldDelta{};
}

}  // namespace iotad::alert
