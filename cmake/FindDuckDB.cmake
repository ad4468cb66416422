# Finds libduckdb (C API). Looks in DUCKDB_ROOT (set by scripts/setup.sh to the pinned copy
# fetched from the npm registry) and then in the system's usual places.
find_path(DuckDB_INCLUDE_DIR duckdb.h HINTS ${DUCKDB_ROOT} $ENV{DUCKDB_ROOT} PATH_SUFFIXES include)
find_library(DuckDB_LIBRARY duckdb HINTS ${DUCKDB_ROOT} $ENV{DUCKDB_ROOT} PATH_SUFFIXES lib)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DuckDB REQUIRED_VARS DuckDB_LIBRARY DuckDB_INCLUDE_DIR)
if(DuckDB_FOUND AND NOT TARGET DuckDB::duckdb)
  add_library(DuckDB::duckdb SHARED IMPORTED)
  set_target_properties(DuckDB::duckdb PROPERTIES
    IMPORTED_LOCATION ${DuckDB_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${DuckDB_INCLUDE_DIR})
  get_filename_component(DuckDB_LIBRARY_DIR ${DuckDB_LIBRARY} DIRECTORY)
  # The binary finds the pinned library without LD_LIBRARY_PATH.
  set(CMAKE_BUILD_RPATH ${CMAKE_BUILD_RPATH} ${DuckDB_LIBRARY_DIR})
  set(CMAKE_INSTALL_RPATH ${CMAKE_INSTALL_RPATH} ${DuckDB_LIBRARY_DIR})
endif()
