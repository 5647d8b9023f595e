#!/usr/bin/env bash
# tests/signatures/run.sh BUILD_DIR: one race, one key, whichever oracle fired (docs/REPORTS.md
# "Signatures"). Each pair is two inputs of one mutant whose runs meet the same race at a different
# point of the teardown: they must print the same SIGNATURE while their forms differ (the headline, or
# the FATAL access or teardown line without its step and lane; the exit classes are kept):
#   nr_unload / nr_regs   fuzz_bus_child no_rundown: the bus's unprotected call into the child lands on
#                         the unloaded image (0xCE) or on its powered-down registers (0x50):
#                         call(child):child!Child_OnBusEvent:callee-teardown
#   snw_dpc / snw_timer   fuzz_deferred stop_no_wait: the register read after D0Exit is made by the DPC
#                         the timer's callback queued (AFTER_UNMAP) or by that callback itself (0x50):
#                         registers(dfr/FDO):dfr!Dfr_EvtPollTimer:power-down
#   cfd_own / cfd_bus     fuzz_bus_child child_flag_d0: the child's I/O thread, past its InD0 check after its
#                         own D0Exit, writes its registers (NOT_IN_D0) or first calls the bus's
#                         Bus_ReadBusStatus, whose registers are gone too (AFTER_UNMAP): the caller's own
#                         power-down came first, registers(child/FDO):child!Child_ProcessRequest:power-down
#   nsq_misuse / nsq_regs fuzz_interrupt nonpm_status_queue: the status IOCTL in the power-down calls
#                         WdfInterruptSynchronize on the disconnected interrupt (MISUSE) or, just before
#                         the disconnect, its callback reads the registers (NOT_IN_D0):
#                         registers(intdev/FDO):intdev!Intdev_EvtIoDeviceControl:power-down
#   uis_d0exit / uis_isr  fuzz_interrupt unmap_in_surprise: D0ExitPreInterruptsDisabled or the ISR touches
#                         the registers SurpriseRemoval unmapped while the device was usable:
#                         registers(intdev/FDO):intdev!Intdev_EvtDeviceSurpriseRemoval:early-unmap
#   tu_twice / tu_cancel  fuzz_sync_scope timeout_unlocked: the watchdog finishes the kept request without
#                         WdfObjectAcquireLock: after another unlocked watchdog run finished it, or after
#                         the cancel routine (under the Device-scope lock) did (same headline, the FATAL
#                         teardown differs): request(ss_dev/FDO):ss_dev!Ss_FinishPending:unlocked
#   nu_c9 / nu_race       fuzz_async_cancel no_unmark: the worker completes the request with its cancel
#                         routine still set (0xC9), or the cancel routine completed it first and the worker's
#                         call comes after (0x10D):
#                         request(ac_receiver/FDO):ac_receiver!Rcv_CompleteOldest:ac_receiver!Rcv_EvtRequestCancel
#   dl_victim / dl_lockwait fuzz_power_share down_in_d0exit: A's D0Exit waits for B's access, which waits for
#                         its request in A's held queue; B's removal (or B's connect, behind B's lock) waits
#                         too, as a victim. The wait-for cycle is the key, whichever victim stands first in
#                         thread order (the FATAL waits line differs):
#                         DEADLOCK/ALL_THREADS_BLOCKED:share_a!ShareA_NotifyPowerDown:share_b!ShareB_SendToA
#   snw_overlap.bin       fuzz_deferred stop_no_wait, replayed as the fuzzer ran it (--schedule=input+random:
#                         its choices need more than 7 runnable threads, so it has no text form): the poll
#                         timer fires again on the other DPC processor while its first callback still runs,
#                         and that first callback queues the data DPC that reads the registers after D0Exit.
#                         The timer's routine is still the key (it was the DPC's own routine while the callback
#                         record was per timer): registers(dfr/FDO):dfr!Dfr_EvtPollTimer:power-down
#   wnf_uaf.bin           fuzz_deferred watchdog_no_flush, asan build only (the plain build cannot see it): the
#                         watchdog KDPC runs after device cleanup freed the context it touches; ASan reports the
#                         use of the freed block before any model check, and the key is the pool's dead object,
#                         the one the model's 0xC7 at that free gives when the KDPC is still queued:
#                         pool(dfr):dfr!Dfr_WatchdogDpc:object-destroyed
#   tnw_uaf.bin           fuzz_bus_child thread_not_waited: the I/O thread nobody waited for wakes after the
#                         removal freed the device context it waits on. ASan sees that use (asan build); the
#                         plain build sees the thread still inside the image at unload. One key in both: the
#                         driver's own thread outliving its teardown, image(child):child!Child_IoThread:unload
#   fc_uaf.bin            fuzz_bus_child flag_check, asan build only (the plain build cannot see it): the bus's
#                         unprotected call into the child touches the context the child's removal freed; a
#                         dead object met in a call from another driver keys as that call:
#                         call(child):child!Child_OnBusEvent:callee-teardown
#   ckp_resent.bin        fuzz_bus_ioctl cancel_keeps_pointer: the bus's worker unmarks the request its cancel
#                         routine completed and left in the field, after the child reused and sent it again
#                         (not yet to the bus): still a use after that completion, not a bare "does not own":
#                         request(iobus/PDO):iobus!Bus_EvtNotifyCancel:iobus!Bus_NotifyChild
#   ckp_remark / ckp_c9 / ckp_pend .bin   fuzz_bus_ioctl cancel_keeps_pointer: the worker takes the field's
#                         request after the child reused it and sent it again, so the bus has it a second time
#                         (the three were keyed by what the second life met: a mark on the completed request,
#                         0xC9 on the new cancel routine, the child's pending send). The worker's handle is of
#                         the first life: its unmark is the use after the cancel routine's completion:
#                         request(iobus/PDO):iobus!Bus_EvtNotifyCancel:iobus!Bus_NotifyChild
#   ui_buffer_uaf / ui_pend .bin   fuzz_bus_ioctl unmark_ignored: the worker, past the unmark that said the
#                         cancel routine has it, takes the output buffer of the request the cancel routine has
#                         completed (an ASan use of the child's freed memory before, keyed as the bus's thread
#                         at the unload), or completes the request of its first life during its second:
#                         request(iobus/PDO):iobus!Bus_CompleteNotify:iobus!Bus_EvtNotifyCancel
#   ui_cancel_late.bin    fuzz_bus_ioctl unmark_ignored: the worker completed the request its unmark said the
#                         cancel routine has; the cancel routine then asks for the request's queue. The
#                         other order of the same pair (worker after the cancel routine) has this key too:
#                         request(iobus/PDO):iobus!Bus_CompleteNotify:iobus!Bus_EvtNotifyCancel
#   wc_uc_second / wc_uc_first / wc_uc_freed   fuzz_wdm_cancel unchecked_clear: B's completer and its cancel
#                         routine both complete one IRP; the cancel routine comes second (0x44), or first
#                         (0x44 the other way round), or first with A freeing its IRP in between (the
#                         completer's IoCompleteRequest meets the freed IRP): two completions by one driver,
#                         sorted: irp(wc_b/FDO):wc_b!WcB_Cancel:wc_b!complete_held
#   wc_cke_own / wc_cke_client   fuzz_wdm_cancel cancel_keeps_entry: B takes the IRP its cancel routine completed
#                         and left on its list: A's own IRP (freed by A) or a client's (freed by the I/O manager).
#                         A use by a driver that does not own the IRP, after the completion that handed it back:
#                         irp(wc_b/FDO):wc_b!take_held:wc_b!WcB_Cancel
#   wc_fac_freed / wc_fac_held   fuzz_wdm_cancel free_and_continue: A's completion routine frees its IRP and
#                         returns STATUS_SUCCESS: the walk goes on with the freed IRP (0x50) or, a canceller's
#                         reference keeping it, reaches the top (MISUSE IRP_COMPLETED_PAST_ITS_OWNER):
#                         irp(wc_a):wc_a!WcA_Complete:not-more-processing
#   wc_np_leave / wc_np_return   fuzz_wdm_cancel no_propagate: the unmarked location found when the completion
#                         leaves it, or when A's dispatch returns after the completion passed it:
#                         MISUSE/PENDING_NOT_MARKED:wc_a!WcA_DispatchDeviceControl:thread
#   wc_nr_send / wc_nr_ref       fuzz_wdm_cancel no_reference: A sends to (0xC9/0x4) or references (0x18) B's
#                         deleted device object, whose file object A closed at its start:
#                         device(wc_b/FDO):wc_a!open_target:early-release
#   wc_nc_pending / wc_nc_inside / wc_nc_entering / wc_nc_uaf / wc_nc_uaf_inner / wc_nc_send
#                         fuzz_wdm_cancel no_cancel, the two ends of A's teardown closing its file object on B's
#                         device without waiting for its IRPs: A unloads while B holds an IRP with A's
#                         completion routine (0xCE at the unload), or while the routine runs, or while the I/O
#                         manager is calling it (it was a pool leak at the unload: the routine frees the IRP's
#                         context), or (asan build only) the routine touches A's device extension freed at A's
#                         delete, in itself or in a routine it calls; or A's send, counted before the teardown,
#                         goes to B's deleted device (it shared 0xC9/0x4 with no_reference). The IRP went to the
#                         device A let go of: device(wc_b/FDO):wc_a!teardown:early-release
#   pnw_log / pnw_regs / pnw_inroutine / pnw_d0entry   fuzz_bus_ioctl purge_no_wait: the child's D0Exit purges
#                         without waiting; the completion routine of the send the bus already took runs late
#                         and meets the event log D0Exit deleted (0x10D/0x5), the powered-down registers, its
#                         own re-send of the request the next D0Entry sent (0x10D/0x7 in the routine), or the
#                         next D0Entry's send meets the routine's (0x10D/0x7 in D0Entry): the un-awaited purge,
#                         target(iochild/FDO):iochild!Child_NotifyComplete:iochild!Child_EvtDeviceD0Exit
#   cf_log                fuzz_bus_ioctl ctx_freed: the same log deleted under the routine, before a purge that
#                         waits: not purge_no_wait's key (they shared the handle key):
#                         handle(iochild):iochild!Child_NotifyComplete:iochild!Child_EvtDeviceD0Exit
#   eqwi_lookaside / eqwi_unload   fuzz_work_item ex_queue_work_item: the ExQueueWorkItem routine, which holds no
#                         reference on the driver, meets the lookaside list the teardown deleted (MISUSE) or is
#                         still running at the unload (0xCE): image(wi_driver):wi_driver!Wi_ExWorkRoutine:unload
# And a false finding that must stay gone:
#   lost_wake             fuzz_power_share no_drain: a request reaches A's power-managed queue while A's idle
#                         power-down runs. Its power reference must power A up again after that power-down
#                         (the model dropped the wake once: a false DEADLOCK, keyed as a root waiting for
#                         sent(share_a/FDO)). Clean, with the wake after D0Exit(D3) and a D0Entry after it.
# (The root form of a deadlock key is checked by tests/test_fatal_pair.c, the no-cycle test.)
# Ends with "N passed, M failed"; exit 0 all passed, 1 a check failed, 2 usage.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: tests/signatures/run.sh BUILD_DIR" >&2; exit 2; }
bindir=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
unset TDF_VARIANT
pass=0 fail=0
pairs=("fuzz_bus_child|nr_unload|nr_regs|call(child):child!Child_OnBusEvent:callee-teardown"
       "fuzz_deferred|snw_dpc|snw_timer|registers(dfr/FDO):dfr!Dfr_EvtPollTimer:power-down"
       "fuzz_bus_child|cfd_own|cfd_bus|registers(child/FDO):child!Child_ProcessRequest:power-down"
       "fuzz_interrupt|nsq_misuse|nsq_regs|registers(intdev/FDO):intdev!Intdev_EvtIoDeviceControl:power-down"
       "fuzz_interrupt|uis_d0exit|uis_isr|registers(intdev/FDO):intdev!Intdev_EvtDeviceSurpriseRemoval:early-unmap"
       "fuzz_sync_scope|tu_twice|tu_cancel|request(ss_dev/FDO):ss_dev!Ss_FinishPending:unlocked"
       "fuzz_async_cancel|nu_c9|nu_race|request(ac_receiver/FDO):ac_receiver!Rcv_CompleteOldest:ac_receiver!Rcv_EvtRequestCancel"
       "fuzz_power_share|dl_victim|dl_lockwait|DEADLOCK/ALL_THREADS_BLOCKED:share_a!ShareA_NotifyPowerDown:share_b!ShareB_SendToA")
