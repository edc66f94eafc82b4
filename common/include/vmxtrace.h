/* vmxtrace.h: optional trace lines that tools/vmx_trace.py merges with Bochs' VMX log:
 * chapters report each VMX instruction they execute when "vmxtrace=1" is on the command line. */
#ifndef VMXTRACE_H
#define VMXTRACE_H

#include <stdbool.h>

/*
 * vmx_trace("VMWRITE field=0x%x value=0x%lx rc=%d", ...) prints
 *
 *   vmxtrace tsc=<TSC> VMWRITE field=0x681e value=0x104000 rc=0
 *
 * only when the command line asks: vmxtrace=1 on the console (COM1); vmxtrace=e9 on
 * Bochs' port 0xE9 instead, which costs no emulated serial time (tools/vmx_trace.py
 * uses it); vmxtrace=insns as e9, plus Bochs' instruction trace (vmx_trace_insns()).
 * The first word is the instruction; then key=value pairs the tool knows:
 *   addr=   a physical address (VMXON, VMCLEAR, VMPTRLD)
 *   field=  a VMCS field encoding (VMREAD, VMWRITE): the tool prints its name
 *   value=  the value written or read
 *   rc=     0 success, 1 VMfailInvalid, 2 VMfailValid, 3 faulted (chapter 02's
 *           enum vmx_status), with vector= the exception (6 #UD, 13 #GP)
 *   error=  the VM-instruction error after VMfailValid: the tool prints its meaning
 * The TSC lets the tool put the line among Bochs' log lines (with clock: sync=none
 * Bochs' TSC counts the same ticks as its log).
 *
 * Two more words structure the timeline:
 *   CHECKPOINT <id>      printed by checkpoint(): the events before it led to that report
 *   EXPECT failure <why> a chapter breaks something on purpose: the failures from here to
 *                        the next checkpoint (or "EXPECT end") are deliberate. The tool still
 *                        highlights them, lists them apart, and reports an announced failure
 *                        that did not happen.
 */
bool vmx_trace_enabled(void);
void vmx_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Bochs only: switch its instruction trace on or off (the iodebug port 0x8A00),
 * e.g. around VMRESUME to see what the guest executed. Does nothing unless the
 * command line has vmxtrace=insns, so no I/O port is touched on other machines.
 */
void vmx_trace_insns(bool on);

#endif
