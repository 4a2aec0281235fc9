"""
Helpers of the relay benchmark (C{bench/relay.py}): the rpcecho upstream
server run as its own process, the child processes the benchmark starts
(and only those) with their CPU time, the proxy configuration, finding a
Samba AD DC, percentiles and the table.

Run as a script it is the upstream server::

    python3 bench/_support.py echo --host 127.0.0.1 --passdb PATH

which prints C{PORT <number>} once it listens, and serves the rpcecho
interface (Samba's C{echo.idl}, L{mapiproxy.testing.echo}) until SIGTERM.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
#: The checkout this benchmark belongs to.
ROOT = _ROOT
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

#: Our servers and clients use these loopback addresses, nothing else.
UPSTREAM_HOST = "127.0.0.1"
PROXY_HOST = "127.0.0.2"

#: The account clients use to authenticate to the proxy (its passdb).
CLIENT_USER = "benchuser"
CLIENT_PASSWORD = "Bench.Client1"
CLIENT_DOMAIN = "PROXYDOM"

#: The account of the rpcecho upstream's passdb (the proxy's upstream
#: credentials, and the direct clients' ones).
ECHO_USER = "relay"
ECHO_PASSWORD = "Bench.Upstream1"
ECHO_DOMAIN = "UPDOM"

_TICKS = os.sysconf("SC_CLK_TCK")


# -- the rpcecho upstream server ---------------------------------------------


def runEchoServer(host, passdbPath, maxFragment):
    """
    Serve rpcecho on C{host} (a free port) until SIGTERM, printing
    C{PORT <n>} on stdout once listening.

    @param host: a loopback address.
    @type host: L{str}
    @param passdbPath: the smbpasswd file of the accounts to accept.
    @type passdbPath: L{str}
    @param maxFragment: the largest fragment the server sends and accepts.
    @type maxFragment: L{int}
    """
    from twisted.internet import reactor

    from mapiproxy.auth.credentials import ServerIdentity
    from mapiproxy.auth.passdb import PassDB
    from mapiproxy.dcerpc.association import ServerSettings
    from mapiproxy.dcerpc.server import RPCServerFactory
    from mapiproxy.testing.echo import EchoInterface

    identity = ServerIdentity("ECHOUP", ECHO_DOMAIN)
    factory = RPCServerFactory(
        [EchoInterface(reactor)],
        passdb=PassDB.fromFile(passdbPath, identity),
        identity=identity,
        settings=ServerSettings(maxFragment=maxFragment),
    )
    listener = reactor.listenTCP(0, factory, interface=host)
    print("PORT %d" % (listener.getHost().port,), flush=True)
    # reactor.run() stops the reactor on SIGTERM and SIGINT.
    reactor.run()


# -- child processes ---------------------------------------------------------


class Child:
    """
    A process the benchmark started, in its own session, logging to a file.

    @ivar name: a label for messages.
    @ivar process: the L{subprocess.Popen}.
    @ivar logPath: where its stdout and stderr go.
    """

    def __init__(self, name, argv, logPath, env=None, root=_ROOT):
        """
        @param name: a label for messages.
        @type name: L{str}
        @param argv: the command.
        @type argv: L{list} of L{str}
        @param logPath: the file for its output.
        @type logPath: L{str}
        @param env: extra environment variables.
        @type env: L{dict} or L{None}
        @param root: the source tree put first on C{PYTHONPATH}.
        @type root: L{str}
        """
        self.name = name
        self.logPath = logPath
        fullEnv = dict(os.environ)
        fullEnv["PYTHONPATH"] = root + os.pathsep + fullEnv.get("PYTHONPATH", "")
        fullEnv.update(env or {})
        self._log = open(logPath, "ab")
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=fullEnv,
            cwd=root,
            start_new_session=True,
        )

    @property
    def pid(self):
        """
        The process id.
        """
        return self.process.pid

    def waitForLine(self, prefix, timeout=30):
        """
        Wait until the process writes a line starting with C{prefix}.

        @return: the rest of that line, stripped.
        @rtype: L{str}
        @raise RuntimeError: the process exited or the time ran out.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.logPath, "r", encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith(prefix):
                        return line[len(prefix) :].strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("%s did not print %r; log tail: %s" % (self.name, prefix, self.tail()))

    def waitForPort(self, host, port, timeout=30):
        """
        Wait until C{host:port} accepts connections.

        @raise RuntimeError: the process exited or the time ran out.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s is not listening on %s:%d; log tail: %s" % (self.name, host, port, self.tail()))

    def tail(self, lines=15):
        """
        The end of the log, for error messages.
        """
        with open(self.logPath, "r", encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def cpuSeconds(self):
        """
        User plus system CPU time used so far.

        @rtype: L{float}
        """
        return processCPU(self.pid)

    def stop(self, timeout=15):
        """
        SIGTERM (then SIGKILL) this process's group, and wait for it.
        """
        if self.process.poll() is None:
            _signalGroup(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signalGroup(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        self._log.close()


def _signalGroup(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def processCPU(pid):
    """
    The user plus system CPU seconds of a process (C{/proc/PID/stat}).

    @param pid: the process id.
    @type pid: L{int}
    @rtype: L{float}
    """
    try:
        with open("/proc/%d/stat" % (pid,), "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(b")") + 2 :].split()
    # Fields 14 and 15 of proc(5) (utime, stime), counted from "state" (3).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def selfCPU():
    """
    The CPU seconds of this process.

    @rtype: L{float}
    """
    return time.process_time()


def freePort(host):
    """
    A TCP port free on C{host} right now (racy: bind it soon).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# -- the proxy -----------------------------------------------------------------


