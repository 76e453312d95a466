#ifndef STREAMTAG_DEFAULT_MODEL_H
#define STREAMTAG_DEFAULT_MODEL_H
#include <stddef.h>
/// The bytes of the built-in model file (safetensors) and their length.
const unsigned char *streamtag_default_model(size_t *length);
#endif
