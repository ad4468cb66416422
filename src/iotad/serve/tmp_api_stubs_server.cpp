// Temporary (api helper): what i10-server implements, until that branch is merged. Delete then.
#include "iotad/core/json.h"
#include "iotad/serve/http_types.h"

namespace iotad::serve {

Response ErrorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  JsonWriter json;
  json.BeginObject().Key("error").String(message).EndObject();
  r.body = json.Take();
  return r;
}

}  // namespace iotad::serve
