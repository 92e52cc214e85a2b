#include "http/router.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "storage/migrations.h"
#include "storage/test_db.h"

namespace doudi::http {
namespace {

TEST(Cookies, FindsNamedValue) {
  EXPECT_EQ(CookieValue("a=1; doudi_session=abc; b=2", "doudi_session"), "abc");
  EXPECT_EQ(CookieValue("doudi_session_x=1; doudi_session=z", "doudi_session"), "z");
  EXPECT_EQ(CookieValue("a=1", "doudi_session"), "");
}

TEST(Url, DecodesPercentAndPlus) {
  EXPECT_EQ(UrlDecode("%E7%8E%8B+x"), "王 x");
  EXPECT_EQ(UrlDecode("%zz"), "%zz");
}

TEST(Errors, MapStatusToHttp) {
  EXPECT_EQ(HttpStatusOf(Status::InvalidArgument("f", "m")), 400);
  EXPECT_EQ(HttpStatusOf(Status::NotFound()), 404);
  EXPECT_EQ(HttpStatusOf(Status::VersionConflict()), 409);
  EXPECT_EQ(HttpStatusOf(Status::Internal("x")), 500);
  auto r = ErrorResponse(Status::InvalidArgument("members[0].citizen_id", "身份证号校验位错误"));
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "invalid_argument");
  EXPECT_EQ(j["error"]["field"], "members[0].citizen_id");
  auto internal = nlohmann::json::parse(ErrorResponse(Status::Internal("secret sql detail")).body);
  EXPECT_EQ(internal["error"]["message"].get<std::string>().find("secret"), std::string::npos);
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    db_ = storage::testing::OpenFresh("sqlite");
    ASSERT_TRUE(db_);
    auto conn = db_->Acquire();
    int applied = 0;
    ASSERT_TRUE(storage::Migrate(**conn, &applied).ok());
    ASSERT_TRUE((*conn)->Execute("INSERT INTO regions (code, level, name) VALUES ('370725', 'county', '昌乐县')").ok());
    auth_ = std::make_unique<auth::AuthService>(*db_);
    // (Was "Passw0rd123", now refused as a common password; a county reviewer: no TOTP step.)
    ASSERT_TRUE(auth_->CreateUserUnchecked(**conn, {"clerk", "Keeper-Pw-2026", "经办员", "county_reviewer", "370725", "",
                                                    false}).ok());
    router_ = std::make_unique<Router>(*auth_);
    router_->Add("POST", "/api/v1/things/{id}", [this](Context& c) -> Result<Response> {
      ++calls_;
      DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
      return Response::Json(200, {{"id", id}, {"user", c.user().username}});
    });
  }
  Request Req(std::string method, std::string path) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
  }
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<auth::AuthService> auth_;
  std::unique_ptr<Router> router_;
  int calls_ = 0;
};

TEST_F(RouterTest, RequiresSessionThenCsrf) {
  Request r = Req("POST", "/api/v1/things/5");
  EXPECT_EQ(router_->Handle(r).status, 401);
  auto login = auth_->Login("clerk", "Keeper-Pw-2026");
  ASSERT_TRUE(login.ok());
  r.cookie = "doudi_session=" + login->session_token;
  EXPECT_EQ(router_->Handle(r).status, 403);  // no CSRF header
  r.csrf_token = std::string(login->csrf_token.size(), 'a');
  EXPECT_EQ(router_->Handle(r).status, 403);  // wrong token
  EXPECT_EQ(calls_, 0);
  r.csrf_token = login->csrf_token;
  Response ok = router_->Handle(r);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["user"], "clerk");
  EXPECT_EQ(calls_, 1);
}

TEST_F(RouterTest, UnknownRouteAndWrongMethod) {
  EXPECT_EQ(router_->Handle(Req("GET", "/api/v1/nothing")).status, 404);
  EXPECT_EQ(router_->Handle(Req("GET", "/api/v1/things/5")).status, 405);
}

