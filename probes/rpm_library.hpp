#pragma once
// librpm, loaded when an RPM database is actually queried. Linking it would make every run of
// halo-check pay for loading librpm and its dependencies (Lua, SQLite, libgcrypt …: about 1.5 ms
// of a 5 ms check) on machines that have no RPM database at all. The soname is the one the build
// found (cmake/Dependencies.cmake), so the ABI is the one these headers describe.

#include "common/result.hpp"

#include <rpm/header.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmts.h>

namespace halo::probes {

struct RpmLibrary {
    decltype(&::rpmReadConfigFiles) rpmReadConfigFiles;
    decltype(&::rpmFreeRpmrc) rpmFreeRpmrc;
    decltype(&::rpmPushMacro) rpmPushMacro;
    decltype(&::rpmFreeMacros) rpmFreeMacros;
    decltype(&::rpmlogSetCallback) rpmlogSetCallback;
    decltype(&::rpmlogClose) rpmlogClose;
    decltype(&::rpmlogRecMessage) rpmlogRecMessage;
    decltype(&::rpmtsCreate) rpmtsCreate;
    decltype(&::rpmtsFree) rpmtsFree;
    decltype(&::rpmtsSetRootDir) rpmtsSetRootDir;
    decltype(&::rpmtsOpenDB) rpmtsOpenDB;
    decltype(&::rpmtsInitIterator) rpmtsInitIterator;
    decltype(&::rpmdbNextIterator) rpmdbNextIterator;
    decltype(&::rpmdbFreeIterator) rpmdbFreeIterator;
    decltype(&::headerGetString) headerGetString;
    decltype(&::headerGetAsString) headerGetAsString;
    decltype(&::headerGetNumber) headerGetNumber;
    decltype(&::headerIsEntry) headerIsEntry;
    decltype(&::headerFree) headerFree;
};

// Loads librpm once (later calls return the same table or the same error).
Result<const RpmLibrary*> load_rpm_library();
// The loaded table; only valid after load_rpm_library() succeeded.
const RpmLibrary& rpm_library() noexcept;

} // namespace halo::probes
