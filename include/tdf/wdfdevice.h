/*
 * teardown-fuzz KMDF shim, the power-policy part of wdfdevice.h: S0 idle and
 * Sx wake settings, the power-policy (wake arming) callbacks, and the
 * driver's own power references (WdfDeviceStopIdle / WdfDeviceResumeIdle);
 * and the PnP/power capabilities and bus information a bus driver sets on
 * its PDOs. Semantics: docs/KERNEL-SEMANTICS.md §13, §11.
 */
#ifndef TDF_WDFDEVICE_H
#define TDF_WDFDEVICE_H

#ifndef TDF_WDF_H
#error "include <tdf/wdf.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* DEVICE_POWER_STATE (the settings' DxState) is wdm's: include/tdf/wdm_constants.h. */

#define STATUS_POWER_STATE_INVALID ((NTSTATUS)0xC00002D3L)

/* ---- S0 idle ----------------------------------------------------------------- */
typedef enum _WDF_POWER_POLICY_S0_IDLE_CAPABILITIES {
    IdleCapsInvalid = 0,
    IdleCannotWakeFromS0,
    IdleCanWakeFromS0,
    IdleUsbSelectiveSuspend,
} WDF_POWER_POLICY_S0_IDLE_CAPABILITIES;

typedef enum _WDF_POWER_POLICY_S0_IDLE_USER_CONTROL {
    IdleUserControlInvalid = 0,
    IdleDoNotAllowUserControl,
    IdleAllowUserControl,
} WDF_POWER_POLICY_S0_IDLE_USER_CONTROL;

typedef enum _WDF_POWER_POLICY_IDLE_TIMEOUT_TYPE {
    DriverManagedIdleTimeout = 0,
    SystemManagedIdleTimeout,
    SystemManagedIdleTimeoutWithHint,
} WDF_POWER_POLICY_IDLE_TIMEOUT_TYPE;

#define IdleTimeoutDefaultValue ((ULONG)0)

typedef struct _WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS {
    ULONG Size;
    WDF_POWER_POLICY_S0_IDLE_CAPABILITIES IdleCaps;
    DEVICE_POWER_STATE DxState;
    ULONG IdleTimeout; /* milliseconds; the model's idle timer is the `idle` event, not a clock */
    WDF_POWER_POLICY_S0_IDLE_USER_CONTROL UserControlOfIdleSettings;
    WDF_TRI_STATE Enabled;
    WDF_TRI_STATE PowerUpIdleDeviceOnSystemWake;
    WDF_POWER_POLICY_IDLE_TIMEOUT_TYPE IdleTimeoutType;
    WDF_TRI_STATE ExcludeD3Cold;
} WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS, *PWDF_DEVICE_POWER_POLICY_IDLE_SETTINGS;

static inline VOID WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(PWDF_DEVICE_POWER_POLICY_IDLE_SETTINGS s,
                                                              WDF_POWER_POLICY_S0_IDLE_CAPABILITIES IdleCaps)
{
    RtlZeroMemory(s, sizeof(*s));
    s->Size = sizeof(*s);
    s->IdleTimeout = IdleTimeoutDefaultValue;
    s->UserControlOfIdleSettings = IdleAllowUserControl;
    s->Enabled = WdfUseDefault;
    s->PowerUpIdleDeviceOnSystemWake = WdfUseDefault;
    s->IdleTimeoutType = DriverManagedIdleTimeout;
    s->ExcludeD3Cold = WdfUseDefault;
    s->IdleCaps = IdleCaps;
    /* as wdfdevice.h: a device that can wake itself idles to the state it can wake from */
    s->DxState = (IdleCaps == IdleUsbSelectiveSuspend || IdleCaps == IdleCanWakeFromS0) ? PowerDeviceMaximum
                                                                                         : PowerDeviceD3;
}

/* The power-policy owner (the FDO of its stack) only; STATUS_INVALID_DEVICE_REQUEST otherwise. */
NTSTATUS WdfDeviceAssignS0IdleSettings(_In_ WDFDEVICE Device, _In_ PWDF_DEVICE_POWER_POLICY_IDLE_SETTINGS Settings);

