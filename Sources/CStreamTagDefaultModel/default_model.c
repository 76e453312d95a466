#include "streamtag_default_model.h"

extern const unsigned char streamtag_default_model_start[];
extern const unsigned char streamtag_default_model_end[];

const unsigned char *streamtag_default_model(size_t *length) {
    *length = (size_t)(streamtag_default_model_end - streamtag_default_model_start);
    return streamtag_default_model_start;
}
