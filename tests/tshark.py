# -*- test-case-name: tests.test_peers -*-
"""
tshark as an independent validator of the PDUs the tests put on the wire.

L{Capture} records loopback traffic to a pcapng file; L{malformedFrames},
L{summary} and L{authenticatedCount} read such a file back through
Wireshark's DCE/RPC, EPM and NTLMSSP dissectors (recipes A, B and C of
C{/work/shared/reference/test-peers.md}, section 1).

Readiness and completeness of a capture are not guessed from tshark's
messages ("Capturing on" comes before the filter is live, and SIGINT drops
the packets still in the kernel ring): L{Capture} sends empty UDP datagrams
of its own to a port it holds and waits until tshark reports them, once
after starting and once before stopping.  Those frames are part of the
file; the helpers below ignore them (they are not DCE/RPC).
"""

import collections
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from tests.peers import (
    killGroup,
    requireRoot,
    requireTool,
    startWatchdog,
    stopWatchdog,
)

SENTINEL_HOST = "127.0.0.1"

MALFORMED_FILTER = "_ws.malformed || _ws.expert.severity == error"
"""Recipe A/B: frames tshark could not dissect, or flagged as errors."""

SUMMARY_FIELDS = (
    "dcerpc.pkt_type",
    "dcerpc.opnum",
    "dcerpc.auth_level",
    "dcerpc.auth_type",
    "dcerpc.cn_frag_len",
    "_ws.col.Info",
)
"""The per-frame fields L{summary} returns by default ([MS-RPCE] 2.2.2.1)."""

_READY_TIMEOUT = 20
_STOP_TIMEOUT = 20
_READ_TIMEOUT = 120


class TsharkError(Exception):
    """
    tshark failed: it did not start, did not see its own sentinel in time,
    or could not read a capture.  The message has tshark's stderr (without
    its "running as root" warning) and never a password.
    """


NTLMAuthCount = collections.namedtuple(
    "NTLMAuthCount", ["messages", "authenticated"]
)
NTLMAuthCount.__doc__ = """
How many NTLM AUTHENTICATE messages ([MS-NLMP] 2.2.1.3) a capture holds, and
for how many tshark verified the NTLMv2 response against the password
(expert info "NTLMv2 authenticated using ...").  A good capture has both
equal and non-zero.
"""


def _portFilter(ports):
    """
    Turn ports into a BPF expression.

    @param ports: L{int}s and L{range}s (a range becomes a C{portrange}).
    @type ports: iterable
    @return: e.g. C{"tcp port 135 or tcp portrange 15000-15010"}.
    @rtype: L{str}
    @raise ValueError: on an empty list, an empty range or a stepped range.
    """
    parts = []
    for port in ports:
        if isinstance(port, range):
            if len(port) == 0 or port.step != 1:
                raise ValueError("need a non-empty contiguous range: %r" % (port,))
            parts.append("tcp portrange %d-%d" % (port[0], port[-1]))
        else:
            parts.append("tcp port %d" % (int(port),))
    if not parts:
        raise ValueError("no ports to capture")
    return " or ".join(parts)


def _decodeAsArguments(decodeAs):
    """
    C{-d tcp.port==N,dcerpc} for each port (ranges are expanded).

    @type decodeAs: iterable of L{int} or L{range}
    @rtype: L{list} of L{str}
    """
    arguments = []
    for port in decodeAs:
        ports = port if isinstance(port, range) else [port]
        for p in ports:
            arguments += ["-d", "tcp.port==%d,dcerpc" % (int(p),)]
    return arguments


def _cleanStderr(stderr):
    """
    tshark's stderr without the warning it always prints as root.

    @type stderr: L{str}
    @rtype: L{str}
    """
    return "\n".join(
        line
        for line in stderr.splitlines()
        if line.strip()
        and not line.startswith("Running as user")
    )


