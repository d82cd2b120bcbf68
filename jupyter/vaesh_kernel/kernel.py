"""VaeshKernel: Jupyter's requests, answered by one vaesh process.

ipykernel's `Kernel` base class does the messaging (the ZeroMQ sockets, HMAC signatures, the
heartbeat, the control channel, execution counts, busy and idle). This class maps each request
onto one request of the vaesh process (child.py) and vaesh's frames onto Jupyter's messages:

    execute_request      execute: the cell runs as a script named `cell` (stops at its first error)
      stream             stream frames (stdout, stderr), as they come
      display_data       display frames: a picture's image/png and text/plain
      error + reply      a reply with status error: the located message, the caret, the hint
    complete_request     complete: the command table's completion
    inspect_request      inspect: what `help COMMAND` says
    is_complete_request  is_complete: the lexer's incomplete signal
    interrupt_request    SIGINT to vaesh while a cell runs (interrupt_mode "message")
    shutdown_request     shutdown, then terminate if vaesh does not leave

A vaesh that dies is reported by the cell that finds out, and a new one started.
"""

import os
import shutil
import signal

from ipykernel.kernelbase import Kernel

from .child import VaeshGone, VaeshProcess

#: How long completion, inspection and is_complete wait for vaesh: they run no command.
QUICK_TIMEOUT = 10.0

#: What a request's content must hold before the base class reads it, and the reply it gets if not.
REQUIRED_FIELDS = {
    "execute_request": ("execute_reply", {"code": (str,)}),
    "complete_request": ("complete_reply", {"code": (str,), "cursor_pos": (int, type(None))}),
    "inspect_request": ("inspect_reply", {"code": (str,), "cursor_pos": (int,)}),
    "is_complete_request": ("is_complete_reply", {"code": (str,)}),
}

LOST_STATE = ("A new vaesh has started, without the data, model and variables of the old one: "
              "run the cells above again.")