def proxyConfigText(port, binding, interfaces, account, passdbPath, maxFragment):
    """
    An smb.conf for a proxy listening on L{PROXY_HOST}:C{port} without an
    endpoint mapper (port 135 may belong to someone else).

    @param binding: the upstream, e.g. C{ncacn_ip_tcp:127.0.0.1[15002,seal]}.
    @param interfaces: C{dcerpc_mapiproxy:interfaces}.
    @param account: C{(user, password, domain)} for the upstream.
    @param passdbPath: the proxy's passdb.
    @param maxFragment: C{dcerpc_mapiproxy:max_fragment}.
    @rtype: L{str}
    """
    user, password, domain = account
    return "\n".join(
        [
            "[global]",
            "    netbios name = BENCHPROXY",
            "    realm = PROXY.TEST",
            "    workgroup = %s" % (CLIENT_DOMAIN,),
            "    dcesrv:assoc group checking = false",
            "    dcerpc endpoint servers = mapiproxy",
            "    dcerpc_mapiproxy:binding = %s" % (binding,),
            "    dcerpc_mapiproxy:username = %s" % (user,),
            "    dcerpc_mapiproxy:password = %s" % (password,),
            "    dcerpc_mapiproxy:domain = %s" % (domain,),
            "    dcerpc_mapiproxy:interfaces = %s" % (interfaces,),
            "    dcerpc_mapiproxy:max_fragment = %d" % (maxFragment,),
            "    passdb backend = smbpasswd:%s" % (passdbPath,),
            "    interfaces = %s" % (PROXY_HOST,),
            "    bind interfaces only = yes",
            "    rpc server port = %d" % (port,),
            "",
        ]
    )


# -- Samba ---------------------------------------------------------------------


def findSamba():
    """
    A Samba AD DC whose samr we can reach on L{UPSTREAM_HOST}: one already
    running on port 135 (as the test suite's L{tests.peers.SambaDC} runs
    it, with its administrator's password), or a new one of our own.

    @return: C{(samba, owned, samrPort, note)}: the L{tests.peers.SambaDC}
        (its C{adminUser}, C{adminPassword}, C{domain}), whether we started
        it (stop it at the end), samr's TCP port, and a line for the report.
    @raise RuntimeError: Samba cannot run here.
    """
    from tests import peers

    if peers.portOpen(peers.SAMBA_HOST, peers.EPMAPPER_PORT):
        dc = peers.SambaDC()
        try:
            port = dc.samrPort()
        except peers.PeerError as e:
            raise RuntimeError("port 135 is taken by something that is not a usable Samba: %s" % (e,))
        return dc, False, port, "an already running Samba AD DC (the test suite's) on %s" % (peers.SAMBA_HOST,)
    try:
        dc = peers.SambaDC(runtime=3600)
        dc.start()
    except Exception as e:
        raise RuntimeError("cannot start a Samba AD DC: %s" % (e,))
    return dc, True, dc.samrPort(), "a Samba AD DC started for this run on %s" % (peers.SAMBA_HOST,)


