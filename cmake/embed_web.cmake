# Writes a C++ source that holds every file under web/ (cmake -P, run at build time):
#   -DWEB_DIR=<source>/web -DOUT=<build>/web_assets.cc
# index.html is served at "/"; each other file as assets/<stem>.<hash>.<ext>, where <hash> is
# the first 12 hex digits of its SHA-256, so browsers may cache it for ever. index.html's
# double-quoted references to another file by its bare name ("app.js") are rewritten to that
# file's hashed path ("assets/app.0123456789ab.js").
file(GLOB_RECURSE files RELATIVE "${WEB_DIR}" "${WEB_DIR}/*")
list(SORT files)
set(body "")
set(entries "")
set(index_html "")
set(renames "")
set(n 0)

function(content_type name out)
  get_filename_component(ext "${name}" LAST_EXT)
  string(TOLOWER "${ext}" ext)
  set(types_.html "text/html; charset=utf-8")
  set(types_.js "text/javascript; charset=utf-8")
  set(types_.mjs "text/javascript; charset=utf-8")
  set(types_.css "text/css; charset=utf-8")
  set(types_.svg "image/svg+xml")
  set(types_.png "image/png")
  set(types_.ico "image/x-icon")
  set(types_.json "application/json")
  set(types_.webmanifest "application/manifest+json")
  set(types_.txt "text/plain; charset=utf-8")
  if(DEFINED types_${ext})
    set(${out} "${types_${ext}}" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "web/${name}: no content type known for '${ext}' (add it to cmake/embed_web.cmake)")
  endif()
endfunction()

# Bytes as a C array initialiser: hex is safe for any content (binary images included).
function(hex_array path out)
  file(READ "${path}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  set(${out} "${hex}" PARENT_SCOPE)
endfunction()

foreach(f ${files})
  if(f STREQUAL "index.html")
    continue()
  endif()
  file(SHA256 "${WEB_DIR}/${f}" sum)
  string(SUBSTRING "${sum}" 0 12 short)
  get_filename_component(stem "${f}" NAME_WLE)
  get_filename_component(ext "${f}" LAST_EXT)
  get_filename_component(dir "${f}" DIRECTORY)
  if(dir)
    message(FATAL_ERROR "web/${f}: sub-folders are not served; keep web/ flat")
  endif()
  set(hashed "${stem}.${short}${ext}")
  list(APPEND renames "${f}|assets/${hashed}")
  content_type("${f}" type)
  hex_array("${WEB_DIR}/${f}" bytes)
  string(APPEND body "const unsigned char kData${n}[] = {${bytes}};\n")
  string(APPEND entries "    {\"${hashed}\", \"${type}\", kData${n}, sizeof(kData${n})},\n")
  math(EXPR n "${n} + 1")
endforeach()

if(NOT EXISTS "${WEB_DIR}/index.html")
  message(FATAL_ERROR "${WEB_DIR}/index.html is missing")
endif()
file(READ "${WEB_DIR}/index.html" index_html)
foreach(r ${renames})
  string(REPLACE "|" ";" pair "${r}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  string(REPLACE "\"${from}\"" "\"${to}\"" index_html "${index_html}")
endforeach()
file(WRITE "${OUT}.index.tmp" "${index_html}")
hex_array("${OUT}.index.tmp" index_bytes)
file(REMOVE "${OUT}.index.tmp")

file(WRITE "${OUT}.tmp" "// Generated from web/ by cmake/embed_web.cmake; do not edit.
#include \"api/web_assets.h\"

namespace alertd::api {
namespace {
${body}const unsigned char kIndex[] = {${index_bytes}};
}  // namespace

const WebAsset kWebIndex = {\"index.html\", \"text/html; charset=utf-8\", kIndex, sizeof(kIndex)};
const WebAsset kWebAssets[] = {
${entries}    {nullptr, nullptr, nullptr, 0},
};

}  // namespace alertd::api
")
# Only a changed source replaces the file, so an unchanged web/ recompiles nothing.
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