// Issue 17 #2: the route, the session, the CSRF token and the role are checked on the header.
TEST_F(RouterTest, AdmitRefusesOnTheHeader) {
  router_->Add("POST", "/api/v1/uploads", [this](Context& c) -> Result<Response> {
    ++calls_;
    return Response::Json(201, {{"user", c.user().username}});
  });
  // The fixture's clerk is a county reviewer: only supervisors may upload here.
  router_->SetBodyRule(8 << 20, {auth::Role::kSupervisor}, "只有监督员可以上传");
  {
    auto conn = db_->Acquire();
    ASSERT_TRUE(auth_->CreateUserUnchecked(**conn, {"reviewer", "Keeper-Pw-2026", "监督员", "supervisor", "370725", "",
                                                    false}).ok());
  }

  Request none = Req("POST", "/api/v1/nothing");
  EXPECT_EQ(router_->Admit(none).refusal->status, 404);
  Request wrong = Req("GET", "/api/v1/uploads");
  EXPECT_EQ(router_->Admit(wrong).refusal->status, 405);
  Request anon = Req("POST", "/api/v1/uploads");
  EXPECT_EQ(router_->Admit(anon).refusal->status, 401);

  auto clerk = auth_->Login("clerk", "Keeper-Pw-2026");
  ASSERT_TRUE(clerk.ok());
  Request other = Req("POST", "/api/v1/uploads");
  other.cookie = "doudi_session=" + clerk->session_token;
  other.csrf_token = clerk->csrf_token;
  auto refused = router_->Admit(other);
  ASSERT_TRUE(refused.refusal);
  EXPECT_EQ(refused.refusal->status, 403);
  EXPECT_EQ(nlohmann::json::parse(refused.refusal->body)["error"]["message"], "只有监督员可以上传");
  EXPECT_EQ(router_->Handle(other).status, 403);  // Handle applies the roles too

  auto reviewer = auth_->Login("reviewer", "Keeper-Pw-2026");
  ASSERT_TRUE(reviewer.ok());
  Request nocsrf = Req("POST", "/api/v1/uploads");
  nocsrf.cookie = "doudi_session=" + reviewer->session_token;
  EXPECT_EQ(nlohmann::json::parse(router_->Admit(nocsrf).refusal->body)["error"]["code"], "csrf_failed");

  Request ok = Req("POST", "/api/v1/uploads");
  ok.cookie = "doudi_session=" + reviewer->session_token;
  ok.csrf_token = reviewer->csrf_token;
  auto admitted = router_->Admit(ok);
  EXPECT_FALSE(admitted.refusal);
  EXPECT_EQ(admitted.body_limit, size_t{8} << 20);
  ASSERT_TRUE(ok.principal);
  EXPECT_EQ(ok.principal->user.username, "reviewer");
  // Handle uses the principal of the header: the session is not looked up again (here it has
  // ended meanwhile, and the request admitted before still runs as its user).
  ASSERT_TRUE(auth_->Logout(reviewer->session_token).ok());
  Response r = router_->Handle(ok);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(calls_, 1);
  // Other routes keep the server's default limit.
  Request thing = Req("POST", "/api/v1/things/1");
  thing.cookie = "doudi_session=" + clerk->session_token;
  thing.csrf_token = clerk->csrf_token;
  EXPECT_EQ(router_->Admit(thing).body_limit, 0u);
}

