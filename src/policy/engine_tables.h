// The engine's name tables (the JSON and pack spellings of its enums) and the referral
// trigger bits, shared by the input side (engine_input.cc) and the rules (engine.cc).
// Internal to src/policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "policy/engine.h"

namespace doudi::policy::detail {

inline constexpr const char* kIncomeNames[kIncomeKinds] = {"wage", "business", "property", "transfer", "pension", "other"};
inline constexpr const char* kDisabilityNames[8] = {"", "physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple"};
inline constexpr const char* kSelfCareNames[3] = {"full", "partial_loss", "full_loss"};
inline constexpr const char* kEmergencyNames[5] = {"accident", "fire", "illness", "disaster", "other"};
inline constexpr const char* kRelations[] = {"head", "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"};
inline constexpr const char* kReferralKinds[] = {"medical", "education", "housing", "employment", "legal", "disaster", "disability"};

// Referral trigger bits (REF-2).
enum Trigger : uint32_t {
  kTrigSeriousIllness = 1, kTrigMedicalExpenditure = 2, kTrigIllnessPoverty = 4, kTrigInSchool = 8,
  kTrigUnemployedAble = 16, kTrigDisability = 32, kTrigFire = 64, kTrigDisaster = 128, kTrigAccident = 256,
  kTrigEmergencyIllness = 512,
};
struct TriggerName {
  const char* name;
  uint32_t bit;
};
inline constexpr TriggerName kTriggers[] = {
    {"serious_illness", kTrigSeriousIllness}, {"medical_expenditure", kTrigMedicalExpenditure},
    {"illness_poverty", kTrigIllnessPoverty}, {"in_school", kTrigInSchool},
    {"unemployed_able_member", kTrigUnemployedAble}, {"disability", kTrigDisability},
    {"emergency_fire", kTrigFire}, {"emergency_disaster", kTrigDisaster},
    {"emergency_accident", kTrigAccident}, {"emergency_illness", kTrigEmergencyIllness},
};

template <size_t N>
inline int IndexOf(const std::string& v, const char* const (&set)[N]) {
  for (size_t i = 0; i < N; ++i)
    if (v == set[i]) return static_cast<int>(i);
  return -1;
}

}  // namespace doudi::policy::detail
