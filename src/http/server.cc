#include "http/server.h"

#include "audit/audit_log.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace doudi::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Shared {
  Shared(Router& r, const ServerOptions& o) : router(r), opts(o) {}
  Router& router;
  ServerOptions opts;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::set<std::weak_ptr<class Session>, std::owner_less<std::weak_ptr<class Session>>> sessions;
};

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= q.size()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view part = q.substr(pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string k = UrlDecode(std::string(part.substr(0, eq)));
      std::string v = eq == std::string_view::npos ? "" : UrlDecode(std::string(part.substr(eq + 1)));
      out[k] = v;
    }
    pos = amp + 1;
  }
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }

  void Start() {
    {
      std::lock_guard<std::mutex> g(shared_.mu);
      shared_.sessions.insert(weak_from_this());
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  ~Session() {
    std::lock_guard<std::mutex> g(shared_.mu);
    shared_.sessions.erase(weak_from_this());
  }

  // Called on shutdown: closes the connection if it is waiting for a request of which nothing
  // has arrived (a request already received is answered; its connection closes after). A
  // request whose bytes the reactor read just before the close is not run (closed_): the
  // client gets no answer, and nothing was written.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->ended_) return;  // answered and closed already
      beast::error_code ec;
      if (!self->idle_ || self->parser_->got_some() || self->buffer_.size() > 0 ||
          self->stream_.socket().available(ec) > 0)
        return self->StartGrace();
      self->closed_ = true;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  // A request still arriving, or an answer still being sent, when shutdown begins gets at most
  // --timeout more seconds: the stream's own deadline for a body or an answer is 4x that, and
  // a client stalled mid-request would otherwise hold the server's exit that long. (A pending
  // operation keeps the deadline it started with, hence a timer of its own.) A handler that is
  // running is not cut; its answer is sent under the same shorter deadline (Send).
  void StartGrace() {
    grace_.expires_after(std::chrono::seconds(shared_.opts.timeout_seconds));
    grace_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->ended_) return;
      bool reading = self->parser_ && !self->parser_->is_done();
      if (!reading && !self->response_) return self->StartGrace();  // the handler runs: look again later
      self->closed_ = reading;  // a request cut off is not run
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

  void DoRead() {
    if (shared_.stopping) return Close();
    parser_.emplace();
    // Beast checks Content-Length against the limit while parsing the header, so the header is
    // read under the upload limit and OnHeader applies the route's own limit.
    parser_->body_limit(shared_.opts.upload_limit);
    idle_ = true;
    stream_.expires_after(std::chrono::seconds(shared_.opts.timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // Feed uploads may be large; every other request keeps the small limit.
  void OnHeader(beast::error_code ec, std::size_t n) {
    if (closed_) return;
    idle_ = false;  // a request is arriving: shutdown waits for its answer
    if (ec) return OnRead(ec, n);
    std::string_view target(parser_->get().target().data(), parser_->get().target().size());
    if (target.rfind("/api/v1/feeds", 0) != 0) {
      auto length = parser_->content_length();
      if (length && *length > shared_.opts.body_limit) return OnRead(bhttp::error::body_limit, n);
      parser_->body_limit(shared_.opts.body_limit);
    }
    stream_.expires_after(std::chrono::seconds(shared_.opts.timeout_seconds * 4));
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (closed_) return;
    idle_ = false;
    if (ec == bhttp::error::body_limit) {
      Response r = ErrorResponse(Status(Code::kTooLarge, "payload_too_large", "请求内容超过1MB上限"));
      keep_alive_ = false;
      drain_ = true;
      return Send(std::move(r), "-", "-", std::chrono::steady_clock::now());
    }
    if (ec) return Close();
    auto started = std::chrono::steady_clock::now();
    auto& req = parser_->get();
    Request in;
    in.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t qpos = target.find('?');
    in.path = UrlDecode(std::string(target.substr(0, qpos)));
    if (qpos != std::string_view::npos) in.query = ParseQuery(target.substr(qpos + 1));
    in.body = std::move(req.body());
    in.cookie = std::string(req[bhttp::field::cookie]);
    in.csrf_token = std::string(req["X-CSRF-Token"]);
    in.remote = remote_;
    in.idempotency_key = std::string(req["Idempotency-Key"]);
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    const RouteWait* wait = shared_.router.WaitOf(in);
    if (!wait) return Run(in, nullptr, started);
    // The tracked executor keeps the io_context running (graceful shutdown) until it is sent.
    auto ex = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
    auto waiting = std::make_shared<Request>(std::move(in));
    (*wait)([self = shared_from_this(), ex, waiting, started](Within within) {
      net::post(ex, [self, waiting, within = std::move(within), started] { self->Run(*waiting, within, started); });
    });
  }

  // Handles the request (through `within` when its route waited) and sends the response.
  void Run(Request& in, const Within& within, std::chrono::steady_clock::time_point started) {
    Response r;
    // Reads of personal data are logged before the data leaves, and a group-committed write
    // is answered once committed; the handler's thread waits for neither: the response is sent
    // from the receipt's callback (replaced by the error if a commit failed or a write met a
    // newer version). A handler that opens a synchronous scope (the application workflow's
    // writes, DeferCommits(nullptr)) waits for its reads' log itself.
    auto receipt = std::make_shared<audit::CommitReceipt>();
    try {
      audit::DeferCommits defer(receipt);
      if (within) within([&] { r = shared_.router.Handle(in); });
      else r = shared_.router.Handle(in);
    } catch (const std::exception& e) {
      spdlog::error("unhandled exception in {} {}: {}", in.method, in.path, e.what());
      r = ErrorResponse(Status::Internal(e.what()));
    }
    // Settled already (nothing queued, or the commits were quicker than this thread): answer
    // now, with the error if one failed or a write met a newer version.
    if (auto st = receipt->Settled()) return Send(Outcome(std::move(r), *st, in.method, in.path), in.method, in.path, started);
    auto ex = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
    auto waiting = std::make_shared<Response>(std::move(r));
    receipt->Then([self = shared_from_this(), ex, waiting, method = std::move(in.method), path = std::move(in.path),
                   started](Status st) {
      net::post(ex, [self, waiting, method, path, started, st] {
        self->Send(Outcome(std::move(*waiting), st, method, path), method, path, started);
      });
    });
  }

  // The handler's response once its commits are known: itself, or the commits' error.
  static Response Outcome(Response r, const Status& st, const std::string& method, const std::string& path) {
    if (st.ok()) return r;
    Response e = ErrorResponse(LogIfServerError(method, path, st));
    e.user_id = r.user_id;
    return e;
  }

  void Send(Response r, const std::string& method, const std::string& path,
            std::chrono::steady_clock::time_point started) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), version_);
    res->set(bhttp::field::server, "doudi");
    if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    res->set("X-Frame-Options", "DENY");
    res->set("Referrer-Policy", "no-referrer");
    res->set("Content-Security-Policy",
             "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
    if (path.rfind("/api/", 0) == 0) res->set(bhttp::field::cache_control, "no-store");
    for (auto& [k, v] : r.headers) res->insert(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !shared_.stopping);
    res->prepare_payload();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    // Access log: no query strings, no bodies (they may hold personal data).
    spdlog::info("{} {} {} {}B {:.1f}ms user={}", method, path, r.status, res->body().size(), ms, r.user_id);
    response_ = res;
    // The answer gets its own time: the body's deadline may have passed while the handler ran,
    // and a write started after it is cut off as soon as it cannot complete at once (a large
    // answer, a slow client).
    stream_.expires_after(std::chrono::seconds(shared_.opts.timeout_seconds * (shared_.stopping ? 1 : 4)));
    bhttp::async_write(stream_, *res, beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    bool keep = response_ && response_->keep_alive();
    response_.reset();
    if (ec || !keep) return Close();
    DoRead();
  }

  void Close() {
    ended_ = true;
    grace_.cancel();  // its handler holds the session, and the server's exit, until it runs
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (std::exchange(drain_, false)) {
      stream_.expires_after(std::chrono::seconds(1));
      Drain();
    }
  }

  // After answering a request whose body was not read (413), reads and discards what the
  // client is still sending, for up to a second: closing a socket with unread data makes the
  // kernel reset the connection, and the client could lose the answer before reading it.
  void Drain() {
    // Into the read buffer's spare room, never committed: nothing is kept.
    stream_.async_read_some(buffer_.prepare(16384), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->Drain();
    });
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  net::steady_timer grace_{stream_.get_executor()};  // the shutdown's bound (StartGrace)
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
  bool keep_alive_ = false;
  bool drain_ = false;
  unsigned version_ = 11;
  std::string remote_;  // the peer's address
  bool idle_ = false;    // waiting for a request's header
  bool closed_ = false;  // closed by CloseIfIdle: what arrives after is not run
  bool ended_ = false;   // Close() ran: the connection is done
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, tcp::acceptor acceptor, Shared& shared)
      : ioc_(ioc), acceptor_(std::move(acceptor)), shared_(shared) {}
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }
  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || shared_.stopping) return;
    if (!ec) std::make_shared<Session>(std::move(socket), shared_)->Start();
    Accept();
  }
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  Shared& shared_;
};

}  // namespace

Status RunServer(const ServerOptions& opts, Router& router) {
  net::io_context ioc(opts.threads);
  Shared shared(router, opts);
  beast::error_code ec;
  auto addr = net::ip::make_address(opts.host, ec);
  if (ec) return Status::InvalidArgument("listen", "监听地址无效：" + opts.host);
  tcp::acceptor acceptor(ioc);
  tcp::endpoint ep(addr, opts.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::FailedPrecondition("无法监听 " + opts.host + ":" + std::to_string(opts.port) + "：" + ec.message());
  auto listener = std::make_shared<Listener>(ioc, std::move(acceptor), shared);
  listener->Accept();

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int sig) {
    spdlog::info("signal {}: stopping; in-flight requests finish", sig);
    shared.stopping = true;
    listener->Stop();
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard<std::mutex> g(shared.mu);
      for (auto& w : shared.sessions)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->CloseIfIdle();
  });

  spdlog::info("listening on http://{}:{} with {} threads", opts.host, opts.port, opts.threads);
  std::vector<std::thread> threads;
  for (int i = 1; i < opts.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  spdlog::info("stopped");
  return Status::Ok();
}

}  // namespace doudi::http
