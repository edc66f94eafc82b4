# test_checkpoints.py: judging serial logs: faked lines with wrong nonces, garbage,
# missing output, skips on CPUs without VMX, and scoring across runs.
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import checkpoints  # noqa: E402
from runner import RunResult  # noqa: E402

CHAPTER = """
[chapter]
id = "99"
title = "test"
kernel = "ch99"
requires = ["vmx"]
[[run]]
name = "a"
cpu = "intel"
[[checkpoint]]
id = "basic"
points = 3
expect = ["revision == msr('IA32_VMX_BASIC') & 0x7fffffff"]
[[checkpoint]]
id = "vendor"
points = 1
always = true
expect = ["vendor == cpu.vendor"]
[[checkpoint]]
id = "ept"
points = 2
requires = ["ept"]
expect = ["walk == 4"]
"""
INTEL = {"name": "intel", "vendor": "GenuineIntel", "vmx": True, "ept": False,
         "msr": {"IA32_VMX_BASIC": 0x00d810000000002b}}
NOVMX = {"name": "novmx", "vendor": "GenuineIntel", "vmx": False, "msr": {}}


def chapter():
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "checkpoints.toml"), "w") as f:
        f.write(CHAPTER)
    return checkpoints.load_chapter(d)


def run(serial, outcome="finished"):
    return RunResult(outcome, serial)


def statuses(results):
    return {r.id: r.status for r in results}


class JudgeTest(unittest.TestCase):
    def setUp(self):
        self.ch = chapter()
        self.run = self.ch.runs[0]

    def test_good_run(self):
        log = ("@ckpt vendor nonce=N vendor=GenuineIntel\n@ckpt basic nonce=N revision=0x2b\n"
               "@end nonce=N status=0 tsc=5")
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run(log))
        self.assertEqual(statuses(res), {"boot": "pass", "vendor": "pass", "basic": "pass", "ept": "skip"})
        self.assertEqual(checkpoints.score([res])[:2], (4, 4))

    def test_wrong_value_names_the_values(self):
        log = "@ckpt basic nonce=N revision=0x2c\n@end nonce=N status=0\n"
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run(log))
        basic = next(r for r in res if r.id == "basic")
        self.assertEqual(basic.status, "fail")
        self.assertIn("revision=0x2c", basic.message)

    def test_replayed_output_with_another_nonce_scores_nothing(self):
        log = "@ckpt vendor nonce=OLD vendor=GenuineIntel\n@ckpt basic nonce=OLD revision=0x2b\n@end nonce=OLD status=0\n"
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run(log))
        self.assertEqual(statuses(res)["boot"], "fail")
        self.assertIn("wrong or missing nonce", next(r for r in res if r.id == "basic").message)
        self.assertEqual(checkpoints.score([res])[0], 0)

    def test_garbage_and_missing_newline(self):
        log = "\x00\xff@@ckpt junk\n@ckpt basic\n@ckpt basic nonce=N revision=zz\n@end nonce=N status=0"
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run(log))
        self.assertEqual(statuses(res)["basic"], "fail")
        self.assertEqual(statuses(res)["boot"], "pass")

    def test_nonce_compared_as_printed(self):
        # Found by tests/fuzz/fuzz_checkpoints.py: an all-zero nonce became the number 0.
        log = "@ckpt basic nonce=0000000000000000 revision=0x2b\n@end nonce=0000000000000000 status=0\n"
        res = checkpoints.judge(self.ch, self.run, INTEL, "0000000000000000", run(log))
        self.assertEqual(statuses(res)["boot"], "pass")
        self.assertEqual(statuses(res)["basic"], "pass")

    def test_fields_are_whole_words(self):
        # Found by the fuzzer: "x(status=0" counted as status=0.
        log = "@ckpt basic nonce=N revision=0x2b\n@end nonce=N garbage(status=0\n"
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run(log))
        self.assertEqual(statuses(res)["boot"], "fail")
        self.assertEqual(checkpoints.parse_log("@ckpt x nonce=N a=1 b(c=2 d=x=y")[0][3], {"a": 1, "d": "x=y"})

    def test_timeout_and_missing(self):
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run("@ckpt vendor nonce=N vendor=GenuineIntel\n", "timeout"))
        self.assertEqual(statuses(res)["boot"], "fail")
        self.assertIn("missing", next(r for r in res if r.id == "basic").message)

    def test_no_vmx_is_a_skip_never_a_pass(self):
        log = "@ckpt vendor nonce=N vendor=GenuineIntel\n@skip nonce=N no VMX here\n@end nonce=N status=3\n"
        res = checkpoints.judge(self.ch, self.run, NOVMX, "N", run(log))
        self.assertEqual(statuses(res), {"boot": "pass", "vendor": "pass", "basic": "skip", "ept": "skip"})
        # A kernel that claims success on a CPU without VMX fails.
        log = "@ckpt basic nonce=N revision=0x2b\n@end nonce=N status=0\n"
        res = checkpoints.judge(self.ch, self.run, NOVMX, "N", run(log))
        self.assertEqual(statuses(res)["boot"], "fail")

    def test_skip_on_a_vmx_cpu_fails(self):
        log = "@skip nonce=N I give up\n@end nonce=N status=3\n"
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run(log))
        self.assertEqual(statuses(res)["boot"], "fail")
        self.assertIn("I give up", res[0].message)

    def test_megabytes_of_output(self):
        log = ("x" * 1000 + "\n") * 3000 + "@ckpt basic nonce=N revision=0x2b\n@end nonce=N status=0\n"
        res = checkpoints.judge(self.ch, self.run, INTEL, "N", run(log))
        self.assertEqual(statuses(res)["basic"], "pass")

    def test_emulator_log_in_expectations(self):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "checkpoints.toml"), "w") as f:
            f.write(CHAPTER + '[[checkpoint]]\nid="hw"\nexpect=["error == 8", '
                    '"\'invalid host TR\' in emulator_log"]\n')
        ch = checkpoints.load_chapter(d)
        log = "@ckpt hw nonce=N error=8\n@end nonce=N status=0\n"
        said = run(log)
        said.emulator_log = "00001e[CPU0  ] VMFAIL: VMCS invalid host TR selector"
        hw = next(r for r in checkpoints.judge(ch, ch.runs[0], INTEL, "N", said) if r.id == "hw")
        self.assertEqual(hw.status, "pass")
        silent = next(r for r in checkpoints.judge(ch, ch.runs[0], INTEL, "N", run(log)) if r.id == "hw")
        self.assertEqual(silent.status, "fail")
        self.assertIn("emulator_log=(0 lines", silent.message)

    def test_run_memory_size(self):
        self.assertEqual(self.run.mem, 128)                 # the default
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "checkpoints.toml"), "w") as f:
            f.write(CHAPTER.replace('cpu = "intel"', 'cpu = "intel"\nmem = 2048'))
        self.assertEqual(checkpoints.load_chapter(d).runs[0].mem, 2048)

    def test_declarations_must_check_something(self):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "checkpoints.toml"), "w") as f:
            f.write('[chapter]\nid="1"\ntitle="t"\nkernel="k"\n[[checkpoint]]\nid="x"\nexpect=[]\n')
        with self.assertRaises(checkpoints.DeclarationError):
            checkpoints.load_chapter(d)


if __name__ == "__main__":
    unittest.main()
