"""Input the kernel must survive: malformed messages, a cell that never completes, `quit`.

Every case gets a reply (an error where it is one) and leaves the kernel answering the next cell.
"""

import os
import subprocess
import sys
import time

from jupyter_client.manager import start_new_kernel

from cells import reply_to, run_cell, stream_text
from conftest import REPO, SCRATCH

MALFORMED = [
    ("execute_request", {"code": 42, "silent": False}, "'code' must be str, not int"),
    ("execute_request", {"silent": False}, "it has no 'code'"),
    ("complete_request", {"code": "tra"}, "it has no 'cursor_pos'"),
    ("inspect_request", {"code": "train", "cursor_pos": "3"}, "'cursor_pos' must be int, not str"),
    ("is_complete_request", {"code": None}, "'code' must be str, not NoneType"),
]


def assert_answers(client):
    content, outputs, _ = run_cell(client, 'echo "still answering"', timeout=15)
    assert content["status"] == "ok"
    assert "still answering" in stream_text(outputs)


def test_malformed_requests_get_error_replies(kernel):
    _, client = kernel
    for msg_type, content, problem in MALFORMED:
        message = client.session.msg(msg_type, content)
        client.shell_channel.send(message)
        reply = reply_to(client, message["header"]["msg_id"], timeout=15)
        assert reply["msg_type"] == msg_type.replace("_request", "_reply")
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "MalformedMessage"
        assert reply["content"]["evalue"] == f"malformed {msg_type}: {problem}"
    # Content that is not an object, signed properly: jupyter_client would refuse to send it.
    message = client.session.msg("execute_request", {})
    parts = [client.session.pack(part) for part in (message["header"], {}, {}, ["not", "an", "object"])]
    client.shell_channel.socket.send_multipart([b"<IDS|MSG>", client.session.sign(parts)] + parts)
    reply = reply_to(client, message["header"]["msg_id"], timeout=15)
    assert reply["content"]["evalue"] == "malformed execute_request: its content is not an object"
    assert_answers(client)


def test_unsigned_and_unknown_messages_leave_the_kernel_answering(kernel):
    _, client = kernel
    # A forged signature must be ignored (the protocol's HMAC rule): no reply, no crash.
    client.shell_channel.socket.send_multipart(
        [b"<IDS|MSG>", b"0" * 64, b'{"msg_id":"x","msg_type":"execute_request","session":"s","username":"u","version":"5.3","date":"2020-01-01T00:00:00Z"}',
         b"{}", b"{}", b'{"code":"quit"}'])
    client.shell_channel.send(client.session.msg("no_such_request", {}))
    time.sleep(0.5)
    assert_answers(client)


def test_a_cell_that_never_completes_is_an_error_not_a_hang(kernel):
    _, client = kernel
    for code, evalue in [('echo "no closing quote', "cell:1:6: unterminated string: no closing \" before the end of the input"),
                         ("load mnist \\", "cell:1:12: '\\' at the end of the input continues a command that never comes"),
                         ("echo 'one\nline two", "cell:1:6: unterminated string: no closing ' before the end of the input")]:
        content, outputs, seconds = run_cell(client, code, timeout=15)
        assert content["status"] == "error"
        assert content["evalue"] == evalue
        assert seconds < 10
    assert_answers(client)


def test_cells_with_nul_bytes_and_huge_lines_are_refused_or_run(kernel):
    _, client = kernel
    content, _, _ = run_cell(client, "echo a\x00b")
    assert content["status"] == "error"
    assert "NUL byte" in content["evalue"]
    content, outputs, _ = run_cell(client, "echo " + "x" * 1_000_000)
    assert content["status"] == "ok"
    assert len(stream_text(outputs)) == 1_000_001
    assert_answers(client)


def test_quit_ends_the_session_and_the_next_cell_starts_a_new_one(kernel):
    _, client = kernel
    run_cell(client, "let x = 1")
    content, outputs, _ = run_cell(client, "quit 3")
    assert content["status"] == "ok"
    assert "the next cell starts a new one" in stream_text(outputs)
    content, _, _ = run_cell(client, "echo {x}")
    assert content["status"] == "error"
    assert content["evalue"].startswith("cell:1:7: unknown variable 'x'")
    assert_answers(client)


def test_a_kernelspec_naming_a_missing_binary_says_so_in_every_cell():
    prefix = SCRATCH / "broken"
    subprocess.run([sys.executable, str(REPO / "jupyter" / "install_kernelspec.py"), "--vaesh", str(SCRATCH / "no-vaesh"),
                    "--name", "vaesh-broken", "--prefix", str(prefix)], check=True, stdout=subprocess.DEVNULL)
    os.environ["JUPYTER_PATH"] += os.pathsep + str(prefix / "share" / "jupyter")
    manager, client = start_new_kernel(kernel_name="vaesh-broken")
    try:
        for _ in range(2):
            content, outputs, _ = run_cell(client, 'echo "hi"', timeout=15)
            assert content["status"] == "error" and content["ename"] == "VaeshDied"
            assert content["traceback"][0].startswith(f"cannot start vaesh ({SCRATCH / 'no-vaesh'}): No such file")
            assert "vaesh kernel install" in content["traceback"][-1]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
