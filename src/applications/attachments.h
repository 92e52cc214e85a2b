// Attachments of a case: the scanned signed pages (authorization, integrity commitment) and other
// documents, JPG, PNG or PDF.
//
// Owns: the `attachments` table. Takes: the acting user (town, village and county staff add; the
// case's access rule reads) and the file as Base64. Errors: NotFound (outside the case's scope),
// PermissionDenied, InvalidArgument (field named). An upload is audited on the case's timeline;
// every read is logged. Thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "auth/auth.h"
#include "storage/database.h"

namespace doudi::applications {

class AttachmentService {
 public:
  explicit AttachmentService(storage::Database& db) : db_(db) {}

  Result<nlohmann::json> Add(const auth::User& actor, int64_t application_id, const nlohmann::json& body);
  // The decoded bytes; the content type in *content_type.
  Result<std::string> Get(const auth::User& actor, int64_t id, std::string* content_type);

 private:
  storage::Database& db_;
};

}  // namespace doudi::applications
