# Runs RUNNER with ARGS (|-separated) and checks its exit status is RC and its output (stdout
# and stderr) matches every |-separated regular expression in MATCH. Used by tests/vectors.cmake.
string(REPLACE "|" ";" _args "${ARGS}")
execute_process(COMMAND ${RUNNER} ${_args}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
set(_all "${_out}${_err}")
message(STATUS "exit status ${_rc}; output:\n${_all}")
if(NOT "${_rc}" STREQUAL "${RC}")
  message(FATAL_ERROR "expected exit status ${RC}, got ${_rc}")
endif()
string(REPLACE "|" ";" _patterns "${MATCH}")
foreach(_p IN LISTS _patterns)
  if(NOT _all MATCHES "${_p}")
    message(FATAL_ERROR "output does not match: ${_p}")
  endif()
endforeach()
