// The shapes most /api/v1 routes share, so that a resource file lists its routes and the
// service call of each, not the same parsing again: a list with paging, a read by id, a body
// posted to a collection, an action posted on a member. Each answers the service's JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <utility>

#include "common/paging.h"
#include "http/router.h"

namespace doudi::http {

// ?page=&page_size= as a Page.
inline Result<Page> PageOf(Context& c) {
  DOUDI_ASSIGN_OR_RETURN(auto p, c.Paging());
  return Page{p.first, p.second};
}

// GET a collection: f(context, page) → 200.
template <class F>
Handler ListRoute(F f) {
  return [f](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(Page page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json out, f(c, page));
    return Response::Json(200, out);
  };
}

// GET or POST on a member without a body: f(context, id) → 200.
template <class F>
Handler IdRoute(F f) {
  return [f](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json out, f(c, id));
    return Response::Json(200, out);
  };
}

// POST a JSON body to a collection: f(context, body) → `status` (201 for a create).
template <class F>
Handler BodyRoute(int status, F f) {
  return [f, status](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json out, f(c, body));
    return Response::Json(status, out);
  };
}

// POST a JSON body on a member ({id}): f(context, id, body) → `status`.
template <class F>
Handler IdBodyRoute(int status, F f) {
  return [f, status](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json out, f(c, id, body));
    return Response::Json(status, out);
  };
}

// GET without id or body: f(context) → 200.
template <class F>
Handler PlainRoute(F f) {
  return [f](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json out, f(c));
    return Response::Json(200, out);
  };
}

}  // namespace doudi::http
