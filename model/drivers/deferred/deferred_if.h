/*
 * fuzz_deferred's device: a register block sampled by the driver's timer and
 * DPC (model/drivers/deferred/deferred.c).
 */
#ifndef DEFERRED_IF_H
#define DEFERRED_IF_H

#include <tdf/wdf.h>

#define DFR_HARDWARE_ID L"ROOT\\TdfDeferred"
#define DFR_REG_CONTROL 0 /* ULONG index: 1 sampling on */
#define DFR_REG_STATUS 1
#define DFR_REG_DATA 2
#define DFR_REG_BLOCK_SIZE 0x10

#endif