// Low (issue 17): a JSON body must come as application/json (a cross-site form cannot send it).
TEST_F(RouterTest, JsonBodyNeedsItsMediaType) {
  router_->Add("POST", "/api/v1/echo", [](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(nlohmann::json body, c.JsonBody());
    return Response::Json(200, body);
  }, Access::kPublic);
  Request r = Req("POST", "/api/v1/echo");
  r.body = R"({"a":1})";
  for (const char* type : {"", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonx", "application/json-patch+json"}) {
    r.content_type = type;
    Response res = router_->Handle(r);
    EXPECT_EQ(res.status, 415) << type;
    EXPECT_EQ(nlohmann::json::parse(res.body)["error"]["code"], "unsupported_media_type") << type;
  }
  for (const char* type : {"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"}) {
    r.content_type = type;
    EXPECT_EQ(router_->Handle(r).status, 200) << type;
  }
  EXPECT_TRUE(IsJsonMediaType(" application/json "));
}

// Issue 17 #6: only paths beginning with '/', without control bytes, inside the web root.
TEST_F(RouterTest, StaticFilesOnlyInsideTheWebRoot) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("doudi-static-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "dist" / "assets");
  fs::create_directories(dir / "dist-private");
  std::ofstream(dir / "dist" / "index.html") << "<title>doudi</title>";
  std::ofstream(dir / "dist" / "assets" / "a.js") << "x";
  std::ofstream(dir / "dist-private" / "secret.txt") << "SECRET";
  router_->SetStaticDir((dir / "dist").string());
  auto get = [&](std::string path) { return router_->Handle(Req("GET", std::move(path))); };
  EXPECT_EQ(get("/").status, 200);
  EXPECT_EQ(get("/assets/a.js").body, "x");
  for (std::string bad : std::vector<std::string>{"-private/secret.txt", "/../dist-private/secret.txt", std::string("/index.html\0.png", 16),
                          "/index.html\x01", "/a\r\nb"}) {
    Response res = get(bad);
    EXPECT_EQ(res.status, 404) << bad;
    EXPECT_EQ(res.body.find("SECRET"), std::string::npos) << bad;
    Request head = Req("GET", bad);
    if (!PathAcceptable(bad)) EXPECT_TRUE(router_->Admit(head).refusal) << bad;  // refused on the header
  }
  EXPECT_FALSE(PathAcceptable(""));
  EXPECT_TRUE(PathAcceptable("/households/1"));
  fs::remove_all(dir);
}

TEST_F(RouterTest, LockoutAfterFiveFailures) {
  for (int i = 0; i < auth::AuthService::kMaxFailedLogins; ++i) {
    auto r = auth_->Login("clerk", "wrong-password1");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "invalid_credentials");
  }
  auto locked = auth_->Login("clerk", "Keeper-Pw-2026");
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.status().reason(), "account_locked");
  EXPECT_EQ(HttpStatusOf(locked.status()), 423);
}

// A session with a pending step (here a forced password change) reaches only the routes
// added with Access::kPendingSession.
TEST_F(RouterTest, PendingSessionReachesOnlyPendingRoutes) {
  auto conn = db_->Acquire();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute("UPDATE users SET must_change_password = 1 WHERE username = 'clerk'").ok());
  router_->Add("GET", "/api/v1/pending-ok", [](Context& c) -> Result<Response> {
    return Response::Json(200, {{"pending", c.principal->pending}});
  }, Access::kPendingSession);
  router_->Add("GET", "/api/v1/normal", [](Context&) -> Result<Response> { return Response::Json(200, {}); });
  auto login = auth_->Login("clerk", "Keeper-Pw-2026");
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->pending, "password_change");
  Request r = Req("GET", "/api/v1/normal");
  r.cookie = "doudi_session=" + login->session_token;
  auto res = router_->Handle(r);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"]["code"], "password_change_required");
  r.path = "/api/v1/pending-ok";
  res = router_->Handle(r);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(nlohmann::json::parse(res.body)["pending"], "password_change");
}

TEST_F(RouterTest, LogoutEndsSession) {
  auto login = auth_->Login("clerk", "Keeper-Pw-2026");
  ASSERT_TRUE(login.ok());
  ASSERT_TRUE(auth_->Authenticate(login->session_token).ok());
  ASSERT_TRUE(auth_->Logout(login->session_token).ok());
  EXPECT_FALSE(auth_->Authenticate(login->session_token).ok());
}

}  // namespace
}  // namespace doudi::http