class VaeshKernel(Kernel):
    implementation = "vaesh"
    implementation_version = "unknown"
    language = "vaesh"
    banner = "vaesh: see what a variational autoencoder optimises. 'help' lists the commands."
    language_info = {
        "name": "vaesh",
        "mimetype": "text/x-vaesh",
        "file_extension": ".vae",
        # vaesh's comments (#) and quotes read like a shell's, so a shell highlighter fits best.
        "codemirror_mode": "shell",
        "pygments_lexer": "bash",
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._binary = os.environ.get("VAESH_KERNEL_BINARY") or shutil.which("vaesh") or "vaesh"
        self._vaesh = None
        #: Why vaesh ended without a cell being told; the next cell says so.
        self._lost = None
        self._executing = False
        self._shutting_down = False
        self._start_vaesh()

    def _start_vaesh(self):
        try:
            self._vaesh = VaeshProcess(self._binary)
        except VaeshGone as gone:
            self._vaesh = None
            self._lost = f"{gone}\nhint: check the binary, then run its `vaesh kernel install` again"
            self.log.error("%s", gone)
            return
        self.implementation_version = self._vaesh.version
        self.language_info = {**type(self).language_info, "version": self._vaesh.version}

    def _restart_vaesh(self):
        if self._vaesh is not None:
            self._vaesh.kill()
        self._lost = None
        self._start_vaesh()

    # MARK: - Requests that run a cell

    async def do_execute(self, code, silent, store_history=True, user_expressions=None,
                         allow_stdin=False, *, cell_meta=None, cell_id=None):
        if self._lost is not None or self._vaesh is None or not self._vaesh.alive:
            why = self._lost or (self._vaesh.how_it_ended() + " while no cell ran")
            self._restart_vaesh()
            if self._lost is not None:  # it cannot start at all
                return self._error(silent, "VaeshDied", self._lost.splitlines())
            return self._error(silent, "VaeshDied", [why, "This cell did not run. " + LOST_STATE])
        self._executing = True
        try:
            reply = self._vaesh.request("execute", code=code, on_output=lambda frame: self._publish(frame, silent),
                                        on_stray=self._log_stray)
        except VaeshGone as gone:
            if self._shutting_down:
                return self._error(silent, "KernelShutdown", ["the kernel is shutting down"])
            self._restart_vaesh()
            return self._error(silent, "VaeshDied", [f"{gone} while this cell ran.", LOST_STATE])
        finally:
            self._executing = False
        if reply.get("status") == "ok":
            return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}
        error = reply.get("error") or {}
        message = error.get("message", "the cell failed")
        evalue = f"{error['location']}: {message}" if error.get("location") else message
        traceback = (error.get("rendered") or message).rstrip("\n").split("\n")
        return self._error(silent, error.get("name", "ScriptError"), traceback, evalue)

    def _publish(self, frame, silent):
        if silent:
            return
        if frame.get("type") == "stream":
            self.send_response(self.iopub_socket, "stream", {"name": frame["name"], "text": frame["text"]})
        elif frame.get("type") == "display":
            self.send_response(self.iopub_socket, "display_data",
                               {"data": frame["data"], "metadata": frame.get("metadata", {}), "transient": {}})

    def _error(self, silent, ename, traceback, evalue=None):
        """The cell's error: published (unless silent) and returned as the execute_reply."""
        content = {"ename": ename, "evalue": evalue or traceback[0], "traceback": traceback}
        if not silent:
            self.send_response(self.iopub_socket, "error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}

    def _log_stray(self, text):
        self.log.warning("vaesh wrote between cells: %s", text.rstrip())

    # MARK: - Requests that only look

    def _quick(self, kind, **fields):
        """vaesh's reply to a request that runs nothing, or None (logged) if there is none."""
        if self._vaesh is None or self._lost is not None:
            return None
        try:
            reply = self._vaesh.request(kind, timeout=QUICK_TIMEOUT, on_stray=self._log_stray, **fields)
        except VaeshGone as gone:
            self._lost = f"{gone} while no cell ran"  # the next cell reports it and restarts vaesh
            return None
        except TimeoutError as late:
            self.log.warning("%s", late)
            return None
        if reply.get("status") != "ok":
            self.log.warning("vaesh refused a %s request: %s", kind, reply.get("error"))
            return None
        return reply

    async def do_complete(self, code, cursor_pos):
        cursor = len(code) if cursor_pos is None else cursor_pos
        reply = self._quick("complete", code=code, cursor=cursor) or {}
        return {"status": "ok", "matches": reply.get("matches", []), "metadata": {},
                "cursor_start": reply.get("cursor_start", cursor), "cursor_end": reply.get("cursor_end", cursor)}

    async def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        reply = self._quick("inspect", code=code, cursor=cursor_pos) or {}
        found = bool(reply.get("found"))
        return {"status": "ok", "found": found, "data": {"text/plain": reply["text"]} if found else {}, "metadata": {}}

    async def do_is_complete(self, code):
        reply = self._quick("is_complete", code=code)
        if reply is None:
            return {"status": "unknown"}
        status = reply["completeness"]
        return {"status": status, "indent": ""} if status == "incomplete" else {"status": status}

    # MARK: - Interrupts and the end

    def _interrupt_vaesh(self):
        if self._executing and self._vaesh is not None:
            self._vaesh.interrupt()

    async def interrupt_request(self, stream, ident, parent):
        """Jupyter's interrupt (this kernelspec's interrupt_mode is "message"): SIGINT to vaesh
        while a cell runs, which stops its command at the next safe point and keeps the session.
        While no cell runs there is nothing to stop, and nothing is sent."""
        self._interrupt_vaesh()
        self.session.send(stream, "interrupt_reply", {"status": "ok"}, parent, ident=ident)

    def pre_handler_hook(self):
        # A SIGINT to this process (`kill -INT`, a client in signal mode) goes to vaesh as an
        # interrupt request would, instead of raising KeyboardInterrupt wherever this code is.
        self.saved_sigint_handler = signal.signal(signal.SIGINT, lambda signum, frame: self._interrupt_vaesh())

    async def do_shutdown(self, restart):
        self._shutting_down = True
        if self._vaesh is not None:
            self._vaesh.close()
        return {"status": "ok", "restart": restart}

    # MARK: - Malformed requests

    def should_handle(self, stream, msg, idents):
        """Refuses a request that lacks what it needs with an error reply: the base class would
        only log it, and the client would wait for a reply forever."""
        if msg["header"]["msg_type"] in REQUIRED_FIELDS and self._refuse_malformed(stream, idents, msg):
            return False
        return super().should_handle(stream, msg, idents)

    def _refuse_malformed(self, stream, ident, parent):
        """Replies with status error, and returns True, when the request's content is not what
        REQUIRED_FIELDS says."""
        msg_type = parent["header"]["msg_type"]
        reply_type, fields = REQUIRED_FIELDS[msg_type]
        content = parent.get("content")
        problem = None if isinstance(content, dict) else "its content is not an object"
        for key, types in fields.items():
            if problem is not None:
                break
            if key not in content:
                problem = f"it has no '{key}'"
            elif isinstance(content[key], bool) or not isinstance(content[key], types):
                wanted = " or ".join("null" if kind is type(None) else kind.__name__ for kind in types)
                problem = f"'{key}' must be {wanted}, not {type(content[key]).__name__}"
        if problem is None:
            return False
        evalue = f"malformed {msg_type}: {problem}"
        reply = {"status": "error", "ename": "MalformedMessage", "evalue": evalue, "traceback": [evalue]}
        if msg_type == "execute_request":
            reply["execution_count"] = self.execution_count
        self.session.send(stream, reply_type, reply, parent, ident)
        return True
