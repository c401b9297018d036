// The files of the web page (web/), compiled into alertd by cmake/embed_web.cmake so the page
// works offline and from one binary. Immutable data; safe from any thread.
#pragma once

#include <cstddef>

namespace alertd::api {

struct WebAsset {
  const char* name;          // "app.0123456789ab.js" (kWebIndex: "index.html")
  const char* content_type;  // "text/javascript; charset=utf-8"
  const unsigned char* data;
  size_t size;
};

// web/index.html, its references to the other files rewritten to their hashed names.
extern const WebAsset kWebIndex;
// Every other file of web/ under its hashed name, ended by an entry whose name is null.
extern const WebAsset kWebAssets[];

}  // namespace alertd::api
