# What `cmake --install build --prefix P` puts where, and the .deb that
# CPack makes of the same files (`cpack --config build/CPackConfig.cmake` or
# the `package` target; tools/test-deb.sh installs it in a clean Debian 12).
#   bin/troupe
#   share/man/man1/troupe.1                        } written from the help
#   share/bash-completion/completions/troupe       } by tools/gen-docs.sh
#   share/troupe/examples/                         config/examples/
# Examples go under share/troupe rather than share/doc: slim Debian and
# Ubuntu images drop /usr/share/doc, and the man page points at them.
# No headers and no CMake package here (the library API is installed
# separately).
include(GNUInstallDirs)

# The man page and the completion come from the built binary's --help
# pages, so they follow every new flag without being edited.
set(troupe_docs_dir ${CMAKE_CURRENT_BINARY_DIR}/docs)
add_custom_command(
  OUTPUT ${troupe_docs_dir}/troupe.1 ${troupe_docs_dir}/troupe.bash
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
          bash ${PROJECT_SOURCE_DIR}/tools/gen-docs.sh $<TARGET_FILE:troupe>
          ${troupe_docs_dir}
  DEPENDS troupe ${PROJECT_SOURCE_DIR}/tools/gen-docs.sh
  COMMENT "Writing troupe.1 and the bash completion from troupe --help"
  VERBATIM)
add_custom_target(troupe_docs ALL
  DEPENDS ${troupe_docs_dir}/troupe.1 ${troupe_docs_dir}/troupe.bash)

# CAF, Boost and the rest come from the system's library folders, so the
# installed binary needs no RPATH (and must not keep one into build/).
set_target_properties(troupe PROPERTIES INSTALL_RPATH "")
install(TARGETS troupe RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${troupe_docs_dir}/troupe.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${troupe_docs_dir}/troupe.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME troupe)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/examples/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/troupe/examples)
# The manifest's JSON Schema, for editors ("$schema"; config/README.md).
install(FILES ${PROJECT_SOURCE_DIR}/config/manifest.schema.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/troupe)

# The .deb. Its Depends come from dpkg-shlibdeps on the binary (CAF's
# core, io and openssl, Boost.JSON 1.81, libcurl, jemalloc, fmt, OpenSSL,
# libc and libstdc++), so they follow what is actually linked.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME troupe)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT
    "troupe maintainers <maintainers@users.noreply.r-seed-ec340aad.example>"
    CACHE STRING "The .deb's Maintainer field")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "run test manifests against LLM workflow services, concurrently")
set(CPACK_PACKAGE_DESCRIPTION
    "troupe batch-runs test manifests (test cases crossed with parameter\n\
sets) against Dify apps, any HTTP JSON endpoint, or a scripted stub, with\n\
retries, rate limits, resumable JSONL results, reports and run-to-run\n\
diffs, on one machine or across several (troupe node).")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
