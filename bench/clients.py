"""
Benchmark of whole client sessions: N concurrent Outlook-like sessions
(L{mapiproxy.client.session}) against the lab Exchange, directly and
through the proxy, in one run.

Three processes, on loopback only:

  - the lab Exchange: C{twistd -n mapiproxy -c lab.conf}, server mode on
    127.0.0.3 (NSPI, RFR, EMSMDB, AsyncEMSMDB) serving a private copy of
    C{etc/sample-store}, its endpoint mapper on a free port;
  - the proxy: C{twistd -n mapiproxy -c proxy.conf} on 127.0.0.2, a
    demo-like config (the four Exchange interfaces relayed to the lab,
    NTLM at packet privacy on both legs, the NSPI/RFR rewrites), its
    endpoint mapper on the same port number;
  - this process: the clients, all in one reactor.

Each session does what a user's Outlook does to read one message: create a
profile (RfrGetNewDSA, NspiBind, NspiResolveNamesW, NspiDNToMId,
NspiGetProps, RfrGetFQDNFromServerDN), open the store (EcDoConnectEx,
RopLogon), list the folders, list the Inbox, show the second message and
fetch its 50 KB attachment (with C{--big}, also the 5 MB one of the fifth
message), checking the attachments' SHA-256; then EcDoDisconnect. Every
DCE/RPC call is timed (L{RPCClientProtocol.call} is wrapped in this
process). C{--clients} sessions run at once, each client running
C{--sessions} of them back to back, every phase bounded by
C{--seconds}; direct and proxy phases alternate C{--rounds} times.

Nothing is asserted: it prints a table (sessions completed, errors, calls,
calls/s, per-call and per-session latency, wall time, CPU seconds of each
process) and the ratios proxy/direct. Usage::

    python3 bench/clients.py [--clients 50] [--sessions 1] [--rounds 1]
                             [--seconds 300] [--big] [--keep]
"""

import argparse
import hashlib
import os
import platform
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _support  # noqa: E402  (bench/ is the script's directory)
from twisted.internet import defer, task  # noqa: E402

from mapiproxy.auth.credentials import Credentials  # noqa: E402
from mapiproxy.auth.passdb import addUser  # noqa: E402
from mapiproxy.client import session as S  # noqa: E402
from mapiproxy.dcerpc.binding import Binding  # noqa: E402
from mapiproxy.dcerpc.client import RPCClientProtocol  # noqa: E402

#: The lab Exchange's address; the proxy's is L{_support.PROXY_HOST}.
LAB_HOST = "127.0.0.3"
LAB_USER = "alice"
LAB_PASSWORD = "Alice.Pass1"
LAB_DOMAIN = "LAB"
#: The proxy's names (its netbios name and realm make its FQDN, which the
#: NSPI/RFR rewrites hand to the clients).
PROXY_NETBIOS = "BENCHPROXY"
PROXY_REALM = "PROXY.TEST"
#: The lab's names its NSPI/RFR may announce (organization.json's
#: serverFQDN, and netbios name plus realm).
LAB_NAMES = ("lab.example", "lab.lab.example", "lab")
#: The mailbox every session opens (the proxy reaches the lab as alice).
MAILBOX = "alice"
#: The Inbox message with the 50 KB attachment, and the one with the 5 MB.
SMALL_MESSAGE, SMALL_SIZE = 2, 51200
BIG_MESSAGE, BIG_SIZE = 5, 5242880
BIG_SHA256 = "4532791efd4e8b3c555398f4c7a600b2428ec19631307a2c50015d235f110ebc"

_STEPS = ("profile", "openStore", "listFolders", "listInbox", "showMessage", "fetch50K", "fetch5M", "close")


