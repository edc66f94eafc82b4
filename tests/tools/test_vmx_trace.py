# test_vmx_trace.py: the VMX timeline parser on lines in the formats Bochs 2.7 and
# common/vmxtrace.c print: merge order, names, guest RIP, failures, suspects, no timestamps.
import os
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
        self.assertEqual(order[:6], ["VMXON", "VMWRITE", "VMWRITE", "VMLAUNCH", "VM", "entered:"])
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
        self.assertEqual(vmx_trace.render(events), ["!! VMXON     0x1000  !! faulted: #UD"])

    def test_no_timestamps_unless_asked(self):
        self.assertNotIn("[", "".join(l for l in self.lines if "VMXON" in l))
        self.assertTrue(vmx_trace.render(self.events, show_tsc=True)[0].startswith("[        100]"))

    def test_noise_is_dropped(self):
        self.assertNotIn("page walk", self.text)
        self.assertNotIn("Shutdown", self.text)


if __name__ == "__main__":
    unittest.main()
