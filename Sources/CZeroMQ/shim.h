#ifndef STREAMTAG_CZEROMQ_SHIM_H
#define STREAMTAG_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
