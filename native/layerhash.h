/* hashLayerTar, defined in layerhash.c and registered by fsaddon.c's module init; and the
   sha256-to-JavaScript-string conversion both files answer with. */
#ifndef TSBUILD_LAYERHASH_H
#define TSBUILD_LAYERHASH_H
#include <node_api.h>

napi_value hash_layer_tar(napi_env env, napi_callback_info info);

/* A 32-byte sha256 digest as a JavaScript string of 64 lowercase hex digits. */
napi_value sha256_hex_value(napi_env env, const unsigned char digest[32]);

#endif
