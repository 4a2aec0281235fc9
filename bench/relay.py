"""
Benchmark of the relay: the same sealed calls made straight to an upstream
server and through the proxy, side by side in one run.

Three kinds of process, on loopback only (127.0.0.1 and 127.0.0.2):

  - the clients: our Twisted client role (L{connectRPC}, NTLM at packet
    privacy), in this process for latency and throughput, and in
    C{--workers} processes (default 2) for the calls/s figures, since one
    client process alone saturates a core before Samba does;
  - the proxy: C{twistd -n mapiproxy -c CONF} listening on 127.0.0.2,
    sealing both legs (client -> proxy and proxy -> upstream);
  - the upstream: our rpcecho service (C{bench/_support.py echo}) on
    127.0.0.1, and for the SAMR calls a Samba AD DC (an already running one
    on 127.0.0.1:135, or one started for the SAMR phase and stopped after
    it).

It measures, direct and through the proxy, in rounds that alternate the
two:

  1. round-trip latency per call (p50, p99) of small calls -- SAMR
     C{SamrEnumerateDomainsInSamServer} against Samba and rpcecho
     C{EchoData} of 300 bytes -- and of C{EchoData} with 64 KiB stubs;
     and, as a floor for the SAMR figures, the same SAMR calls through a
     plain TCP forwarder with the proxy's I/O but no parsing and no
     sealing (C{bench/_support.py forward});
  2. throughput with C{EchoData} of 1 MiB each way (MB = 10**6 bytes of
     stub, counted one way), and the same per CPU-second of the process
     in the middle (the upstream when direct, the proxy through it);
  3. calls per second with 1, 10 and 100 concurrent clients, each its own
     association, small sealed calls;

and the CPU time each process used per call. Every loop is bounded by a
number of calls and by time. Nothing is asserted: it prints a table of the
figures and of the ratios proxy/direct. C{--profile} (cProfile) and
C{--py-spy} (sampling) show where the proxy process spends its time;
C{--proxy-path} runs the proxy from another source tree, to measure a
change against this one. Usage::

    python3 bench/relay.py [--quick] [--calls N] [--seconds S] [--rounds R]
                           [--levels 1,10,100] [--workers N] [--cases ...]
                           [--no-samba] [--no-floor] [--profile | --py-spy] [--keep]
"""

import argparse
import json
import os
import platform
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _support  # noqa: E402  (bench/ is the script's directory)
from twisted.internet import defer, task  # noqa: E402

from mapiproxy.auth.credentials import Credentials  # noqa: E402
from mapiproxy.auth.passdb import addUser  # noqa: E402
from mapiproxy.auth.security import makeInitiator  # noqa: E402
from mapiproxy.dcerpc.client import connectRPC  # noqa: E402
from mapiproxy.dcerpc.constants import DEFAULT_MAX_FRAGMENT, AuthLevel, AuthType  # noqa: E402
from mapiproxy.interfaces.registry import SAMR  # noqa: E402
from mapiproxy.testing.echo import ECHO_UUID, EchoInterface  # noqa: E402

ECHO_SPEC = "%s/1.0" % (ECHO_UUID,)
ECHO_SYNTAX = EchoInterface().syntax

_ECHO_DATA = 1

#: What --cases can select: small-call latency (SAMR, rpcecho 300 B), 64 KiB
#: latency, 1 MiB throughput, calls/s at each concurrency level.
CASES = ("samr", "small", "64k", "1m", "rate")

#: The call bound of a calls/s figure, in units of --calls (so that the time
#: bound usually ends the window).
RATE_CALLS = 10
_MB = 1e6


class Target:
    """
    Somewhere to make calls: an upstream server directly, or the proxy in
    front of it.

    @ivar label: C{"direct"} or C{"proxy"}.
    @ivar host: the address.
    @ivar port: the TCP port.
    @ivar credentials: the L{Credentials} clients authenticate with.
    @ivar cpuPids: C{{role: [pids]}} whose CPU time is recorded.
    @ivar maxFragment: the fragment size our clients offer.
    """

    maxFragment = DEFAULT_MAX_FRAGMENT

    def __init__(self, label, host, port, credentials, cpuPids):
        self.label = label
        self.host = host
        self.port = port
        self.credentials = credentials
        self.cpuPids = cpuPids
        self.associations = {}


class Workload:
    """
    One kind of call: how to bind it and how to make it.

    @ivar name: a label for the table.
    @ivar syntax: the interface's abstract syntax.
    """

    name = None
    syntax = None

    def prepare(self, proto):
        """
        Get an association ready (e.g. open a handle).

        @return: a L{Deferred} firing with what L{call} needs.
        """
        return defer.succeed(None)

    def call(self, proto, state):
        """
        Make one call and check its answer.

        @return: a L{Deferred} firing with the response size.
        """
        raise NotImplementedError()


