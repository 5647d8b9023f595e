/* fuzz_limit_nodes: a device tree of 1 + c + c*c nodes (nodes_root.c, nodes_sub.c), to
 * check that a tree larger than TDF_MAX_NODES stops the run as LIMIT (exit
 * 17) and one within it runs clean. A test of the harness, not a fuzz target. */
#include <tdf/harness.h>

#include "nodes_if.h"

TDF_DECLARE_IMAGE(limit_nodes_root);
TDF_DECLARE_IMAGE(limit_nodes_sub);
DRIVER_INITIALIZE NodesRoot_DriverEntry;
DRIVER_INITIALIZE NodesSub_DriverEntry;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(limit_nodes_root), NodesRoot_DriverEntry, {NODES_ROOT_ID}},
    {TDF_IMAGE(limit_nodes_sub), NodesSub_DriverEntry, {NODES_SUB_ID}},
};
static const tdf_variant_desc_t variants[] = {
    {"correct", "the only variant: the tree's size is the parameter"},
};
static const tdf_param_desc_t params[] = {
    {"children", 1, 4},
};

static const tdf_target_desc_t limit_nodes_target = {
    .name = "fuzz_limit_nodes",
    .doc = "a device tree of 1 + c + c*c nodes: over TDF_MAX_NODES it is a harness LIMIT",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {NODES_ROOT_ID},
    .variants = variants,
    .variant_count = TDF_ARRAY_SIZE(variants),
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(limit_nodes_target);
