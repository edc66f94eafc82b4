# test_vmx_trace.py: the VMX timeline parser on lines in the formats Bochs 2.7 and
# common/vmxtrace.c print: merge order, names, guest RIP, failures, suspects, no timestamps.
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import vmx_names  # noqa: E402
import vmx_trace  # noqa: E402

SERIAL = """boot: command line "vmxtrace=1"
vmxtrace tsc=100 VMXON addr=0x128000 rc=0
vmxtrace tsc=200 VMWRITE field=0x681e value=0x100158 rc=0
vmxtrace tsc=300 VMWRITE field=0x4822 value=0x83 rc=0
vmxtrace tsc=400 VMLAUNCH
vmxtrace tsc=401 INSNS on
vmxtrace tsc=590 INSNS off
vmxtrace tsc=600 VMREAD field=0x4402 value=0xa rc=0
vmxtrace tsc=610 VMREAD field=0x681e value=0x10015a rc=0
vmxtrace tsc=700 VMRESUME
vmxtrace tsc=900 VMREAD field=0x4400 value=0x8 rc=0
vmxtrace tsc=901 VMRESUME rc=2 error=8
"""
LOG = """00000000100d[CPU0  ] page walk for address 0x0000000000128000
00000000500d[CPU0  ] VMLAUNCH VMCS ptr: 0x0000000000129000
00000000500d[CPU0  ] VMENTER to x86-64 guest
00000000502d[CPU0  ] VMEXIT reason = 10 (CPUID) qualification=0x0
00000000502d[CPU0  ] VMEXIT to x86-64 host
00000000800d[CPU0  ] VMRESUME VMCS ptr: 0x0000000000129000
00000000800e[CPU0  ] VMFAIL: VMCS invalid host TR selector
00000000950p[UNMAP ] >>PANIC<< Shutdown port: shutdown requested
"""
TRACE = """(0).[501] [0x000000100158] 0008:0000000000100158 (unk. ctxt): cpuid                     ; 0fa2
(0).[503] [0x00000010014b] 0008:000000000010014b (unk. ctxt): xor eax, eax              ; 31c0
"""


class NamesTest(unittest.TestCase):
    def test_field_names_follow_linux(self):
        self.assertEqual(vmx_names.field_name(0x681e), "GUEST_RIP")
        self.assertEqual(vmx_names.field_name(0x4822), "GUEST_TR_AR_BYTES")
        self.assertEqual(vmx_names.field_name(0x0c0c), "HOST_TR_SELECTOR")
        self.assertEqual(vmx_names.field_name(0x2801), "VMCS_LINK_POINTER_HIGH")
        self.assertEqual(vmx_names.field_name(0x7777), "field 0x7777")

    def test_same_names_as_the_kernels_table(self):
        header = os.path.join(os.path.dirname(__file__), "..", "..", "chapters", "03-vmcs",
                              "vmcs_field.h")
        with open(header) as f:
            fields = re.findall(r"\b(F16|F32|F64|FN)\((\w+), (0x[0-9a-f]+)\)", f.read())
        self.assertGreater(len(fields), 100)
        for kind, name, enc in fields:
            self.assertEqual(vmx_names.field_name(int(enc, 16)), name)
            if kind == "F64":
                self.assertEqual(vmx_names.field_name(int(enc, 16) + 1), name + "_HIGH")

    def test_exit_reasons_and_errors(self):
        self.assertEqual(vmx_names.exit_reason_name(10), "EXIT_REASON_CPUID")
        self.assertEqual(vmx_names.exit_reason_name(0x80000021),
                         "EXIT_REASON_INVALID_STATE (VM-entry failure)")
        self.assertEqual(vmx_names.EXIT_REASONS[48], "EPT_VIOLATION")
        self.assertIn("host-state", vmx_names.instruction_error(8))
        self.assertIn("unknown", vmx_names.instruction_error(99))


