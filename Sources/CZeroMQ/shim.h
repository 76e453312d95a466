#ifndef STREAMTAG_CZEROMQ_SHIM_H
#define STREAMTAG_CZEROMQ_SHIM_H
#include <zmq.h>
#ifdef __linux__
// The I/O loop polls an eventfd beside its sockets; Swift's Glibc module leaves this header out.
#include <sys/eventfd.h>
#endif
#endif
