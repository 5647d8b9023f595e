/*
 * dynbus: a root-enumerated bus driver with dynamic enumeration. Its hardware
 * has DYNBUS_SLOTS slots; a device plugged into a slot is a child, identified
 * by (slot, generation): the generation grows at every plug, so a new device
 * in a reused slot is a new child. The slots occupied at boot are the
 * "occupied" parameter, reported by EvtChildListScanForChildren at each
 * power-up. Hardware events (the stimuli) run the bus's work item on a thread
 * of its own, which reports children present or missing on the default child
 * list (one at a time, or as a whole scan) and requests ejects. The framework creates each child's PDO through
 * EvtChildListCreateDevice; the PDO exports the slot interface and owns the
 * child's per-child state (in the PDO's context), which the bus retires in
 * the PDO's EvtCleanupCallback and the framework frees with the PDO.
 *
 * Protocol (correct variant): the bus keeps per-slot bookkeeping under
 * SlotLock and touches a child's PDO only from the framework's callbacks on
 * that PDO; once it has reported a child missing the PDO belongs to PnP,
 * which removes and deletes it on a thread of its own.
 */
#include <tdf/harness.h>

#include "dynamic_bus_if.h"
#include "variants.h"


typedef struct _DYNBUS_CHILD_ID {
    WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Header;
    ULONG Slot;
    ULONG Generation;
} DYNBUS_CHILD_ID, *PDYNBUS_CHILD_ID;

typedef struct _DYNBUS_SLOT {
    BOOLEAN Online;   /* a device is in the slot (as the bus last reported it) */
    ULONG Generation; /* of the device in the slot */
    WDFDEVICE Pdo;    /* set by EvtChildListCreateDevice, cleared by the PDO's cleanup */
} DYNBUS_SLOT;

typedef struct _DYNBUS_FDO_CONTEXT {
    WDFCHILDLIST ChildList;
    FAST_MUTEX SlotLock; /* Slots */
    DYNBUS_SLOT Slots[DYNBUS_SLOTS];
    BOOLEAN BootSlotsRead; /* the "occupied" parameter was read at the first scan */
} DYNBUS_FDO_CONTEXT, *PDYNBUS_FDO_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(DYNBUS_FDO_CONTEXT, DynBusFdoGetContext)

/* Per-child state: what the slot interface serves. In the PDO's context, so
 * it lives exactly as long as the PDO object. */
typedef struct _DYNBUS_SLOT_STATE {
    LONG Reads;
    BOOLEAN Online;
    BOOLEAN Retired; /* the PDO's cleanup ran: no more service */
} DYNBUS_SLOT_STATE, *PDYNBUS_SLOT_STATE;

typedef struct _DYNBUS_PDO_CONTEXT {
    WDFDEVICE Parent;
    ULONG Slot;
    ULONG Generation;
    DYNBUS_SLOT_STATE State;
} DYNBUS_PDO_CONTEXT, *PDYNBUS_PDO_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(DYNBUS_PDO_CONTEXT, DynBusPdoGetContext)

static DECLARE_CONST_UNICODE_STRING(DYNBUS_CHILD_DEVICE_ID, DYNBUS_CHILD_DEVICE_ID_TEXT);
static DECLARE_CONST_UNICODE_STRING(DYNBUS_CHILD_COMPATIBLE_ID, DYNBUS_CHILD_COMPATIBLE_ID_TEXT);
static DECLARE_CONST_UNICODE_STRING(DYNBUS_CHILD_TEXT, L"TDF dynamic bus slot device");
static DECLARE_CONST_UNICODE_STRING(DYNBUS_CHILD_LOCATION, L"TDF dynamic bus");
static const WCHAR *const k_instance_ids[DYNBUS_SLOTS] = {L"0", L"1", L"2", L"3"};

DRIVER_INITIALIZE DynBus_DriverEntry;
EVT_TDF_STIMULUS DynBus_StimulusPlug;
EVT_TDF_STIMULUS DynBus_StimulusUnplug;
EVT_TDF_STIMULUS DynBus_StimulusRescan;
EVT_TDF_STIMULUS DynBus_StimulusEject;
static EVT_WDF_DRIVER_DEVICE_ADD DynBus_EvtDeviceAdd;
static EVT_WDF_CHILD_LIST_SCAN_FOR_CHILDREN DynBus_EvtChildListScanForChildren;
static EVT_WDF_CHILD_LIST_CREATE_DEVICE DynBus_EvtChildListCreateDevice;
static EVT_WDF_CHILD_LIST_IDENTIFICATION_DESCRIPTION_COMPARE DynBus_EvtChildListCompare;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP DynBus_EvtPdoCleanup;
static EVT_WDF_DEVICE_EJECT DynBus_EvtDeviceEject;
static DYNBUS_READ_SLOT DynBus_ReadSlot;