class EchoData(Workload):
    """
    rpcecho C{EchoData} of C{size} bytes each way.
    """

    syntax = ECHO_SYNTAX

    def __init__(self, size):
        self.size = size
        self.data = os.urandom(size)
        self.stub = struct.pack("<II", size, size) + self.data
        self.name = "EchoData %s" % (_bytesLabel(size),)

    def call(self, proto, state):
        d = proto.call(_ECHO_DATA, self.stub)
        d.addCallback(self._check)
        return d

    def _check(self, answer):
        if answer[4:] != self.data:
            raise RuntimeError("EchoData answer differs from the request (%d bytes)" % (len(answer),))
        return len(answer)


class SamrEnumDomains(Workload):
    """
    SAMR C{SamrEnumerateDomainsInSamServer} ([MS-SAMR] 3.1.5.2.1) on a
    handle from C{SamrConnect}: a 28-byte request, a reply of a couple of
    hundred bytes.
    """

    name = "SAMR EnumDomains"
    syntax = SAMR.syntaxId

    @defer.inlineCallbacks
    def prepare(self, proto):
        from impacket.dcerpc.v5 import samr

        request = samr.SamrConnect()
        request["ServerName"] = "\x00"
        request["DesiredAccess"] = samr.SAM_SERVER_ENUMERATE_DOMAINS | samr.SAM_SERVER_LOOKUP_DOMAIN
        answer = yield proto.call(request.opnum, request.getData())
        handle = samr.SamrConnectResponse(answer)["ServerHandle"]
        request = samr.SamrEnumerateDomainsInSamServer()
        request["ServerHandle"] = handle
        request["EnumerationContext"] = 0
        request["PreferedMaximumLength"] = 0xFFFFFFFF
        stub = request.getData()
        answer = yield proto.call(request.opnum, stub)
        response = samr.SamrEnumerateDomainsInSamServerResponse(answer)
        if response["ErrorCode"] != 0 or response["CountReturned"] < 1:
            raise RuntimeError("SamrEnumerateDomainsInSamServer failed: %r" % (response["ErrorCode"],))
        self.sizes = (len(stub), len(answer))
        return (request.opnum, stub, len(answer))

    def call(self, proto, state):
        opnum, stub, length = state
        d = proto.call(opnum, stub)
        d.addCallback(self._check, length)
        return d

    def _check(self, answer, length):
        if len(answer) != length or answer[-4:] != b"\x00\x00\x00\x00":
            raise RuntimeError("SamrEnumerateDomainsInSamServer answer changed (%d bytes)" % (len(answer),))
        return length