for p in "${pairs[@]}"; do
    IFS='|' read -r target a b want <<<"$p"
    ra=$("$bindir/bin/${target}_run" "$here/$a.txt" 2>&1); ca=$?
    rb=$("$bindir/bin/${target}_run" "$here/$b.txt" 2>&1); cb=$?
    sa=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$ra") sb=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$rb")
    ha=$(sed -n 1p <<<"$ra" | sed 's/ step=.*//') hb=$(sed -n 1p <<<"$rb" | sed 's/ step=.*//')
    form() { # the headline, the FATAL access and teardown lines without step and lane, who waits for whom
        sed -n '1s/ step=.*//p; s/^==TDF== FATAL \(access\|teardown\) *step [0-9]* lane [^ ]* //p; /^==TDF== FATAL waits /p' <<<"$1"
    }
    fa=$(form "$ra") fb=$(form "$rb")
    if [ "$sa" = "$want" ] && [ "$sb" = "$want" ]; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $target $a/$b: signatures '$sa' and '$sb', want '$want'"; fi
    if [ -n "$fa" ] && [ "$fa" != "$fb" ] && [ $ca -ge 10 ] && [ $cb -ge 10 ]; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $target $a/$b: not two forms of the race (exit $ca/$cb, '$fa' / '$fb')"; fi
    echo "$target: '$ha' (exit $ca) and '$hb' (exit $cb): $sa"