class TimelineTest(unittest.TestCase):
    def setUp(self):
        self.events = vmx_trace.parse(SERIAL, LOG, TRACE)
        self.lines = vmx_trace.render(self.events)
        self.text = "\n".join(self.lines)

    def test_sources_are_merged_by_time(self):
        order = [line.split()[0] for line in self.lines if line.strip()]
        self.assertEqual(order[:7], ["VMXON", "VMWRITE", "VMWRITE", "VMLAUNCH", "(Bochs", "VM",
                                     "entered:"])
        self.assertLess(self.text.index("guest 100158: cpuid"), self.text.index("VM exit #1"))
        self.assertLess(self.text.index("VM exit #1"), self.text.index("VMREAD    VM_EXIT_REASON"))

    def test_exit_has_name_qualification_and_guest_rip(self):
        self.assertIn("VM exit #1: EXIT_REASON_CPUID (10), qualification 0x0, guest RIP 0x10015a",
                      self.text)

    def test_instructions_are_marked_guest_or_host(self):
        self.assertIn("guest 100158: cpuid", self.text)
        self.assertIn("host  10014b: xor eax, eax", self.text)

    def test_failures_are_highlighted(self):
        bad = [line for line in self.lines if line.startswith("!!")]
        self.assertEqual(len(bad), 2, bad)
        self.assertIn("VMFAIL: VMCS invalid host TR selector", bad[0])
        self.assertIn("VM-instruction error 8: VM entry with invalid host-state field(s)", bad[1])
        self.assertNotIn("!!", "\n".join(l for l in self.lines if "CPUID" in l))

    def test_summary_names_the_first_failure_and_its_fields(self):
        summ = "\n".join(vmx_trace.summary(self.events))
        self.assertIn("2 VM entries, 1 VM exits (CPUID 1)", summ)
        self.assertIn("!! first failure: Bochs: VMFAIL: VMCS invalid host TR selector", summ)

    def test_suspects_are_the_fields_a_message_names(self):
        events = vmx_trace.parse(SERIAL, "00000000800e[CPU0  ] VMENTER FAIL: VMCS guest incorrect "
                                 "TR type\n")
        summ = "\n".join(vmx_trace.summary(events))
        self.assertIn("GUEST_TR_AR_BYTES = 0x83", summ)
        self.assertNotIn("GUEST_RIP", summ.split("last written as:")[1])

    def test_a_faulting_instruction_is_a_failure(self):
        events = vmx_trace.parse("vmxtrace tsc=5 VMXON addr=0x1000 rc=3 vector=6\n", "")
        self.assertEqual(vmx_trace.render(events), ["!! VMXON     0x1000  faulted: #UD"])

    def test_no_timestamps_unless_asked(self):
        self.assertNotIn("[", "".join(l for l in self.lines if "VMXON" in l))
        self.assertTrue(vmx_trace.render(self.events, show_tsc=True)[0].startswith("[        100]"))

    def test_instructions_outside_the_kernels_insns_window_are_dropped(self):
        # Bochs prints the instruction it stopped at when the run ends.
        trace = TRACE + "(0).[950] [0x000000103fd8] 0008:0000000000103fd8 (unk. ctxt): out dx, al ; ee\n"
        text = "\n".join(vmx_trace.render(vmx_trace.parse(SERIAL, LOG, trace)))
        self.assertIn("cpuid", text)
        self.assertNotIn("out dx, al", text)

    def test_lines_written_to_port_e9_are_read_from_bochs_output(self):
        out = "00000000000i[      ] reading configuration from bochsrc\n" + SERIAL
        events = vmx_trace.parse("boot: command line \"vmxtrace=e9\"\n", LOG, out + TRACE)
        self.assertIn("VMXON     0x128000", vmx_trace.render(events))

    def test_only_vmx_refusals_are_failures(self):
        log = ("00000000010e[CPU0  ] #GP: VMXON is not allowed !\n"
               "00000000011e[CPU0  ] VMEXIT: EPT violation at 0x0000000000400000\n"
               "00000000012e[CPU0  ] interrupt(long mode): vector must be within IDT table limits\n"
               "00000000013e[CPU0  ] check_CR4(): attempt to clear CR4.VMXE in vmx mode\n")
        lines = vmx_trace.render(vmx_trace.parse("", log))
        self.assertEqual(lines, ["!! Bochs: #GP: VMXON is not allowed !",
                                 "    Bochs: VMEXIT: EPT violation at 0x0000000000400000",
                                 "    Bochs: interrupt(long mode): vector must be within IDT table limits",
                                 "!! Bochs: check_CR4(): attempt to clear CR4.VMXE in vmx mode"])

    def test_traced_runs_give_the_kernel_port_e9(self):
        import runner
        traced = runner.bochs_config("k.rom", "s.log", "e.log", "tigerlake", 128, 5000000, True)
        plain = runner.bochs_config("k.rom", "s.log", "e.log", "tigerlake", 128, 5000000, False)
        self.assertIn("port_e9_hack: enabled=1\n", traced)
        self.assertIn("cpu0=report", traced)
        self.assertNotIn("port_e9_hack", plain)

    def test_noise_is_dropped(self):
        self.assertNotIn("page walk", self.text)
        self.assertNotIn("Shutdown", self.text)