class CallTimer:
    """
    Times every DCE/RPC call made in this process by wrapping
    L{RPCClientProtocol.call}, while a phase is being measured.

    @ivar samples: the round-trip times in seconds of the calls that
        answered (a fault is an answer too: it is counted in C{faults}).
    @ivar faults: calls that failed.
    """

    def __init__(self):
        self.samples = []
        self.faults = 0
        self.active = False
        self._original = RPCClientProtocol.call

    def install(self):
        """
        Wrap L{RPCClientProtocol.call}.
        """
        timer = self
        original = self._original

        def call(proto, *args, **kwargs):
            d = original(proto, *args, **kwargs)
            if not timer.active:
                return d
            started = time.perf_counter()

            def answered(result):
                timer.samples.append(time.perf_counter() - started)
                return result

            def failed(failure):
                timer.faults += 1
                return failure

            return d.addCallbacks(answered, failed)

        RPCClientProtocol.call = call

    def uninstall(self):
        RPCClientProtocol.call = self._original

    def start(self):
        self.samples = []
        self.faults = 0
        self.active = True

    def stop(self):
        self.active = False


class Target:
    """
    Where the sessions go: the lab directly or the proxy in front of it.

    @ivar label: C{"direct"} or C{"proxy"}.
    @ivar host: the address of the address book server (and, through the
        names the servers announce, of the store).
    @ivar epmapperPort: the endpoint mapper port.
    @ivar credentials: who the clients are.
    @ivar hosts: name -> address for the names the servers announce.
    @ivar middle: the L{_support.Child} whose CPU time is reported as
        "server" (the lab when direct, the proxy through it).
    """

    def __init__(self, label, host, epmapperPort, credentials, hosts):
        self.label = label
        self.host = host
        self.epmapperPort = epmapperPort
        self.credentials = credentials
        self.hosts = hosts

    def options(self, notes):
        """
        The L{S.ClientOptions} of one session: NTLM, packet privacy,
        compression and obfuscation (the defaults), no DNS.
        """

        def noDNS(name):
            return defer.fail(OSError("no DNS in the benchmark: %s" % (name,)))

        return S.ClientOptions(
            binding=Binding.parse("ncacn_ip_tcp:" + self.host),
            credentials=self.credentials,
            mailbox=MAILBOX,
            epmapperPort=self.epmapperPort,
            hosts=dict(self.hosts),
            timeout=30,
            note=notes.append,
            resolver=noDNS,
        )


class PhaseResult:
    """
    What one phase (N clients against one target) measured.
    """

    def __init__(self, target, clients):
        self.target = target
        self.clients = clients
        self.completed = 0
        self.errors = []
        self.calls = []
        self.faults = 0
        self.sessions = []
        self.steps = {name: [] for name in _STEPS}
        self.wall = 0.0
        self.cpu = {}
        self.storeAddresses = set()

    def merge(self, other):
        self.completed += other.completed
        self.errors += other.errors
        self.calls += other.calls
        self.faults += other.faults
        self.sessions += other.sessions
        for name in _STEPS:
            self.steps[name] += other.steps[name]
        self.wall += other.wall
        for role, seconds in other.cpu.items():
            self.cpu[role] = self.cpu.get(role, 0.0) + seconds
        self.storeAddresses |= other.storeAddresses


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@defer.inlineCallbacks
def oneSession(reactor, target, workdir, big, result, notes):
    """
    One Outlook-like session; its step times go into C{result}.

    @raise RuntimeError: a step gave something else than the sample store
        holds.
    """
    options = target.options(notes)
    times = {}
    clock = time.perf_counter
    began = clock()

    def step(name, started):
        times[name] = clock() - started

    t = clock()
    profile = yield S.createProfile(reactor, options)
    step("profile", t)
    result.storeAddresses.add(profile.storeAddress)
    t = clock()
    store = yield S.openStore(reactor, options, profile)
    step("openStore", t)
    try:
        t = clock()
        folders = yield store.listFolders()
        step("listFolders", t)
        if "Inbox" not in [f.path for f in folders]:
            raise RuntimeError("no Inbox in %r" % ([f.path for f in folders],))
        t = clock()
        inbox = yield store.findFolder("Inbox")
        messages = yield store.listMessages(inbox)
        step("listInbox", t)
        if len(messages) < BIG_MESSAGE:
            raise RuntimeError("the Inbox has %d messages" % (len(messages),))
        t = clock()
        message = yield store.showMessage(inbox.folderId, messages[SMALL_MESSAGE - 1].messageId)
        step("showMessage", t)
        if message.subject != "Q3 sales figures":
            raise RuntimeError("message %d is %r" % (SMALL_MESSAGE, message.subject))
        path = os.path.join(workdir, "%s-%x-small" % (target.label, id(times)))
        t = clock()
        download = yield store.fetchAttachment(inbox.folderId, messages[SMALL_MESSAGE - 1].messageId, 1, path)
        step("fetch50K", t)
        if download.size != SMALL_SIZE or _sha256(path) != download.sha256:
            raise RuntimeError("the 50 KB attachment came back with %d bytes" % (download.size,))
        os.unlink(path)
        if big:
            path = os.path.join(workdir, "%s-%x-big" % (target.label, id(times)))
            t = clock()
            download = yield store.fetchAttachment(inbox.folderId, messages[BIG_MESSAGE - 1].messageId, 1, path)
            step("fetch5M", t)
            if download.size != BIG_SIZE or _sha256(path) != BIG_SHA256:
                raise RuntimeError("the 5 MB attachment came back with %d bytes" % (download.size,))
            os.unlink(path)
    finally:
        t = clock()
        yield store.close()
        step("close", t)
    for name, seconds in times.items():
        result.steps[name].append(seconds)
    result.sessions.append(clock() - began)