def _readCapture(path, arguments, password=None):
    """
    Run C{tshark -r path ...} and return its stdout lines.

    @param path: a capture file.
    @type path: L{str}
    @param arguments: more tshark arguments (filters, fields).
    @type arguments: L{list} of L{str}
    @param password: the NT password for NTLMSSP unsealing, or L{None}.
    @type password: L{str} or L{None}
    @rtype: L{list} of L{str}
    @raise TsharkError: when tshark exits non-zero or times out.
    """
    requireTool("tshark")
    argv = ["tshark", "-n", "-r", path]
    if password is not None:
        argv += ["-o", "ntlmssp.nt_password:" + password]
    argv += arguments
    try:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_READ_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise TsharkError(
            "tshark -r %s took more than %ds" % (path, _READ_TIMEOUT)
        ) from None
    stderr = _cleanStderr(result.stderr.decode("utf-8", "replace"))
    if password:
        stderr = stderr.replace(password, "<hidden>")
    if result.returncode != 0:
        raise TsharkError(
            "tshark -r %s exited with %d: %s" % (path, result.returncode, stderr)
        )
    return [
        line
        for line in result.stdout.decode("utf-8", "replace").splitlines()
        if line
    ]


def malformedFrames(path, ntlmPassword=None, decodeAs=()):
    """
    The frames tshark finds malformed or flags with an error-level expert
    info (recipe A; recipe B with C{ntlmPassword}, which also unseals
    NTLMSSP auth_type 10 stubs and dissects them).

    Warnings and notes (faults are notes) do not count.  With a password,
    SPNEGO (auth_type 9) sessions give false errors in tshark 4.0, and so
    does the first sealed request of an impacket session: compare with a
    direct baseline there.

    @param path: a capture file.
    @type path: L{str}
    @param ntlmPassword: the NT password of the session, or L{None}.
    @type ntlmPassword: L{str} or L{None}
    @param decodeAs: TCP ports to dissect as DCE/RPC even when the capture
        lacks the bind.
    @type decodeAs: iterable of L{int} or L{range}
    @return: C{(frame number, info column, expert messages)} per bad frame,
        an empty list when the capture is clean.
    @rtype: L{list} of L{tuple} of (L{int}, L{str}, L{str})
    @raise TsharkError: when tshark cannot read the file.
    """
    lines = _readCapture(
        path,
        _decodeAsArguments(decodeAs)
        + [
            "-Y",
            MALFORMED_FILTER,
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "frame.number",
            "-e",
            "_ws.col.Info",
            "-e",
            "_ws.expert.message",
        ],
        ntlmPassword,
    )
    frames = []
    for line in lines:
        number, info, message = (line.split("\t") + ["", ""])[:3]
        frames.append((int(number), info, message))
    return frames


def summary(
    path, decodeAs=(), fields=SUMMARY_FIELDS, displayFilter="dcerpc", ntlmPassword=None
):
    """
    One dictionary per DCE/RPC frame, for assertions on what went over the
    wire ([MS-RPCE] 2.2.2.1 common header fields, 2.2.2.11 auth trailer).

    Values are tshark's strings: C{""} when a frame lacks the field, and
    comma-separated when a frame holds several PDUs.  C{dcerpc.pkt_type} is
    numeric (0 request, 2 response, 3 fault, 11 bind, 12 bind_ack, 14
    alter_context, 15 alter_context_resp, 16 auth3).

    @param path: a capture file.
    @type path: L{str}
    @param decodeAs: TCP ports to force as DCE/RPC.
    @type decodeAs: iterable of L{int} or L{range}
    @param fields: the tshark field names to extract.
    @type fields: L{tuple} of L{str}
    @param displayFilter: which frames to list (L{None}: all).
    @type displayFilter: L{str} or L{None}
    @param ntlmPassword: the NT password, to unseal NTLMSSP auth_type 10
        stubs so that their decoded fields (e.g. C{samr.rc}) appear.
    @type ntlmPassword: L{str} or L{None}
    @return: dictionaries keyed by field name, plus C{"frame.number"} as an
        L{int}, in frame order.
    @rtype: L{list} of L{dict}
    @raise TsharkError: when tshark cannot read the file.
    """
    arguments = _decodeAsArguments(decodeAs)
    if displayFilter:
        arguments += ["-Y", displayFilter]
    arguments += ["-T", "fields", "-E", "separator=/t", "-e", "frame.number"]
    for field in fields:
        arguments += ["-e", field]
    rows = []
    for line in _readCapture(path, arguments, ntlmPassword):
        values = line.split("\t")
        values += [""] * (len(fields) + 1 - len(values))
        row = dict(zip(fields, values[1:]))
        row["frame.number"] = int(values[0])
        rows.append(row)
    return rows