# A kernel that breaks one entry on purpose (chapter 04's broken VMCSs), then runs a guest.
SECTIONS_SERIAL = """vmxtrace tsc=10 VMXON addr=0x1000 rc=0 vector=-1
vmxtrace tsc=20 EXPECT failure host TR selector 0
vmxtrace tsc=30 VMWRITE field=0xc0c value=0x0 rc=0 vector=-1
vmxtrace tsc=40 VMLAUNCH
vmxtrace tsc=60 VMREAD field=0x4400 value=0x8 rc=0 vector=-1
vmxtrace tsc=61 VMLAUNCH rc=2 error=8
@ckpt broken-host-tr nonce=1 hw=vmfail
vmxtrace tsc=70 CHECKPOINT broken-host-tr
vmxtrace tsc=80 VMWRITE field=0xc0c value=0x18 rc=0 vector=-1
vmxtrace tsc=90 VMLAUNCH
  GUEST_ES_BASE  0000vmxtrace tsc=120 VMREAD field=0x4402 value=0x80000021 rc=0 vector=-1
vmxtrace tsc=121 VMREAD field=0x681e value=0x5000 rc=0 vector=-1
"""
SECTIONS_LOG = """00000000050d[CPU0  ] VMLAUNCH VMCS ptr: 0x0000000000002000
00000000050e[CPU0  ] VMFAIL: VMCS invalid host TR selector
00000000100d[CPU0  ] VMLAUNCH VMCS ptr: 0x0000000000002000
00000000100d[CPU0  ] VMENTER to x86-64 guest
00000000100e[CPU0  ] VMENTER FAIL: VMCS guest invalid CR0
00000000100e[CPU0  ] VMEXIT: Guest State Checks Failed
00000000100d[CPU0  ] VMEXIT reason = 33 (INVALID_GUEST_STATE) qualification=0x0
"""


