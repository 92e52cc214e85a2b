#include "http/server.h"

#include "audit/audit_log.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <limits>
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

// An IPv4 client of a dual-stack socket has an IPv4-mapped IPv6 address: its IPv4 address.
net::ip::address Plain(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return a.to_v6().to_v4();
  return a;
}

struct Shared {
  Shared(Router& r, const ServerOptions& o) : router(r), opts(o) {}
  Router& router;
  ServerOptions opts;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::set<std::weak_ptr<class Session>, std::owner_less<std::weak_ptr<class Session>>> sessions;
  std::optional<net::ip::address> proxy;  // --tls-proxy
  std::atomic<int> connections{0};        // Sessions alive
  std::atomic<int> rejecting{0};          // connections beyond the cap being answered 503
  std::atomic<size_t> body_bytes{0};      // reserved by bodies in flight (opts.body_memory)
  std::atomic<size_t> public_bytes{0};    // the part of it reserved by requests without a session
  std::atomic<int64_t> last_warning{0};   // steady seconds of the last rate-limited warning

  // Reserves n bytes of the bodies' budget; false if they do not fit. Requests without a
  // session (login, public applications) may hold a quarter of it at most, so that anonymous
  // clients sending slowly cannot keep the staff's requests out.
  static bool Take(std::atomic<size_t>& used, size_t n, size_t budget) {
    size_t cur = used.load();
    do {
      if (n > budget || cur > budget - n) return false;
    } while (!used.compare_exchange_weak(cur, cur + n));
    return true;
  }
  bool Reserve(size_t n, bool anonymous) {
    if (anonymous && !Take(public_bytes, n, opts.body_memory / 4)) return false;
    if (Take(body_bytes, n, opts.body_memory)) return true;
    if (anonymous) public_bytes -= n;
    return false;
  }
  void Release(size_t n, bool anonymous) {
    body_bytes -= n;
    if (anonymous) public_bytes -= n;
  }

  // A warning at most once every 10 seconds (floods would fill the log otherwise).
  template <typename... Args>
  void WarnSometimes(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    int64_t last = last_warning.load();
    if (now - last < 10 || !last_warning.compare_exchange_strong(last, now)) return;
    spdlog::warn(fmt, std::forward<Args>(args)...);
  }
};

// The answer to a request refused because the server is full (connections or bodies' memory).
Status Busy() { return Status(Code::kUnavailable, "busy", "服务器繁忙，请稍后重试"); }

