# Builds the Go peers of the end-to-end tests (tests/e2e/go/*/) at build time,
# offline and with the standard library only, and hands their paths to
# e2e_tests as WHOCLOSED_GO_<NAME>. Without a Go toolchain the paths are
# empty and the tests that need them skip (or fail under WHOCLOSED_REQUIRE_BPF=1).
find_program(GO_EXECUTABLE go)
set(_go_dir ${CMAKE_CURRENT_BINARY_DIR}/e2e-go)
foreach(_peer server client)
  string(TOUPPER ${_peer} _peer_upper)
  if(NOT GO_EXECUTABLE)
    target_compile_definitions(e2e_tests PRIVATE WHOCLOSED_GO_${_peer_upper}="")
    continue()
  endif()
  set(_src ${CMAKE_CURRENT_SOURCE_DIR}/e2e/go/${_peer})
  # The binary keeps the peer's name: it becomes the process comm the tests expect.
  set(_bin ${_go_dir}/${_peer}/${_peer})
  add_custom_command(
    OUTPUT ${_bin}
    COMMAND ${CMAKE_COMMAND} -E env
            GOCACHE=${_go_dir}/cache GOPATH=${_go_dir}/gopath GOFLAGS=-mod=mod
            GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
            ${GO_EXECUTABLE} build -o ${_bin} .
    WORKING_DIRECTORY ${_src}
    DEPENDS ${_src}/main.go ${_src}/go.mod
    COMMENT "go build ${_peer} (e2e peer)"
    VERBATIM)
  add_custom_target(e2e_go_${_peer} DEPENDS ${_bin})
  add_dependencies(e2e_tests e2e_go_${_peer})
  target_compile_definitions(e2e_tests PRIVATE WHOCLOSED_GO_${_peer_upper}="${_bin}")
endforeach()
