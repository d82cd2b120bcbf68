"""Interrupts, a vaesh killed behind the kernel, saves cut short, shutdown and restart.

Interrupts come as Jupyter sends them (`KernelManager.interrupt_kernel`, an interrupt_request on
the control channel); kills are SIGKILL to the vaesh process itself.
"""

import json
import os
import random
import signal
import struct
import time

import psutil

from cells import FIRST_EPOCH_ROW, reply_to, run_cell, run_in_background, stream_text, vaesh_process

SETUP = "load mnist\nmodel"


def test_interrupt_stops_train_at_a_batch_and_keeps_the_model(kernel):
    manager, client = kernel
    content, _, _ = run_cell(client, SETUP + "\nloss limit=200\nlet start = loss")
    assert content["status"] == "ok"
    asked = []
    content, outputs, _ = run_cell(client, "train epochs=100\necho \"not reached\"", timeout=120,
                                   when=(FIRST_EPOCH_ROW, lambda: (asked.append(time.monotonic()), manager.interrupt_kernel())))
    assert asked, "train printed no epoch"
    assert content["status"] == "error"
    assert content["ename"] == "Interrupted"
    assert time.monotonic() - asked[0] < 10
    text = stream_text(outputs)
    assert "stopped by Ctrl-C after batch" in text
    assert "not reached" not in text
    # The model kept what it learned: lower loss than at the start, the epochs in its history.
    content, outputs, _ = run_cell(client, "loss limit=200\nassert loss < start\nassert epoch >= 1\nassert epoch < 100\ncurves")
    assert content["status"] == "ok", content
    assert [m["msg_type"] for m in outputs].count("display_data") == 1


def test_interrupt_stops_logpx_and_keeps_the_session(kernel):
    manager, client = kernel
    run_cell(client, SETUP + "\nlet before = 7")
    start = time.monotonic()
    msg_id_cell = run_in_background(client, "logpx k=20000")
    time.sleep(1.5)
    manager.interrupt_kernel()
    content, _ = wait_reply(client, msg_id_cell, timeout=30)
    assert content["status"] == "error"
    assert content["ename"] == "Interrupted"
    assert content["evalue"] == "cell:1:1: interrupted"
    assert time.monotonic() - start < 15
    content, outputs, _ = run_cell(client, "elbo limit=10\necho \"before = {before}\"")
    assert content["status"] == "ok"
    assert "before = 7" in stream_text(outputs)


def test_interrupts_while_idle_change_nothing(kernel):
    manager, client = kernel
    vaesh = vaesh_process(manager)
    for _ in range(3):
        manager.interrupt_kernel()
        time.sleep(0.2)
    content, outputs, _ = run_cell(client, 'echo "one"\necho "two"')
    assert content["status"] == "ok"
    assert stream_text(outputs) == "one\ntwo\n"
    assert vaesh.is_running() and vaesh_process(manager).pid == vaesh.pid


def test_a_killed_vaesh_is_reported_by_its_cell_and_restarted(kernel):
    manager, client = kernel
    run_cell(client, SETUP + "\nlet x = 1")
    vaesh = vaesh_process(manager)
    content, _, seconds = run_cell(client, "train epochs=100", timeout=60, when=(FIRST_EPOCH_ROW, vaesh.kill))
    assert content["status"] == "error"
    assert content["ename"] == "VaeshDied"
    assert content["evalue"] == "vaesh was killed by SIGKILL while this cell ran."
    assert "run the cells above again" in content["traceback"][-1]
    assert seconds < 30
    assert vaesh_process(manager).pid != vaesh.pid
    # The new vaesh answers, with a fresh session.
    content, _, _ = run_cell(client, "echo {x}")
    assert content["evalue"].startswith("cell:1:7: unknown variable 'x'")


def test_a_vaesh_killed_while_idle_is_reported_by_the_next_cell(kernel):
    manager, client = kernel
    vaesh_process(manager).kill()
    time.sleep(0.3)
    content, _, _ = run_cell(client, 'echo "first"')
    assert content["status"] == "error"
    assert content["traceback"] == ["vaesh was killed by SIGKILL while no cell ran",
                                    "This cell did not run. A new vaesh has started, without the data, model and variables "
                                    "of the old one: run the cells above again."]
    content, outputs, _ = run_cell(client, 'echo "second"')
    assert content["status"] == "ok"
    assert stream_text(outputs) == "second\n"


def test_saves_cut_short_never_lose_the_file(kernel, workdir):
    manager, client = kernel
    path = workdir / "model.safetensors"
    content, _, _ = run_cell(client, f"load mnist limit=100\nmodel\nsave '{path}'")
    assert content["status"] == "ok"
    # A hundred saves take a few seconds (each is synced to disk), so the cut lands inside one.
    saves = "\n".join([f"save '{path}'"] * 100)
    generator = random.Random(16)
    cut_short = 0
    for round in range(6):
        killing = round % 3 == 2
        cell = run_in_background(client, saves)
        time.sleep(generator.uniform(0.0, 0.3))
        if killing:
            vaesh_process(manager).kill()
        else:
            manager.interrupt_kernel()
        content, _ = wait_reply(client, cell, timeout=60)
        if content["status"] == "error":
            assert content["ename"] == ("VaeshDied" if killing else "Interrupted")
            cut_short += 1
        assert_whole_safetensors(path)
        if killing:
            run_cell(client, f"load mnist limit=100\nmodel")
        content, _, _ = run_cell(client, f"open '{path}'")
        assert content["status"] == "ok", content
    assert cut_short >= 3
    leftovers = [name for name in os.listdir(workdir) if name != "model.safetensors"]
    assert all(".tmp-" in name for name in leftovers)  # only a SIGKILL's temporary, never a second model


def test_shutdown_ends_vaesh_even_in_the_middle_of_training(kernel):
    manager, client = kernel
    run_cell(client, SETUP)
    vaesh = vaesh_process(manager)
    kernel_process = psutil.Process(manager.provisioner.process.pid)
    run_in_background(client, "train epochs=1000")
    time.sleep(1)
    start = time.monotonic()
    manager.shutdown_kernel(now=False)
    assert time.monotonic() - start < 20
    vaesh.wait(timeout=10)
    assert not kernel_process.is_running() or kernel_process.status() == psutil.STATUS_ZOMBIE


def test_restart_starts_a_new_vaesh(kernel):
    manager, client = kernel
    old = vaesh_process(manager)
    manager.restart_kernel(now=False)
    client.wait_for_ready(timeout=30)
    old.wait(timeout=10)
    content, outputs, _ = run_cell(client, 'echo "after restart"')
    assert content["status"] == "ok" and stream_text(outputs) == "after restart\n"


# MARK: - Helpers

def wait_reply(client, msg_id, timeout):
    reply = reply_to(client, msg_id, timeout)
    return reply["content"], reply


def assert_whole_safetensors(path):
    """The file is one complete safetensors file: its header parses and its tensors fill the rest."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    end = max(entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__")
    assert len(data) == 8 + length + end
