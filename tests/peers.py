# -*- test-case-name: tests.test_peers -*-
"""
Real third-party peers for the test suite.

A throwaway Samba AD DC provisioned into a temporary directory (the real
upstream DCE/RPC server with NTLM sign and seal, and a real endpoint mapper),
and the real clients that talk to it (C{rpcclient}, C{smbtorture}).

One Samba per test process: L{SambaDC.shared} provisions and starts it on
first use and stops it when the process exits.  Samba runs in its own process
group with a bounded C{--maximum-runtime}, and a small watchdog process stops
it and removes its directory if the test process dies without running its
C{atexit} handlers.

Recipes and quirks: C{/work/shared/reference/test-peers.md}, section 2.

Tests that need a peer call L{requireSamba} or L{requireTool}: outside CI a
missing peer is a skip; when the environment variable C{CI} is C{true} it is
an error (L{PeerUnavailable}), because CI installs everything.
"""

import atexit
import collections
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from twisted.trial.unittest import SkipTest

SAMBA_HOST = "127.0.0.1"
"""Samba binds this address (and ::1), never anything else."""

PROXY_HOST = "127.0.0.2"
"""Our own servers listen here in tests (port 135 included, for rpcclient)."""

EPMAPPER_PORT = 135

DYNAMIC_PORTS = range(15000, 15011)
"""Samba's C{rpc server dynamic port range}: where samr, netlogon... listen."""

REALM = "RELAY.TEST"
DOMAIN = "RELAY"
ADMIN_USER = "Administrator"
ADMIN_PASSWORD = "Passw0rd.Relay1"

DEFAULT_RUNTIME = 1800
"""Seconds after which Samba exits by itself: the safety net."""

_SAMR_UUID = "12345778-1234-abcd-ef00-0123456789ac"

_PROVISION_TIMEOUT = 180
_START_TIMEOUT = 20
_STOP_TIMEOUT = 10
_PORT_BUSY_WAIT = 15


class PeerUnavailable(Exception):
    """
    A real peer this test needs is missing, in CI (where that is a failure,
    not a skip).
    """


class PeerError(Exception):
    """
    A real peer misbehaved: provisioning failed, it did not start in time, a
    command timed out.  The message carries the tail of its log, never a
    password.
    """


class PeerCredentials(
    collections.namedtuple("PeerCredentials", ["username", "password", "domain"])
):
    """
    A user of the test domain.

    @ivar username: the account name, e.g. C{"Administrator"}.
    @ivar password: the clear-text password (a throwaway test password, but
        still kept out of the repr).
    @ivar domain: the NetBIOS domain name, e.g. C{"RELAY"}.
    """

    __slots__ = ()

    def __repr__(self):
        return "PeerCredentials(username=%r, password=<hidden>, domain=%r)" % (
            self.username,
            self.domain,
        )


def inCI():
    """
    Whether the suite runs in CI, where a missing peer is an error.

    @return: C{True} when the environment variable C{CI} is C{true}.
    @rtype: L{bool}
    """
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason):
    """
    Give up on a test that needs a missing peer: skip it, or fail it in CI.

    @param reason: why the peer is missing, one line.
    @type reason: L{str}
    @raise SkipTest: outside CI.
    @raise PeerUnavailable: in CI.
    """
    if inCI():
        raise PeerUnavailable(reason + " (CI=true: a missing peer is a failure)")
    raise SkipTest(reason)


def requireTool(name):
    """
    Make sure an external program is on C{PATH}.

    @param name: the program, e.g. C{"rpcclient"}, C{"tshark"},
        C{"smbtorture"}.
    @type name: L{str}
    @return: its full path.
    @rtype: L{str}
    @raise SkipTest: outside CI when it is missing.
    @raise PeerUnavailable: in CI when it is missing.
    """
    path = shutil.which(name)
    if path is None:
        unavailable("%s is not installed (not on PATH)" % (name,))
    return path


def requireRoot(what):
    """
    Make sure we run as root (Samba's AD DC, port 135, tshark on C{lo}).

    @param what: what needs root, for the message.
    @type what: L{str}
    @raise SkipTest: outside CI when we are not root.
    @raise PeerUnavailable: in CI when we are not root.
    """
    if os.geteuid() != 0:
        unavailable("%s needs root" % (what,))


