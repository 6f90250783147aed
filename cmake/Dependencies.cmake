# Every dependency comes from Debian 12 / Fedora 43 packages; README.md says why each is here.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd>=252)
pkg_check_modules(DRM REQUIRED IMPORTED_TARGET libdrm)
pkg_check_modules(DRM_AMDGPU REQUIRED IMPORTED_TARGET libdrm_amdgpu)
pkg_check_modules(RPM REQUIRED IMPORTED_TARGET rpm)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(Vulkan REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(CURL REQUIRED)


# librpm is loaded with dlopen when an RPM database is queried (probes/rpm_library.cpp), so the
# core only needs its headers and the soname of the library the headers belong to.
find_library(HALO_LIBRPM_PATH NAMES rpm HINTS ${RPM_LIBRARY_DIRS} REQUIRED)
find_program(HALO_OBJDUMP NAMES objdump ${CMAKE_OBJDUMP} REQUIRED)
execute_process(COMMAND ${HALO_OBJDUMP} -p ${HALO_LIBRPM_PATH} OUTPUT_VARIABLE _halo_rpm_dyn ERROR_QUIET)
string(REGEX MATCH "SONAME +([^\n ]+)" _halo_rpm_soname_line "${_halo_rpm_dyn}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "Could not read the SONAME of ${HALO_LIBRPM_PATH} (objdump -p)")
endif()
set(HALO_LIBRPM_SONAME ${CMAKE_MATCH_1})
message(STATUS "librpm is loaded at run time as ${HALO_LIBRPM_SONAME}")

# toml++ 3.3.0 (Debian's only version) aborts on an internal assertion for `[|]` when built
# header-only without NDEBUG. Linking the compiled library avoids that path in the product; the
# fuzz build compiles it header-only with assertions off (see README.md, "Parser safety").
set(HALO_TOML_TARGET tomlplusplus::tomlplusplus)
