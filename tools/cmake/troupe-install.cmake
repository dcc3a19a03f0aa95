# What `cmake --install build --prefix P` puts where, and the .deb that
# CPack makes of the same files (`cpack --config build/CPackConfig.cmake` or
# the `package` target; tools/test-deb.sh installs it in a clean Debian 12).
#   bin/troupe
#   share/man/man1/troupe.1                        } written from the help
#   share/bash-completion/completions/troupe       } by tools/gen-docs.sh
#   share/troupe/examples/                         config/examples/
#   include/troupe/troupe.hpp                      the library's front door
#   include/troupe/{messages,config,actors,runtime}/*.hpp
#   lib/libtroupe_{messages,config,actors,runtime}.a
#   lib/cmake/troupe/                              find_package(troupe):
#                                                  the target troupe::troupe
# Examples go under share/troupe rather than share/doc: slim Debian and
# Ubuntu images drop /usr/share/doc, and the man page points at them.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

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

# The library (docs/library.md). Its headers include each other by layer
# ("messages/task.hpp"), so every header of the four layers is installed,
# mirrored under include/troupe/; <troupe/troupe.hpp> forwards to
# runtime/troupe.hpp. The libraries are static: a program that uses troupe
# links CAF, Boost.JSON, OpenSSL and fmt itself (libcurl is loaded when an
# HTTP client starts: actors/http/curl_library.hpp), which
# troupe-config.cmake finds (with the FindCAF module installed beside it,
# since Debian's CAF 0.17 ships no CMake package).
set(troupe_front_door ${CMAKE_BINARY_DIR}/include/troupe/troupe.hpp)
file(WRITE ${troupe_front_door}.in
     "#pragma once\n// troupe's library API (docs/library.md).\n"
     "#include \"runtime/troupe.hpp\"\n")
configure_file(${troupe_front_door}.in ${troupe_front_door} COPYONLY)
install(FILES ${troupe_front_door}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/troupe)
foreach(layer messages config actors runtime)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/troupe
          FILES_MATCHING PATTERN "*.hpp" PATTERN "examples" EXCLUDE)
endforeach()
# troupe::troupe: the whole runtime, through one target.
add_library(troupe_library INTERFACE)
set_target_properties(troupe_library PROPERTIES EXPORT_NAME troupe)
target_link_libraries(troupe_library INTERFACE troupe_runtime)
target_include_directories(troupe_library INTERFACE
  $<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/include>)
add_library(troupe::troupe ALIAS troupe_library)
install(TARGETS troupe_library troupe_runtime troupe_actors troupe_config
                troupe_messages
        EXPORT troupe-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
set(troupe_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/troupe)
install(EXPORT troupe-targets NAMESPACE troupe::
        DESTINATION ${troupe_cmake_dir})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/tools/cmake/troupe-config.cmake.in
  ${CMAKE_BINARY_DIR}/troupe-config.cmake
  INSTALL_DESTINATION ${troupe_cmake_dir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/troupe-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/troupe-config.cmake
              ${CMAKE_BINARY_DIR}/troupe-config-version.cmake
              ${PROJECT_SOURCE_DIR}/tools/cmake/FindCAF.cmake
        DESTINATION ${troupe_cmake_dir})

# The .deb. Its Depends come from dpkg-shlibdeps on the binary (CAF's
# core, io and openssl, Boost.JSON 1.81, jemalloc, fmt, OpenSSL, libc and
# libstdc++), so they follow what is actually linked, plus libcurl, which
# the binary loads with dlopen (actors/http/curl_library.hpp) and
# dpkg-shlibdeps cannot see.
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
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.80.0)")
include(CPack)
