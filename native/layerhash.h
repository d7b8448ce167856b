/* hashLayerTar, defined in layerhash.c and registered by fsaddon.c's module init. */
#ifndef TSBUILD_LAYERHASH_H
#define TSBUILD_LAYERHASH_H
#include <node_api.h>

napi_value hash_layer_tar(napi_env env, napi_callback_info info);

#endif