def requireSamba():
    """
    Make sure a Samba AD DC can run here: C{samba} and C{samba-tool} are
    installed, we are root, and port 135 on L{SAMBA_HOST} is free (or already
    held by our shared L{SambaDC}).  A busy port is waited for a little,
    since another test process may be about to release it.

    @raise SkipTest: outside CI when something is missing.
    @raise PeerUnavailable: in CI when something is missing.
    """
    requireTool("samba")
    requireTool("samba-tool")
    requireRoot("a Samba AD DC")
    current = SambaDC._shared
    if current is not None and current.running():
        return
    deadline = time.monotonic() + _PORT_BUSY_WAIT
    while not canBindPrivileged(SAMBA_HOST, EPMAPPER_PORT):
        if time.monotonic() > deadline:
            unavailable(
                "port %d on %s is taken by another process"
                % (EPMAPPER_PORT, SAMBA_HOST)
            )
        time.sleep(0.25)


def requireSambaPython():
    """
    Find the Python that has Samba's bindings (Debian's C{/usr/bin/python3}
    with C{python3-samba}; never the test suite's own interpreter).

    @return: the path of that interpreter, to run as a subprocess.
    @rtype: L{str}
    @raise SkipTest: outside CI when the bindings are missing.
    @raise PeerUnavailable: in CI when the bindings are missing.
    """
    python = "/usr/bin/python3"
    if not os.path.exists(python):
        unavailable("python3-samba needs Debian's %s" % (python,))
    try:
        result = subprocess.run(
            [python, "-c", "import samba.dcerpc.samr"],
            capture_output=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        unavailable("%s -c 'import samba' timed out" % (python,))
    if result.returncode != 0:
        unavailable("python3-samba is not installed for %s" % (python,))
    return python


def canBindPrivileged(host, port=EPMAPPER_PORT):
    """
    Whether we can listen on a (privileged) TCP port right now.

    @param host: a loopback address, e.g. L{PROXY_HOST}.
    @type host: L{str}
    @param port: the port, 135 unless told.
    @type port: L{int}
    @return: C{True} if a socket could bind it (the socket is closed again).
    @rtype: L{bool}
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1)
    except OSError:
        return False
    finally:
        sock.close()
    return True


def freePort(host=PROXY_HOST):
    """
    Ask the kernel for a TCP port that is free on C{host} right now.

    @param host: a loopback address.
    @type host: L{str}
    @return: the port number (racy by nature: bind it soon).
    @rtype: L{int}
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def portOpen(host, port, timeout=0.5):
    """
    Whether something accepts TCP connections on C{host:port}.

    @type host: L{str}
    @type port: L{int}
    @param timeout: seconds for the connect.
    @type timeout: L{float}
    @rtype: L{bool}
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def withBindingOption(binding, option):
    """
    Add an option to a string binding's bracket list (C{[seal]} ->
    C{[seal,spnego]}); [MS-RPCE] 2.1.1.1 / Samba's binding syntax.

    @param binding: e.g. C{"ncacn_ip_tcp:127.0.0.1[seal]"}.
    @type binding: L{str}
    @param option: e.g. C{"spnego"}.
    @type option: L{str}
    @return: the binding with C{option} in its options (unchanged if already
        there).
    @rtype: L{str}
    """
    if not binding.endswith("]"):
        return "%s[%s]" % (binding, option)
    head, _, inner = binding[:-1].partition("[")
    options = [o for o in inner.split(",") if o]
    if option not in options:
        options.append(option)
    return "%s[%s]" % (head, ",".join(options))


def _tail(path, lines=30):
    """
    The last lines of a log file, for error messages.

    @type path: L{str}
    @type lines: L{int}
    @rtype: L{str}
    """
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(no log: %s)" % (e.strerror,)


def killGroup(pgid, sig):
    """
    Signal a process group we started, ignoring one that is already gone.

    @param pgid: the group, i.e. the pid of a child started with
        C{start_new_session=True}.
    @type pgid: L{int}
    @param sig: the signal, e.g. C{signal.SIGTERM}.
    @type sig: L{int}
    """
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    except OSError as e:
        if e.errno != errno.ESRCH:
            raise


def _run(argv, timeout, env=None, what=None):
    """
    Run a peer command to completion with a deadline.

    @param argv: the command; it may hold a test password, so it never goes
        into a message.
    @type argv: L{list} of L{str}
    @param timeout: seconds.
    @type timeout: L{float}
    @param env: extra environment variables.
    @type env: L{dict} or L{None}
    @param what: a name for messages (default: the program name).
    @type what: L{str} or L{None}
    @return: C{(exitcode, stdout, stderr)}, text decoded leniently.
    @rtype: L{tuple}
    @raise PeerError: on timeout.
    """
    fullEnv = dict(os.environ)
    if env:
        fullEnv.update(env)
    try:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=fullEnv,
        )
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        raise PeerError(
            "%s timed out after %ss; stdout tail: %s; stderr tail: %s"
            % (what or os.path.basename(argv[0]), timeout, out[-500:], err[-500:])
        ) from None
    return (
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


_WATCHDOG = r"""
import os, shutil, signal, sys, time
parent, pid, removePath = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
while True:
    time.sleep(0.5)
    if os.getppid() != parent:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        if removePath:
            shutil.rmtree(removePath, ignore_errors=True)
        break
    if not alive(pid):
        break
