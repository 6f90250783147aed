#include "probes/rpm_library.hpp"

#include <fmt/core.h>

#include <dlfcn.h>

namespace halo::probes {

namespace {

RpmLibrary g_library{};

template <typename F>
bool bind(void* handle, F& slot, const char* name, std::string& missing)
{
    slot = reinterpret_cast<F>(::dlsym(handle, name));
    if (!slot && missing.empty()) missing = name;
    return slot != nullptr;
}

Result<const RpmLibrary*> load_once()
{
    // RTLD_LOCAL keeps librpm's symbols to this table; the handle stays open for the process.
    void* handle = ::dlopen(HALO_LIBRPM_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return Error{fmt::format("Failed to load '{}': {}; install the rpm libraries to read the RPM database",
                                 HALO_LIBRPM_SONAME, why ? why : "unknown error")};
    }
    std::string missing;
    RpmLibrary& l = g_library;
    bind(handle, l.rpmReadConfigFiles, "rpmReadConfigFiles", missing);
    bind(handle, l.rpmFreeRpmrc, "rpmFreeRpmrc", missing);
    bind(handle, l.rpmPushMacro, "rpmPushMacro", missing);
    bind(handle, l.rpmFreeMacros, "rpmFreeMacros", missing);
    bind(handle, l.rpmlogSetCallback, "rpmlogSetCallback", missing);
    bind(handle, l.rpmlogClose, "rpmlogClose", missing);
    bind(handle, l.rpmlogRecMessage, "rpmlogRecMessage", missing);
    bind(handle, l.rpmtsCreate, "rpmtsCreate", missing);
    bind(handle, l.rpmtsFree, "rpmtsFree", missing);
    bind(handle, l.rpmtsSetRootDir, "rpmtsSetRootDir", missing);
    bind(handle, l.rpmtsOpenDB, "rpmtsOpenDB", missing);
    bind(handle, l.rpmtsInitIterator, "rpmtsInitIterator", missing);
    bind(handle, l.rpmdbNextIterator, "rpmdbNextIterator", missing);
    bind(handle, l.rpmdbFreeIterator, "rpmdbFreeIterator", missing);
    bind(handle, l.headerGetString, "headerGetString", missing);
    bind(handle, l.headerGetAsString, "headerGetAsString", missing);
    bind(handle, l.headerGetNumber, "headerGetNumber", missing);
    bind(handle, l.headerIsEntry, "headerIsEntry", missing);
    bind(handle, l.headerFree, "headerFree", missing);
    if (!missing.empty()) {
        return Error{
            fmt::format("'{}' has no '{}': not the librpm this program was built for", HALO_LIBRPM_SONAME, missing)};
    }
    return &g_library;
}

} // namespace

Result<const RpmLibrary*> load_rpm_library()
{
    static const Result<const RpmLibrary*> loaded = load_once();
    return loaded;
}

const RpmLibrary& rpm_library() noexcept { return g_library; }

} // namespace halo::probes
