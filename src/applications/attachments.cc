#include "applications/attachments.h"

#include <sodium.h>

#include "applications/record.h"
#include "audit/audit_log.h"
#include "auth/roles.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"

namespace doudi::applications {

using nlohmann::json;

Result<json> AttachmentService::Add(const auth::User& actor, int64_t application_id, const json& body) {
  if (!auth::RoleIn(actor.role, auth::kTownRoles | auth::kVillageRoles | auth::kCountyRoles)) return Status::PermissionDenied();
  FieldReader r(body, "");
  std::string kind = r.String("kind", true);
  std::string filename = r.String("filename", true);
  std::string content_type = r.String("content_type", true);
  std::string data = r.String("data_base64", true);
  if (!r.ok()) return r.status();
  if (kind != "authorization" && kind != "commitment" && kind != "other")
    return Status::InvalidArgument("kind", "材料类别应为 authorization、commitment 或 other");
  if (content_type != "image/jpeg" && content_type != "image/png" && content_type != "application/pdf")
    return Status::InvalidArgument("content_type", "只接受 JPG、PNG 或 PDF 扫描件");
  if (filename.size() > 200) return Status::InvalidArgument("filename", "文件名过长");
  std::string bytes(data.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), data.c_str(), data.size(), "\n\r ",
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 || len == 0)
    return Status::InvalidArgument("data_base64", "文件内容不是有效的 Base64 编码");
  bytes.resize(len);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(App a, LoadApp(*conn, application_id, actor.region_code));
  std::string sha = audit::Sha256Hex(bytes);
  auto ins = conn->Query(
      "INSERT INTO attachments (application_id, village_code, kind, filename, content_type, size_bytes, sha256, data_base64, "
      "uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {a.id, a.village, kind, filename, content_type, static_cast<int64_t>(len), sha, data, actor.username, NowIsoShanghai()});
  if (!ins.ok()) return ins.status();
  json out = {{"id", ins->rows[0].Int(0)}, {"kind", kind}, {"filename", filename}, {"content_type", content_type},
              {"size_bytes", static_cast<int64_t>(len)}, {"sha256", sha}};
  DOUDI_RETURN_IF_ERROR(AuditApp(*conn, actor, a, "attach", a.state, a.state, {{"attachment", out}}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<std::string> AttachmentService::Get(const auth::User& actor, int64_t id, std::string* content_type) {
  // The scanned pages are part of their case: the case's access rule (as Get) and scope.
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query("SELECT content_type, data_base64, village_code, application_id FROM attachments WHERE id = ?", {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(2), actor.region_code)) return Status::NotFound("材料不存在");
  {
    auto app = LoadApp(*conn, rs->rows[0].Int(3), actor.region_code);
    if (!app.ok()) return app.status().code() == Code::kNotFound ? Status::NotFound("材料不存在") : app.status();
  }
  const std::string& data = rs->rows[0].Text(1);
  std::string bytes(data.size(), '\0');
  size_t len = 0;
  sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), data.c_str(), data.size(), "\n\r ", &len,
                    nullptr, sodium_base64_VARIANT_ORIGINAL);
  bytes.resize(len);
  DOUDI_RETURN_IF_ERROR(audit::RecordRead(*conn, actor.actor(), "attachment", std::to_string(id), rs->rows[0].Text(2)));
  *content_type = rs->rows[0].Text(0);
  return bytes;
}

}  // namespace doudi::applications