def listeningPids(port):
    """
    The processes holding a socket that listens on TCP C{port} (to count
    the CPU time of a server we did not start, such as Samba).

    @param port: the TCP port.
    @type port: L{int}
    @rtype: L{list} of L{int}
    """
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, "r") as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add("socket:[%s]" % (fields[9],))
        except OSError:
            continue
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % (entry,)):
                if os.readlink("/proc/%s/fd/%s" % (entry, fd)) in inodes:
                    pids.append(int(entry))
                    break
        except OSError:
            continue
    return pids


# -- py-spy -------------------------------------------------------------------

#: Categories of the py-spy summary: the first whose marker is in a
#: sample's leaf frame names it.
_CATEGORIES = (
    ("NTLM crypto (HMAC-MD5, RC4)", ("hmac", "HMAC", "RC4", "rc4", "crc32")),
    (
        "socket syscalls",
        ("untilConcludes", "doRead (twisted/internet/tcp.py", "_dataReceived (twisted/internet/tcp.py"),
    ),
    ("epoll bookkeeping", ("epollreactor.py",)),
    ("Deferred machinery", ("defer.py",)),
    ("other Twisted (reactor, logging context)", ("twisted/",)),
    ("DCE/RPC engine (mapiproxy.dcerpc)", ("mapiproxy/dcerpc/",)),
    ("security contexts (mapiproxy.auth)", ("mapiproxy/auth/",)),
    ("relay (mapiproxy.relay)", ("mapiproxy/relay.py",)),
    ("enum flag arithmetic", ("enum.py",)),
)


