#ifndef STREAMTAG_CZEROMQ_SHIM_H
#define STREAMTAG_CZEROMQ_SHIM_H
#include <zmq.h>
#ifdef __linux__
// Linux headers the daemon's I/O loop needs beside libzmq, which Swift's Glibc module leaves
// out: an eventfd wakes the loop, inotify tells it the model file changed.
#include <sys/eventfd.h>
#include <sys/inotify.h>
#endif
#endif