NTSTATUS DynBus_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, DynBus_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS DynBus_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_CHILD_LIST_CONFIG listConfig;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_CHILD_LIST_CONFIG_INIT(&listConfig, sizeof(DYNBUS_CHILD_ID), DynBus_EvtChildListCreateDevice);
    listConfig.EvtChildListIdentificationDescriptionCompare = DynBus_EvtChildListCompare;
    listConfig.EvtChildListScanForChildren = DynBus_EvtChildListScanForChildren;
    WdfFdoInitSetDefaultChildListConfig(DeviceInit, &listConfig, WDF_NO_OBJECT_ATTRIBUTES);

    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, DYNBUS_FDO_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    PDYNBUS_FDO_CONTEXT context = DynBusFdoGetContext(device);
    context->ChildList = WdfFdoGetDefaultChildList(device);
    ExInitializeFastMutex(&context->SlotLock);

    PNP_BUS_INFORMATION busInformation;
    RtlZeroMemory(&busInformation, sizeof(busInformation));
    busInformation.BusTypeGuid = GUID_TDF_DYNBUS_SLOT_INTERFACE;
    busInformation.LegacyBusType = PNPBus;
    WdfDeviceSetBusInformationForChildren(device, &busInformation);
    return STATUS_SUCCESS;
}

static BOOLEAN DynBus_EvtChildListCompare(WDFCHILDLIST ChildList, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER First,
                                          PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Second)
{
    PDYNBUS_CHILD_ID a = CONTAINING_RECORD(First, DYNBUS_CHILD_ID, Header);
    PDYNBUS_CHILD_ID b = CONTAINING_RECORD(Second, DYNBUS_CHILD_ID, Header);
    UNREFERENCED_PARAMETER(ChildList);
    return a->Slot == b->Slot && a->Generation == b->Generation;
}

/* On a PnP thread, from the framework's bus-relations processing. */
static NTSTATUS DynBus_EvtChildListCreateDevice(WDFCHILDLIST ChildList,
                                                PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER IdentificationDescription,
                                                PWDFDEVICE_INIT ChildInit)
{
    PDYNBUS_CHILD_ID id = CONTAINING_RECORD(IdentificationDescription, DYNBUS_CHILD_ID, Header);
    WDFDEVICE fdo = WdfChildListGetDevice(ChildList);
    PDYNBUS_FDO_CONTEXT fdoContext = DynBusFdoGetContext(fdo);
    WDF_PDO_EVENT_CALLBACKS pdoCallbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    UNICODE_STRING instanceId;
    WDFDEVICE pdo;
    NTSTATUS status;

    status = WdfPdoInitAssignDeviceID(ChildInit, &DYNBUS_CHILD_DEVICE_ID);
    if (NT_SUCCESS(status)) {
        instanceId.Buffer = (PWCH)k_instance_ids[id->Slot % DYNBUS_SLOTS];
        instanceId.Length = sizeof(WCHAR); /* one digit */
        instanceId.MaximumLength = 2 * sizeof(WCHAR);
        status = WdfPdoInitAssignInstanceID(ChildInit, &instanceId);
    }
    if (NT_SUCCESS(status))
        status = WdfPdoInitAddHardwareID(ChildInit, &DYNBUS_CHILD_DEVICE_ID);
    if (NT_SUCCESS(status))
        status = WdfPdoInitAddCompatibleID(ChildInit, &DYNBUS_CHILD_COMPATIBLE_ID);
    if (NT_SUCCESS(status))
        status = WdfPdoInitAddDeviceText(ChildInit, &DYNBUS_CHILD_TEXT, &DYNBUS_CHILD_LOCATION, 0x409);
    if (!NT_SUCCESS(status))
        return status; /* the framework frees ChildInit */
    WdfPdoInitSetDefaultLocale(ChildInit, 0x409);
    WDF_PDO_EVENT_CALLBACKS_INIT(&pdoCallbacks);
    pdoCallbacks.EvtDeviceEject = DynBus_EvtDeviceEject;
    WdfPdoInitSetEventCallbacks(ChildInit, &pdoCallbacks);

    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, DYNBUS_PDO_CONTEXT);
    attributes.EvtCleanupCallback = DynBus_EvtPdoCleanup;
    status = WdfDeviceCreate(&ChildInit, &attributes, &pdo);
    if (!NT_SUCCESS(status))
        return status;

    PDYNBUS_PDO_CONTEXT pdoContext = DynBusPdoGetContext(pdo);
    pdoContext->Parent = fdo;
    pdoContext->Slot = id->Slot;
    pdoContext->Generation = id->Generation;
    pdoContext->State.Online = TRUE;

    WDF_DEVICE_PNP_CAPABILITIES pnpCaps;
    WDF_DEVICE_PNP_CAPABILITIES_INIT(&pnpCaps);
    pnpCaps.Removable = WdfTrue;
    pnpCaps.EjectSupported = WdfTrue;
    pnpCaps.SurpriseRemovalOK = WdfTrue;
    pnpCaps.Address = id->Slot;
    pnpCaps.UINumber = id->Slot;
    WdfDeviceSetPnpCapabilities(pdo, &pnpCaps);

    DYNBUS_SLOT_INTERFACE slotInterface;
    RtlZeroMemory(&slotInterface, sizeof(slotInterface));
    slotInterface.InterfaceHeader.Size = sizeof(slotInterface);
    slotInterface.InterfaceHeader.Version = DYNBUS_SLOT_INTERFACE_VERSION;
    slotInterface.InterfaceHeader.Context = pdo; /* NULL reference/dereference: the framework's no-ops */
    slotInterface.ReadSlot = DynBus_ReadSlot;
    WDF_QUERY_INTERFACE_CONFIG queryConfig;
    WDF_QUERY_INTERFACE_CONFIG_INIT(&queryConfig, &slotInterface.InterfaceHeader, &GUID_TDF_DYNBUS_SLOT_INTERFACE,
                                    NULL);
    status = WdfDeviceAddQueryInterface(pdo, &queryConfig);
    if (!NT_SUCCESS(status))
        return status;

    ExAcquireFastMutex(&fdoContext->SlotLock);
    if (fdoContext->Slots[id->Slot].Generation == id->Generation)
        fdoContext->Slots[id->Slot].Pdo = pdo;
    ExReleaseFastMutex(&fdoContext->SlotLock);
    return STATUS_SUCCESS;
}