def pySpyCommand(pid, path, rate=250):
    """
    The command that samples process C{pid} with py-spy until it exits.

    @return: the argv, or L{None} when py-spy is not installed.
    """
    import shutil

    spy = shutil.which("py-spy")
    if spy is None:
        return None
    return [spy, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--output", path]


def _frameName(frame):
    """
    C{"Class.method (path/file.py:123)"} -> C{"Class.method (path/file.py)"}.
    """
    head, sep, where = frame.rpartition(" (")
    if not sep:
        return frame
    return "%s (%s)" % (head, where.rsplit(":", 1)[0].rstrip(")"))


def summarisePySpy(path, top=20):
    """
    Summarise a py-spy C{raw} (collapsed stacks) file of the proxy: idle
    samples (the reactor waiting in C{epoll_wait}, idle pool threads) are
    dropped; the rest is split by the function that was running (own time)
    and by category.

    @param path: the raw file.
    @param top: how many functions to list.
    @return: lines of text.
    @rtype: L{list} of L{str}
    """
    import collections

    own = collections.Counter()
    inclusive = collections.Counter()
    categories = collections.Counter()
    busy = idle = 0
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            count = int(count)
            frames = stack.split(";")
            leaf = frames[-1]
            if "threading.py" in stack or leaf.startswith("EPollReactor.doPoll "):
                idle += count
                continue
            busy += count
            own[_frameName(leaf)] += count
            for name in set(_frameName(frame) for frame in frames):
                inclusive[name] += count
            for category, markers in _CATEGORIES:
                if any(marker in leaf for marker in markers):
                    categories[category] += count
                    break
            else:
                categories["other (Python, builtins)"] += count
    if not busy:
        return ["(no busy samples in %s)" % (path,)]
    lines = ["%d busy samples (%d idle dropped); share of busy time:" % (busy, idle)]
    lines.append("  by category (leaf frame):")
    for category, count in categories.most_common():
        lines.append("    %5.1f%%  %s" % (100.0 * count / busy, category))
    lines.append("  top functions, own time:")
    for name, count in own.most_common(top):
        lines.append("    %5.1f%%  %s" % (100.0 * count / busy, name))
    lines.append("  top mapiproxy functions, inclusive time:")
    ours = [(name, count) for name, count in inclusive.most_common() if "mapiproxy/" in name]
    for name, count in ours[:top]:
        lines.append("    %5.1f%%  %s" % (100.0 * count / busy, name))
    return lines


def loadAverage():
    """
    The 1-minute load average (other work on a shared machine skews the
    figures).

    @rtype: L{float}
    """
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# -- figures -------------------------------------------------------------------


def percentile(samples, fraction):
    """
    The nearest-rank percentile of a list of numbers.

    @param samples: the measurements (any order), at least one.
    @param fraction: e.g. C{0.5}, C{0.99}.
    @rtype: L{float}
    """
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def formatTable(header, rows):
    """
    A Markdown table, columns padded; numeric-looking cells right-aligned.

    @param header: the column titles.
    @param rows: lists of cells (strings).
    @rtype: L{str}
    """
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]

    def numeric(cell):
        return cell[:1].isdigit() or cell[:1] == "-"

    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |"]
    lines.append("|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|")
    for row in rows:
        cells = []
        for i, (cell, w) in enumerate(zip(row, widths)):
            cells.append(cell.rjust(w) if i and numeric(cell) else cell.ljust(w))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def runForwarder(host, upstreamHost, upstreamPort):
    """
    A plain TCP forwarder (no DCE/RPC parsing, no sealing) with the proxy's
    own I/O (Twisted, direct sends, TCP_NODELAY): what the relay's latency
    cannot go below on this machine. Prints C{PORT n} once listening.
    """
    from twisted.internet import protocol, reactor

    from mapiproxy.dcerpc.sending import DirectWriter, noDelay

    class Upstream(protocol.Protocol):
        def __init__(self, client):
            self.client = client

        def connectionMade(self):
            noDelay(self.transport)
            self.writer = DirectWriter(self.transport)
            self.client.upstreamReady(self)

        def dataReceived(self, data):
            self.client.writer.write(data)

        def connectionLost(self, reason):
            self.client.transport.loseConnection()

    class Client(protocol.Protocol):
        upstream = None

        def connectionMade(self):
            noDelay(self.transport)
            self.writer = DirectWriter(self.transport)
            self.transport.pauseProducing()
            protocol.ClientCreator(reactor, Upstream, self).connectTCP(upstreamHost, upstreamPort).addErrback(
                lambda failure: self.transport.loseConnection()
            )

        def upstreamReady(self, upstream):
            self.upstream = upstream
            self.transport.resumeProducing()

        def dataReceived(self, data):
            self.upstream.writer.write(data)

        def connectionLost(self, reason):
            if self.upstream is not None:
                self.upstream.transport.loseConnection()

    factory = protocol.Factory.forProtocol(Client)
    port = reactor.listenTCP(0, factory, interface=host)
    print("PORT %d" % (port.getHost().port,), flush=True)
    reactor.run()


def _main(argv):
    parser = argparse.ArgumentParser(description="Helpers of bench/relay.py.")
    sub = parser.add_subparsers(dest="command", required=True)
    echo = sub.add_parser("echo", help="serve rpcecho until SIGTERM")
    echo.add_argument("--host", default=UPSTREAM_HOST)
    echo.add_argument("--passdb", required=True)
    echo.add_argument("--max-fragment", type=int, default=5840)
    forward = sub.add_parser("forward", help="forward TCP from --host to --to-port on 127.0.0.1 until SIGTERM")
    forward.add_argument("--host", default=PROXY_HOST)
    forward.add_argument("--to-port", type=int, required=True)
    options = parser.parse_args(argv)
    if options.host not in (UPSTREAM_HOST, PROXY_HOST):
        parser.error("loopback only: --host must be %s or %s" % (UPSTREAM_HOST, PROXY_HOST))
    if options.command == "forward":
        runForwarder(options.host, UPSTREAM_HOST, options.to_port)
    else:
        runEchoServer(options.host, options.passdb, options.max_fragment)


if __name__ == "__main__":
    _main(sys.argv[1:])
