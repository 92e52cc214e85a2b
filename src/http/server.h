// The HTTP/1.1 server: Boost.Beast on Asio, keep-alive, body limit, timeouts, access log,
// graceful shutdown (SIGTERM/SIGINT stop accepting; in-flight requests finish).
#pragma once

#include <string>
#include <vector>

#include "http/router.h"

namespace doudi::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  int threads = 4;
  size_t body_limit = 1 << 20;  // 1 MiB; a route may have its own (Router::SetBodyRule)
  int timeout_seconds = 30;     // a request's header, and keep-alive idle; its body and the answer 4x
  // Peers (a reverse proxy's addresses) whose X-Forwarded-For names the client (rate_limit.h).
  std::vector<std::string> trusted_proxies;
  // Bodies being read, over all connections, reserve their size (Content-Length, or the
  // route's limit when chunked) from this budget once their header is admitted; beyond it a
  // request is answered 503 busy without reading its body. Requests without a session may hold
  // a quarter of it at most.
  size_t body_memory = size_t{256} << 20;
  // Open connections served at most (lowered to half the open-file limit); beyond, a new
  // connection is answered 503 busy and closed.
  int max_connections = 512;
  // The address of the reverse proxy that terminates TLS in front of the server (empty: none).
  // Set: the session cookie is Secure, answers carry Strict-Transport-Security, and a request
  // from that address has its client address from X-Forwarded-For (the last entry).
  std::string tls_proxy;
};

// Runs until SIGTERM/SIGINT, then drains. Returns non-ok if it cannot bind.
Status RunServer(const ServerOptions& opts, Router& router);

}  // namespace doudi::http