@defer.inlineCallbacks
def runPhase(reactor, bench, target, clients, sessionsEach, seconds):
    """
    C{clients} concurrent clients against C{target}, each running
    C{sessionsEach} sessions back to back, until done or C{seconds} pass
    (what is still running then counts as an error).

    @return: a L{PhaseResult}.
    """
    result = PhaseResult(target, clients)
    notes = []
    deadline = time.monotonic() + seconds

    @defer.inlineCallbacks
    def client(number):
        for _ in range(sessionsEach):
            if time.monotonic() > deadline:
                return
            try:
                yield oneSession(reactor, target, bench.tmp, bench.options.big, result, notes)
                result.completed += 1
            except Exception as e:
                result.errors.append("%s: %s" % (type(e).__name__, e))

    cpuBefore = {role: child.cpuSeconds() for role, child in bench.roles().items()}
    clientCPU = _support.selfCPU()
    bench.timer.start()
    started = time.perf_counter()
    running = [client(n) for n in range(clients)]
    everything = defer.DeferredList(running, consumeErrors=True)
    timeout = reactor.callLater(seconds + 30, lambda: everything.called or everything.cancel())
    try:
        yield everything
    except defer.CancelledError:
        result.errors.append("phase cancelled after %.0f s" % (seconds + 30,))
    if timeout.active():
        timeout.cancel()
    result.wall = time.perf_counter() - started
    bench.timer.stop()
    result.calls = list(bench.timer.samples)
    result.faults = bench.timer.faults
    result.cpu = {role: child.cpuSeconds() - cpuBefore[role] for role, child in bench.roles().items()}
    result.cpu["clients"] = _support.selfCPU() - clientCPU
    missing = clients * sessionsEach - result.completed - len(result.errors)
    if missing > 0:
        result.errors.append("%d session(s) not started before the %.0f s bound" % (missing, seconds))
    for note in sorted(set(notes)):
        bench.notes.append("%s: client note: %s" % (target.label, note))
    return result


