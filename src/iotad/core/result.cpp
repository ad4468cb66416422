#include "iotad/core/result.h"

namespace iotad {

const char* ErrcName(Errc code) {
  switch (code) {
    case Errc::kOk: return "ok";
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kNotFound: return "not found";
    case Errc::kIo: return "i/o error";
    case Errc::kParse: return "parse error";
    case Errc::kConflict: return "conflict";
    case Errc::kCorrupt: return "corrupt";
    case Errc::kInternal: return "internal error";
  }
  return "unknown";
}

}  // namespace iotad
