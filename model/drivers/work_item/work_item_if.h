/* Constants of the work-item driver (fuzz_work_item). */
#ifndef WORK_ITEM_IF_H
#define WORK_ITEM_IF_H

#define WI_HARDWARE_ID L"ROOT\\TdfWorkItem"
#define WI_POOL_TAG 0x6b724957 /* 'WIrk' */
#define WI_BUFFER_SIZE 64
#define WI_MAX_PENDING 8
#define WI_REG_BLOCK_SIZE 0x1000
#define WI_REG_STATUS 0
#define WI_REG_ACK 1

#endif