def authenticatedCount(path, password, decodeAs=()):
    """
    Count NTLM AUTHENTICATE messages and those tshark verified against
    C{password} (recipe C): a real check of the NTLMv2 response ([MS-NLMP]
    3.3.2) computed by whoever sent it.

    @param path: a capture file with whole NEGOTIATE/CHALLENGE/AUTH
        exchanges.
    @type path: L{str}
    @param password: the NT password.
    @type password: L{str}
    @param decodeAs: TCP ports to force as DCE/RPC.
    @type decodeAs: iterable of L{int} or L{range}
    @return: the two counts.
    @rtype: L{NTLMAuthCount}
    @raise TsharkError: when tshark cannot read the file.
    """
    lines = _readCapture(
        path,
        _decodeAsArguments(decodeAs)
        + [
            "-Y",
            "ntlmssp.messagetype == 3",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "frame.number",
            "-e",
            "_ws.expert.message",
        ],
        password,
    )
    verified = sum(1 for line in lines if "authenticated using" in line)
    return NTLMAuthCount(len(lines), verified)


class Capture:
    """
    A loopback capture by tshark, written to a pcapng file.

    Use as C{with Capture([135, range(15000, 15011)]) as capture: ...} and
    read C{capture.path} afterwards, or call L{start} and L{stop}.  Needs
    root (tshark on C{lo}).

    @ivar ports: the TCP ports captured.
    @ivar interface: the capture interface.
    @ivar host: only traffic to or from this address, if set.
    @ivar path: the pcapng file.
    """

    def __init__(self, ports, interface="lo", host=None, path=None, duration=600):
        """
        @param ports: TCP ports (L{int}) and port ranges (L{range}).
        @type ports: iterable
        @param interface: the interface, C{"lo"} by default.
        @type interface: L{str}
        @param host: restrict the capture to one address.
        @type host: L{str} or L{None}
        @param path: where to write; a temporary file by default (removed
            by L{cleanup}).
        @type path: L{str} or L{None}
        @param duration: seconds after which tshark stops by itself (the
            safety net).
        @type duration: L{int}
        """
        self.ports = list(ports)
        _portFilter(self.ports)
        self.interface = interface
        self.host = host
        self.duration = duration
        self._ownDirectory = None
        if path is None:
            self._ownDirectory = tempfile.mkdtemp(prefix="mapiproxy-capture-")
            path = os.path.join(self._ownDirectory, "capture.pcapng")
        self.path = path
        self._process = None
        self._watchdog = None
        self._reader = None
        self._sink = None
        self._seen = set()
        self._condition = threading.Condition()
        self._logPath = self.path + ".log"

    def __repr__(self):
        return "<Capture %r on %s running=%s>" % (
            self.path,
            self.interface,
            self._process is not None,
        )

    def bpf(self):
        """
        The capture filter: the wanted ports (and host), plus the UDP port
        of this capture's own sentinels.

        @rtype: L{str}
        """
        wanted = "(%s)" % (_portFilter(self.ports),)
        if self.host is not None:
            wanted = "(host %s and %s)" % (self.host, wanted)
        return "%s or (udp and dst port %d and host %s)" % (
            wanted,
            self._sink.getsockname()[1],
            SENTINEL_HOST,
        )

    def start(self):
        """
        Launch tshark and wait (bounded) until it demonstrably captures.

        @return: C{self}.
        @raise TsharkError: when tshark exits or does not capture within
            L{_READY_TIMEOUT} seconds.
        """
        requireTool("tshark")
        requireRoot("tshark on %s" % (self.interface,))
        if self._process is not None:
            raise TsharkError("capture %s already started" % (self.path,))
        self._sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sink.bind((SENTINEL_HOST, 0))
        argv = [
            "tshark",
            "-n",
            "-l",
            "-P",
            "-i",
            self.interface,
            "-f",
            self.bpf(),
            "-a",
            "duration:%d" % (self.duration,),
            "-w",
            self.path,
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "udp.dstport",
            "-e",
            "udp.srcport",
        ]
        log = open(self._logPath, "wb")
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
        self._watchdog = startWatchdog(self._process.pid, self._ownDirectory)
        self._reader = threading.Thread(
            target=self._readStdout, name="tshark-reader", daemon=True
        )
        self._reader.start()
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sender.bind((SENTINEL_HOST, 0))
            if not self._sentinel(sender, _READY_TIMEOUT, repeat=0.1):
                self._abort()
                raise TsharkError(
                    "tshark did not start capturing on %s within %ds: %s"
                    % (self.interface, _READY_TIMEOUT, self._logTail())
                )
        finally:
            sender.close()
        return self

    def stop(self):
        """
        Make sure tshark has seen everything sent so far, then stop it
        (SIGINT) and wait for it to write the file.

        @return: the path of the pcapng file.
        @rtype: L{str}
        @raise TsharkError: when tshark does not stop in time or wrote no
            file.
        """
        if self._process is None:
            return self.path
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sender.bind((SENTINEL_HOST, 0))
            flushed = self._sentinel(sender, _STOP_TIMEOUT, repeat=None)
        finally:
            sender.close()
        process, self._process = self._process, None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            killGroup(process.pid, signal.SIGKILL)
            process.wait(_STOP_TIMEOUT)
            raise TsharkError(
                "tshark did not stop within %ds: %s" % (_STOP_TIMEOUT, self._logTail())
            )
        finally:
            self._reapHelpers(process)
        if not flushed:
            raise TsharkError(
                "tshark did not see the end of the capture within %ds "
                "(packets may be missing): %s" % (_STOP_TIMEOUT, self._logTail())
            )
        if not os.path.exists(self.path):
            raise TsharkError("tshark wrote no file: %s" % (self._logTail(),))
        return self.path

    def cleanup(self):
        """
        Stop if needed and remove the temporary directory this capture
        created (a C{path} given by the caller is left alone).
        """
        if self._process is not None:
            self._abort()
        if self._ownDirectory is not None:
            shutil.rmtree(self._ownDirectory, ignore_errors=True)
            self._ownDirectory = None

    def __enter__(self):
        return self.start()

    def __exit__(self, excType, excValue, traceback):
        if excType is None:
            self.stop()
        else:
            self._abort()
        return False

    def _abort(self):
        """
        Stop tshark at once, keeping whatever it wrote.
        """
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                killGroup(process.pid, signal.SIGKILL)
                process.wait(_STOP_TIMEOUT)
        self._reapHelpers(process)

    def _reapHelpers(self, process):
        """
        After tshark exited: collect the stdout reader, the watchdog and the
        sentinel sink.

        @param process: the tshark process.
        @type process: L{subprocess.Popen}
        """
        self._reader.join(_STOP_TIMEOUT)
        process.stdout.close()
        self._sink.close()
        watchdog, self._watchdog = self._watchdog, None
        stopWatchdog(watchdog)

    def _sentinel(self, sender, timeout, repeat):
        """
        Send empty UDP datagrams from C{sender} to the sink until tshark
        reports one, or C{timeout} passes.

        @param sender: a bound UDP socket (its port identifies it).
        @type sender: L{socket.socket}
        @param timeout: seconds.
        @type timeout: L{float}
        @param repeat: resend interval in seconds, or L{None} to send once.
        @type repeat: L{float} or L{None}
        @return: whether tshark saw it.
        @rtype: L{bool}
        """
        key = (self._sink.getsockname()[1], sender.getsockname()[1])
        deadline = time.monotonic() + timeout
        sent = False
        with self._condition:
            while key not in self._seen:
                now = time.monotonic()
                if now > deadline or self._process.poll() is not None:
                    return False
                if repeat is not None or not sent:
                    sender.sendto(b"", self._sink.getsockname())
                    sent = True
                self._condition.wait(min(repeat or 0.1, deadline - now))
            return True

    def _readStdout(self):
        """
        Drain tshark's per-packet lines (so it never blocks on a full pipe)
        and note the sentinels among them.
        """
        fd = self._process.stdout.fileno()
        pending = b""
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], 0.5)
            except (OSError, ValueError):
                return
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            found = []
            for line in lines:
                parts = line.strip().split(b"\t")
                if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                    found.append((int(parts[0]), int(parts[1])))
            if found:
                with self._condition:
                    self._seen.update(found)
                    self._condition.notify_all()

    def _logTail(self):
        """
        tshark's stderr, for error messages.

        @rtype: L{str}
        """
        try:
            with open(self._logPath, "r", encoding="utf-8", errors="replace") as f:
                return _cleanStderr(f.read())[-1000:]
        except OSError as e:
            return "(no log: %s)" % (e.strerror,)
