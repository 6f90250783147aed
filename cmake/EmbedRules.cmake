# Generates a C++ source holding every rules/kb/*.toml file, so the binary needs no installed data.
function(halo_embed_rules out_var kb_dir)
  file(GLOB _files CONFIGURE_DEPENDS ${kb_dir}/*.toml)
  list(SORT _files)
  set(_out ${CMAKE_CURRENT_BINARY_DIR}/generated/embedded_rules.cpp)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${_out} "-DFILES=${_files}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_rules_script.cmake
    DEPENDS ${_files} ${PROJECT_SOURCE_DIR}/cmake/embed_rules_script.cmake
    COMMENT "Embedding the default knowledge base"
    VERBATIM)
  set(${out_var} ${_out} PARENT_SCOPE)
endfunction()
