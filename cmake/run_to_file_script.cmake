# Run in script mode: runs PROGRAM with ARGS (a ;-list), INPUT (optional) on its stdin, and writes
# its stdout to OUT. Fails the build, naming the command, when the program does.
if(DEFINED INPUT)
  set(_input INPUT_FILE ${INPUT})
endif()
execute_process(COMMAND ${PROGRAM} ${ARGS} ${_input} OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "'${PROGRAM} ${ARGS}' failed (${_rc}) while writing ${OUT}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