/* ---- Sx wake ------------------------------------------------------------------- */
typedef enum _WDF_POWER_POLICY_SX_WAKE_USER_CONTROL {
    WakeUserControlInvalid = 0,
    WakeDoNotAllowUserControl,
    WakeAllowUserControl,
} WDF_POWER_POLICY_SX_WAKE_USER_CONTROL;

typedef struct _WDF_DEVICE_POWER_POLICY_WAKE_SETTINGS {
    ULONG Size;
    DEVICE_POWER_STATE DxState;
    WDF_POWER_POLICY_SX_WAKE_USER_CONTROL UserControlOfWakeSettings;
    WDF_TRI_STATE Enabled;
    BOOLEAN ArmForWakeIfChildrenAreArmedForWake;
    BOOLEAN IndicateChildWakeOnParentWake;
} WDF_DEVICE_POWER_POLICY_WAKE_SETTINGS, *PWDF_DEVICE_POWER_POLICY_WAKE_SETTINGS;

static inline VOID WDF_DEVICE_POWER_POLICY_WAKE_SETTINGS_INIT(PWDF_DEVICE_POWER_POLICY_WAKE_SETTINGS s)
{
    RtlZeroMemory(s, sizeof(*s));
    s->Size = sizeof(*s);
    s->Enabled = WdfUseDefault;
    s->DxState = PowerDeviceMaximum;
    s->UserControlOfWakeSettings = WakeAllowUserControl;
}

NTSTATUS WdfDeviceAssignSxWakeSettings(_In_ WDFDEVICE Device, _In_ PWDF_DEVICE_POWER_POLICY_WAKE_SETTINGS Settings);

/* ---- power-policy event callbacks --------------------------------------------- */
typedef NTSTATUS EVT_WDF_DEVICE_ARM_WAKE_FROM_S0(_In_ WDFDEVICE Device);
typedef VOID EVT_WDF_DEVICE_DISARM_WAKE_FROM_S0(_In_ WDFDEVICE Device);
typedef VOID EVT_WDF_DEVICE_WAKE_FROM_S0_TRIGGERED(_In_ WDFDEVICE Device);
typedef NTSTATUS EVT_WDF_DEVICE_ARM_WAKE_FROM_SX(_In_ WDFDEVICE Device);
typedef VOID EVT_WDF_DEVICE_DISARM_WAKE_FROM_SX(_In_ WDFDEVICE Device);
typedef VOID EVT_WDF_DEVICE_WAKE_FROM_SX_TRIGGERED(_In_ WDFDEVICE Device);
typedef NTSTATUS EVT_WDF_DEVICE_ARM_WAKE_FROM_SX_WITH_REASON(_In_ WDFDEVICE Device, _In_ BOOLEAN DeviceWakeEnabled,
                                                             _In_ BOOLEAN ChildrenArmedForWake);
typedef EVT_WDF_DEVICE_ARM_WAKE_FROM_S0 *PFN_WDF_DEVICE_ARM_WAKE_FROM_S0;
typedef EVT_WDF_DEVICE_DISARM_WAKE_FROM_S0 *PFN_WDF_DEVICE_DISARM_WAKE_FROM_S0;
typedef EVT_WDF_DEVICE_WAKE_FROM_S0_TRIGGERED *PFN_WDF_DEVICE_WAKE_FROM_S0_TRIGGERED;
typedef EVT_WDF_DEVICE_ARM_WAKE_FROM_SX *PFN_WDF_DEVICE_ARM_WAKE_FROM_SX;
typedef EVT_WDF_DEVICE_DISARM_WAKE_FROM_SX *PFN_WDF_DEVICE_DISARM_WAKE_FROM_SX;
typedef EVT_WDF_DEVICE_WAKE_FROM_SX_TRIGGERED *PFN_WDF_DEVICE_WAKE_FROM_SX_TRIGGERED;
typedef EVT_WDF_DEVICE_ARM_WAKE_FROM_SX_WITH_REASON *PFN_WDF_DEVICE_ARM_WAKE_FROM_SX_WITH_REASON;

