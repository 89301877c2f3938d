# Builds the Go peers of the end-to-end tests (tests/e2e/go/*/) at build time,
# offline and with the standard library only, and hands their paths to
# e2e_tests as WHOCLOSED_GO_<NAME>. Without a Go toolchain the paths are
# empty and the tests that need them skip (or fail under WHOCLOSED_REQUIRE_BPF=1).
find_program(GO_EXECUTABLE go)
set(_go_dir ${CMAKE_CURRENT_BINARY_DIR}/e2e-go)

# go_peer(<peer> <variant> [LDFLAGS...]): builds tests/e2e/go/<peer> into
# <variant>/<peer>/<peer> and defines WHOCLOSED_GO_<VARIANT>.
function(go_peer _peer _variant)
  string(TOUPPER ${_variant} _define)
  if(NOT GO_EXECUTABLE)
    target_compile_definitions(e2e_tests PRIVATE WHOCLOSED_GO_${_define}="")
    return()
  endif()
  set(_ldflags)
  if(ARGN)
    list(JOIN ARGN " " _joined)
    set(_ldflags "-ldflags=${_joined}")
  endif()
  set(_src ${CMAKE_CURRENT_SOURCE_DIR}/e2e/go/${_peer})
  # The binary keeps the peer's name: it becomes the process comm the tests expect.
  set(_bin ${_go_dir}/${_variant}/${_peer})
  if(_variant STREQUAL _peer)
    set(_bin ${_go_dir}/${_peer}/${_peer})
  endif()
  add_custom_command(
    OUTPUT ${_bin}
    COMMAND ${CMAKE_COMMAND} -E env
            GOCACHE=${_go_dir}/cache GOPATH=${_go_dir}/gopath GOFLAGS=-mod=mod
            GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
            ${GO_EXECUTABLE} build ${_ldflags} -o ${_bin} .
    WORKING_DIRECTORY ${_src}
    DEPENDS ${_src}/main.go ${_src}/go.mod
    COMMENT "go build ${_variant} (e2e peer)"
    VERBATIM)
  add_custom_target(e2e_go_${_variant} DEPENDS ${_bin})
  add_dependencies(e2e_tests e2e_go_${_variant})
  target_compile_definitions(e2e_tests PRIVATE WHOCLOSED_GO_${_define}="${_bin}")
endfunction()

go_peer(server server)
go_peer(client client)
# HTTPS peers (Go TLS uprobes), also stripped: symbols only from .gopclntab.
go_peer(tlsserver tlsserver)
go_peer(tlsclient tlsclient)
go_peer(tlsserver tlsserver_stripped -s -w)
go_peer(tlsclient tlsclient_stripped -s -w)
