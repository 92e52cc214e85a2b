// The migration list, kept in two files by number (migrations_1_7.cc: the foundation and the
// workflow, monitoring and screening tables; migrations_8_14.cc: the registry feed, the
// level-3 identification and the keyed audit chain). Internal to src/storage (migrations.cc
// applies them in order).
#pragma once

#include <span>

namespace doudi::storage::internal {

struct Migration {
  int version;
  const char* name;
  const char* sql;  // {{PK}} and {{BIGINT}} are replaced per dialect
  const char* postgres_sql = nullptr;  // when the dialects need different SQL (triggers)
};

// Never edit a migration that has shipped; add a new one (at the end of the last file).
std::span<const Migration> MigrationsOneToSeven();
std::span<const Migration> MigrationsEightToFourteen();

}  // namespace doudi::storage::internal
