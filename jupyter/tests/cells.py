"""Running cells with a jupyter_client BlockingKernelClient, as a notebook front end would."""

import re
import time

import psutil

TIMEOUT = 60


def run_cell(client, code, timeout=TIMEOUT, when=None):
    """Executes `code`; returns (reply content, outputs, seconds).

    `outputs` are the cell's stream, display_data and error messages in order. `when` is an
    optional (pattern, action): action() runs once, as soon as the stream text so far matches the
    regular expression `pattern` (to interrupt or kill at a known point).
    """
    start = time.monotonic()
    msg_id = run_in_background(client, code)
    outputs, text = [], ""
    pattern, action = when or (None, None)
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        # The msg_type too: jupyter_client's KernelManager numbers its messages apart from its
        # client's under one session id, so an interrupt_request can share an execute's msg_id.
        parent = message["parent_header"]
        if parent.get("msg_id") != msg_id or parent.get("msg_type") != "execute_request":
            continue
        kind = message["msg_type"]
        if kind == "status" and message["content"]["execution_state"] == "idle":
            break
        if kind in ("stream", "display_data", "error"):
            outputs.append(message)
        if kind == "stream":
            text += message["content"]["text"]
            if pattern and re.search(pattern, text, re.MULTILINE):
                pattern = None
                action()
    return reply_to(client, msg_id, timeout)["content"], outputs, time.monotonic() - start


def run_in_background(client, code):
    """Sends a cell and returns its msg_id at once. stop_on_error is off: with it, ipykernel drops
    the requests that arrive just after an error reply (a notebook's queued cells), and these
    tests send the next cell right after one."""
    return client.execute(code, stop_on_error=False)


def reply_to(client, msg_id, timeout=TIMEOUT):
    """The shell reply to `msg_id`, skipping replies to earlier requests (start-up's kernel_info)."""
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id and not reply["msg_type"].startswith("kernel_info"):
            return reply


def stream_text(outputs, name="stdout"):
    return "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == name)


def vaesh_process(manager):
    """The vaesh process behind a kernel: the kernel's child running the vaesh binary."""
    kernel = psutil.Process(manager.provisioner.process.pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for child in kernel.children(recursive=True):
            try:
                if "--kernel-protocol" in child.cmdline():
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    raise AssertionError("no vaesh --kernel-protocol process under the kernel")


# The first row of train's table: the epoch number, then the epoch's loss.
FIRST_EPOCH_ROW = r"^\s+1\s+\d+\.\d+"