done
# Fuzzer artifacts, replayed with the random tail they were found with.
tails=("fuzz_deferred|snw_overlap.bin|stop_no_wait|registers(dfr/FDO):dfr!Dfr_EvtPollTimer:power-down|any"
       "fuzz_deferred|wnf_uaf.bin|watchdog_no_flush|pool(dfr):dfr!Dfr_WatchdogDpc:object-destroyed|asan"
       "fuzz_bus_child|tnw_uaf.bin|thread_not_waited|image(child):child!Child_IoThread:unload|any"
       "fuzz_bus_child|fc_uaf.bin|flag_check|call(child):child!Child_OnBusEvent:callee-teardown|asan"
       "fuzz_bus_ioctl|ckp_resent.bin|cancel_keeps_pointer|request(iobus/PDO):iobus!Bus_EvtNotifyCancel:iobus!Bus_NotifyChild|any"
       "fuzz_bus_ioctl|ckp_remark.bin|cancel_keeps_pointer|request(iobus/PDO):iobus!Bus_EvtNotifyCancel:iobus!Bus_NotifyChild|any"
       "fuzz_bus_ioctl|ckp_c9.bin|cancel_keeps_pointer|request(iobus/PDO):iobus!Bus_EvtNotifyCancel:iobus!Bus_NotifyChild|any"
       "fuzz_bus_ioctl|ckp_pend.bin|cancel_keeps_pointer|request(iobus/PDO):iobus!Bus_EvtNotifyCancel:iobus!Bus_NotifyChild|any"
       "fuzz_bus_ioctl|ui_buffer_uaf.bin|unmark_ignored|request(iobus/PDO):iobus!Bus_CompleteNotify:iobus!Bus_EvtNotifyCancel|any"
       "fuzz_bus_ioctl|ui_pend.bin|unmark_ignored|request(iobus/PDO):iobus!Bus_CompleteNotify:iobus!Bus_EvtNotifyCancel|any"
       "fuzz_bus_ioctl|ui_cancel_late.bin|unmark_ignored|request(iobus/PDO):iobus!Bus_CompleteNotify:iobus!Bus_EvtNotifyCancel|any"
       "fuzz_bus_ioctl|pnw_log.bin|purge_no_wait|target(iochild/FDO):iochild!Child_NotifyComplete:iochild!Child_EvtDeviceD0Exit|any"
       "fuzz_bus_ioctl|pnw_regs.bin|purge_no_wait|target(iochild/FDO):iochild!Child_NotifyComplete:iochild!Child_EvtDeviceD0Exit|any"
       "fuzz_bus_ioctl|pnw_inroutine.bin|purge_no_wait|target(iochild/FDO):iochild!Child_NotifyComplete:iochild!Child_EvtDeviceD0Exit|any"
       "fuzz_bus_ioctl|pnw_d0entry.bin|purge_no_wait|target(iochild/FDO):iochild!Child_NotifyComplete:iochild!Child_EvtDeviceD0Exit|any"
       "fuzz_bus_ioctl|cf_log.bin|ctx_freed|handle(iochild):iochild!Child_NotifyComplete:iochild!Child_EvtDeviceD0Exit|any"
       "fuzz_work_item|eqwi_lookaside.bin|ex_queue_work_item|image(wi_driver):wi_driver!Wi_ExWorkRoutine:unload|any"
       "fuzz_work_item|eqwi_unload.bin|ex_queue_work_item|image(wi_driver):wi_driver!Wi_ExWorkRoutine:unload|any"
       "fuzz_wdm_cancel|wc_uc_second.bin|unchecked_clear|irp(wc_b/FDO):wc_b!WcB_Cancel:wc_b!complete_held|any"
       "fuzz_wdm_cancel|wc_uc_first.bin|unchecked_clear|irp(wc_b/FDO):wc_b!WcB_Cancel:wc_b!complete_held|any"
       "fuzz_wdm_cancel|wc_uc_freed.bin|unchecked_clear|irp(wc_b/FDO):wc_b!WcB_Cancel:wc_b!complete_held|any"
       "fuzz_wdm_cancel|wc_cke_own.bin|cancel_keeps_entry|irp(wc_b/FDO):wc_b!take_held:wc_b!WcB_Cancel|any"
       "fuzz_wdm_cancel|wc_cke_client.bin|cancel_keeps_entry|irp(wc_b/FDO):wc_b!take_held:wc_b!WcB_Cancel|any"
       "fuzz_wdm_cancel|wc_fac_freed.bin|free_and_continue|irp(wc_a):wc_a!WcA_Complete:not-more-processing|any"
       "fuzz_wdm_cancel|wc_fac_held.bin|free_and_continue|irp(wc_a):wc_a!WcA_Complete:not-more-processing|any"
       "fuzz_wdm_cancel|wc_np_leave.bin|no_propagate|MISUSE/PENDING_NOT_MARKED:wc_a!WcA_DispatchDeviceControl:thread|any"
       "fuzz_wdm_cancel|wc_np_return.bin|no_propagate|MISUSE/PENDING_NOT_MARKED:wc_a!WcA_DispatchDeviceControl:thread|any"
       "fuzz_wdm_cancel|wc_nr_send.bin|no_reference|device(wc_b/FDO):wc_a!open_target:early-release|any"
       "fuzz_wdm_cancel|wc_nr_ref.bin|no_reference|device(wc_b/FDO):wc_a!open_target:early-release|any"
       "fuzz_wdm_cancel|wc_nc_pending.bin|no_cancel|device(wc_b/FDO):wc_a!teardown:early-release|any"
       "fuzz_wdm_cancel|wc_nc_inside.bin|no_cancel|device(wc_b/FDO):wc_a!teardown:early-release|any"
       "fuzz_wdm_cancel|wc_nc_uaf.bin|no_cancel|device(wc_b/FDO):wc_a!teardown:early-release|asan"
       "fuzz_wdm_cancel|wc_nc_uaf_inner.bin|no_cancel|device(wc_b/FDO):wc_a!teardown:early-release|asan"
       "fuzz_wdm_cancel|wc_nc_entering.bin|no_cancel|device(wc_b/FDO):wc_a!teardown:early-release|any"
       "fuzz_wdm_cancel|wc_nc_send.bin|no_cancel|device(wc_b/FDO):wc_a!teardown:early-release|any")