typedef struct _WDF_POWER_POLICY_EVENT_CALLBACKS {
    ULONG Size;
    PFN_WDF_DEVICE_ARM_WAKE_FROM_S0 EvtDeviceArmWakeFromS0;
    PFN_WDF_DEVICE_DISARM_WAKE_FROM_S0 EvtDeviceDisarmWakeFromS0;
    PFN_WDF_DEVICE_WAKE_FROM_S0_TRIGGERED EvtDeviceWakeFromS0Triggered;
    PFN_WDF_DEVICE_ARM_WAKE_FROM_SX EvtDeviceArmWakeFromSx;
    PFN_WDF_DEVICE_DISARM_WAKE_FROM_SX EvtDeviceDisarmWakeFromSx;
    PFN_WDF_DEVICE_WAKE_FROM_SX_TRIGGERED EvtDeviceWakeFromSxTriggered;
    PFN_WDF_DEVICE_ARM_WAKE_FROM_SX_WITH_REASON EvtDeviceArmWakeFromSxWithReason;
} WDF_POWER_POLICY_EVENT_CALLBACKS, *PWDF_POWER_POLICY_EVENT_CALLBACKS;

static inline VOID WDF_POWER_POLICY_EVENT_CALLBACKS_INIT(PWDF_POWER_POLICY_EVENT_CALLBACKS c)
{
    RtlZeroMemory(c, sizeof(*c));
    c->Size = sizeof(*c);
}

VOID WdfDeviceInitSetPowerPolicyEventCallbacks(_In_ PWDFDEVICE_INIT DeviceInit,
                                               _In_ PWDF_POWER_POLICY_EVENT_CALLBACKS PowerPolicyEventCallbacks);

/* ---- the driver's power references -------------------------------------------- */
/* Takes a power reference: the device does not idle until the matching
 * WdfDeviceResumeIdle. An idle device is brought back to D0; WaitForD0 TRUE
 * (PASSIVE_LEVEL only) blocks until it is there, FALSE returns STATUS_PENDING
 * meanwhile (the device is NOT yet in D0). STATUS_POWER_STATE_INVALID, and
 * no reference, if the device is not started or failed to power up. */
NTSTATUS WdfDeviceStopIdle(_In_ WDFDEVICE Device, _In_ BOOLEAN WaitForD0);
VOID WdfDeviceResumeIdle(_In_ WDFDEVICE Device);

/* ---- capabilities and bus information a bus sets on its PDOs (KERNEL-SEMANTICS §11) ---- */
typedef struct _WDF_DEVICE_PNP_CAPABILITIES {
    ULONG Size;
    WDF_TRI_STATE LockSupported;
    WDF_TRI_STATE EjectSupported; /* honoured: IRP_MN_EJECT only if WdfTrue */
    WDF_TRI_STATE Removable;
    WDF_TRI_STATE DockDevice;
    WDF_TRI_STATE UniqueID;
    WDF_TRI_STATE SilentInstall;
    WDF_TRI_STATE SurpriseRemovalOK;
    WDF_TRI_STATE HardwareDisabled;
    WDF_TRI_STATE NoDisplayInUI;
    ULONG Address;
    ULONG UINumber;
} WDF_DEVICE_PNP_CAPABILITIES, *PWDF_DEVICE_PNP_CAPABILITIES;

static inline VOID WDF_DEVICE_PNP_CAPABILITIES_INIT(PWDF_DEVICE_PNP_CAPABILITIES Caps)
{
    RtlZeroMemory(Caps, sizeof(*Caps));
    Caps->Size = sizeof(*Caps);
    Caps->LockSupported = WdfUseDefault;
    Caps->EjectSupported = WdfUseDefault;
    Caps->Removable = WdfUseDefault;
    Caps->DockDevice = WdfUseDefault;
    Caps->UniqueID = WdfUseDefault;
    Caps->SilentInstall = WdfUseDefault;
    Caps->SurpriseRemovalOK = WdfUseDefault;
    Caps->HardwareDisabled = WdfUseDefault;
    Caps->NoDisplayInUI = WdfUseDefault;
    Caps->Address = (ULONG)-1;
    Caps->UINumber = (ULONG)-1;
}

