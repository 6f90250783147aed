# What a package installs besides the programs: man pages (scdoc), shell completions (written by
# `halo-check completion SHELL` from the command tree), the system unit's account and state
# directory (sysusers.d, tmpfiles.d). Every directory comes from the pkg-config file of the
# component that reads it, moved under CMAKE_INSTALL_PREFIX, so `cmake --install` with
# --prefix /usr puts each file where Fedora and Debian look, and a /usr/local install stays there.
include(GNUInstallDirs)

# The directory named by pkg-config variable VARIABLE of MODULE, with the module's prefix replaced
# by CMAKE_INSTALL_PREFIX; FALLBACK (under the prefix) when the module or variable is missing.
function(halo_pkg_dir out module variable fallback)
  set(_dir "")
  pkg_get_variable(_dir ${module} ${variable})
  pkg_get_variable(_prefix ${module} prefix)
  if(_dir AND _prefix AND _dir MATCHES "^${_prefix}/")
    string(REGEX REPLACE "^${_prefix}/" "" _dir "${_dir}")
  else()
    set(_dir ${fallback})
  endif()
  set(${out} ${_dir} PARENT_SCOPE)
endfunction()

halo_pkg_dir(_user_units systemd systemduserunitdir lib/systemd/user)
halo_pkg_dir(_system_units systemd systemdsystemunitdir lib/systemd/system)
halo_pkg_dir(_sysusers systemd sysusersdir lib/sysusers.d)
halo_pkg_dir(_tmpfiles systemd tmpfilesdir lib/tmpfiles.d)
halo_pkg_dir(_bash bash-completion completionsdir ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
halo_pkg_dir(_fish fish completionsdir ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
set(HALO_SYSTEMD_USER_UNIT_DIR ${_user_units} CACHE STRING "Where the user unit goes, under the prefix")
set(HALO_SYSTEMD_SYSTEM_UNIT_DIR ${_system_units} CACHE STRING "Where the system unit goes, under the prefix")
set(HALO_SYSUSERS_DIR ${_sysusers} CACHE STRING "Where the sysusers.d file goes, under the prefix")
set(HALO_TMPFILES_DIR ${_tmpfiles} CACHE STRING "Where the tmpfiles.d file goes, under the prefix")
set(HALO_BASH_COMPLETION_DIR ${_bash} CACHE STRING "Where the bash completion goes, under the prefix")
set(HALO_ZSH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/zsh/site-functions CACHE STRING
    "Where the zsh completion goes, under the prefix")
set(HALO_FISH_COMPLETION_DIR ${_fish} CACHE STRING "Where the fish completion goes, under the prefix")

install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/systemd/sysusers.d/halo-check.conf DESTINATION ${HALO_SYSUSERS_DIR})
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/systemd/tmpfiles.d/halo-check.conf DESTINATION ${HALO_TMPFILES_DIR})

# Shell completions, from the program just built.
set(_completions ${CMAKE_CURRENT_BINARY_DIR}/completions)
set(_completion_files "")
foreach(shell bash zsh fish)
  set(_file ${_completions}/halo-check.${shell})
  add_custom_command(
    OUTPUT ${_file}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_completions}
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:halo-check> "-DARGS=completion;${shell}" -DOUT=${_file}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/run_to_file_script.cmake
    DEPENDS halo-check ${CMAKE_CURRENT_SOURCE_DIR}/cmake/run_to_file_script.cmake
    COMMENT "Writing the ${shell} completion"
    VERBATIM)
  list(APPEND _completion_files ${_file})
endforeach()
add_custom_target(halo_completions ALL DEPENDS ${_completion_files})
install(FILES ${_completions}/halo-check.bash DESTINATION ${HALO_BASH_COMPLETION_DIR} RENAME halo-check)
install(FILES ${_completions}/halo-check.zsh DESTINATION ${HALO_ZSH_COMPLETION_DIR} RENAME _halo-check)
install(FILES ${_completions}/halo-check.fish DESTINATION ${HALO_FISH_COMPLETION_DIR} RENAME halo-check.fish)

# Man pages, when scdoc is there (Debian and Fedora package it).
find_program(HALO_SCDOC scdoc)
if(HALO_SCDOC)
  set(_man_files "")
  foreach(page halo-check.1 halo-checkd.8 halo-check.toml.5 halo-check-rules.5)
    string(REGEX MATCH "[0-9]$" _section ${page})
    set(_source ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/${page}.scd)
    set(_page ${CMAKE_CURRENT_BINARY_DIR}/man/${page})
    add_custom_command(
      OUTPUT ${_page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/man
      COMMAND ${CMAKE_COMMAND} -DPROGRAM=${HALO_SCDOC} -DINPUT=${_source} -DOUT=${_page}
              -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/run_to_file_script.cmake
      DEPENDS ${_source} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/run_to_file_script.cmake
      COMMENT "Writing the man page ${page}"
      VERBATIM)
    list(APPEND _man_files ${_page})
    install(FILES ${_page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_section})
  endforeach()
  add_custom_target(halo_man_pages ALL DEPENDS ${_man_files})
else()
  message(STATUS "scdoc not found: the man pages (docs/man/*.scd) are not built")
endif()
