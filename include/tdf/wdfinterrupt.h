/*
 * teardown-fuzz KMDF shim: WDFINTERRUPT (the WDK's wdfinterrupt.h, KMDF 1.33
 * names and signatures). Included by wdf.h; semantics in
 * docs/KERNEL-SEMANTICS.md §10 "Interrupts".
 *
 * Modelled: an interrupt created in EvtDriverDeviceAdd for a line-based
 * interrupt handled at DIRQL (PassiveHandling FALSE), with the framework's own
 * interrupt spin lock (SpinLock NULL) and no work-item or wake support. The
 * framework connects it after EvtDeviceD0Entry and disconnects it before
 * EvtDeviceD0Exit; the ISR runs only while it is connected and enabled, when
 * the input's `interrupt` event raises the device's line (docs/INPUT.md).
 * Anything else in WDF_INTERRUPT_CONFIG is TdfUnmodelled at WdfInterruptCreate.
 */
#ifndef TDF_WDFINTERRUPT_H
#define TDF_WDFINTERRUPT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct WDFINTERRUPT__ *WDFINTERRUPT;
typedef struct WDFSPINLOCK__ *WDFSPINLOCK; /* also in wdfsync.h: an identical typedef is legal C11 */

/* At DIRQL with the interrupt lock held: TRUE if the device interrupted. */
typedef BOOLEAN EVT_WDF_INTERRUPT_ISR(_In_ WDFINTERRUPT Interrupt, _In_ ULONG MessageID);
typedef EVT_WDF_INTERRUPT_ISR *PFN_WDF_INTERRUPT_ISR;
/* At DISPATCH_LEVEL, after WdfInterruptQueueDpcForIsr; AssociatedObject is the device. */
typedef VOID EVT_WDF_INTERRUPT_DPC(_In_ WDFINTERRUPT Interrupt, _In_ WDFOBJECT AssociatedObject);
typedef EVT_WDF_INTERRUPT_DPC *PFN_WDF_INTERRUPT_DPC;
/* At DIRQL with the interrupt lock held, after EvtDeviceD0Entry / before EvtDeviceD0Exit. */
typedef NTSTATUS EVT_WDF_INTERRUPT_ENABLE(_In_ WDFINTERRUPT Interrupt, _In_ WDFDEVICE AssociatedDevice);
typedef EVT_WDF_INTERRUPT_ENABLE *PFN_WDF_INTERRUPT_ENABLE;
typedef NTSTATUS EVT_WDF_INTERRUPT_DISABLE(_In_ WDFINTERRUPT Interrupt, _In_ WDFDEVICE AssociatedDevice);
typedef EVT_WDF_INTERRUPT_DISABLE *PFN_WDF_INTERRUPT_DISABLE;
typedef BOOLEAN EVT_WDF_INTERRUPT_SYNCHRONIZE(_In_ WDFINTERRUPT Interrupt, _In_ WDFCONTEXT Context);
typedef EVT_WDF_INTERRUPT_SYNCHRONIZE *PFN_WDF_INTERRUPT_SYNCHRONIZE;
/* Declared for the structure's layout; a non-NULL one is TdfUnmodelled. */
typedef VOID EVT_WDF_INTERRUPT_WORKITEM(_In_ WDFINTERRUPT Interrupt, _In_ WDFOBJECT AssociatedObject);
typedef EVT_WDF_INTERRUPT_WORKITEM *PFN_WDF_INTERRUPT_WORKITEM;

typedef struct _WDF_INTERRUPT_CONFIG {
    ULONG Size;
    WDFSPINLOCK SpinLock;        /* NULL only: the framework's interrupt spin lock */
    WDF_TRI_STATE ShareVector;   /* stored; a shared line is delivered like an exclusive one */
    BOOLEAN FloatingSave;        /* ignored */
    BOOLEAN AutomaticSerialization; /* the DPC under the device's synchronization lock: none by default */
    PFN_WDF_INTERRUPT_ISR EvtInterruptIsr;
    PFN_WDF_INTERRUPT_DPC EvtInterruptDpc;
    PFN_WDF_INTERRUPT_ENABLE EvtInterruptEnable;
    PFN_WDF_INTERRUPT_DISABLE EvtInterruptDisable;
    PFN_WDF_INTERRUPT_WORKITEM EvtInterruptWorkItem; /* NULL only */
    PCM_PARTIAL_RESOURCE_DESCRIPTOR InterruptRaw;        /* NULL only (creation in AddDevice) */
    PCM_PARTIAL_RESOURCE_DESCRIPTOR InterruptTranslated; /* NULL only */
    WDFWAITLOCK WaitLock;        /* NULL only (passive-level interrupts are not modelled) */
    BOOLEAN PassiveHandling;     /* FALSE only */
    WDF_TRI_STATE ReportInactiveOnPowerDown; /* ignored */
    BOOLEAN CanWakeDevice;       /* FALSE only */
} WDF_INTERRUPT_CONFIG, *PWDF_INTERRUPT_CONFIG;

static inline VOID WDF_INTERRUPT_CONFIG_INIT(PWDF_INTERRUPT_CONFIG Configuration, PFN_WDF_INTERRUPT_ISR EvtInterruptIsr,
                                             PFN_WDF_INTERRUPT_DPC EvtInterruptDpc)
{
    RtlZeroMemory(Configuration, sizeof(*Configuration));
    Configuration->Size = sizeof(*Configuration);
    Configuration->ShareVector = WdfUseDefault;
    Configuration->EvtInterruptIsr = EvtInterruptIsr;
    Configuration->EvtInterruptDpc = EvtInterruptDpc;
    Configuration->ReportInactiveOnPowerDown = WdfUseDefault;
}

/* PASSIVE_LEVEL, in EvtDriverDeviceAdd only (STATUS_INVALID_DEVICE_STATE
 * otherwise, as KMDF; creation in EvtDevicePrepareHardware is TdfUnmodelled).
 * The n-th interrupt of a device gets the n-th CmResourceTypeInterrupt
 * descriptor of its translated resources at start; one without a descriptor
 * is never connected. Parent: the device (Attributes->ParentObject must be NULL). */
NTSTATUS WdfInterruptCreate(_In_ WDFDEVICE Device, _In_ PWDF_INTERRUPT_CONFIG Configuration,
                            _In_opt_ PWDF_OBJECT_ATTRIBUTES Attributes, _Out_ WDFINTERRUPT *Interrupt);
/* TRUE if the DPC was queued, FALSE if it was already queued. */
BOOLEAN WdfInterruptQueueDpcForIsr(_In_ WDFINTERRUPT Interrupt);
/* <= DISPATCH_LEVEL: runs Callback at DIRQL under the interrupt lock. KMDF
 * cannot synchronize with an interrupt that is not connected (no KINTERRUPT):
 * MISUSE here. */
BOOLEAN WdfInterruptSynchronize(_In_ WDFINTERRUPT Interrupt, _In_ PFN_WDF_INTERRUPT_SYNCHRONIZE Callback,
                                _In_ WDFCONTEXT Context);
/* <= DIRQL: raises to DIRQL and takes the interrupt lock (not from the ISR,
 * EvtInterruptEnable/Disable or EvtInterruptSynchronize, which hold it). Same
 * rule as WdfInterruptSynchronize for a disconnected interrupt. */
VOID WdfInterruptAcquireLock(_In_ WDFINTERRUPT Interrupt);
VOID WdfInterruptReleaseLock(_In_ WDFINTERRUPT Interrupt);
WDFDEVICE WdfInterruptGetDevice(_In_ WDFINTERRUPT Interrupt);

#ifdef __cplusplus
}
#endif
#endif
