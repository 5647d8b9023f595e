/* Hardware IDs of the limits test's bus driver (nodes_driver.c, target.c). */
#ifndef TDF_TESTS_NODES_IF_H
#define TDF_TESTS_NODES_IF_H

#define NODES_ROOT_ID L"ROOT\\TdfLimitNodes"
#define NODES_SUB_ID L"TDFLIMIT\\Sub"
#define NODES_LEAF_ID L"TDFLIMIT\\Leaf" /* no driver: a PDO-only node */

#endif
