/*
 * fuzz_interrupt's device: its hardware ID, its IOCTL and its register map.
 */
#ifndef INTDEV_IF_H
#define INTDEV_IF_H

#include <tdf/wdf.h>

#define INTDEV_HARDWARE_ID L"ROOT\\TdfIntDev"
/* A user-mode client asks for the device's interrupt status (read under the
 * interrupt lock). */
#define IOCTL_INTDEV_STATUS CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, 0)

/* Registers (ULONG index into the mapped block). */
enum {
    INTDEV_REG_STATUS = 0,  /* interrupt status; written back to acknowledge */
    INTDEV_REG_MASK = 1,    /* 1: the device may raise its line (EvtInterruptEnable/Disable) */
    INTDEV_REG_DATA = 2,    /* the data an interrupt announces, read at PASSIVE_LEVEL by the worker */
    INTDEV_REG_CONTROL = 3, /* 1: the device's function runs (PostInterruptsEnabled/PreInterruptsDisabled) */
};

#endif
