#pragma once
// Small whole-file helpers for files that fit in memory (labels, configs, JSON).
#include <string>

#include "iotad/core/result.h"

namespace iotad {

/// The whole file as bytes. A missing file is kNotFound, any other failure kIo; the message
/// names the path ("cannot read 'x': No such file or directory").
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace iotad