class Bench:
    """
    The processes, the phases, the report.
    """

    def __init__(self, options):
        self.options = options
        self.tmp = tempfile.mkdtemp(prefix="mapiproxy-bench-clients-")
        self.twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
        self.lab = None
        self.proxy = None
        self.children = []
        self.notes = []
        self.results = {"direct": None, "proxy": None}
        self.timer = CallTimer()
        self.loadBefore = _support.loadAverage()
        self.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    def roles(self):
        return {"lab": self.lab, "proxy": self.proxy}

    # processes

    def _epmapperPort(self):
        """
        A port free on both 127.0.0.2 and 127.0.0.3 (the client uses one
        endpoint mapper port for every server, as Outlook uses 135).
        """
        import socket

        for _ in range(50):
            port = _support.freePort(LAB_HOST)
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind((_support.PROXY_HOST, port))
                return port
            except OSError:
                continue
        raise RuntimeError("no port free on both %s and %s" % (LAB_HOST, _support.PROXY_HOST))

    def _child(self, label, conf, name):
        argv = [self.twistd, "-n", "--pidfile=", "-l", os.path.join(self.tmp, "%s.twistd.log" % (name,)), "mapiproxy", "-c", conf]
        child = _support.Child(label, argv, os.path.join(self.tmp, "%s.out" % (name,)))
        self.children.append(child)
        return child

    def startServers(self):
        """
        The lab Exchange, then the proxy in front of it; both wait until
        their endpoint mapper listens.
        """
        store = os.path.join(self.tmp, "sample-store")
        shutil.copytree(os.path.join(_support.ROOT, "etc", "sample-store"), store)
        self.epmapperPort = port = self._epmapperPort()
        lab = os.path.join(self.tmp, "lab.conf")
        with open(lab, "w") as f:
            f.write(
                "\n".join(
                    [
                        "[global]",
                        "    netbios name = LAB",
                        "    realm = LAB.EXAMPLE",
                        "    workgroup = %s" % (LAB_DOMAIN,),
                        "    dcerpc endpoint servers = epmapper, mapiproxy",
                        "    dcerpc_mapiproxy:server = yes",
                        "    dcerpc_mapiproxy:store = %s" % (store,),
                        "    dcerpc_mapiproxy:interfaces = exchange_emsmdb, exchange_async_emsmdb, exchange_nsp, exchange_ds_rfr",
                        "    passdb backend = smbpasswd:%s" % (os.path.join(_support.ROOT, "etc", "lab-passdb"),),
                        "    interfaces = %s" % (LAB_HOST,),
                        "    bind interfaces only = yes",
                        "    rpc server port:epmapper = %d" % (port,),
                        "",
                    ]
                )
            )
        self.lab = self._child("lab Exchange", lab, "lab")
        self.lab.waitForPort(LAB_HOST, port, timeout=60)
        _log("lab Exchange pid %d, endpoint mapper %s:%d" % (self.lab.pid, LAB_HOST, port))
        passdb = os.path.join(self.tmp, "proxy.passdb")
        addUser(passdb, _support.CLIENT_USER, _support.CLIENT_PASSWORD)
        proxy = os.path.join(self.tmp, "proxy.conf")
        with open(proxy, "w") as f:
            f.write(
                "\n".join(
                    [
                        "[global]",
                        "    netbios name = %s" % (PROXY_NETBIOS,),
                        "    realm = %s" % (PROXY_REALM,),
                        "    workgroup = %s" % (_support.CLIENT_DOMAIN,),
                        "    dcesrv:assoc group checking = false",
                        "    dcerpc endpoint servers = epmapper, mapiproxy",
                        "    dcerpc_mapiproxy:binding = ncacn_ip_tcp:%s[seal]" % (LAB_HOST,),
                        "    dcerpc_mapiproxy:upstream_epmapper_port = %d" % (port,),
                        "    dcerpc_mapiproxy:username = %s" % (LAB_USER,),
                        "    dcerpc_mapiproxy:password = %s" % (LAB_PASSWORD,),
                        "    dcerpc_mapiproxy:domain = %s" % (LAB_DOMAIN,),
                        "    dcerpc_mapiproxy:interfaces = exchange_emsmdb, exchange_async_emsmdb, exchange_nsp, exchange_ds_rfr",
                        "    passdb backend = smbpasswd:%s" % (passdb,),
                        "    interfaces = %s" % (_support.PROXY_HOST,),
                        "    bind interfaces only = yes",
                        "    rpc server port:epmapper = %d" % (port,),
                        "",
                    ]
                )
            )
        self.proxy = self._child("proxy", proxy, "proxy")
        self.proxy.waitForPort(_support.PROXY_HOST, port, timeout=60)
        _log("proxy pid %d, endpoint mapper %s:%d" % (self.proxy.pid, _support.PROXY_HOST, port))
        proxyFQDN = ("%s.%s" % (PROXY_NETBIOS, PROXY_REALM)).lower()
        self.targets = {
            "direct": Target(
                "direct",
                LAB_HOST,
                port,
                Credentials(LAB_USER, LAB_PASSWORD, LAB_DOMAIN),
                {name: LAB_HOST for name in LAB_NAMES},
            ),
            "proxy": Target(
                "proxy",
                _support.PROXY_HOST,
                port,
                Credentials(_support.CLIENT_USER, _support.CLIENT_PASSWORD, _support.CLIENT_DOMAIN),
                {proxyFQDN: _support.PROXY_HOST, PROXY_NETBIOS.lower(): _support.PROXY_HOST},
            ),
        }

    def stopChildren(self):
        for child in reversed(self.children):
            child.stop()
        self.children = []

    # the run

    @defer.inlineCallbacks
    def run(self, reactor):
        self.timer.install()
        try:
            self.startServers()
            for label in ("direct", "proxy"):
                # One session each first: the lab generates the attachments
                # and both warm up; not measured.
                warm = yield runPhase(reactor, self, self.targets[label], 1, 1, self.options.seconds)
                if warm.errors:
                    raise RuntimeError("%s warm-up session failed: %s" % (label, warm.errors[0]))
                yield task.deferLater(reactor, 1.0, lambda: None)
                _log("%s warm-up session: %.2f s, %d calls, store at %s" % (label, warm.wall, len(warm.calls), ", ".join(sorted(warm.storeAddresses))))
            for round in range(self.options.rounds):
                for label in ("direct", "proxy"):
                    _log("round %d: %d clients x %d session(s) %s" % (round + 1, self.options.clients, self.options.sessions, label))
                    result = yield runPhase(reactor, self, self.targets[label], self.options.clients, self.options.sessions, self.options.seconds)
                    _log(
                        "  %d completed, %d errors, %d calls in %.2f s"
                        % (result.completed, len(result.errors), len(result.calls), result.wall)
                    )
                    # Let the sessions' connections close before the next
                    # phase (not measured).
                    yield task.deferLater(reactor, 1.0, lambda: None)
                    if self.results[label] is None:
                        self.results[label] = result
                    else:
                        self.results[label].merge(result)
        finally:
            self.timer.uninstall()
            self.stopChildren()

    # the report

    def report(self):
        direct, proxy = self.results["direct"], self.results["proxy"]
        if direct is None or proxy is None:
            print("no figures (the run did not get that far)")
            return
        o = self.options
        print()
        print(
            "## %d concurrent client sessions, lab Exchange direct vs through the proxy (%s)"
            % (o.clients, "with the 5 MB attachment" if o.big else "50 KB attachment")
        )
        print()
        print(
            "%s; %s, %d CPUs, Python %s; load average %.2f before, %.2f after"
            % (self.started, platform.node() or "?", os.cpu_count(), platform.python_version(), self.loadBefore, _support.loadAverage())
        )
        print(
            "processes: clients (this process, one reactor) | proxy (twistd -n mapiproxy, %s) | lab Exchange (twistd -n mapiproxy, server mode, %s)"
            % (_support.PROXY_HOST, LAB_HOST)
        )
        print("rounds: %d; each: %d clients x %d session(s); sealed (NTLM, packet privacy) on every leg" % (o.rounds, o.clients, o.sessions))
        print()
        header = ["", "direct", "proxy", "proxy/direct"]
        rows = []

        def row(label, d, p, fmt, ratio=True):
            cells = [label, fmt % d, fmt % p]
            cells.append("%.2f" % (p / d) if ratio and d else "-")
            rows.append(cells)

        row("sessions completed", direct.completed, proxy.completed, "%d", ratio=False)
        row("errors", len(direct.errors), len(proxy.errors), "%d", ratio=False)
        row("DCE/RPC calls (all sessions)", len(direct.calls), len(proxy.calls), "%d", ratio=False)
        row("wall time (s)", direct.wall, proxy.wall, "%.2f")
        row("calls/s", len(direct.calls) / direct.wall, len(proxy.calls) / proxy.wall, "%.1f")
        row("sessions/s", direct.completed / direct.wall, proxy.completed / proxy.wall, "%.2f")
        for fraction, name in ((0.5, "p50"), (0.99, "p99")):
            row(
                "per-call latency %s (ms)" % (name,),
                1000 * _support.percentile(direct.calls, fraction),
                1000 * _support.percentile(proxy.calls, fraction),
                "%.1f",
            )
        for fraction, name in ((0.5, "p50"), (0.99, "p99")):
            if direct.sessions and proxy.sessions:
                row(
                    "per-session time %s (s)" % (name,),
                    _support.percentile(direct.sessions, fraction),
                    _support.percentile(proxy.sessions, fraction),
                    "%.2f",
                )
        for step in _STEPS:
            if direct.steps[step] and proxy.steps[step]:
                row(
                    "  step %s p50 / p99 (ms)" % (step,),
                    0,
                    0,
                    "%d",
                    ratio=False,
                )
                rows[-1][1] = "%.0f / %.0f" % tuple(1000 * _support.percentile(direct.steps[step], f) for f in (0.5, 0.99))
                rows[-1][2] = "%.0f / %.0f" % tuple(1000 * _support.percentile(proxy.steps[step], f) for f in (0.5, 0.99))
        for role in ("clients", "proxy", "lab"):
            row("CPU s, %s process" % (role,), direct.cpu.get(role, 0.0), proxy.cpu.get(role, 0.0), "%.1f", ratio=False)
        print(_support.formatTable(header, rows))
        print()
        print("store reached at: direct %s; proxy %s" % (", ".join(sorted(direct.storeAddresses)), ", ".join(sorted(proxy.storeAddresses))))
        for result in (direct, proxy):
            for error in sorted(set(result.errors))[:10]:
                print("%s error: %s" % (result.target.label, error))
        for note in self.notes:
            print(note)


def _log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def parseOptions(argv):
    parser = argparse.ArgumentParser(description="N concurrent client sessions: lab Exchange direct vs through the proxy.")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--sessions", type=int, default=1, help="sessions each client runs back to back (default 1)")
    parser.add_argument("--rounds", type=int, default=1, help="direct/proxy alternations (default 1)")
    parser.add_argument("--seconds", type=float, default=300.0, help="most seconds per phase (default 300)")
    parser.add_argument("--big", action="store_true", help="also fetch the 5 MB attachment in every session")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs)")
    options = parser.parse_args(argv)
    if options.clients < 1 or options.sessions < 1 or options.rounds < 1 or options.seconds <= 0:
        parser.error("--clients, --sessions, --rounds and --seconds must be positive")
    return options


def main(argv=None):
    options = parseOptions(sys.argv[1:] if argv is None else argv)
    bench = Bench(options)
    try:
        task.react(lambda reactor: bench.run(reactor))
    finally:
        bench.stopChildren()
        if options.keep:
            print("kept %s" % (bench.tmp,), file=sys.stderr)
        else:
            shutil.rmtree(bench.tmp, ignore_errors=True)
        bench.report()


if __name__ == "__main__":
    main()
