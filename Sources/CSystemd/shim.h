#ifndef VOSS_CSYSTEMD_SHIM_H
#define VOSS_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#endif
