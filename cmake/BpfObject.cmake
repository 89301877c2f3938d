# Compiles one bpf/*.bpf.c into a BPF object with clang (CO-RE, BTF) and
# generates its libbpf skeleton header with bpftool.
#
#   bpf_object(NAME SOURCE <file.bpf.c>)
# defines target NAME_skel: an INTERFACE library whose include directory
# holds NAME.skel.h.

find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  message(FATAL_ERROR "whoclosed: unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_GEN_DIR})

# vmlinux.h from the running kernel's BTF; the checked-in copy is the fallback
# for build hosts without /sys/kernel/btf/vmlinux.
set(VMLINUX_H ${BPF_GEN_DIR}/vmlinux.h)
if(EXISTS /sys/kernel/btf/vmlinux)
  add_custom_command(
    OUTPUT ${VMLINUX_H}
    COMMAND ${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format c > ${VMLINUX_H}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${VMLINUX_H}.tmp ${VMLINUX_H}
    COMMENT "Generating vmlinux.h from /sys/kernel/btf/vmlinux")
else()
  set(_fallback ${CMAKE_SOURCE_DIR}/bpf/vmlinux/${BPF_TARGET_ARCH}/vmlinux.h)
  if(NOT EXISTS ${_fallback})
    message(FATAL_ERROR "whoclosed: no /sys/kernel/btf/vmlinux and no ${_fallback}")
  endif()
  add_custom_command(
    OUTPUT ${VMLINUX_H}
    COMMAND ${CMAKE_COMMAND} -E copy ${_fallback} ${VMLINUX_H}
    DEPENDS ${_fallback}
    COMMENT "Using checked-in vmlinux.h for ${BPF_TARGET_ARCH}")
endif()
add_custom_target(vmlinux_h DEPENDS ${VMLINUX_H})

function(bpf_object NAME)
  cmake_parse_arguments(ARG "" "SOURCE" "" ${ARGN})
  get_filename_component(_src ${ARG_SOURCE} ABSOLUTE)
  set(_obj ${BPF_GEN_DIR}/${NAME}.bpf.o)
  set(_dep ${BPF_GEN_DIR}/${NAME}.bpf.d)
  set(_skel ${BPF_GEN_DIR}/${NAME}.skel.h)
  add_custom_command(
    OUTPUT ${_obj}
    COMMAND ${BPF_CLANG} -target bpf -g -O2 -Wall -Werror
            -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -I${BPF_GEN_DIR} -I${CMAKE_SOURCE_DIR}/bpf
            -MD -MF ${_dep}
            -c ${_src} -o ${_obj}
    DEPENDS ${_src} ${VMLINUX_H}
    DEPFILE ${_dep}
    COMMENT "Compiling BPF object ${NAME}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${_skel}
    COMMAND ${BPFTOOL} gen skeleton ${_obj} name ${NAME} > ${_skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${_skel}.tmp ${_skel}
    DEPENDS ${_obj}
    COMMENT "Generating skeleton ${NAME}.skel.h")
  add_custom_target(${NAME}_skel_gen DEPENDS ${_skel})
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  target_include_directories(${NAME}_skel INTERFACE ${BPF_GEN_DIR})
endfunction()
