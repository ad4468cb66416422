#include "iotad/serve/http_types.h"

#include "iotad/core/json.h"

namespace iotad::serve {

Response ErrorResponse(int status, std::string_view message) {
  Response response;
  response.status = status;
  JsonWriter json;
  json.BeginObject().Key("error").String(message).EndObject();
  response.body = json.Take();
  return response;
}

}  // namespace iotad::serve
