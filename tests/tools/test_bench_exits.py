# test_bench_exits.py: tools/bench_exits.py reads the kernel's "@ckpt bench" line and refuses to
# run without a built kernel.
import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import bench_exits  # noqa: E402


class BenchExitsTest(unittest.TestCase):
    def test_parses_the_kernel_line(self):
        line = "@ckpt bench nonce=0123456789abcdef iterations=2000 cpuid=234 vmcall=236 io=289 loop=3\n"
        m = bench_exits.BENCH_RE.search("noise\n" + line)
        self.assertEqual(tuple(int(x) for x in m.groups()), (2000, 234, 236, 289, 3))

    def test_needs_a_build(self):
        with tempfile.TemporaryDirectory() as d, redirect_stderr(io.StringIO()) as err:
            self.assertEqual(bench_exits.main(["--build", d]), 1)
        self.assertIn("not built", err.getvalue())


if __name__ == "__main__":
    unittest.main()