typedef struct _WDF_DEVICE_POWER_CAPABILITIES {
    ULONG Size;
    WDF_TRI_STATE DeviceD1;
    WDF_TRI_STATE DeviceD2;
    WDF_TRI_STATE WakeFromD0;
    WDF_TRI_STATE WakeFromD1;
    WDF_TRI_STATE WakeFromD2;
    WDF_TRI_STATE WakeFromD3;
    DEVICE_POWER_STATE DeviceState[PowerSystemMaximum];
    DEVICE_POWER_STATE DeviceWake;
    SYSTEM_POWER_STATE SystemWake;
    ULONG D1Latency;
    ULONG D2Latency;
    ULONG D3Latency;
    DEVICE_POWER_STATE IdealDxStateForSx;
} WDF_DEVICE_POWER_CAPABILITIES, *PWDF_DEVICE_POWER_CAPABILITIES;

static inline VOID WDF_DEVICE_POWER_CAPABILITIES_INIT(PWDF_DEVICE_POWER_CAPABILITIES Caps)
{
    RtlZeroMemory(Caps, sizeof(*Caps));
    Caps->Size = sizeof(*Caps);
    Caps->DeviceD1 = WdfUseDefault;
    Caps->DeviceD2 = WdfUseDefault;
    Caps->WakeFromD0 = WdfUseDefault;
    Caps->WakeFromD1 = WdfUseDefault;
    Caps->WakeFromD2 = WdfUseDefault;
    Caps->WakeFromD3 = WdfUseDefault;
    for (ULONG i = 0; i < PowerSystemMaximum; i++)
        Caps->DeviceState[i] = PowerDeviceMaximum;
    Caps->DeviceWake = PowerDeviceMaximum;
    Caps->SystemWake = PowerSystemMaximum;
    Caps->D1Latency = (ULONG)-1;
    Caps->D2Latency = (ULONG)-1;
    Caps->D3Latency = (ULONG)-1;
    Caps->IdealDxStateForSx = PowerDeviceMaximum;
}

/* Recorded on the device (the PnP manager reads them at enumeration). */
VOID WdfDeviceSetPnpCapabilities(_In_ WDFDEVICE Device, _In_ PWDF_DEVICE_PNP_CAPABILITIES PnpCapabilities);
VOID WdfDeviceSetPowerCapabilities(_In_ WDFDEVICE Device, _In_ PWDF_DEVICE_POWER_CAPABILITIES PowerCapabilities);
VOID WdfDeviceSetBusInformationForChildren(_In_ WDFDEVICE Device, _In_ PPNP_BUS_INFORMATION BusInformation);

/* ---- the local I/O target (KERNEL-SEMANTICS §15) -------------------------------- */
/* An FDO's default I/O target: the next lower device of its stack (a child's
 * PDO, whose queues its bus driver owns), opened and started by the framework;
 * closed at the device's deletion (its sent I/O canceled and waited for). The
 * same handle at every call; NULL for a PDO. */
WDFIOTARGET WdfDeviceGetIoTarget(_In_ WDFDEVICE Device);

/* ---- PnP device state (IRP_MN_QUERY_PNP_DEVICE_STATE) --------------------------- */
typedef struct _WDF_DEVICE_STATE {
    ULONG Size;
    WDF_TRI_STATE Disabled;
    WDF_TRI_STATE DontDisplayInUI;
    WDF_TRI_STATE Failed;
    WDF_TRI_STATE NotDisableable;
    WDF_TRI_STATE Removed;
    WDF_TRI_STATE ResourcesChanged;
} WDF_DEVICE_STATE, *PWDF_DEVICE_STATE;

static inline VOID WDF_DEVICE_STATE_INIT(_Out_ PWDF_DEVICE_STATE PnpDeviceState)
{
    RtlZeroMemory(PnpDeviceState, sizeof(WDF_DEVICE_STATE));
    PnpDeviceState->Size = sizeof(WDF_DEVICE_STATE);
    PnpDeviceState->Disabled = WdfUseDefault;
    PnpDeviceState->DontDisplayInUI = WdfUseDefault;
    PnpDeviceState->Failed = WdfUseDefault;
    PnpDeviceState->NotDisableable = WdfUseDefault;
    PnpDeviceState->Removed = WdfUseDefault;
    PnpDeviceState->ResourcesChanged = WdfUseDefault;
}