// A path for the log: control bytes (a decoded %0A…) could forge lines.
std::string Loggable(const std::string& path) {
  std::string out = path;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

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
    ++shared_.connections;
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      peer_ = Plain(ep.address());
      remote_ = peer_->to_string();
    }
  }

  void Start() {
    {
      std::lock_guard<std::mutex> g(shared_.mu);
      shared_.sessions.insert(weak_from_this());
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  ~Session() {
    Release();
    --shared_.connections;
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
    // Beast checks Content-Length against the limit while parsing the header: none there
    // (boost::none would compare as less than any length in Boost 1.74), as OnHeader applies the
    // limit of the route (and of the user) before a byte of the body is read.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    idle_ = true;
    stream_.expires_after(std::chrono::seconds(shared_.opts.timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // The header has arrived: the route, the session, the CSRF token and the role are checked
  // (Router::Admit) and the body's size against the route's limit and the bodies' memory
  // budget, all before the body is read. A refusal is answered at once; its body is not read.
  void OnHeader(beast::error_code ec, std::size_t n) {
    if (closed_) return;
    idle_ = false;  // a request is arriving: shutdown waits for its answer
    if (ec) return OnRead(ec, n);
    started_ = std::chrono::steady_clock::now();
    auto& req = parser_->get();
    head_ = Request{};
    head_.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t qpos = target.find('?');
    head_.path = UrlDecode(std::string(target.substr(0, qpos)));
    if (qpos != std::string_view::npos) head_.query = ParseQuery(target.substr(qpos + 1));
    head_.cookie = std::string(req[bhttp::field::cookie]);
    head_.csrf_token = std::string(req["X-CSRF-Token"]);
    head_.content_type = std::string(req[bhttp::field::content_type]);
    head_.idempotency_key = std::string(req["Idempotency-Key"]);
    head_.remote = client_ = ClientAddress(req);
    keep_alive_ = req.keep_alive();
    version_ = req.version();

    Admission admission = shared_.router.Admit(head_);
    if (admission.refusal) return Refuse(std::move(*admission.refusal));
    limit_ = admission.body_limit ? admission.body_limit : shared_.opts.body_limit;
    auto length = parser_->content_length();
    if (length && *length > limit_) return Refuse(TooLarge());
    size_t need = length ? static_cast<size_t>(*length) : parser_->chunked() ? limit_ : 0;
    if (need > 0) {
      if (!shared_.Reserve(need, !head_.principal)) {
        shared_.WarnSometimes("bodies in flight fill --max-body-memory ({} MiB): requests answered 503",
                              shared_.opts.body_memory >> 20);
        return Refuse(ErrorResponse(Busy()));
      }
      reserved_ = need;
      reserved_anonymous_ = !head_.principal;
    }
    parser_->body_limit(limit_);  // for a chunked body: checked as it arrives
    stream_.expires_after(std::chrono::seconds(shared_.opts.timeout_seconds * 4));
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  Response TooLarge() const {
    return ErrorResponse(Status(Code::kTooLarge, "payload_too_large",
                                "请求内容超过" + std::to_string(std::max<size_t>(1, limit_ >> 20)) + "MB上限"));
  }

  // Answers a request refused on its header. A body that is still to come is not read: the
  // connection closes after the answer (draining briefly, see Drain).
  void Refuse(Response r) {
    if (!parser_->is_done()) {
      keep_alive_ = false;
      drain_ = true;
    }
    Send(std::move(r), head_.method, head_.path, started_);
  }

  // The client's address: the peer's, or, when the peer is the TLS proxy (--tls-proxy) or a
  // --trusted-proxy, the last address of X-Forwarded-For (the one the proxy added; earlier ones
  // came from the client).
  std::string ClientAddress(const bhttp::request<bhttp::string_body>& req) const {
    const auto& trusted = shared_.opts.trusted_proxies;
    bool from_proxy = (shared_.proxy && peer_ && *peer_ == *shared_.proxy) ||
                      std::find(trusted.begin(), trusted.end(), remote_) != trusted.end();
    if (!from_proxy) return remote_;
    std::string_view last;
    for (const auto& f : req)
      if (beast::iequals(f.name_string(), "X-Forwarded-For")) last = std::string_view(f.value().data(), f.value().size());
    size_t comma = last.rfind(',');
    if (comma != std::string_view::npos) last.remove_prefix(comma + 1);
    while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
    while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
    beast::error_code ec;
    auto addr = net::ip::make_address(std::string(last), ec);
    return ec ? remote_ : Plain(addr).to_string();
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (closed_) return;
    idle_ = false;
    if (ec == bhttp::error::body_limit) {  // a chunked body beyond the route's limit
      keep_alive_ = false;
      drain_ = true;
      return Send(TooLarge(), head_.method, head_.path, std::chrono::steady_clock::now());
    }
    if (ec) return Close();
    auto started = std::chrono::steady_clock::now();
    Request in = std::move(head_);
    in.body = std::move(parser_->get().body());
    const RouteWait* wait = shared_.router.WaitOf(in);
    if (!wait) return Run(in, nullptr, started);
    // The tracked executor keeps the io_context running (graceful shutdown) until it is sent.
    auto ex = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
    auto waiting = std::make_shared<Request>(std::move(in));
    (*wait)([self = shared_from_this(), ex, waiting, started](Within within) {
      net::post(ex, [self, waiting, within = std::move(within), started] { self->Run(*waiting, within, started); });
    });
  }

  // Gives the body's reservation back to the budget (the request has been handled, or refused).
  void Release() { shared_.Release(std::exchange(reserved_, 0), reserved_anonymous_); }

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
    Release();
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), version_);
    res->set(bhttp::field::server, "doudi");
    if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    res->set("X-Frame-Options", "DENY");
    res->set("Referrer-Policy", "no-referrer");
    res->set("Content-Security-Policy",
             "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
    if (path.rfind("/api/", 0) == 0) res->set(bhttp::field::cache_control, "no-store");
    if (shared_.proxy) {  // served over TLS by the proxy: browsers keep to HTTPS, cookies to TLS
      res->set("Strict-Transport-Security", "max-age=31536000");
      for (auto& [k, v] : r.headers)
        if (beast::iequals(k, "Set-Cookie") && v.find("; Secure") == std::string::npos) v += "; Secure";
    }
    for (auto& [k, v] : r.headers) res->insert(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !shared_.stopping);
    res->prepare_payload();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    // Access log: no query strings, no bodies (they may hold personal data).
    spdlog::info("{} {} {} {}B {:.1f}ms user={} ip={}", method, Loggable(path), r.status, res->body().size(), ms,
                 r.user_id, client_.empty() ? remote_ : client_);
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
    Release();
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
  Request head_;  // the request's header, once it has arrived (OnHeader); its body joins it in OnRead
  std::chrono::steady_clock::time_point started_;
  size_t limit_ = 0;     // the body limit of the request being read
  size_t reserved_ = 0;  // bytes of the bodies' budget this request holds
  bool reserved_anonymous_ = false;  // … as a request without a session
  std::optional<net::ip::address> peer_;
  bool keep_alive_ = false;
  bool drain_ = false;
  unsigned version_ = 11;
  std::string remote_;  // the peer's address
  std::string client_;  // the client's address of the request being handled (ClientAddress)
  bool idle_ = false;    // waiting for a request's header
  bool closed_ = false;  // closed by CloseIfIdle: what arrives after is not run
  bool ended_ = false;   // Close() ran: the connection is done
};

// The whole answer to a connection beyond --max-connections.
const std::string& BusyAnswer() {
  static const std::string answer = [] {
    std::string body = ErrorResponse(Busy()).body;
    return "HTTP/1.1 503 Service Unavailable\r\nServer: doudi\r\nContent-Type: application/json; charset=utf-8\r\n"
           "Cache-Control: no-store\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return answer;
}

// A connection beyond the cap: answered 503 busy, then closed after reading (and dropping)
// what the client sends for up to a second, so that its answer is not lost to a reset.
class Rejection : public std::enable_shared_from_this<Rejection> {
 public:
  Rejection(tcp::socket&& socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) { ++shared_.rejecting; }
  ~Rejection() { --shared_.rejecting; }
  void Start() {
    stream_.expires_after(std::chrono::seconds(1));
    net::async_write(stream_, net::buffer(BusyAnswer()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      self->Drain();
    });
  }

 private:
  void Drain() {
    stream_.async_read_some(net::buffer(buf_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->Drain();
    });
  }
  beast::tcp_stream stream_;
  Shared& shared_;
  char buf_[4096];
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, tcp::acceptor acceptor, Shared& shared)
      : ioc_(ioc), acceptor_(std::move(acceptor)), shared_(shared), pause_(acceptor_.get_executor()) {}
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }
  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->pause_.cancel();
    });
  }

 private:
  static bool OutOfResources(const beast::error_code& ec) {
    namespace errc = boost::system::errc;
    return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
           ec == errc::no_buffer_space || ec == errc::not_enough_memory;
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || shared_.stopping) return;
    if (ec && OutOfResources(ec)) {
      // Out of file descriptors (or memory): the pending connection stays in the kernel's
      // queue and accepting again at once would fail again at once, a busy loop. Pause; the
      // connections that end meanwhile give their descriptors back.
      shared_.WarnSometimes("accept: {}: pausing 100 ms (raise the open-file limit or lower --max-connections)",
                            ec.message());
      pause_.expires_after(std::chrono::milliseconds(100));
      pause_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->shared_.stopping) return;
        self->Accept();
      });
      return;
    }
    if (!ec) {
      if (shared_.connections.load() < shared_.opts.max_connections) {
        std::make_shared<Session>(std::move(socket), shared_)->Start();
      } else {
        shared_.WarnSometimes("{} connections open (--max-connections): new ones answered 503", shared_.opts.max_connections);
        if (shared_.rejecting.load() < 64) {
          std::make_shared<Rejection>(std::move(socket), shared_)->Start();
        } else {  // too many being refused already: the answer if it fits at once, then close
          beast::error_code ignored;
          socket.non_blocking(true, ignored);
          socket.write_some(net::buffer(BusyAnswer()), ignored);
          socket.shutdown(tcp::socket::shutdown_both, ignored);
          socket.close(ignored);
        }
      }
    }
    Accept();
  }
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  Shared& shared_;
  net::steady_timer pause_;  // the pause after an accept out of resources
};

}  // namespace