def _bytesLabel(size):
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return "%d MiB" % (size // (1024 * 1024),)
    if size >= 1024 and size % 1024 == 0:
        return "%d KiB" % (size // 1024,)
    return "%d B" % (size,)


# -- CPU accounting --------------------------------------------------------------


class CPUMeter:
    """
    CPU seconds used by this process and by the target's other processes
    between L{start} and L{stop}.
    """

    includeSelf = True

    def __init__(self, target):
        self._target = target
        self.used = {}

    def _read(self):
        values = {("client", 0): _support.selfCPU()} if self.includeSelf else {}
        for role, pids in self._target.cpuPids.items():
            for pid in pids:
                values[(role, pid)] = _support.processCPU(pid)
        return values

    def start(self):
        self._start = self._read()

    def stop(self):
        end = self._read()
        for key, value in end.items():
            role = key[0]
            # A process that went away reads 0: count nothing for it.
            delta = max(0.0, value - self._start.get(key, value))
            self.used[role] = self.used.get(role, 0.0) + delta


# -- measurements ----------------------------------------------------------------


class Result:
    """
    What one measurement of one target gave, summed over rounds.

    @ivar samples: latencies in seconds (latency runs).
    @ivar calls: calls completed in the measured windows.
    @ivar elapsed: seconds of the measured windows.
    @ivar bytes: stub bytes echoed (one way) in the windows.
    @ivar cpu: the L{CPUMeter}.
    """

    def __init__(self, target):
        self.samples = []
        self.calls = 0
        self.elapsed = 0.0
        self.bytes = 0
        self.cpu = CPUMeter(target)

    def percentile(self, fraction):
        return _support.percentile(self.samples, fraction)

    @property
    def callsPerSecond(self):
        return self.calls / self.elapsed if self.elapsed else 0.0

    @property
    def megabytesPerSecond(self):
        return self.bytes / self.elapsed / _MB if self.elapsed else 0.0

    def cpuShare(self, role):
        """
        CPU seconds of C{role} per wall-clock second of the windows.
        """
        return self.cpu.used.get(role, 0.0) / self.elapsed if self.elapsed else 0.0


@defer.inlineCallbacks
def sequentialCalls(workload, proto, state, result, calls, seconds, payload=0):
    """
    Make calls one after the other on one association, timing each.

    @param calls: the most calls.
    @param seconds: the most time.
    @param payload: stub bytes to count per call (throughput).
    """
    clock = time.perf_counter
    result.cpu.start()
    started = clock()
    deadline = started + seconds
    made = 0
    while made < calls:
        before = clock()
        if before >= deadline:
            break
        yield workload.call(proto, state)
        result.samples.append(clock() - before)
        made += 1
    result.elapsed += clock() - started
    result.cpu.stop()
    result.calls += made
    result.bytes += made * payload


@defer.inlineCallbacks
def concurrentCalls(reactor, workload, associations, result, calls, seconds):
    """
    Every association makes calls one after the other, all at once. Once
    as many calls have completed as there are associations (the pipeline
    is full), a window opens; it closes after C{seconds} or once C{calls}
    more calls have completed, and the calls completed inside it count.
    """
    clock = time.perf_counter
    done = defer.Deferred()
    state = {"count": 0, "open": False, "running": True, "warmup": len(associations)}

    def openWindow():
        state["open"] = True
        state["start"] = clock()
        result.cpu.start()
        state["timer"] = reactor.callLater(seconds, finish)

    def finish():
        if state["open"]:
            state["open"] = state["running"] = False
            state["end"] = clock()
            result.cpu.stop()
            done.callback(None)

    @defer.inlineCallbacks
    def loop(proto, handle):
        while state["running"]:
            yield workload.call(proto, handle)
            if state["open"]:
                state["count"] += 1
                if state["count"] >= calls:
                    finish()
            elif state["running"]:
                state["warmup"] -= 1
                if state["warmup"] == 0:
                    openWindow()

    giveUp = reactor.callLater(seconds + 30, _stall, done)
    loops = [loop(proto, handle) for proto, handle in associations]
    yield done
    for timer in (state.get("timer"), giveUp):
        if timer is not None and timer.active():
            timer.cancel()
    yield defer.gatherResults(loops, consumeErrors=True)
    result.calls += state["count"]
    result.elapsed += state["end"] - state["start"]


def _stall(done):
    if not done.called:
        done.errback(RuntimeError("concurrent calls stalled"))


@defer.inlineCallbacks
def openAssociations(reactor, target, workload, count):
    """
    Bind C{count} sealed associations to C{target} for C{workload} (kept on
    the target, per workload) and make one call on each, so that the proxy's
    upstream associations are open before anything is measured.

    @return: the list of C{(protocol, state)}.
    """
    key = type(workload).__name__
    have = target.associations.setdefault(key, [])
    while len(have) < count:
        batch = min(count - len(have), 25)
        protos = yield defer.gatherResults(
            [
                connectRPC(
                    reactor,
                    target.host,
                    target.port,
                    [workload.syntax],
                    security=makeInitiator(AuthType.NTLM, target.credentials),
                    authLevel=AuthLevel.PRIVACY,
                    timeout=30,
                    maxFragment=target.maxFragment,
                )
                for _ in range(batch)
            ],
            consumeErrors=True,
        )
        states = yield defer.gatherResults([workload.prepare(proto) for proto in protos], consumeErrors=True)
        yield defer.gatherResults([workload.call(p, s) for p, s in zip(protos, states)], consumeErrors=True)
        have.extend(zip(protos, states))
    return have[:count]


# -- client worker processes ----------------------------------------------------

#: The environment variable that hands a worker its job (JSON).
_WORKER_ENV = "MAPIPROXY_BENCH_WORKER"


def workloadSpec(workload):
    """
    Describe a workload for a worker process.
    """
    if isinstance(workload, EchoData):
        return {"kind": "echo", "size": workload.size}
    return {"kind": "samr"}


def workloadFromSpec(spec):
    """
    The inverse of L{workloadSpec}.
    """
    if spec["kind"] == "echo":
        return EchoData(spec["size"])
    return SamrEnumDomains()


@defer.inlineCallbacks
def workerCalls(reactor, workload, target, level, result, calls, seconds, workers):
    """
    Spread C{level} associations over C{workers} client processes that count
    the calls completed in the same wall-clock window; the proxy's and the
    upstream's CPU time is read here over that window.
    """
    from twisted.internet.utils import getProcessOutputAndValue

    shares = [level // workers + (1 if i < level % workers else 0) for i in range(workers)]
    shares = [n for n in shares if n]
    setup = 4.0 + 0.05 * max(shares)
    start = time.time() + setup
    credentials = target.credentials
    outputs = []
    for share in shares:
        job = {
            "host": target.host,
            "port": target.port,
            "account": [credentials.username, credentials.password, credentials.domain],
            "workload": workloadSpec(workload),
            "associations": share,
            "start": start,
            "seconds": seconds,
            "calls": max(1, calls * share // level),
            "maxFragment": target.maxFragment,
        }
        env = dict(os.environ)
        env[_WORKER_ENV] = json.dumps(job)
        env["PYTHONPATH"] = _support.ROOT + os.pathsep + env.get("PYTHONPATH", "")
        outputs.append(
            getProcessOutputAndValue(sys.executable, [os.path.abspath(__file__), "--worker"], env=env, reactor=reactor)
        )
    meter = CPUMeter(Target(target.label, target.host, target.port, credentials, target.cpuPids))
    meter.includeSelf = False
    startTimer = reactor.callLater(max(0.0, start - time.time()), meter.start)
    stopTimer = reactor.callLater(max(0.0, start + seconds - time.time()), meter.stop)
    answers = yield defer.gatherResults(outputs, consumeErrors=True)
    if startTimer.active():
        startTimer.cancel()
    elif stopTimer.active():
        # The workers reached their call bound before the time bound.
        stopTimer.cancel()
        meter.stop()
    rate = 0.0
    count = 0
    clientCPU = 0.0
    for out, err, code in answers:
        if code != 0:
            raise RuntimeError("client worker failed (%s): %s" % (code, err.decode("utf-8", "replace")[-800:]))
        answer = json.loads(out.decode("ascii").strip().splitlines()[-1])
        if answer["late"]:
            raise RuntimeError("a client worker was not ready when the window opened; raise the setup time")
        count += answer["calls"]
        rate += answer["calls"] / answer["elapsed"]
        clientCPU += answer["cpu"]
    result.calls += count
    result.elapsed += count / rate if rate else seconds
    for role, used in meter.used.items():
        result.cpu.used[role] = result.cpu.used.get(role, 0.0) + used
    result.cpu.used["client"] = result.cpu.used.get("client", 0.0) + clientCPU


@defer.inlineCallbacks
def runWorker(reactor, job):
    """
    A client worker: open the associations, keep them all calling, and
    count the calls that complete inside the shared window.

    @return: a L{Deferred} firing once the JSON answer is printed.
    """
    user, password, domain = job["account"]
    target = Target("worker", job["host"], job["port"], Credentials(user, password, domain), {})
    target.maxFragment = job["maxFragment"]
    workload = workloadFromSpec(job["workload"])
    associations = yield openAssociations(reactor, target, workload, job["associations"])
    state = {"count": 0, "running": True, "open": False, "late": time.time() > job["start"]}
    done = defer.Deferred()
    clock = time.time

    def openWindow():
        state["open"] = True
        state["start"] = clock()
        state["cpu"] = time.process_time()

    def finish():
        if state["running"]:
            state["running"] = False
            state["end"] = clock()
            state["cpu"] = time.process_time() - state.get("cpu", time.process_time())
            done.callback(None)

    @defer.inlineCallbacks
    def loop(proto, handle):
        while state["running"]:
            yield workload.call(proto, handle)
            if state["open"] and state["running"]:
                state["count"] += 1
                if state["count"] >= job["calls"]:
                    finish()

    reactor.callLater(max(0.0, job["start"] - clock()), openWindow)
    reactor.callLater(max(0.0, job["start"] + job["seconds"] - clock()), finish)
    loops = [loop(proto, handle) for proto, handle in associations]
    yield done
    yield defer.gatherResults(loops, consumeErrors=True)
    for proto, _ in associations:
        proto.disconnect()
    elapsed = state["end"] - state.get("start", state["end"])
    print(json.dumps({"calls": state["count"], "elapsed": elapsed or 1e-9, "cpu": state["cpu"], "late": state["late"]}))


# -- the run ---------------------------------------------------------------------


class Bench:
    """
    The whole benchmark: processes, measurements, report.
    """

    def __init__(self, options):
        self.options = options
        self.children = []
        self.rows = []
        self.cpuRows = []
        self.notes = []
        self.profiles = []
        self.spies = []
        self.spyReports = []
        self.loadBefore = _support.loadAverage()
        self.tmp = tempfile.mkdtemp(prefix="mapiproxy-bench-")
        self.twistd = os.path.join(os.path.dirname(sys.executable), "twistd")

    # processes

    def startEcho(self):
        passdb = os.path.join(self.tmp, "echo.passdb")
        addUser(passdb, _support.ECHO_USER, _support.ECHO_PASSWORD)
        child, port = self._supportChild(
            "rpcecho upstream",
            ["echo", "--host", _support.UPSTREAM_HOST, "--passdb", passdb, "--max-fragment", str(self.options.max_fragment)],
            "echo.log",
        )
        credentials = Credentials(_support.ECHO_USER, _support.ECHO_PASSWORD, _support.ECHO_DOMAIN)
        return child, port, credentials

    def startProxy(self, name, binding, interfaces, account):
        passdb = os.path.join(self.tmp, "proxy.passdb")
        addUser(passdb, _support.CLIENT_USER, _support.CLIENT_PASSWORD)
        port = _support.freePort(_support.PROXY_HOST)
        conf = os.path.join(self.tmp, "%s.conf" % (name,))
        with open(conf, "w") as f:
            f.write(_support.proxyConfigText(port, binding, interfaces, account, passdb, self.options.max_fragment))
        argv = [self.twistd, "-n", "--pidfile=", "-l", os.path.join(self.tmp, "%s.twistd.log" % (name,))]
        if self.options.profile:
            profilePath = os.path.join(self.tmp, "%s.pstats" % (name,))
            self.profiles.append(profilePath)
            argv += ["--profile=" + profilePath, "--profiler=cprofile", "--savestats"]
        argv += ["mapiproxy", "-c", conf]
        child = self._child("proxy (%s)" % (name,), argv, "%s.out" % (name,), root=self.options.proxy_path)
        child.waitForPort(_support.PROXY_HOST, port)
        _log("proxy (%s) pid %d listening on %s:%d" % (name, child.pid, _support.PROXY_HOST, port))
        if self.options.py_spy:
            path = os.path.join(self.tmp, "%s.pyspy.raw" % (name,))
            command = _support.pySpyCommand(child.pid, path)
            if command is None:
                self.notes.append("py-spy is not installed (pip install py-spy): no sampling profile")
            else:
                spy = _support.Child("py-spy (%s)" % (name,), command, os.path.join(self.tmp, "%s.pyspy.log" % (name,)))
                self.spies.append((name, spy, path))
        credentials = Credentials(_support.CLIENT_USER, _support.CLIENT_PASSWORD, _support.CLIENT_DOMAIN)
        return child, port, credentials

    def _supportChild(self, label, arguments, logName):
        """
        Start C{bench/_support.py} with C{arguments} and wait for the port
        it prints.

        @return: C{(child, port)}.
        """
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_support.py")
        child = self._child(label, [sys.executable, script] + arguments, logName)
        return child, int(child.waitForLine("PORT "))

    def _child(self, label, argv, logName, root=_support.ROOT):
        child = _support.Child(label, argv, os.path.join(self.tmp, logName), root=root)
        self.children.append(child)
        return child

    def stopChildren(self):
        """
        Stop the proxies and servers we started, then let py-spy (which
        stops with the process it samples) write its file.
        """
        for child in reversed(self.children):
            child.stop()
        self.children = []
        for name, spy, path in self.spies:
            try:
                spy.process.wait(30)
            except Exception:
                pass
            spy.stop()
            if os.path.exists(path):
                self.spyReports.append((name, _support.summarisePySpy(path, self.options.profile_top)))
        self.spies = []

    # measurements

    @defer.inlineCallbacks
    def latency(self, reactor, workload, direct, proxy, calls, seconds, payload=0):
        """
        Sequential calls on one association, alternating direct and proxy.

        @return: C{(direct result, proxy result)}.
        """
        rounds = self.options.rounds
        results = {}
        for target in (direct, proxy):
            results[target.label] = Result(target)
            (pair,) = yield openAssociations(reactor, target, workload, 1)
            # Warm up: caches, the upstream association, the allocator.
            yield sequentialCalls(workload, pair[0], pair[1], Result(target), max(3, calls // 20), seconds / 10)
        for _ in range(rounds):
            for target in (direct, proxy):
                ((proto, state),) = yield openAssociations(reactor, target, workload, 1)
                yield sequentialCalls(
                    workload, proto, state, results[target.label], max(1, calls // rounds), seconds / rounds, payload
                )
        return results["direct"], results["proxy"]

    @defer.inlineCallbacks
    def floor(self, reactor, workload, direct, upstreamPort, samba):
        """
        The same calls through a plain TCP forwarder (Twisted, the proxy's
        I/O, nothing parsed or sealed; the client authenticates to Samba
        itself): the latency no relay written this way goes below here.
        """
        child, port = self._supportChild(
            "TCP forwarder", ["forward", "--host", _support.PROXY_HOST, "--to-port", str(upstreamPort)], "forward.log"
        )
        forwarder = Target(
            "proxy",
            _support.PROXY_HOST,
            port,
            Credentials(samba.adminUser, samba.adminPassword, samba.domain),
            {"proxy": [child.pid], "upstream": direct.cpuPids["upstream"]},
        )
        _log("latency: %s through a plain TCP forwarder" % (workload.name,))
        d, f = yield self.latency(reactor, workload, direct, forwarder, self.options.calls, self.options.seconds)
        self.addLatencyRow(workload.name + " (Samba) via a plain TCP forwarder (floor)", d, f)
        yield self.disconnect(reactor, forwarder)

    @defer.inlineCallbacks
    def concurrency(self, reactor, workload, direct, proxy, level, calls, seconds):
        """
        C{level} associations at once, alternating direct and proxy.
        """
        rounds = self.options.rounds
        results = {}
        for target in (direct, proxy):
            results[target.label] = Result(target)
            if self.options.workers <= 1:
                yield openAssociations(reactor, target, workload, level)
        for _ in range(rounds):
            for target in (direct, proxy):
                if self.options.workers > 1:
                    yield workerCalls(
                        reactor,
                        workload,
                        target,
                        level,
                        results[target.label],
                        max(1, calls // rounds),
                        seconds / rounds,
                        self.options.workers,
                    )
                    continue
                associations = yield openAssociations(reactor, target, workload, level)
                yield concurrentCalls(
                    reactor, workload, associations, results[target.label], max(1, calls // rounds), seconds / rounds
                )
        return results["direct"], results["proxy"]

    # report rows

    def addLatencyRow(self, label, direct, proxy):
        for fraction, name in ((0.5, "p50"), (0.99, "p99")):
            d = direct.percentile(fraction) * 1e3
            p = proxy.percentile(fraction) * 1e3
            self.rows.append(
                [
                    "%s, latency %s (ms)" % (label, name),
                    "%.3f" % (d,),
                    "%.3f" % (p,),
                    "%.2f" % (p / d,),
                    "%d/%d" % (len(direct.samples), len(proxy.samples)),
                ]
            )
        self._cpuRow(label + ", latency", direct, proxy)

    def addThroughputRow(self, label, direct, proxy):
        d, p = direct.megabytesPerSecond, proxy.megabytesPerSecond
        self.rows.append(
            [
                "%s, throughput (MB/s each way)" % (label,),
                "%.1f" % (d,),
                "%.1f" % (p,),
                "%.2f" % (p / d if d else 0,),
                "%d/%d" % (direct.calls, proxy.calls),
            ]
        )
        # Per core: stub bytes (one way) per CPU-second of the process in
        # the middle -- the upstream server (one sealed leg) when direct,
        # the proxy (two sealed legs) through it.
        upstreamCPU = direct.cpu.used.get("upstream", 0.0)
        proxyCPU = proxy.cpu.used.get("proxy", 0.0)
        if upstreamCPU and proxyCPU:
            d, p = direct.bytes / upstreamCPU / _MB, proxy.bytes / proxyCPU / _MB
            self.rows.append(
                [
                    "%s, MB/s each way per CPU-second of upstream (direct) / proxy" % (label,),
                    "%.1f" % (d,),
                    "%.1f" % (p,),
                    "%.2f" % (p / d,),
                    "%d/%d" % (direct.calls, proxy.calls),
                ]
            )
        self._cpuRow(label + ", throughput", direct, proxy)

    def addRateRow(self, label, direct, proxy):
        d, p = direct.callsPerSecond, proxy.callsPerSecond
        self.rows.append(
            [
                "%s (calls/s)" % (label,),
                "%.0f" % (d,),
                "%.0f" % (p,),
                "%.2f" % (p / d if d else 0,),
                "%d/%d" % (direct.calls, proxy.calls),
            ]
        )
        self._cpuRow(label, direct, proxy)

    def _cpuRow(self, label, direct, proxy):
        def share(result, role):
            if role not in result.cpu.used or not result.calls:
                return "-"
            used = result.cpu.used[role]
            return "%.0f us (%.0f%%)" % (1e6 * used / result.calls, 100 * result.cpuShare(role))

        self.cpuRows.append(
            [
                label,
                share(direct, "client"),
                share(direct, "upstream"),
                share(proxy, "client"),
                share(proxy, "proxy"),
                share(proxy, "upstream"),
            ]
        )

    # the run

    @defer.inlineCallbacks
    def run(self, reactor):
        """
        The SAMR phase (Samba upstream), then the rpcecho phase; a Samba we
        started is stopped as soon as its phase is over, since port 135 is
        shared with the test suite.
        """
        cases = self.options.cases
        if "samr" in cases and not self.options.no_samba:
            yield self.runSamr(reactor)
        if {"small", "64k", "1m"} & set(cases) or "rate" in cases:
            yield self.runEcho(reactor)

    @defer.inlineCallbacks
    def runSamr(self, reactor):
        options = self.options
        try:
            samba, owned, samrPort, note = _support.findSamba()
        except RuntimeError as e:
            self.notes.append("SAMR rows skipped: %s" % (e,))
            return
        self.sambaNote = note
        try:
            proxy, proxyPort, clientCredentials = self.startProxy(
                "samr",
                "ncacn_ip_tcp:%s[%d,seal]" % (_support.UPSTREAM_HOST, samrPort),
                "samr",
                (samba.adminUser, samba.adminPassword, samba.domain),
            )
            pids = _support.listeningPids(samrPort)
            direct = Target(
                "direct",
                _support.UPSTREAM_HOST,
                samrPort,
                Credentials(samba.adminUser, samba.adminPassword, samba.domain),
                {"upstream": pids},
            )
            viaProxy = Target(
                "proxy", _support.PROXY_HOST, proxyPort, clientCredentials, {"proxy": [proxy.pid], "upstream": pids}
            )
            samr = SamrEnumDomains()
            _log("latency: %s" % (samr.name,))
            d, p = yield self.latency(reactor, samr, direct, viaProxy, options.calls, options.seconds)
            self.addLatencyRow(samr.name + " (Samba)", d, p)
            if not options.no_floor:
                yield self.floor(reactor, samr, direct, samrPort, samba)
            self.notes.append(
                "stub sizes: SAMR EnumDomains request %d bytes, response %d bytes; "
                "rpcecho EchoData 300 B request 308 bytes, response 304 bytes" % samr.sizes
            )
            if "rate" in options.cases:
                for level in options.levels:
                    _log("concurrency: %s x %d" % (samr.name, level))
                    d, p = yield self.concurrency(
                        reactor, samr, direct, viaProxy, level, options.calls * RATE_CALLS, options.seconds
                    )
                    self.addRateRow("%s (Samba), %d clients" % (samr.name, level), d, p)
            yield self.disconnect(reactor, direct, viaProxy)
            self.stopChildren()
        finally:
            if owned:
                samba.stop()

    @defer.inlineCallbacks
    def runEcho(self, reactor):
        options = self.options
        calls, seconds, cases = options.calls, options.seconds, options.cases
        echoChild, echoPort, echoCredentials = self.startEcho()
        proxy, proxyPort, clientCredentials = self.startProxy(
            "echo",
            "ncacn_ip_tcp:%s[%d,seal]" % (_support.UPSTREAM_HOST, echoPort),
            ECHO_SPEC,
            (_support.ECHO_USER, _support.ECHO_PASSWORD, _support.ECHO_DOMAIN),
        )
        direct = Target("direct", _support.UPSTREAM_HOST, echoPort, echoCredentials, {"upstream": [echoChild.pid]})
        viaProxy = Target(
            "proxy",
            _support.PROXY_HOST,
            proxyPort,
            clientCredentials,
            {"proxy": [proxy.pid], "upstream": [echoChild.pid]},
        )
        direct.maxFragment = viaProxy.maxFragment = options.max_fragment
        small = EchoData(300)
        if "small" in cases:
            _log("latency: %s" % (small.name,))
            d, p = yield self.latency(reactor, small, direct, viaProxy, calls, seconds)
            self.addLatencyRow(small.name + " (rpcecho)", d, p)
        if "64k" in cases:
            medium = EchoData(64 * 1024)
            _log("latency: %s" % (medium.name,))
            d, p = yield self.latency(reactor, medium, direct, viaProxy, max(1, calls // 4), seconds)
            self.addLatencyRow(medium.name + " (rpcecho)", d, p)
        if "1m" in cases:
            large = EchoData(1024 * 1024)
            _log("throughput: %s" % (large.name,))
            d, p = yield self.latency(
                reactor, large, direct, viaProxy, max(1, calls // 20), seconds, payload=large.size
            )
            self.addThroughputRow(large.name + " (rpcecho)", d, p)
        if "rate" in cases:
            for level in options.levels:
                _log("concurrency: %s x %d" % (small.name, level))
                d, p = yield self.concurrency(reactor, small, direct, viaProxy, level, calls * RATE_CALLS, seconds)
                self.addRateRow("%s (rpcecho), %d clients" % (small.name, level), d, p)
        yield self.disconnect(reactor, direct, viaProxy)
        self.stopChildren()

    def disconnect(self, reactor, *targets):
        """
        Close every association of C{targets}.

        @return: a L{Deferred} that fires a moment later.
        """
        for target in targets:
            for pairs in target.associations.values():
                for proto, _ in pairs:
                    proto.disconnect()
            target.associations.clear()
        return task.deferLater(reactor, 0.2, lambda: None)

    def report(self):
        options = self.options
        print()
        print(
            "mapiproxy relay benchmark, %s, %s %s, %d cores, %s"
            % (
                time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                platform.python_implementation(),
                platform.python_version(),
                os.cpu_count(),
                platform.machine(),
            )
        )
        print(
            "1-minute load average before/after: %.2f/%.2f (other work on the machine skews figures)"
            % (self.loadBefore, _support.loadAverage())
        )
        if os.path.realpath(options.proxy_path) != os.path.realpath(_support.ROOT):
            print("THE PROXY RAN FROM %s (--proxy-path)" % (options.proxy_path,))
        print(
            "processes: clients (%s, our client role) | "
            "proxy (twistd -n mapiproxy) | upstream (rpcecho: bench/_support.py echo; SAMR: %s)"
            % (
                (
                    "this process, one reactor"
                    if options.workers <= 1
                    else "this process for latency and throughput; %d worker processes for calls/s" % (options.workers,)
                ),
                getattr(self, "sambaNote", "not measured"),
            )
        )
        print(
            "every leg NTLM packet privacy (sealed); max fragment %d; %d rounds alternating direct/proxy; "
            "bounds per figure: %d calls, %.1f s%s"
            % (
                options.max_fragment,
                options.rounds,
                options.calls,
                options.seconds,
                "; PROXY UNDER cProfile (figures inflated)" if options.profile else "",
            )
        )
        print()
        print(_support.formatTable(["measurement", "direct", "proxy", "proxy/direct", "calls d/p"], self.rows))
        print()
        print("CPU time per call, and CPU used per wall-clock second in parentheses (100% = one core):")
        print(
            _support.formatTable(
                [
                    "measurement",
                    "direct: client",
                    "direct: upstream",
                    "proxy: client",
                    "proxy: proxy",
                    "proxy: upstream",
                ],
                self.cpuRows,
            )
        )
        for note in self.notes:
            print("- " + note)
        for name, lines in self.spyReports:
            print()
            print("py-spy, proxy process (%s phase):" % (name,))
            for line in lines:
                print(line)

    def printProfile(self):
        """
        Print the top functions of each proxy process run under cProfile.
        """
        import pstats

        for path in self.profiles:
            if not os.path.exists(path):
                print("(no profile written to %s)" % (path,))
                continue
            print()
            print("Proxy process profile (%s), top functions by own time:" % (path,))
            stats = pstats.Stats(path)
            stats.sort_stats("tottime").print_stats(self.options.profile_top)


def _log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def parseOptions(argv):
    parser = argparse.ArgumentParser(description="Relay benchmark: direct vs through the proxy, sealed.")
    parser.add_argument("--quick", action="store_true", help="small bounds (a smoke run of about a minute)")
    parser.add_argument("--calls", type=int, default=None, help="most calls per latency figure (default 2000)")
    parser.add_argument("--seconds", type=float, default=None, help="most seconds per figure (default 6)")
    parser.add_argument("--rounds", type=int, default=None, help="direct/proxy alternations per figure (default 3)")
    parser.add_argument("--levels", default=None, help="concurrent clients, comma-separated (default 1,10,100)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="client processes for the calls/s figures (default 2; 1 keeps every association in this process)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--max-fragment", type=int, default=DEFAULT_MAX_FRAGMENT)
    parser.add_argument("--no-samba", action="store_true", help="skip the SAMR (Samba) rows")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the SAMR rows through a plain TCP forwarder (the floor)"
    )
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="what to measure, comma-separated, from %s (default: all)" % (", ".join(CASES),),
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the proxy under cProfile and print its top functions"
    )
    parser.add_argument(
        "--py-spy", action="store_true", help="sample the proxy process with py-spy and summarise where its time goes"
    )
    parser.add_argument("--profile-top", type=int, default=25, help="functions listed by --profile and --py-spy")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs, profiles)")
    parser.add_argument(
        "--proxy-path",
        default=_support.ROOT,
        help="run the proxy process (only) from this source tree, to measure a change (default: this checkout)",
    )
    options = parser.parse_args(argv)
    quick = options.quick
    if options.calls is None:
        options.calls = 200 if quick else 2000
    if options.seconds is None:
        options.seconds = 1.5 if quick else 6.0
    if options.rounds is None:
        options.rounds = 2 if quick else 3
    options.cases = [c.strip() for c in options.cases.split(",") if c.strip()]
    unknown = set(options.cases) - set(CASES)
    if unknown:
        parser.error("unknown --cases %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(CASES)))
    options.levels = [int(x) for x in (options.levels or "1,10,100").split(",") if x.strip()]
    if options.calls < 1 or options.seconds <= 0 or options.rounds < 1 or not options.levels:
        parser.error("--calls, --seconds, --rounds and --levels must be positive")
    return options


def main(argv=None):
    options = parseOptions(sys.argv[1:] if argv is None else argv)
    if options.worker:
        job = json.loads(os.environ[_WORKER_ENV])
        task.react(lambda reactor: runWorker(reactor, job))
    bench = Bench(options)
    try:
        task.react(lambda reactor: bench.run(reactor))
    except SystemExit as e:
        if e.code:
            bench.stopChildren()
            raise
    finally:
        bench.stopChildren()
        if not (options.keep or options.profile):
            shutil.rmtree(bench.tmp, ignore_errors=True)
    bench.report()
    if options.profile:
        bench.printProfile()


if __name__ == "__main__":
    main()
