// Bytes <-> JavaScript strings without loss. argv and environ are bytes (execve(2)),
// not necessarily UTF-8; a JS string decoded from them the usual way turns every
// invalid sequence into U+FFFD, and the bytes are gone. Here a byte that is not part of
// valid UTF-8 becomes the lone surrogate U+DC80..U+DCFF (U+DC00 + byte), and encoding
// turns such a surrogate back into that byte; valid UTF-8 decodes as usual. This is the
// "surrogateescape" scheme of Python's PEP 383: decoding then encoding gives back the
// same bytes, for any bytes. Decoding is done in JavaScript (src/environment.ts): a
// string made by napi_create_string_utf16 comes out with its lone surrogates replaced.
#pragma once
#include <napi.h>

#include <string>

namespace pidone {

// JS string -> bytes (each U+DC80..U+DCFF back to its byte; any other lone surrogate
// becomes U+FFFD, as V8's own UTF-8 encoding does).
std::string string_to_bytes(Napi::String value);

}  // namespace pidone
