// The shared test world (tests/data/e2e/world.json) as the federation component tests name it:
// its file, its three regions, Haikou's level-3 hospital and Beijing's retiree.
#pragma once

#include <string>

namespace crossclear::federation_test {

inline const std::string kWorld =
    std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
inline constexpr char kBeijing[] = "110000";
inline constexpr char kShanghai[] = "310000";
inline constexpr char kHaikou[] = "460100";
// Level 3; its catalog has the chronic diseases M03900 and M01600.
inline constexpr char kHaikouHospital[] = "H46010000001";
// A Beijing employee, retired, a long-term resident in Hainan, with chronic disease M03900.
inline constexpr char kRetiree[] = "BJ-RET-01";

}  // namespace crossclear::federation_test
