# CheckWarnings.cmake: the `release_warnings` test. Compiles every source of libspot as a Release build does
# (-O3 -DNDEBUG, where gcc's flow analysis finds the most, e.g. -Wmaybe-uninitialized) with the project's warning
# flags and -Werror, using the compiler of this build; fails naming the first file that warns.
#   cmake -DCC=<compiler> -DROOT=<source dir> -DSOURCES=<a;b;c> -DFLAGS=<x;y> -P CheckWarnings.cmake
foreach(src ${SOURCES})
  execute_process(
    COMMAND ${CC} -std=c11 -O3 -DNDEBUG -D_GNU_SOURCE ${FLAGS} -Werror -I${ROOT}/include -I${ROOT}/src -c ${src}
            -o /dev/null
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${src} is not warning-free in a Release build with ${CC}:\n${out}${err}")
  endif()
endforeach()
list(LENGTH SOURCES n)
message(STATUS "${n} sources warning-free at -O3 with ${CC}")