Status RunServer(const ServerOptions& options, Router& router) {
  ServerOptions opts = options;
  beast::error_code ec;
  std::optional<net::ip::address> proxy;
  if (!opts.tls_proxy.empty()) {
    proxy = Plain(net::ip::make_address(opts.tls_proxy, ec));
    if (ec) return Status::InvalidArgument("tls-proxy", "代理地址无效：" + opts.tls_proxy);
  }
  // Connections take a descriptor each: use all the process may open, and keep the cap at
  // half of it (the database, files and the connections being refused need the rest).
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      rlimit raised = files;
      raised.rlim_cur = files.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
    }
    if (files.rlim_cur != RLIM_INFINITY && static_cast<rlim_t>(opts.max_connections) > files.rlim_cur / 2) {
      int cap = std::max<int>(1, static_cast<int>(files.rlim_cur / 2));
      spdlog::warn("--max-connections {} lowered to {}: the open-file limit is {}", opts.max_connections, cap,
                   static_cast<uint64_t>(files.rlim_cur));
      opts.max_connections = cap;
    }
  }
  net::io_context ioc(opts.threads);
  Shared shared(router, opts);
  shared.proxy = proxy;
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

  spdlog::info("listening on http://{}:{} with {} threads, at most {} connections{}", opts.host, opts.port, opts.threads,
               opts.max_connections, proxy ? ", behind the TLS proxy " + proxy->to_string() : std::string());
  std::vector<std::thread> threads;
  for (int i = 1; i < opts.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  spdlog::info("stopped");
  return Status::Ok();
}

}  // namespace doudi::http
