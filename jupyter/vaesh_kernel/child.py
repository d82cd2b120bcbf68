"""One long-lived `vaesh --kernel-protocol` process and the JSON lines spoken with it.

Requests go to the process's stdin, one JSON object per line; frames come back on its stdout, one
per line: `ready` once, then for each request any `stream` and `display` frames and one `reply`.
Every frame of an answer carries the request's id, so a late frame of an abandoned request (a
completion that timed out) is recognised and dropped. Two threads read the process's stdout and
stderr into one queue, so waiting for an answer never blocks on a pipe and the end of the process
is noticed at once, whatever it was doing.
"""

import collections
import json
import os
import queue
import signal
import subprocess
import threading

#: The protocol this kernel speaks; vaesh says its own in the `ready` frame.
PROTOCOL = 1


class VaeshGone(Exception):
    """The vaesh process ended, or never started; the message says why."""


class VaeshProcess:
    """A running `vaesh --kernel-protocol` and the requests sent to it, one at a time."""

    def __init__(self, binary, cwd=None, startup_timeout=30.0):
        self.binary = binary
        self._events = queue.Queue()
        self._stderr_tail = collections.deque(maxlen=40)
        self._write_lock = threading.Lock()
        self._next_id = 0
        try:
            # The same process group as the kernel, so that Jupyter's restart and kill (which
            # signal the kernel's group) end vaesh with it.
            self.process = subprocess.Popen(
                [binary, "--kernel-protocol"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=cwd, bufsize=0)
        except OSError as error:
            raise VaeshGone(f"cannot start vaesh ({binary}): {error.strerror or error}") from None
        threading.Thread(target=self._read_frames, daemon=True, name="vaesh-stdout").start()
        threading.Thread(target=self._read_stderr, daemon=True, name="vaesh-stderr").start()
        ready = self._next_event(startup_timeout)
        while ready is not None and ready[0] == "stderr":
            ready = self._next_event(startup_timeout)
        if ready is None or ready[0] != "frame" or ready[1].get("type") != "ready":
            self.kill()
            raise VaeshGone(f"{binary} did not start as a vaesh kernel: {self.how_it_ended()}")
        if ready[1].get("protocol") != PROTOCOL:
            self.kill()
            raise VaeshGone(f"{binary} speaks kernel protocol {ready[1].get('protocol')}, this kernel {PROTOCOL}: "
                            "reinstall the kernel with that binary's `vaesh kernel install`")
        self.version = str(ready[1].get("version", ""))

    # MARK: - Reading

    def _read_frames(self):
        for line in self.process.stdout:
            try:
                frame = json.loads(line)
            except ValueError:
                self._events.put(("stderr", "vaesh kernel: not a frame: " + line.decode("utf-8", "replace")))
                continue
            self._events.put(("frame", frame))
        self._events.put(("end", None))

    def _read_stderr(self):
        for line in self.process.stderr:
            text = line.decode("utf-8", "replace")
            self._stderr_tail.append(text)
            self._events.put(("stderr", text))

    def _next_event(self, timeout):
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    # MARK: - Requests

    @property
    def alive(self):
        return self.process.poll() is None

    def request(self, kind, on_output=None, on_stray=None, timeout=None, **fields):
        """Sends one request and returns its reply frame.

        `on_output(frame)` gets the answer's `stream` and `display` frames as they come, and what
        vaesh writes on stderr meanwhile (as a `stream` frame named stderr); `on_stray(text)` gets
        stderr written before the request. Raises VaeshGone if the process ends first, and
        TimeoutError after `timeout` seconds (the reply, if it comes, is then dropped).
        """
        self._drain(on_stray)
        self._next_id += 1
        request_id = self._next_id
        line = json.dumps({"type": kind, "id": request_id, **fields}, ensure_ascii=False) + "\n"
        try:
            with self._write_lock:
                self.process.stdin.write(line.encode("utf-8"))
                self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise VaeshGone(self.how_it_ended()) from None
        while True:
            event = self._next_event(timeout)
            if event is None:
                raise TimeoutError(f"vaesh did not answer a {kind} request within {timeout} s")
            what, payload = event
            if what == "end":
                raise VaeshGone(self.how_it_ended())
            if what == "stderr":
                if on_output:
                    on_output({"type": "stream", "name": "stderr", "text": payload})
                continue
            if payload.get("id") != request_id:
                continue  # a late frame of an abandoned request
            if payload.get("type") == "reply":
                return payload
            if on_output:
                on_output(payload)

    def _drain(self, on_stray):
        while True:
            try:
                what, payload = self._events.get_nowait()
            except queue.Empty:
                return
            if what == "end":
                raise VaeshGone(self.how_it_ended())
            if what == "stderr" and on_stray:
                on_stray(payload)

    def how_it_ended(self):
        """How the process ended, with the end of its stderr: for the cell that finds out."""
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "vaesh stopped answering"
        if status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = f"signal {-status}"
            how = f"vaesh was killed by {name}"
        else:
            how = f"vaesh exited with status {status}"
        tail = "".join(self._stderr_tail).strip()
        return how + (f"; its last words on stderr:\n{tail}" if tail else "")

    # MARK: - Signals and the end

    def interrupt(self):
        """Ctrl-C for vaesh: the running command stops at its next safe point, keeping the session."""
        if self.alive:
            try:
                os.kill(self.process.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def close(self, timeout=5.0):
        """Ends vaesh: a running command is interrupted, then `shutdown` asks it to leave; one that
        does not within `timeout` seconds is terminated, then killed."""
        if self.alive:
            self.interrupt()
            try:
                with self._write_lock:
                    self.process.stdin.write(b'{"type":"shutdown","id":"shutdown"}\n')
                    self.process.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    self.kill()

    def kill(self):
        if self.alive:
            self.process.kill()
        self.process.wait()
