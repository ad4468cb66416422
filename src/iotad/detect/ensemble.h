#pragma once
// `default`: the ensemble most users should run. See ensemble.cpp for how it combines.
#include <memory>

#include "iotad/detect/detector.h"

namespace iotad::detect {

Result<std::unique_ptr<SeriesDetector>> MakeEnsemble(const DetectorOptions& options);

}  // namespace iotad::detect