sanitizer=$(sed -n 's/^TDF_SANITIZER:STRING=//p' "$bindir/CMakeCache.txt" 2>/dev/null)
for p in "${tails[@]}"; do
    IFS='|' read -r target a variant want build <<<"$p"
    [ "$build" = any ] || [ "$build" = "$sanitizer" ] || continue
    ra=$("$bindir/bin/${target}_run" --variant="$variant" --schedule=input+random "$here/$a" 2>&1); ca=$?
    sa=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$ra")
    if [ "$sa" = "$want" ] && [ $ca -ge 10 ]; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $target $a: signature '$sa' (exit $ca), want '$want'"; fi
    echo "$target: $a (exit $ca): $sa"
done
# The false DEADLOCK of a dropped power-reference wake: clean, and the wake it needs is in the trace.
rl=$("$bindir/bin/fuzz_power_share_run" --print_trace "$here/lost_wake.txt" 2>&1); cl=$?
order=$(grep -n -e 'share_a/FDO: EvtDeviceD0Exit(D3)$' -e 'power policy: power reference wakes share_a$' \
    -e 'share_a/FDO: EvtDeviceD0Entry$' <<<"$rl" | sed 's/^[0-9]*: *[0-9]* *[a-z-]* *//' | tr '\n' '|')
if [ $cl -eq 0 ] && [[ "$order" == *"EvtDeviceD0Exit(D3)|power policy: power reference wakes share_a|share_a/FDO: EvtDeviceD0Entry|"* ]]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL fuzz_power_share lost_wake: exit $cl, order '$order'"
fi
echo "fuzz_power_share: lost_wake (exit $cl)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
