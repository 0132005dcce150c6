// Version strings. kMezzoMesosVersion is the Mesos API level Mezzo speaks and
// reports where Mesos tools expect a Mesos version (MasterInfo.version,
// /version "version"); kMezzoVersion is Mezzo's own release.
#pragma once

namespace mezzo {
inline constexpr const char* kMezzoVersion = "0.1.0";
inline constexpr const char* kMezzoMesosVersion = "1.11.0";
}  // namespace mezzo