class SectionsTest(unittest.TestCase):
    def setUp(self):
        self.events = vmx_trace.parse(SECTIONS_SERIAL, SECTIONS_LOG)
        self.lines = vmx_trace.render(self.events)
        self.text = "\n".join(self.lines)
        self.summ = "\n".join(vmx_trace.summary(self.events))

    def test_checkpoints_and_announcements_structure_the_timeline(self):
        self.assertIn("== deliberately broken: host TR selector 0", self.lines)
        self.assertIn("-- checkpoint broken-host-tr", self.lines)
        self.assertLess(self.lines.index("!! Bochs: VMFAIL: VMCS invalid host TR selector"),
                        self.lines.index("-- checkpoint broken-host-tr"))

    def test_a_trace_line_in_the_middle_of_a_console_line_is_read(self):
        self.assertIn("VMREAD    VM_EXIT_REASON (0x4402) -> 0x80000021  "
                      "(EXIT_REASON_INVALID_STATE (VM-entry failure))", self.lines)
        self.assertEqual(vmx_trace.console_lines(SECTIONS_SERIAL)[1], "  GUEST_ES_BASE  0000")

    def test_error_reads_are_explained(self):
        self.assertIn("VMREAD    VM_INSTRUCTION_ERROR (0x4400) -> 0x8  "
                      "(error 8: VM entry with invalid host-state field(s))", self.lines)

    def test_a_failed_entry_does_not_say_entered(self):
        self.assertNotIn("entered:", self.text)

    def test_deliberate_failures_are_listed_apart_and_the_next_one_is_first(self):
        self.assertIn("host TR selector 0: Bochs: VMFAIL: VMCS invalid host TR selector "
                      "[HOST_TR_SELECTOR = 0x0]", self.summ)
        self.assertIn("!! first failure not announced as deliberate: Bochs: VMENTER FAIL: "
                      "VMCS guest invalid CR0", self.summ)
        self.assertIn("!! VMLAUNCH  VMfailValid, VM-instruction error 8: VM entry with invalid "
                      "host-state field(s)", self.lines)

    def test_an_announced_failure_that_does_not_happen_is_reported(self):
        events = vmx_trace.parse("vmxtrace tsc=1 EXPECT failure nothing\n"
                                 "vmxtrace tsc=2 CHECKPOINT x\n", "")
        summ = vmx_trace.summary(events)
        self.assertIn("!! nothing: did NOT fail", summ)
        self.assertIn("!! first failure not announced as deliberate: nothing did not fail", summ)

    def test_instructions_after_an_entry_are_the_guests_even_without_vmenter_to(self):
        log = ("00000000010d[CPU0  ] VMLAUNCH VMCS ptr: 0x0000000000002000\n"
               "00000000012d[CPU0  ] VMEXIT reason = 18 (VMCALL) qualification=0x0\n")
        trace = ("(0).[10] [0x000000107eb2] 0008:0000000000107eb2 (unk. ctxt): vmlaunch ; 0f01c2\n"
                 "(0).[11] [0x000000008006] 0000:0000000000008006 (unk. ctxt): vmcall   ; 0f01c1\n"
                 "(0).[13] [0x000000107ec9] 0008:0000000000107ec9 (unk. ctxt): push rax ; 50\n")
        serial = "vmxtrace tsc=9 INSNS on\nvmxtrace tsc=14 INSNS off\n"
        text = "\n".join(vmx_trace.render(vmx_trace.parse(serial, log, trace)))
        self.assertIn("host  107eb2: vmlaunch", text)
        self.assertIn("guest 8006: vmcall", text)
        self.assertIn("host  107ec9: push rax", text)

    def test_long_runs_of_reads_are_one_line_unless_asked(self):
        serial = "".join("vmxtrace tsc=%d VMREAD field=0x%x value=0x0 rc=0 vector=-1\n"
                         % (i, 0x4000 + 2 * i) for i in range(8))
        events = vmx_trace.parse(serial, "")
        self.assertEqual(vmx_trace.render(events), [
            "VMREAD    8 fields (PIN_BASED_VM_EXEC_CONTROL ... VM_EXIT_MSR_STORE_COUNT)"])
        self.assertEqual(len(vmx_trace.render(events, all_reads=True)), 8)

    def test_msr_load_failures_name_the_entry_msr_load_list(self):
        serial = ("vmxtrace tsc=1 VMWRITE field=0x200a value=0x9000 rc=0\n"
                  "vmxtrace tsc=2 VMWRITE field=0x2008 value=0x0 rc=0\n")
        log = "00000000003e[CPU0  ] VMX LoadMSRs 2: unable to restore FSBASE or GSBASE\n"
        summ = "\n".join(vmx_trace.summary(vmx_trace.parse(serial, log)))
        self.assertIn("last written as: VM_ENTRY_MSR_LOAD_ADDR = 0x9000", summ)
        self.assertNotIn("VM_EXIT_MSR_LOAD_ADDR", summ)


if __name__ == "__main__":
    unittest.main()
