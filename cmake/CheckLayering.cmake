# CheckLayering.cmake: the `layering` test. Reads every #include of the tree and fails, naming file, line and rule,
# when one crosses the layering of docs/DESIGN.md ("Layering as built"):
#   src/core       no store/, dispatch/, net/, platform/, model/; of the public API only spot/error.h (its tests
#                  may include any public header)
#   src/store      no dispatch/, net/, model/
#   src/dispatch   no net/, model/
#   src/net        no model/
#   src/model      no core/, store/, dispatch/, net/, platform/ (pure functions over spot/model.h)
#   src/ outside src/platform: only C standard headers in <...> (and <zmq.h> in src/net; the client libraries'
#                  <mosquitto.h>, <mqtt_protocol.h> and <nats/nats.h> in src/bridge)
#   tools/, apps/, bench/, examples/: no header of src/ (core/, store/, dispatch/, net/, platform/, model/, or a
#                  path into src/): the public API (include/spot) and their own headers only
# EXCEPTIONS below lists the includes allowed against a rule, each with its reason; it is empty now.
#   cmake -DROOT=<source dir> -P CheckLayering.cmake                 check the tree
#   cmake -DROOT=<scratch dir> -DSELFTEST=1 -P CheckLayering.cmake   write a tree with one violation of each kind and
#                                                                    fail unless every one is found (the check can fail)

cmake_minimum_required(VERSION 3.18) # IN_LIST

# "path|included header": allowed against the rules (none today).
set(EXCEPTIONS "")

set(C_STANDARD_HEADERS assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
    math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h
    stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h)

# Appends to the list named by out one line per violation in file rel (relative to root).
function(check_file root rel out)
  set(found ${${out}})
  file(STRINGS "${root}/${rel}" lines REGEX "^[ \t]*#[ \t]*include")
  set(internal "^(core|store|dispatch|net|platform|model)/")
  foreach(line IN LISTS lines)
    if(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(inc "${CMAKE_MATCH_1}")
      set(quoted 1)
    elseif(line MATCHES "#[ \t]*include[ \t]*<([^>]+)>")
      set(inc "${CMAKE_MATCH_1}")
      set(quoted 0)
    else()
      continue()
    endif()
    if("${rel}|${inc}" IN_LIST EXCEPTIONS)
      continue()
    endif()
    set(why "")
    if(rel MATCHES "^src/")
      if(rel MATCHES "^src/core/")
        if(inc MATCHES "^(store|dispatch|net|platform|model)/")
          set(why "src/core is portable C and includes no other area")
        elseif(inc MATCHES "^spot/" AND NOT inc STREQUAL "spot/error.h" AND NOT rel MATCHES "_test\\.c$")
          set(why "src/core uses only spot/error.h of the public API")
        endif()
      elseif(rel MATCHES "^src/store/" AND inc MATCHES "^(dispatch|net|model)/")
        set(why "the store is a log library: it includes core and platform only")
      elseif(rel MATCHES "^src/dispatch/" AND inc MATCHES "^(net|model)/")
        set(why "dispatch reaches the network only through its method table (dispatch/remote.h)")
      elseif(rel MATCHES "^src/net/" AND inc MATCHES "^model/")
        set(why "the network does not use the model")
      elseif(rel MATCHES "^src/model/" AND inc MATCHES "^(core|store|dispatch|net|platform)/")
        set(why "the model is pure functions over spot/model.h")
      endif()
      if(why STREQUAL "" AND NOT quoted AND NOT rel MATCHES "^src/platform/")
        if(NOT inc IN_LIST C_STANDARD_HEADERS AND NOT (rel MATCHES "^src/net/" AND inc STREQUAL "zmq.h")
           AND NOT (rel MATCHES "^src/bridge/" AND inc MATCHES "^(mosquitto\\.h|mqtt_protocol\\.h|nats/nats\\.h)$"))
          set(why "only src/platform includes OS headers")
        endif()
      endif()
    elseif(rel MATCHES "^(tools|apps|bench|examples)/")
      if(quoted AND (inc MATCHES "${internal}" OR inc MATCHES "(^|/)src/"))
        set(why "tools, apps, bench and examples use the public API (include/spot) only")
      endif()
    endif()
    if(NOT why STREQUAL "")
      list(APPEND found "${rel}: #include ${inc}: ${why}")
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

function(check_tree root out)
  file(GLOB_RECURSE files RELATIVE "${root}" "${root}/src/*.[ch]" "${root}/tools/*.[ch]" "${root}/apps/*.[ch]"
       "${root}/bench/*.[ch]" "${root}/examples/*.[ch]")
  set(found "")
  foreach(rel IN LISTS files)
    check_file("${root}" "${rel}" found)
  endforeach()
  list(LENGTH files n)
  set(${out} ${found} PARENT_SCOPE)
  set(${out}_files ${n} PARENT_SCOPE)
endfunction()

if(SELFTEST)
  file(REMOVE_RECURSE "${ROOT}")
  set(bad
      "src/store/bad.c|dispatch/dispatch.h|\""
      "src/store/bad2.c|net/keys.h|\""
      "src/dispatch/bad.c|net/net_impl.h|\""
      "src/core/bad.c|store/store.h|\""
      "src/core/bad2.c|spot/log.h|\""
      "src/model/bad.c|platform/platform.h|\""
      "src/dispatch/os.c|unistd.h|<"
      "tools/spot/bad.c|dispatch/dispatch.h|\""
      "apps/x/bad.c|core/error.h|\""
      "bench/bad.c|../src/store/store.h|\"")
  set(good "src/store/good.c|core/error.h|\"" "src/net/good.c|zmq.h|<" "src/platform/posix/good.c|unistd.h|<"
      "tools/spot/good.c|spot/net.h|\"" "src/core/good_test.c|spot/log.h|\"" "src/dispatch/good.c|store/store.h|\"")
  foreach(entry IN LISTS bad good)
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 path)
    list(GET parts 1 inc)
    list(GET parts 2 kind)
    if(kind STREQUAL "<")
      file(WRITE "${ROOT}/${path}" "/* fixture */\n#include <${inc}>\n")
    else()
      file(WRITE "${ROOT}/${path}" "/* fixture */\n#include \"${inc}\"\n")
    endif()
  endforeach()
  check_tree("${ROOT}" found)
  list(LENGTH bad nbad)
  list(LENGTH found nfound)
  foreach(entry IN LISTS bad)
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 path)
    list(FILTER found EXCLUDE REGEX "^${path}: ")
  endforeach()
  list(LENGTH found nextra)
  file(REMOVE_RECURSE "${ROOT}")
  if(NOT nfound EQUAL nbad OR NOT nextra EQUAL 0)
    message(FATAL_ERROR "layering check self-test: ${nbad} planted violations, ${nfound} found (${nextra} of them "
                        "in files that follow the rules): the check does not see what it should")
  endif()
  message(STATUS "layering check self-test: all ${nbad} planted violations found, no false ones")
  return()
endif()

check_tree("${ROOT}" found)
if(found)
  list(LENGTH found n)
  list(JOIN found "\n  " text)
  message(FATAL_ERROR "${n} include(s) cross the layering (docs/DESIGN.md, \"Layering as built\"):\n  ${text}")
endif()
message(STATUS "layering holds: ${found_files} files checked")