/* The PDO is being deleted (reported missing and removed, or the bus is
 * going): the per-child state goes with it. */
static VOID DynBus_EvtPdoCleanup(WDFOBJECT Object)
{
    WDFDEVICE pdo = (WDFDEVICE)Object;
    PDYNBUS_PDO_CONTEXT pdoContext = DynBusPdoGetContext(pdo);
    PDYNBUS_FDO_CONTEXT fdoContext = DynBusFdoGetContext(pdoContext->Parent);
    ExAcquireFastMutex(&fdoContext->SlotLock);
    if (fdoContext->Slots[pdoContext->Slot].Pdo == pdo)
        fdoContext->Slots[pdoContext->Slot].Pdo = NULL;
    pdoContext->State.Retired = TRUE;
    pdoContext->State.Online = FALSE;
    ExReleaseFastMutex(&fdoContext->SlotLock);
}

/* IRP_MN_EJECT: the slot's latch opens; the framework then reports the
 * child missing. */
static NTSTATUS DynBus_EvtDeviceEject(WDFDEVICE Device)
{
    PDYNBUS_PDO_CONTEXT pdoContext = DynBusPdoGetContext(Device);
    PDYNBUS_FDO_CONTEXT fdoContext = DynBusFdoGetContext(pdoContext->Parent);
    ExAcquireFastMutex(&fdoContext->SlotLock);
    DYNBUS_SLOT *slot = &fdoContext->Slots[pdoContext->Slot];
    if (slot->Generation == pdoContext->Generation)
        slot->Online = FALSE;
    ExReleaseFastMutex(&fdoContext->SlotLock);
    pdoContext->State.Online = FALSE;
    return STATUS_SUCCESS;
}

/* The slot interface, called by the child's I/O path. */
static ULONG DynBus_ReadSlot(PVOID Context)
{
    PDYNBUS_PDO_CONTEXT pdoContext = DynBusPdoGetContext((WDFDEVICE)Context);
    if (ReadBooleanNoFence(&pdoContext->State.Retired))
        return 0;
    return (ULONG)InterlockedIncrement(&pdoContext->State.Reads);
}

/* ---- hardware events -> child list -------------------------------------------------- */
static VOID DynBus_ChildId(PDYNBUS_CHILD_ID Id, ULONG Slot, ULONG Generation)
{
    WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER_INIT(&Id->Header, sizeof(*Id));
    Id->Slot = Slot;
    Id->Generation = Generation;
}

/* Precondition: SlotLock held. A device appears in the slot: a new generation. */
static ULONG DynBus_SlotPlugLocked(PDYNBUS_FDO_CONTEXT Context, ULONG Slot)
{
    DYNBUS_SLOT *slot = &Context->Slots[Slot];
    if (!slot->Online) {
        slot->Online = TRUE;
        slot->Generation++;
        slot->Pdo = NULL;
    }
    return slot->Generation;
}

