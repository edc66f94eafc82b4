# test_blob_asm.py: tools/blob_asm.py writes an .incbin of the absolute path between two
# global symbols, and refuses names and paths the assembler would misread.
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import blob_asm  # noqa: E402


class BlobAsmTest(unittest.TestCase):
    def test_symbols_and_incbin(self):
        text = blob_asm.render("guest_image", "/build/guests/g.bin", "g_blob.S")
        self.assertIn(".globl guest_image, guest_image_end", text)
        self.assertIn('.incbin "/build/guests/g.bin"', text)
        self.assertLess(text.index("guest_image:"), text.index(".incbin"))
        self.assertLess(text.index(".incbin"), text.index("guest_image_end:"))

    def test_refuses_bad_names_and_paths(self):
        with self.assertRaises(ValueError):
            blob_asm.render("1bad", "/x", "o.S")
        with self.assertRaises(ValueError):
            blob_asm.render("ok", '/x"y', "o.S")

    def test_main_writes_absolute_path(self):
        with tempfile.TemporaryDirectory() as d:
            inp, out = os.path.join(d, "in.bin"), os.path.join(d, "out.S")
            open(inp, "wb").close()
            self.assertEqual(blob_asm.main(["blob", os.path.relpath(inp), out]), 0)
            with open(out) as f:
                self.assertIn('.incbin "%s"' % os.path.abspath(inp), f.read())


if __name__ == "__main__":
    unittest.main()
