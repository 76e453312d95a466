#ifndef STREAMTAG_COPENBLAS_SHIM_H
#define STREAMTAG_COPENBLAS_SHIM_H
#include <cblas.h>
// Declared by OpenBLAS but not by every cblas.h; parallelism is ours, so every call runs
// on the calling thread.
void openblas_set_num_threads(int num_threads);
#endif
