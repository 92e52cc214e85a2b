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
  size_t body_limit = 1 << 20;  // 1 MiB
  size_t upload_limit = 64 << 20;  // feed uploads (/api/v1/feeds)
  int timeout_seconds = 30;     // a request's header, and keep-alive idle; its body and the answer 4x
  // Peers (a reverse proxy's addresses) whose X-Forwarded-For names the client (rate_limit.h).
  std::vector<std::string> trusted_proxies;
};

// Runs until SIGTERM/SIGINT, then drains. Returns non-ok if it cannot bind.
Status RunServer(const ServerOptions& opts, Router& router);

}  // namespace doudi::http
