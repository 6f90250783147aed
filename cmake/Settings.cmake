# Compiler settings and warnings as INTERFACE targets, linked PRIVATE into our own targets only.
set(CMAKE_CXX_STANDARD 20)   # not 23: clang 14/16 cannot use libstdc++ 12's <expected>
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/.git OR DEFINED ENV{CI})
  set(_halo_werror_default ON)
else()
  set(_halo_werror_default OFF)
endif()
option(HALO_WARNINGS_AS_ERRORS "Treat warnings as errors" ${_halo_werror_default})
option(HALO_SANITIZE_ADDRESS "Build with AddressSanitizer" OFF)
option(HALO_SANITIZE_UNDEFINED "Build with UndefinedBehaviorSanitizer" OFF)
option(HALO_CLANG_TIDY "Run clang-tidy while compiling" OFF)

add_library(halo_settings INTERFACE)
target_compile_features(halo_settings INTERFACE cxx_std_20)
target_compile_definitions(halo_settings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
set(_halo_san "")
if(HALO_SANITIZE_ADDRESS)
  list(APPEND _halo_san address)
endif()
if(HALO_SANITIZE_UNDEFINED)
  list(APPEND _halo_san undefined)
endif()
if(_halo_san)
  list(JOIN _halo_san "," _halo_san_list)
  target_compile_options(halo_settings INTERFACE -fsanitize=${_halo_san_list} -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=undefined)
  target_link_options(halo_settings INTERFACE -fsanitize=${_halo_san_list})
endif()

add_library(halo_warnings INTERFACE)
# -Wnull-dereference only without optimisation: at -O2/-O3 GCC 12 reports "potential null pointer
# dereference" inside libstdc++'s streambuf and nlohmann-json's headers (false positives that
# depend on inlining), which would break packagers' Release builds under -Werror.
target_compile_options(halo_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Woverloaded-virtual $<$<CONFIG:Debug>:-Wnull-dereference> -Wcast-align -Wimplicit-fallthrough
  $<$<BOOL:${HALO_WARNINGS_AS_ERRORS}>:-Werror>
  # GCC 12's known optimiser false positives in libstdc++'s std::string (GCC bug 105329 and
  # friends) stay warnings in optimised builds; the Debug build (CI) keeps them errors.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<NOT:$<CONFIG:Debug>>>:-Wno-error=restrict -Wno-error=stringop-overflow -Wno-error=array-bounds>)

if(HALO_CLANG_TIDY)
  find_program(CLANG_TIDY_PROGRAM NAMES clang-tidy clang-tidy-16 clang-tidy-14 REQUIRED)
  set(CMAKE_CXX_CLANG_TIDY ${CLANG_TIDY_PROGRAM})
endif()
