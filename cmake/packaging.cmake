# Installation and the Debian package: `cmake --install build` or `cd build && cpack -G DEB`.
#
# The binary is all actsearch needs at run time: the built-in spaces (grammar/spaces), tasks (tasks/)
# and the fidelity reference (data/reference) are compiled into it. Installed beside it: a bash
# completion generated from the command line's definition (`actsearch completion bash`), a man page made
# by help2man when it is installed, and the built-in spaces, task files and an example configuration to
# copy and edit (share/actsearch/spaces, share/actsearch/tasks).
# A package for other machines should be built without -march=native (scripts/setup.sh --portable).
include(GNUInstallDirs)
# `make install` and cpack install what test_package.sh (or the build) made, without building every
# test and benchmark first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS actsearch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(ACTSEARCH_COMPLETION ${PROJECT_BINARY_DIR}/completion/actsearch)
add_custom_command(
  OUTPUT ${ACTSEARCH_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/completion
  COMMAND $<TARGET_FILE:actsearch> completion bash > ${ACTSEARCH_COMPLETION}
  DEPENDS actsearch
  COMMENT "Generating the bash completion of actsearch")
set(ACTSEARCH_DOC_OUTPUTS ${ACTSEARCH_COMPLETION})
install(FILES ${ACTSEARCH_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(ACTSEARCH_MAN ${PROJECT_BINARY_DIR}/man/actsearch.1.gz)
  add_custom_command(
    OUTPUT ${ACTSEARCH_MAN}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${CMAKE_COMMAND} -DACTSEARCH=$<TARGET_FILE:actsearch> -DOUT=${PROJECT_BINARY_DIR}/man/commands.h2m
            -P ${PROJECT_SOURCE_DIR}/cmake/man_commands.cmake
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1 --version-string=${PROJECT_VERSION}
            "--name=automated activation-function search"
            --include=${PROJECT_BINARY_DIR}/man/commands.h2m --output=${PROJECT_BINARY_DIR}/man/actsearch.1
            $<TARGET_FILE:actsearch>
    COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/man/actsearch.1
    DEPENDS actsearch ${PROJECT_SOURCE_DIR}/cmake/man_commands.cmake
    COMMENT "Generating the man page of actsearch (help2man)")
  list(APPEND ACTSEARCH_DOC_OUTPUTS ${ACTSEARCH_MAN})
  install(FILES ${ACTSEARCH_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man page (apt-get install help2man)")
endif()
# Part of `all`: an install always has them.
add_custom_target(actsearch_docs ALL DEPENDS ${ACTSEARCH_DOC_OUTPUTS})

file(GLOB ACTSEARCH_SHIPPED_SPACES ${PROJECT_SOURCE_DIR}/grammar/spaces/*.space)
install(FILES ${ACTSEARCH_SHIPPED_SPACES} DESTINATION ${CMAKE_INSTALL_DATADIR}/actsearch/spaces)
# The built-in task files (compiled in as well) and their format, to copy and edit.
file(GLOB ACTSEARCH_SHIPPED_TASKS ${PROJECT_SOURCE_DIR}/tasks/*.task)
install(FILES ${ACTSEARCH_SHIPPED_TASKS} ${PROJECT_SOURCE_DIR}/tasks/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/actsearch/tasks)
install(FILES ${PROJECT_SOURCE_DIR}/docs/search.toml ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME actsearch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "automated activation-function search on a CPU")
set(CPACK_PACKAGE_DESCRIPTION
    "Searches spaces of activation functions (after Ramachandran, Zoph and Le, 2017) by training small proxy "
    "networks on the CPU; exhaustive, RL, random and evolution strategies; results in SQLite.")
set(CPACK_PACKAGE_CONTACT "actsearch maintainers <actsearch@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # actsearch_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)    # Depends from dpkg-shlibdeps: the libraries the binary links
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist, bash-completion")   # the fmnist-* tasks' data
set(CPACK_STRIP_FILES ON)
include(CPack)
