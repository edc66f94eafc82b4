/* test_vmx_errors.c: chapter 02's decoding of VMX instruction outcomes: RFLAGS into
 * VMsucceed/VMfailInvalid/VMfailValid (SDM Vol. 3C, 30.2) and every error number's name. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vmx_insn.h"
#include "x86.h"

struct caught_fault caught_fault;

static void test_status(void)
{
    CHECK(vmx_status_from_rflags(RFLAGS_FIXED) == VMX_SUCCEED);
    CHECK(vmx_status_from_rflags(RFLAGS_FIXED | RFLAGS_CF) == VMX_FAIL_INVALID);
    CHECK(vmx_status_from_rflags(RFLAGS_FIXED | RFLAGS_ZF) == VMX_FAIL_VALID);
    /* Only CF and ZF carry the outcome; the other arithmetic flags are cleared by VMX
     * instructions, but a decoder must not be fooled if one were set. */
    CHECK(vmx_status_from_rflags(RFLAGS_FIXED | RFLAGS_SF | RFLAGS_OF | RFLAGS_PF | RFLAGS_AF |
                                 RFLAGS_IF) == VMX_SUCCEED);
    CHECK(!strcmp(vmx_status_name(VMX_FAIL_VALID), "VMfailValid"));
    CHECK(!strcmp(vmx_status_name(VMX_FAIL_INVALID), "VMfailInvalid"));
}

/* SDM Vol. 3C, Table 30-1 (325384-059US): numbers 1-28, of which 14, 21, 27 are reserved. */
static void test_error_names(void)
{
    static const struct { unsigned number; const char *starts; } sdm[] = {
        {1, "VMCALL executed in VMX root"}, {2, "VMCLEAR with invalid physical"},
        {3, "VMCLEAR with VMXON pointer"}, {4, "VMLAUNCH with non-clear"},
        {5, "VMRESUME with non-launched"}, {6, "VMRESUME after VMXOFF"},
        {7, "VM entry with invalid control"}, {8, "VM entry with invalid host-state"},
        {9, "VMPTRLD with invalid physical"}, {10, "VMPTRLD with VMXON pointer"},
        {11, "VMPTRLD with incorrect VMCS revision"}, {12, "VMREAD/VMWRITE from/to unsupported"},
        {13, "VMWRITE to read-only"}, {15, "VMXON executed in VMX root"},
        {16, "VM entry with invalid executive-VMCS"}, {17, "VM entry with non-launched executive"},
        {18, "VM entry with executive-VMCS pointer not VMXON"}, {19, "VMCALL with non-clear"},
        {20, "VMCALL with invalid VM-exit"}, {22, "VMCALL with incorrect MSEG"},
        {23, "VMXOFF under dual-monitor"}, {24, "VMCALL with invalid SMM-monitor"},
        {25, "VM entry with invalid VM-execution control fields in executive"},
        {26, "VM entry with events blocked by MOV SS"}, {28, "Invalid operand to INVEPT/INVVPID"},
    };
    for (size_t i = 0; i < sizeof(sdm) / sizeof(sdm[0]); i++) {
        const char *name = vmx_error_name(sdm[i].number);
        if (strncmp(name, sdm[i].starts, strlen(sdm[i].starts))) {
            fprintf(stderr, "error %u: \"%s\"\n", sdm[i].number, name);
            CHECK(!"error name matches the SDM");
        }
    }
    CHECK(!strcmp(vmx_error_name(14), "reserved error number"));
    CHECK(!strcmp(vmx_error_name(21), "reserved error number"));
    CHECK(!strcmp(vmx_error_name(27), "reserved error number"));
    CHECK(!strcmp(vmx_error_name(29), "unknown error number"));
    CHECK(!strcmp(vmx_error_name(0xffffffffu), "unknown error number"));
    CHECK(!strcmp(vmx_error_name(0), "no error recorded"));
    CHECK(VMXERR_VMXON_IN_VMX_ROOT_OPERATION == 15 && VMXERR_ENTRY_INVALID_HOST_STATE_FIELD == 8);
}

int main(void)
{
    test_status();
    test_error_names();
    return CHECK_DONE();
}
