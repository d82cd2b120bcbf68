"""Jupyter's own kernel conformance tests (jupyter_kernel_test), with vaesh samples.

KernelTests starts the kernel through its kernelspec, sends each kind of request, and checks
every message against the messaging protocol's schemas. The samples below say what vaesh should
answer; the tests after them check what is vaesh's own: located errors, decodable pictures,
execution counts and state kept from cell to cell.
"""

import base64

import jupyter_kernel_test

from pngcheck import decode_png

# One small model on 300 images: enough for every picture command, quick to load.
SETUP = "load mnist limit=300\nmodel"


class VaeshKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "vaesh"
    language_name = "vaesh"
    file_extension = ".vae"

    code_hello_world = 'echo "hello, world"'
    # Under --json (set json=on), --echo lines go to stderr so that stdout stays pure JSON.
    code_stderr = "set json=on echo=on\nvars\nset json=off echo=off"

    completion_samples = [
        {"text": "show-si", "matches": {"show-sign"}},
        {"text": "train epo", "matches": {"epochs="}},
        {"text": "recon split=t", "matches": {"split=train", "split=test"}},
        {"text": "load mnist\nkl split=v", "matches": {"split=validation"}},
    ]
    complete_code_samples = ["train epochs=2", 'echo "done"', "load mnist; model", "# a comment", ""]
    incomplete_code_samples = ['echo "no closing quote', "train epochs=2 \\", "load mnist\necho 'open"]
    invalid_code_samples = ['echo "\\q"']

    code_generate_error = "tran epochs=2"
    code_display_data = [
        {"code": SETUP + "\nsample 4", "mime": "image/png"},
        {"code": SETUP + "\nreconstruct 2", "mime": "image/png"},
        {"code": SETUP + "\ntraverse dim=1 steps=3", "mime": "image/png"},
        {"code": SETUP + "\nset json=on\nelbo limit=50\nset json=off", "mime": "application/json"},
    ]
    code_inspect_sample = "train epochs=2"

    # MARK: - vaesh's own

    def run_cell(self, code):
        self.flush_channels()
        return self.execute_helper(code, timeout=120)

    def test_vaesh_error_is_located_with_caret_and_hint(self):
        reply, outputs = self.run_cell('echo "before"\nload mnist limit=300\nmodel\ntrain epochs=1 lrr=3\necho "never"')
        content = reply["content"]
        self.assertEqual(content["status"], "error")
        self.assertEqual(content["ename"], "ScriptError")
        self.assertEqual(content["evalue"], "cell:4:16: unknown option 'lrr' for 'train'; did you mean 'lr'?")
        self.assertEqual(content["traceback"], ["cell:4:16: error: unknown option 'lrr' for 'train'; did you mean 'lr'?",
                                                "train epochs=1 lrr=3", "               ^~~"])
        streams = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        self.assertIn("before", streams)
        self.assertNotIn("never", streams)  # a cell is a script: it stops at its first error
        self.assertEqual([m["msg_type"] for m in outputs][-1], "error")

    def test_vaesh_pictures_are_png_not_text(self):
        for code, pixels in [(SETUP + "\nsample 16", (242, 62)), (SETUP + "\ntrain epochs=2\ncurves", None)]:
            with self.subTest(code=code):
                reply, outputs = self.run_cell(code)
                self.assertEqual(reply["content"]["status"], "ok")
                pictures = [m["content"] for m in outputs if m["msg_type"] == "display_data"]
                self.assertEqual(len(pictures), 1)
                width, height, _ = decode_png(base64.b64decode(pictures[0]["data"]["image/png"]))
                self.assertEqual((width, height), (pictures[0]["metadata"]["image/png"]["width"],
                                                   pictures[0]["metadata"]["image/png"]["height"]))
                if pixels:
                    self.assertEqual((width, height), pixels)
                self.assertIn("pixels", pictures[0]["data"]["text/plain"])
                text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
                self.assertNotIn("@", text)  # no picture drawn in characters as well
                self.assertNotIn("●", text)

    def test_vaesh_state_and_execution_counts_carry_across_cells(self):
        first, _ = self.run_cell("let x = 41")
        second, outputs = self.run_cell('echo "x + 1 = {x + 1}"')
        self.assertEqual(second["content"]["execution_count"], first["content"]["execution_count"] + 1)
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        self.assertIn("x + 1 = 42", text)

    def test_vaesh_inspect_shows_help(self):
        self.flush_channels()
        msg_id = self.kc.inspect("load mnist limit=10", cursor_pos=3)
        reply = self.get_non_kernel_info_reply(timeout=15)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertTrue(reply["content"]["found"])
        self.assertTrue(reply["content"]["data"]["text/plain"].startswith("usage: load mnist"))
        msg_id = self.kc.inspect("not-a-command", cursor_pos=3)
        reply = self.get_non_kernel_info_reply(timeout=15)
        self.assertFalse(reply["content"]["found"])