static VOID DynBus_Plug(PDYNBUS_FDO_CONTEXT Context, ULONG Slot)
{
    DYNBUS_CHILD_ID id;
    ExAcquireFastMutex(&Context->SlotLock);
    ULONG generation = DynBus_SlotPlugLocked(Context, Slot);
    ExReleaseFastMutex(&Context->SlotLock);
    DynBus_ChildId(&id, Slot, generation);
    (void)WdfChildListAddOrUpdateChildDescriptionAsPresent(Context->ChildList, &id.Header, NULL);
}

static VOID DynBus_Unplug(PDYNBUS_FDO_CONTEXT Context, ULONG Slot)
{
    DYNBUS_CHILD_ID id;
    DYNBUS_SLOT *slot = &Context->Slots[Slot];
    ExAcquireFastMutex(&Context->SlotLock);
    if (!slot->Online) {
        ExReleaseFastMutex(&Context->SlotLock);
        return;
    }
    slot->Online = FALSE;
    WDFDEVICE pdo = slot->Pdo;
    ExReleaseFastMutex(&Context->SlotLock);
    DynBus_ChildId(&id, Slot, slot->Generation);
    (void)WdfChildListUpdateChildDescriptionAsMissing(Context->ChildList, &id.Header);
    if (IS_DYNBUS_VARIANT(DYNBUS_VARIANT_TOUCH_AFTER_MISSING) && pdo) {
        /* Bug: the PDO belongs to PnP once it is reported missing; PnP may
         * have removed and deleted it (and its state) already. */
        ExAcquireFastMutex(&Context->SlotLock);
        DynBusPdoGetContext(pdo)->State.Online = FALSE;
        ExReleaseFastMutex(&Context->SlotLock);
    }
}

/* A full scan: the slots in Mask are occupied, every other child is missing. */
static VOID DynBus_Rescan(PDYNBUS_FDO_CONTEXT Context, ULONG Mask)
{
    DYNBUS_CHILD_ID id;
    WdfChildListBeginScan(Context->ChildList);
    for (ULONG s = 0; s < DYNBUS_SLOTS; s++) {
        if (!(Mask & (1u << s))) {
            ExAcquireFastMutex(&Context->SlotLock);
            Context->Slots[s].Online = FALSE;
            ExReleaseFastMutex(&Context->SlotLock);
            continue;
        }
        ExAcquireFastMutex(&Context->SlotLock);
        ULONG generation = DynBus_SlotPlugLocked(Context, s);
        ExReleaseFastMutex(&Context->SlotLock);
        DynBus_ChildId(&id, s, generation);
        (void)WdfChildListAddOrUpdateChildDescriptionAsPresent(Context->ChildList, &id.Header, NULL);
    }
    WdfChildListEndScan(Context->ChildList);
}

static VOID DynBus_Eject(PDYNBUS_FDO_CONTEXT Context, ULONG Slot)
{
    DYNBUS_CHILD_ID id;
    ExAcquireFastMutex(&Context->SlotLock);
    BOOLEAN online = Context->Slots[Slot].Online;
    ULONG generation = Context->Slots[Slot].Generation;
    ExReleaseFastMutex(&Context->SlotLock);
    if (!online)
        return;
    DynBus_ChildId(&id, Slot, generation);
    (void)WdfChildListRequestChildEject(Context->ChildList, &id.Header);
}

/* At each power-up (after D0Entry): report what the slots hold now. */
static VOID DynBus_EvtChildListScanForChildren(WDFCHILDLIST ChildList)
{
    PDYNBUS_FDO_CONTEXT context = DynBusFdoGetContext(WdfChildListGetDevice(ChildList));
    ULONG mask = 0;
    ExAcquireFastMutex(&context->SlotLock);
    if (!context->BootSlotsRead) {
        context->BootSlotsRead = TRUE;
        mask = TdfParam("occupied");
    } else {
        for (ULONG s = 0; s < DYNBUS_SLOTS; s++)
            if (context->Slots[s].Online)
                mask |= 1u << s;
    }
    ExReleaseFastMutex(&context->SlotLock);
    DynBus_Rescan(context, mask);
}

/* ---- stimuli: the bus hardware's events, each the bus's work item ------------------- */
VOID DynBus_StimulusPlug(WDFDEVICE Device, ULONG Argument)
{
    DynBus_Plug(DynBusFdoGetContext(Device), Argument % DYNBUS_SLOTS);
}

VOID DynBus_StimulusUnplug(WDFDEVICE Device, ULONG Argument)
{
    DynBus_Unplug(DynBusFdoGetContext(Device), Argument % DYNBUS_SLOTS);
}

VOID DynBus_StimulusRescan(WDFDEVICE Device, ULONG Argument)
{
    DynBus_Rescan(DynBusFdoGetContext(Device), Argument & ((1u << DYNBUS_SLOTS) - 1));
}

VOID DynBus_StimulusEject(WDFDEVICE Device, ULONG Argument)
{
    DynBus_Eject(DynBusFdoGetContext(Device), Argument % DYNBUS_SLOTS);
}
