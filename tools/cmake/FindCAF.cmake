# FindCAF.cmake: Debian's libcaf-dev 0.17 ships no CMake package config.
# Provides the imported targets CAF::core, CAF::io, CAF::openssl and CAF_VERSION.
find_path(CAF_INCLUDE_DIR NAMES caf/config.hpp)
if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_ver REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _caf_num "${_caf_ver}")   # e.g. 1706
  math(EXPR _maj "${_caf_num} / 10000")
  math(EXPR _min "(${_caf_num} / 100) % 100")
  math(EXPR _pat "${_caf_num} % 100")
  set(CAF_VERSION "${_maj}.${_min}.${_pat}")
endif()
find_package(Threads REQUIRED)
foreach(_c core io openssl)
  find_library(CAF_${_c}_LIBRARY NAMES caf_${_c})
  if(CAF_${_c}_LIBRARY)
    set(CAF_${_c}_FOUND TRUE)
  endif()
endforeach()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_core_LIBRARY
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS)
if(CAF_FOUND)
  set(_dep_io CAF::core)
  set(_dep_openssl CAF::io)
  foreach(_c core io openssl)
    if(CAF_${_c}_FOUND AND NOT TARGET CAF::${_c})
      add_library(CAF::${_c} UNKNOWN IMPORTED)
      set_target_properties(CAF::${_c} PROPERTIES
        IMPORTED_LOCATION "${CAF_${_c}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
      if(_c STREQUAL "core")
        set_property(TARGET CAF::core PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
      else()
        set_property(TARGET CAF::${_c} PROPERTY INTERFACE_LINK_LIBRARIES ${_dep_${_c}})
      endif()
    endif()
  endforeach()
endif()
mark_as_advanced(CAF_INCLUDE_DIR CAF_core_LIBRARY CAF_io_LIBRARY CAF_openssl_LIBRARY)
