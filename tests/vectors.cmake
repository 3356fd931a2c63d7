# Conformance vectors (VECTORS.md) played in process and, when the hub and node are built, through
# the federation; and tests that the runner reports honestly: a wrong expectation fails (exit 1),
# a malformed or unreadable file is refused (exit 2).
if(TARGET crossclear)
  # The shared vectors (top level and clearing/) and our own (own/).
  file(GLOB _sample_vectors ${CMAKE_CURRENT_SOURCE_DIR}/data/vectors/*.json
                            ${CMAKE_CURRENT_SOURCE_DIR}/data/vectors/clearing/*.json)
  file(GLOB _own_vectors ${CMAKE_CURRENT_SOURCE_DIR}/data/vectors/own/*.json)
  list(SORT _sample_vectors)
  list(SORT _own_vectors)
  add_test(NAME vectors_inprocess
           COMMAND $<TARGET_FILE:crossclear> vectors ${_sample_vectors} ${_own_vectors})
  # The same files through a real hub and nodes (separate processes, mutual TLS).
  if(TARGET crossclear-node AND TARGET crossclear-hub)
    # The run keeps every file's ledgers, PKI and data directories; the auditor's offline check
    # of all of them (vectors_federation_audit) must find nothing (issue 9's acceptance).
    set(_kept ${CMAKE_CURRENT_BINARY_DIR}/kept-vectors)
    list(JOIN _sample_vectors " " _sample_args)
    list(JOIN _own_vectors " " _own_args)
    add_test(NAME vectors_federation
             COMMAND /bin/sh -c "rm -rf ${_kept} && exec $<TARGET_FILE:crossclear> vectors --federation --keep ${_kept} ${_sample_args} ${_own_args}")
    add_test(NAME vectors_federation_audit
             COMMAND $<TARGET_FILE:crossclear> audit ${_kept} --no-progress)
    set_tests_properties(vectors_federation PROPERTIES TIMEOUT 600 FIXTURES_SETUP kept_vectors)
    set_tests_properties(vectors_federation_audit PROPERTIES TIMEOUT 300
                         FIXTURES_REQUIRED kept_vectors)
  endif()

  # runner_<name>: run `crossclear ARGS` (a |-separated list), expect exit status RC and output
  # matching every |-separated regular expression in MATCH.
  set(_runner_data ${CMAKE_CURRENT_SOURCE_DIR}/data/runner)
  function(crossclear_runner_test name args rc match)
    add_test(NAME runner_${name}
             COMMAND ${CMAKE_COMMAND} -DRUNNER=$<TARGET_FILE:crossclear> "-DARGS=${args}"
                     -DRC=${rc} "-DMATCH=${match}" -P ${_runner_data}/expect_run.cmake)
  endfunction()

  crossclear_runner_test(wrong_expectation_fails
    "vectors|${_runner_data}/wrong-expectation.json" 1
    "runner-wrong-expectation: 2 passed, 1 failed|step 2 \\(settle\\)|\
expected: .*\"fund_pay\":\"9999.99\"|actual: .*\"fund_pay\":\"80.00\"")
  crossclear_runner_test(malformed_world_refused
    "vectors|${_runner_data}/rule-without-ratio.json" 2
    "rule-without-ratio.json: policies.110000\\[0\\].rules\\[1\\].ratio: required field missing")
  crossclear_runner_test(bad_ratio_refused
    "vectors|${_runner_data}/bad-ratio.json" 2
    "bad-ratio.json: policies.110000.rules\\[0\\].ratio: \"0.8x\" is not a decimal ratio")
  crossclear_runner_test(unknown_op_refused
    "vectors|${_runner_data}/unknown-op.json" 2
    "unknown-op.json: steps\\[1\\].op \\(step 2\\): unknown op \"refund\"")
  crossclear_runner_test(unreadable_file_refused
    "vectors|${_runner_data}/no-such-file.json" 2
    "no-such-file.json: cannot be read")
  crossclear_runner_test(invalid_json_refused
    "vectors|${_runner_data}/not-json.json" 2
    "not-json.json: not valid JSON")
  # A malformed file among good ones: the good ones still play, the status is 2.
  crossclear_runner_test(malformed_wins_over_passing
    "vectors|${_runner_data}/passing.json|${_runner_data}/unknown-op.json" 2
    "runner-passing: 3 passed, 0 failed|unknown op")
  crossclear_runner_test(passing_file_exits_0
    "vectors|${_runner_data}/passing.json" 0 "runner-passing: 3 passed, 0 failed")
  crossclear_runner_test(help "--help" 0 "usage: crossclear COMMAND|vectors")
  crossclear_runner_test(vectors_help "vectors|--help" 0
    "usage: crossclear vectors \\[--federation \\[--keep DIR\\]\\] FILE")
  crossclear_runner_test(vectors_without_files "vectors" 2 "no vector file given")
endif()