"""


def startWatchdog(pid, removePath=None):
    """
    Start a small process that stops the process group C{pid} (SIGTERM,
    then SIGKILL) and removes C{removePath} if this test process dies
    without cleaning up (SIGKILL, crash).  It exits by itself once C{pid}
    is gone.

    @param pid: a child we started with C{start_new_session=True}, so its
        pid is also its process group.
    @type pid: L{int}
    @param removePath: a directory to delete after killing, or L{None}.
    @type removePath: L{str} or L{None}
    @return: the watchdog process (wait for it after stopping C{pid}).
    @rtype: L{subprocess.Popen}
    """
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(pid), removePath or ""],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stopWatchdog(watchdog):
    """
    Reap a watchdog from L{startWatchdog} once its process is gone.

    @type watchdog: L{subprocess.Popen} or L{None}
    """
    if watchdog is None:
        return
    try:
        watchdog.wait(2)
    except subprocess.TimeoutExpired:
        watchdog.kill()
        watchdog.wait(2)


class SambaDC:
    """
    A throwaway Samba AD DC (realm L{REALM}, domain L{DOMAIN}) on
    L{SAMBA_HOST}, running only its RPC services: epmapper on 135, samr,
    netlogon, lsarpc... on L{DYNAMIC_PORTS}.

    Use L{shared} in tests; build one directly only to test this class.

    @ivar host: the address Samba listens on (C{"127.0.0.1"}).
    @ivar realm: the Kerberos realm / DNS domain, C{"RELAY.TEST"}.
    @ivar domain: the NetBIOS domain, C{"RELAY"}.
    @ivar adminUser: C{"Administrator"}.
    @ivar adminPassword: the administrator's password.
    @ivar credentials: the administrator as a L{PeerCredentials}.
    @ivar targetdir: the provisioned directory (removed by L{stop}).
    """

    _shared = None
    _atexitRegistered = False

    host = SAMBA_HOST
    realm = REALM
    domain = DOMAIN
    adminUser = ADMIN_USER
    adminPassword = ADMIN_PASSWORD

    def __init__(self, runtime=DEFAULT_RUNTIME):
        """
        @param runtime: seconds after which Samba exits by itself.
        @type runtime: L{int}
        """
        self.runtime = runtime
        self.credentials = PeerCredentials(ADMIN_USER, ADMIN_PASSWORD, DOMAIN)
        self.targetdir = None
        self._process = None
        self._watchdog = None
        self._logFile = None

    def __repr__(self):
        return "<SambaDC %s realm=%s dir=%s running=%s>" % (
            self.host,
            self.realm,
            self.targetdir,
            self.running(),
        )

    @classmethod
    def shared(cls):
        """
        The one Samba of this test process: provisioned and started on first
        use, restarted if it has exited, stopped at exit.

        @return: a running L{SambaDC}.
        @rtype: L{SambaDC}
        @raise SkipTest: outside CI when Samba cannot run here.
        @raise PeerUnavailable: in CI when Samba cannot run here.
        @raise PeerError: when Samba fails to provision or start.
        """
        requireSamba()
        dc = cls._shared
        if dc is None:
            dc = cls._shared = cls()
            if not SambaDC._atexitRegistered:
                atexit.register(SambaDC._stopShared)
                SambaDC._atexitRegistered = True
        if not dc.running():
            dc.start()
        return dc

    @classmethod
    def _stopShared(cls):
        """
        The C{atexit} handler: stop the shared instance if there is one.
        """
        dc = cls._shared
        cls._shared = None
        if dc is not None:
            dc.stop()

    def running(self):
        """
        @return: whether the Samba process is alive.
        @rtype: L{bool}
        """
        return self._process is not None and self._process.poll() is None

    @property
    def smbConf(self):
        """
        @return: the server's smb.conf path.
        @rtype: L{str}
        """
        return os.path.join(self.targetdir, "etc", "smb.conf")

    @property
    def clientConf(self):
        """
        @return: an smb.conf for the client tools (rpcclient, smbtorture),
            so that nothing depends on the machine's /etc/samba/smb.conf.
        @rtype: L{str}
        """
        return os.path.join(self.targetdir, "etc", "client.conf")

    @property
    def logPath(self):
        """
        @return: where Samba's stdout and stderr go.
        @rtype: L{str}
        """
        return os.path.join(self.targetdir, "samba.log")

    def provision(self):
        """
        Provision a new domain into a fresh temporary directory (about 3 s).

        @raise PeerError: when C{samba-tool domain provision} fails.
        """
        self.targetdir = tempfile.mkdtemp(prefix="mapiproxy-samba-")
        log = os.path.join(self.targetdir, "provision.log")
        argv = [
            "samba-tool",
            "domain",
            "provision",
            "--targetdir=" + self.targetdir,
            "--realm=" + self.realm,
            "--domain=" + self.domain,
            "--server-role=dc",
            "--dns-backend=NONE",
            "--host-name=dc1",
            "--adminpass=" + self.adminPassword,
            "--option=interfaces=lo",
            "--option=bind interfaces only=yes",
            "--option=log file=" + os.path.join(self.targetdir, "log.%m"),
        ]
        code, out, err = _run(argv, _PROVISION_TIMEOUT, what="samba-tool provision")
        with open(log, "w", encoding="utf-8") as f:
            f.write(out)
            f.write(err)
        if code != 0:
            raise PeerError(
                "samba-tool domain provision exited with %d: %s"
                % (code, _tail(log, 15))
            )
        self._writeClientConf()

    def _writeClientConf(self):
        """
        Write L{clientConf}: the domain names, and every state directory
        inside L{targetdir}.
        """
        clientDir = os.path.join(self.targetdir, "client")
        for sub in ("lock", "state", "cache", "private", "ncalrpc"):
            os.makedirs(os.path.join(clientDir, sub), exist_ok=True)
        lines = [
            "[global]",
            "\tworkgroup = %s" % (self.domain,),
            "\trealm = %s" % (self.realm,),
            "\tlock directory = %s" % (os.path.join(clientDir, "lock"),),
            "\tstate directory = %s" % (os.path.join(clientDir, "state"),),
            "\tcache directory = %s" % (os.path.join(clientDir, "cache"),),
            "\tprivate dir = %s" % (os.path.join(clientDir, "private"),),
            "\tncalrpc dir = %s" % (os.path.join(clientDir, "ncalrpc"),),
            "\tlog file = %s" % (os.path.join(clientDir, "log.%m"),),
            "\tclient use kerberos = off",
            "",
        ]
        with open(self.clientConf, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))

    def start(self):
        """
        Provision if needed, start Samba in its own process group, and wait
        (bounded) until its endpoint mapper accepts connections.

        @raise PeerError: when Samba exits early or port 135 is not up in
            time; the message has the tail of Samba's log.
        """
        if self.running():
            return
        if self._process is not None:
            # It exited by itself (e.g. --maximum-runtime): reap it first.
            self.stop(removeFiles=False)
        if self.targetdir is None or not os.path.exists(self.smbConf):
            self.provision()
        self._logFile = open(self.logPath, "ab")
        argv = [
            "samba",
            "-s",
            self.smbConf,
            "-i",
            "-M",
            "single",
            "--maximum-runtime=%d" % (self.runtime,),
            "--option=server services=rpc",
            "--option=rpc server dynamic port range=%d-%d"
            % (DYNAMIC_PORTS[0], DYNAMIC_PORTS[-1]),
        ]
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._logFile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._watchdog = startWatchdog(self._process.pid, self.targetdir)
        self._waitUntilUp()

    def _waitUntilUp(self):
        """
        Poll port 135 until it answers, Samba dies, or L{_START_TIMEOUT}
        passes.

        @raise PeerError: on death or timeout (Samba is stopped first).
        """
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                code = self._process.returncode
                message = "samba exited with %s while starting: %s" % (
                    code,
                    _tail(self.logPath),
                )
                self.stop(removeFiles=False)
                raise PeerError(message)
            if portOpen(self.host, EPMAPPER_PORT, timeout=0.2):
                return
            if time.monotonic() > deadline:
                message = "samba's port %d on %s not up within %ds: %s" % (
                    EPMAPPER_PORT,
                    self.host,
                    _START_TIMEOUT,
                    _tail(self.logPath),
                )
                self.stop(removeFiles=False)
                raise PeerError(message)
            time.sleep(0.05)

    def stop(self, removeFiles=True):
        """
        Stop Samba (SIGTERM to its process group, SIGKILL after
        L{_STOP_TIMEOUT} seconds) and its watchdog; remove L{targetdir}.

        @param removeFiles: whether to delete the provisioned directory.
        @type removeFiles: L{bool}
        """
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                killGroup(process.pid, signal.SIGTERM)
                try:
                    process.wait(_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    killGroup(process.pid, signal.SIGKILL)
                    process.wait(_STOP_TIMEOUT)
        watchdog, self._watchdog = self._watchdog, None
        stopWatchdog(watchdog)
        if self._logFile is not None:
            self._logFile.close()
            self._logFile = None
        if removeFiles and self.targetdir is not None:
            shutil.rmtree(self.targetdir, ignore_errors=True)
            self.targetdir = None

    def binding(self, port=None, options=("seal",), host=None):
        """
        Build an C{ncacn_ip_tcp} string binding.

        @param port: a TCP port, or L{None} to let the client ask the
            endpoint mapper.
        @type port: L{int} or L{None}
        @param options: binding options (C{"seal"}, C{"sign"}, C{"spnego"}).
        @type options: L{tuple} of L{str}
        @param host: the address (default L{host}).
        @type host: L{str} or L{None}
        @return: e.g. C{"ncacn_ip_tcp:127.0.0.1[15002,seal]"}.
        @rtype: L{str}
        """
        parts = ([str(port)] if port is not None else []) + list(options)
        binding = "ncacn_ip_tcp:%s" % (host or self.host,)
        if parts:
            binding += "[%s]" % (",".join(parts),)
        return binding

    def endpointPort(self, uuid, version="1.0"):
        """
        Ask Samba's endpoint mapper (ept_map, [C706] / [MS-RPCE] 2.2.1.2,
        through impacket's C{epm.hept_map}) which TCP port serves an
        interface.

        @param uuid: the interface UUID.
        @type uuid: L{str}
        @param version: C{"major.minor"}.
        @type version: L{str}
        @return: the port.
        @rtype: L{int}
        @raise PeerError: when the endpoint mapper has no TCP endpoint.
        """
        from impacket.dcerpc.v5 import epm
        from impacket.dcerpc.v5.rpcrt import DCERPCException
        from impacket.uuid import uuidtup_to_bin

        try:
            binding = epm.hept_map(
                self.host, uuidtup_to_bin((uuid, version)), protocol="ncacn_ip_tcp"
            )
        except (DCERPCException, OSError) as e:
            raise PeerError("ept_map for %s failed: %s" % (uuid, e)) from None
        match = re.search(r"\[(\d+)\]", binding)
        if match is None:
            raise PeerError("ept_map for %s gave no port: %r" % (uuid, binding))
        return int(match.group(1))

    def samrPort(self):
        """
        The TCP port of Samba's SAMR endpoint, as its endpoint mapper says.

        @rtype: L{int}
        """
        return self.endpointPort(_SAMR_UUID, "1.0")

    def addUser(self, name, password):
        """
        Create a domain user (C{samba-tool user add}), fine while Samba runs.

        @param name: the account name.
        @type name: L{str}
        @param password: its password (must meet the domain's complexity
            rules).
        @type password: L{str}
        @return: the new user.
        @rtype: L{PeerCredentials}
        @raise PeerError: when samba-tool refuses.
        """
        argv = [
            "samba-tool",
            "user",
            "add",
            name,
            password,
            "-s",
            self.smbConf,
            "-H",
            os.path.join(self.targetdir, "private", "sam.ldb"),
        ]
        code, out, err = _run(argv, 60, what="samba-tool user add")
        if code != 0:
            raise PeerError(
                "samba-tool user add %s exited with %d: %s"
                % (name, code, (out + err).replace(password, "<hidden>")[-500:])
            )
        return PeerCredentials(name, password, self.domain)

    def _userArgument(self, user, password, domain):
        """
        Build C{DOMAIN\\user%password} for C{-U}, defaulting to the
        administrator.
        """
        if user is None:
            user = self.adminUser
            if password is None:
                password = self.adminPassword
        if password is None:
            raise ValueError("a password is needed for user %r" % (user,))
        return "%s\\%s%%%s" % (domain or self.domain, user, password)

    def rpcclient(
        self,
        binding,
        commands,
        user=None,
        password=None,
        spnego=False,
        domain=None,
        timeout=30,
        extraArgs=(),
    ):
        """
        Run Samba's C{rpcclient} with NTLM (never Kerberos).

        Note that rpcclient ignores the port in C{binding}: it always asks
        the endpoint mapper on host:135.

        @param binding: e.g. C{"ncacn_ip_tcp:127.0.0.1[seal]"}.
        @type binding: L{str}
        @param commands: one command string (C{;}-separated) or a list.
        @type commands: L{str} or L{list} of L{str}
        @param user: the account (default: the administrator, with its
            password).
        @type user: L{str} or L{None}
        @param password: its password.
        @type password: L{str} or L{None}
        @param spnego: add C{spnego} to the binding options (auth_type 9).
        @type spnego: L{bool}
        @param domain: the NetBIOS domain (default L{domain}).
        @type domain: L{str} or L{None}
        @param timeout: seconds.
        @type timeout: L{float}
        @param extraArgs: more command-line arguments.
        @return: C{(exitcode, stdout, stderr)}.
        @rtype: L{tuple} of (L{int}, L{str}, L{str})
        @raise PeerError: on timeout.
        """
        requireTool("rpcclient")
        if not isinstance(commands, str):
            commands = ";".join(commands)
        if spnego:
            binding = withBindingOption(binding, "spnego")
        argv = [
            "rpcclient",
            "-s",
            self.clientConf,
            "--use-kerberos=off",
            "-U",
            self._userArgument(user, password, domain),
            binding,
            "-c",
            commands,
        ] + list(extraArgs)
        return _run(argv, timeout, what="rpcclient")

    def smbtorture(
        self,
        binding,
        tests,
        user=None,
        password=None,
        domain=None,
        timeout=120,
        extraArgs=(),
    ):
        """
        Run Samba's C{smbtorture} suites with NTLM (never Kerberos).
        smbtorture obeys an explicit port in C{binding}.

        @param binding: e.g. C{"ncacn_ip_tcp:127.0.0.1[15001,seal]"}.
        @type binding: L{str}
        @param tests: one suite name or a list, e.g. C{"rpc.unixinfo"}.
        @type tests: L{str} or L{list} of L{str}
        @param user: the account (default: the administrator).
        @type user: L{str} or L{None}
        @param password: its password.
        @type password: L{str} or L{None}
        @param domain: the NetBIOS domain (default L{domain}).
        @type domain: L{str} or L{None}
        @param timeout: seconds (also smbtorture's own C{--maximum-runtime}).
        @type timeout: L{float}
        @param extraArgs: more command-line arguments.
        @return: C{(exitcode, stdout, stderr)}.
        @rtype: L{tuple} of (L{int}, L{str}, L{str})
        @raise PeerError: on timeout.
        """
        requireTool("smbtorture")
        if isinstance(tests, str):
            tests = [tests]
        argv = [
            "smbtorture",
            "-s",
            self.clientConf,
            "--option=clientusekerberos=off",
            "--maximum-runtime=%d" % (int(timeout),),
            "-U",
            self._userArgument(user, password, domain),
            binding,
        ] + list(tests) + list(extraArgs)
        return _run(argv, timeout + 10, what="smbtorture")