/* As KMDF: the WdfTrue/WdfFalse members replace the device's bits, WdfUseDefault
 * keeps them, and the PnP manager is told (IoInvalidateDeviceState). Failed or
 * Removed WdfTrue on a started device: the PnP manager surprise-removes its
 * stack and removes it at its next event boundary (KERNEL-SEMANTICS §11
 * "Device state"); NotDisableable WdfTrue: a `remove` (disable) event leaves
 * the device alone; DontDisplayInUI: recorded. Disabled and ResourcesChanged
 * WdfTrue (a hardware disable, a rebalance) are not modelled: TdfUnmodelled. */
VOID WdfDeviceSetDeviceState(_In_ WDFDEVICE Device, _In_ PWDF_DEVICE_STATE DeviceState);
VOID WdfDeviceGetDeviceState(_In_ WDFDEVICE Device, _Out_ PWDF_DEVICE_STATE DeviceState);

/* ---- device properties (IoGetDeviceProperty) -------------------------------------- */
typedef enum {
    DevicePropertyDeviceDescription = 0x0,
    DevicePropertyHardwareID = 0x1,
    DevicePropertyCompatibleIDs = 0x2,
    DevicePropertyBootConfiguration = 0x3,
    DevicePropertyBootConfigurationTranslated = 0x4,
    DevicePropertyClassName = 0x5,
    DevicePropertyClassGuid = 0x6,
    DevicePropertyDriverKeyName = 0x7,
    DevicePropertyManufacturer = 0x8,
    DevicePropertyFriendlyName = 0x9,
    DevicePropertyLocationInformation = 0xa,
    DevicePropertyPhysicalDeviceObjectName = 0xb,
    DevicePropertyBusTypeGuid = 0xc,
    DevicePropertyLegacyBusType = 0xd,
    DevicePropertyBusNumber = 0xe,
    DevicePropertyEnumeratorName = 0xf,
    DevicePropertyAddress = 0x10,
    DevicePropertyUINumber = 0x11,
    DevicePropertyInstallState = 0x12,
    DevicePropertyRemovalPolicy = 0x13,
    DevicePropertyResourceRequirements = 0x14,
    DevicePropertyAllocatedResources = 0x15,
    DevicePropertyContainerID = 0x16,
} DEVICE_REGISTRY_PROPERTY;

/* What the devnode has (KERNEL-SEMANTICS §11 "Device properties"): the IDs
 * (REG_MULTI_SZ) the bus gave the PDO, or a root device's ID from the target
 * description; DeviceDescription from the bus's WdfPdoInitAddDeviceText, or
 * the devnode's name; BusTypeGuid, LegacyBusType, BusNumber from the parent's
 * WdfDeviceSetBusInformationForChildren; EnumeratorName "ROOT" for a root
 * device. A property the devnode does not have (FriendlyName, which no INF of
 * the model set, Manufacturer, ...) is STATUS_OBJECT_NAME_NOT_FOUND, as for a
 * value absent from the registry; one outside the enum STATUS_INVALID_PARAMETER_2.
 * Too small a buffer: STATUS_BUFFER_TOO_SMALL with the size in ResultLength. */
NTSTATUS WdfDeviceQueryProperty(_In_ WDFDEVICE Device, _In_ DEVICE_REGISTRY_PROPERTY DeviceProperty,
                                _In_ ULONG BufferLength, _Out_writes_bytes_all_(BufferLength) PVOID PropertyBuffer,
                                _Out_ PULONG ResultLength);
/* The value in a new WDFMEMORY (parented to the device unless the attributes
 * say otherwise), as KMDF. */
NTSTATUS WdfDeviceAllocAndQueryProperty(_In_ WDFDEVICE Device, _In_ DEVICE_REGISTRY_PROPERTY DeviceProperty,
                                        _In_ POOL_TYPE PoolType,
                                        _In_opt_ PWDF_OBJECT_ATTRIBUTES PropertyMemoryAttributes,
                                        _Out_ WDFMEMORY *PropertyMemory);

#ifdef __cplusplus
}
#endif
#endif
