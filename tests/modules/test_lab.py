"""
End-to-end checks of the built-in modules C{downgrade}, C{cache} and
C{pack} with our real client (L{mapiproxy.client.cli.run}, in process)
through one or more proxies to the lab Exchange
(L{mapiproxy.server}), over loopback sockets, NTLM with packet privacy on
every leg; and the lab Exchange's own per-stream RopReadStream counters
(L{mapiproxy.server.emsmdb.EmsmdbInterface.streamReads}) these checks rely
on.
"""

import hashlib
import io
import os
import stat

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from mapiproxy.auth.credentials import ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.client import cli
from mapiproxy.client import session as S
from mapiproxy.dcerpc.server import RPCServerFactory, RPCServerProtocol
from mapiproxy.endpoints import EndpointMapperInterface
from mapiproxy.server.mailbox import StreamKey
from tests.peers import freePort
from tests.relaysupport import CLIENT_DOMAIN, CLIENT_PASSWORD, CLIENT_USER, PROXY_HOST, proxyConfig, startProxy
from tests.server import FQDN, LAB_DOMAIN, LAB_HOST, PASSWORD, USER, copySampleStore

#: The SHA-256 the sample store declares for alice's 5 MB attachment.
CAPTURE_SHA256 = "4532791efd4e8b3c555398f4c7a600b2428ec19631307a2c50015d235f110ebc"
CAPTURE_SIZE = 5242880
CAPTURE_SUBJECT = "Sensor capture from the demo rig"
REPORT_SUBJECT = "Q3 sales figures"
OTHER_USER = "bob"
OTHER_PASSWORD = "Bob.Pass1"
#: The name the proxies give themselves (netbios name and realm of
#: L{proxyConfig}).
PROXY_FQDN = "mapiproxy.proxy.test"
EXCHANGE_INTERFACES = "exchange_nsp, exchange_ds_rfr, exchange_emsmdb, exchange_async_emsmdb"
#: PidTagAttachDataBinary, the stream fetch-attachment reads.
PID_TAG_ATTACH_DATA_BINARY = 0x37010102


def runClient(argv):
    """
    Run C{mapiproxy-client} in this process.

    @return: a L{Deferred} firing with C{(exit code, stdout, stderr)}.
    """
    out, err = io.StringIO(), io.StringIO()
    d = cli.run(reactor, list(argv), out, err, prompt=lambda text: "not-asked")
    return d.addCallback(lambda code: (code, out.getvalue(), err.getvalue()))


def sha256Of(path):
    """
    The SHA-256 of a file, in hex.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LogCapture:
    """
    Every event of the global log publisher while a test runs.
    """

    def __init__(self, testCase):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        testCase.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def texts(self, namespace):
        """
        The formatted events of one namespace, in order.

        @rtype: L{list} of L{str}
        """
        return [formatEvent(e) for e in self.events if e.get("log_namespace") == namespace]


class _TrackingProtocol(RPCServerProtocol):
    def connectionMade(self):
        super().connectionMade()
        self.factory.connections.append(self)


class LabExchange:
    """
    The lab Exchange of a private copy of the sample store (NSPI, RFR,
    EMSMDB, AsyncEMSMDB on one loopback listener, registered with an
    endpoint mapper on another), alice and bob in its passdb.

    Create it before the proxies in front of it: its last cleanup waits
    until every connection it accepted is closed (a client's disconnection
    closes each hop's upstream connection in turn).
    """

    def __init__(self, testCase):
        from mapiproxy.server import makeServerInterfaces
        from mapiproxy.server.asyncemsmdb import AsyncEmsmdbInterface
        from mapiproxy.server.emsmdb import EmsmdbInterface
        from mapiproxy.server.store import Store

        self.store = Store.open(copySampleStore(testCase))
        passdb = testCase.mktemp()
        addUser(passdb, USER, PASSWORD)
        addUser(passdb, OTHER_USER, OTHER_PASSWORD)
        identity = ServerIdentity("LAB", LAB_DOMAIN, FQDN, FQDN)
        nspi, rfr = makeServerInterfaces(self.store, identity)
        self.emsmdb = EmsmdbInterface(self.store, reactor, identity, pollInterval=0)
        testCase.addCleanup(self.emsmdb.stop)
        served = [nspi, rfr, self.emsmdb, AsyncEmsmdbInterface(self.emsmdb, reactor)]
        mapper = EndpointMapperInterface()
        factory = RPCServerFactory([mapper] + served, passdb=PassDB.fromFile(passdb, identity), identity=identity)
        factory.protocol = _TrackingProtocol
        factory.connections = self.connections = []
        testCase.addCleanup(self._drained, testCase)
        listener = reactor.listenTCP(0, factory, interface=LAB_HOST)
        testCase.addCleanup(listener.stopListening)
        mapperListener = reactor.listenTCP(0, factory, interface=LAB_HOST)
        testCase.addCleanup(mapperListener.stopListening)
        self.port = listener.getHost().port
        self.epmapperPort = mapperListener.getHost().port
        for interface in served:
            mapper.mapper.register(interface.syntax, self.port, "0.0.0.0", interface.name)

    @inlineCallbacks
    def _drained(self, testCase):
        for _ in range(1000):
            if all(proto.transport.disconnected for proto in self.connections):
                return
            yield deferLater(reactor, 0.01, lambda: None)
        testCase.fail("connections to the lab Exchange still open")

    def argv(self, *extra, user=USER, password=PASSWORD):
        """
        A client command line straight to the lab.
        """
        return [
            "--binding",
            "ncacn_ip_tcp:" + LAB_HOST,
            "--epmapper-port",
            str(self.epmapperPort),
            "-U",
            "%s/%s%%%s" % (LAB_DOMAIN, user, password),
            "--host",
            "%s=%s" % (FQDN, LAB_HOST),
        ] + list(extra)

    def message(self, subject, account=USER):
        """
        A message of an Inbox, by subject.
        """
        inbox = self.store.mailbox(account).folderByRole("inbox")
        (message,) = [m for m in inbox.messages if m.subject == subject]
        return message

    def attachment(self, subject, name):
        """
        One of alice's Inbox attachments, by its message's subject and its
        file name.
        """
        (attachment,) = [a for a in self.message(subject).attachments if a.name == name]
        return attachment

    def reads(self, subject, attachmentNumber, account=USER):
        """
        How many RopReadStream the lab served on the streams of one
        attachment of an Inbox message.
        """
        return self.emsmdb.readStreamCount(account, self.message(subject, account).id, attachmentNumber)


class Proxy:
    """
    A mapiproxy on 127.0.0.2 relaying the four Exchange interfaces,
    accepting alice (L{CLIENT_PASSWORD}) from its own passdb.

    @ivar epmapperPort: its endpoint mapper's port.
    @ivar service: the running L{mapiproxy.service.MapiProxyService}.
    """

    def __init__(self, testCase, binding, modules=None, extra="", user=USER, password=PASSWORD, domain=LAB_DOMAIN, upstreamEpmapperPort=None):
        """
        @param binding: C{dcerpc_mapiproxy:binding}.
        @param modules: C{dcerpc_mapiproxy:modules}, if any.
        @param extra: more smb.conf lines (module options).
        @param user: the upstream account (with C{password}, C{domain}).
        @param upstreamEpmapperPort: where the upstream's endpoint mapper
            listens, when C{binding} has no port.
        """
        self.epmapperPort = freePort(PROXY_HOST)
        lines = [
            "dcerpc_mapiproxy:username = %s" % (user,),
            "dcerpc_mapiproxy:password = %s" % (password,),
            "dcerpc_mapiproxy:domain = %s" % (domain,),
        ]
        if modules:
            lines.append("dcerpc_mapiproxy:modules = %s" % (modules,))
        if upstreamEpmapperPort is not None:
            lines.append("dcerpc_mapiproxy:upstream_epmapper_port = %d" % (upstreamEpmapperPort,))
        text = "".join("    %s\n" % (line,) for line in lines) + extra
        config = proxyConfig(testCase, binding, interfaces=EXCHANGE_INTERFACES, extra=text, epmapperPort=self.epmapperPort)
        self.service = startProxy(testCase, config)

    def argv(self, *extra):
        """
        A client command line for alice through this proxy.
        """
        return [
            "--binding",
            "ncacn_ip_tcp:" + PROXY_HOST,
            "--epmapper-port",
            str(self.epmapperPort),
            "-U",
            "%s/%s%%%s" % (CLIENT_DOMAIN, CLIENT_USER, CLIENT_PASSWORD),
            "--host",
            "%s=%s" % (PROXY_FQDN, PROXY_HOST),
        ] + list(extra)

    @classmethod
    def inFrontOf(cls, testCase, upstream, flags="seal", **kw):
        """
        A proxy whose upstream is another L{Proxy}: it logs on to it as
        alice, one of its users, and finds its ports with its endpoint
        mapper.
        """
        return cls(
            testCase,
            "ncacn_ip_tcp:%s[%s]" % (PROXY_HOST, flags),
            user=CLIENT_USER,
            password=CLIENT_PASSWORD,
            domain=CLIENT_DOMAIN,
            upstreamEpmapperPort=upstream.epmapperPort,
            **kw,
        )


def labBinding(lab, flags="seal"):
    """
    The C{dcerpc_mapiproxy:binding} of a proxy in front of the lab.
    """
    return "ncacn_ip_tcp:%s[%d,%s]" % (LAB_HOST, lab.port, flags)


class LabCounterTests(TestCase):
    """
    The lab Exchange's RopReadStream counters and its log of refused
    logons, with the client straight to the lab.
    """

    timeout = 120

    def setUp(self):
        self.lab = LabExchange(self)

    @inlineCallbacks
    def test_readStreamCounted(self):
        """
        Fetching the 50 KB attachment counts one RopReadStream per chunk
        against that attachment's stream, with all its bytes, and nothing
        against the other messages.
        """
        attachment = self.lab.attachment(REPORT_SUBJECT, "Q3-sales-report.pdf")
        message = self.lab.message(REPORT_SUBJECT)
        self.assertEqual(self.lab.reads(REPORT_SUBJECT, attachment.number), 0)
        target = os.path.abspath(self.mktemp())
        code, out, err = yield runClient(self.lab.argv("fetch-attachment", "Inbox/2", "1", "-o", target))
        self.assertEqual(code, 0, err)
        key = StreamKey(USER, message.folder.id, message.id, attachment.number, PID_TAG_ATTACH_DATA_BINARY)
        self.assertEqual(dict(self.lab.emsmdb.streamBytes), {key: 51200})
        self.assertEqual(list(self.lab.emsmdb.streamReads), [key])
        self.assertGreaterEqual(self.lab.emsmdb.streamReads[key], 2)
        self.assertEqual(self.lab.reads(REPORT_SUBJECT, attachment.number), self.lab.emsmdb.streamReads[key])
        self.assertEqual(self.lab.reads(REPORT_SUBJECT, None), 0)
        self.assertEqual(self.lab.reads(CAPTURE_SUBJECT, 0), 0)
        self.assertEqual(self.lab.emsmdb.readStreamCount(OTHER_USER, message.id, attachment.number), 0)

    @inlineCallbacks
    def test_refusedLogonLogged(self):
        """
        bob asking for alice's mailbox is refused at EcDoConnectEx
        (ecAccessDenied): the client fails with one line and the lab logs
        the refusal, naming bob and alice's DN.
        """
        log = LogCapture(self)
        code, out, err = yield runClient(self.lab.argv("folders", "--mailbox", USER, user=OTHER_USER, password=OTHER_PASSWORD))
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("EcDoConnectEx failed: ecAccessDenied", err)
        refusals = [t for t in log.texts("mapiproxy.server.emsmdb.EmsmdbInterface") if "refused" in t]
        self.assertEqual(refusals, ["EMSMDB logon of bob to %s refused: 0x80070005" % (self.lab.store.user(USER).legacyDN,)])


class DowngradeTests(TestCase):
    """
    client -> proxy (C{downgrade}, print mode) -> lab Exchange.
    """

    timeout = 120

    @inlineCallbacks
    def test_fallsBackAndWorks(self):
        """
        The client says it fell back to EcDoConnect/EcDoRpc, folders,
        messages and show print what they print directly, and the proxy's
        print log shows EcDoConnectEx faulted with nca_op_rng_error, then
        EcDoConnect and EcDoRpc calls with their ROPs decoded.
        """
        log = LogCapture(self)
        lab = LabExchange(self)
        proxy = Proxy(self, labBinding(lab, "seal,print"), modules="downgrade")
        note = "note: %s\n" % (S.FALLBACK_NOTE,)
        for command in (["folders"], ["messages", "Inbox"], ["show", "Inbox/2"], ["show", "Inbox/5"]):
            code, direct, err = yield runClient(lab.argv(*command))
            self.assertEqual((code, err), (0, ""), command)
            self.assertNotIn("note:", direct)
            code, proxied, err = yield runClient(proxy.argv(*command))
            self.assertEqual((code, err), (0, ""), command)
            self.assertEqual(proxied, note + direct, command)
        code, out, err = yield runClient(proxy.argv("--json", "folders"))
        self.assertIn('"serverVersion": "6.0.4417.5"', out)

        printed = log.texts("mapiproxy.ndrdump")
        emsmdb = [t for t in printed if t.startswith("exchange_emsmdb ")]
        heads = [t.split(" call ", 1)[0] for t in emsmdb]
        self.assertEqual(heads[0], "exchange_emsmdb EcDoConnectEx (opnum 10)")
        self.assertIn("  out: FAULT DCERPC_FAULT_OP_RNG_ERROR (0x1c010002)", emsmdb[0].splitlines())
        self.assertEqual(heads[1], "exchange_emsmdb EcDoConnect (opnum 0)")
        self.assertNotIn("FAULT", emsmdb[1])
        self.assertIn("exchange_emsmdb EcDoRpc (opnum 2)", heads)
        self.assertNotIn("exchange_emsmdb EcDoRpcExt2 (opnum 11)", heads)
        # One EcDoConnectEx refused and one EcDoConnect per client run.
        self.assertEqual(heads.count("exchange_emsmdb EcDoConnectEx (opnum 10)"), 5)
        self.assertEqual(heads.count("exchange_emsmdb EcDoConnect (opnum 0)"), 5)
        for t in emsmdb:
            if t.startswith("exchange_emsmdb EcDoConnectEx"):
                self.assertIn("FAULT DCERPC_FAULT_OP_RNG_ERROR", t)
        rpc = "\n".join(t for t in emsmdb if t.startswith("exchange_emsmdb EcDoRpc (opnum 2)"))
        for rop in ("RopLogon (0xfe)", "RopOpenFolder (0x02)", "RopGetHierarchyTable (0x04)", "RopQueryRows (0x15)", "RopOpenMessage (0x03)"):
            self.assertIn(rop, rpc)


def _streamEntries(path):
    """
    The complete entries (C{*.stream} files) and the temporary files under
    a cache directory.
    """
    entries, temporaries = [], []
    for directory, _, files in os.walk(path):
        for name in files:
            if name.endswith(".stream"):
                entries.append(os.path.join(directory, name))
            elif name.endswith(".tmp"):
                temporaries.append(os.path.join(directory, name))
    return entries, temporaries


class CacheTests(TestCase):
    """
    client -> proxy (C{cache}) -> lab Exchange, twice, then another proxy
    sharing the cache directory, logged on upstream as bob.
    """

    timeout = 180

    @inlineCallbacks
    def test_secondDownloadFromCache(self):
        """
        The 5 MB attachment fetched twice (two client runs) has the stored
        SHA-256 both times; the lab serves RopReadStream on it during the
        first download only; the cache directory holds one complete 0600
        entry of the same bytes. Through a second proxy sharing the
        directory and logged on upstream as bob, the same request is
        refused by the lab (bob may not open alice's mailbox) and the
        client gets nothing, from the lab or from the cache.
        """
        log = LogCapture(self)
        lab = LabExchange(self)
        cacheDir = os.path.abspath(self.mktemp())
        options = "    mpm_cache:path = %s\n    mpm_cache:shared = yes\n" % (cacheDir,)
        proxy = Proxy(self, labBinding(lab), modules="cache", extra=options)
        attachment = lab.attachment(CAPTURE_SUBJECT, "sensor-capture.bin")

        first, second = os.path.abspath(self.mktemp()), os.path.abspath(self.mktemp())
        code, out, err = yield runClient(proxy.argv("fetch-attachment", "Inbox/5", "1", "-o", first))
        self.assertEqual(code, 0, err)
        # The lab wrote the generated attachment to its file when it first
        # served it.
        stored = sha256Of(attachment.path)
        self.assertEqual(stored, CAPTURE_SHA256)
        self.assertEqual(out, "Saved sensor-capture.bin (%d bytes) to %s\nSHA-256: %s\n" % (CAPTURE_SIZE, first, stored))
        self.assertEqual(sha256Of(first), stored)
        readsFirst = lab.reads(CAPTURE_SUBJECT, attachment.number)
        # Chunks of at most 64 KB: at least 80 reads for 5 MB.
        self.assertGreaterEqual(readsFirst, CAPTURE_SIZE // 0xFFFF)
        self.assertEqual(sum(lab.emsmdb.streamBytes.values()), CAPTURE_SIZE)

        entries, temporaries = _streamEntries(cacheDir)
        self.assertEqual((len(entries), temporaries), (1, []))
        (entry,) = entries
        self.assertEqual(stat.S_IMODE(os.stat(entry).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(cacheDir).st_mode), 0o700)
        self.assertEqual((os.path.getsize(entry), sha256Of(entry)), (CAPTURE_SIZE, stored))

        code, out, err = yield runClient(proxy.argv("fetch-attachment", "Inbox/5", "1", "-o", second))
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "Saved sensor-capture.bin (%d bytes) to %s\nSHA-256: %s\n" % (CAPTURE_SIZE, second, stored))
        self.assertEqual(sha256Of(second), stored)
        self.assertEqual(lab.reads(CAPTURE_SUBJECT, attachment.number), readsFirst)
        self.assertEqual(sum(lab.emsmdb.streamBytes.values()), CAPTURE_SIZE)
        self.assertEqual(_streamEntries(cacheDir), ([entry], []))

        # bob's proxy, same cache directory.
        bobs = Proxy(self, labBinding(lab), modules="cache", extra=options, user=OTHER_USER, password=OTHER_PASSWORD)
        code, out, err = yield runClient(bobs.argv("folders", "--mailbox", OTHER_USER))
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("Mailbox of Bob Brown\n"), out)
        third = os.path.abspath(self.mktemp())
        code, out, err = yield runClient(bobs.argv("fetch-attachment", "Inbox/5", "1", "-o", third))
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("EcDoConnectEx failed: ecAccessDenied", err)
        self.assertFalse(os.path.exists(third))
        refusals = [t for t in log.texts("mapiproxy.server.emsmdb.EmsmdbInterface") if "refused" in t]
        self.assertEqual(refusals, ["EMSMDB logon of bob to %s refused: 0x80070005" % (lab.store.user(USER).legacyDN,)])
        self.assertEqual(lab.reads(CAPTURE_SUBJECT, attachment.number), readsFirst)
        self.assertEqual(sum(lab.emsmdb.streamBytes.values()), CAPTURE_SIZE)
        self.assertEqual(_streamEntries(cacheDir), ([entry], []))

    @inlineCallbacks
    def test_mailboxesKeptApart(self):
        """
        The sample mailboxes reuse folder and message ids: bob, through a
        proxy sharing alice's cache directory, naming the id of alice's
        cached message gets his own message (no attachment), and his own
        attachment with the same ids as alice's cached one comes from the
        lab, with his bytes, into an entry of its own mailbox.
        """
        lab = LabExchange(self)
        cacheDir = os.path.abspath(self.mktemp())
        options = "    mpm_cache:path = %s\n    mpm_cache:shared = yes\n" % (cacheDir,)
        alices = Proxy(self, labBinding(lab), modules="cache", extra=options)
        bobs = Proxy(self, labBinding(lab), modules="cache", extra=options, user=OTHER_USER, password=OTHER_PASSWORD)
        capture = lab.message(CAPTURE_SUBJECT)
        report = lab.message(REPORT_SUBJECT)
        for command in (["Inbox/5", "1"], ["Inbox/2", "1"]):
            code, out, err = yield runClient(alices.argv("fetch-attachment", *command, "-o", os.path.abspath(self.mktemp())))
            self.assertEqual(code, 0, err)
        (aliceEntries, _) = _streamEntries(cacheDir)
        self.assertEqual(len(aliceEntries), 2)

        target = os.path.abspath(self.mktemp())
        mid = "Inbox/0x%016x" % (capture.id,)
        code, out, err = yield runClient(bobs.argv("fetch-attachment", mid, "1", "-o", target, "--mailbox", OTHER_USER))
        self.assertEqual((code, out, err), (1, "", "mapiproxy-client: error: message 0x%016x has 0 attachment(s), not 1\n" % (capture.id,)))
        self.assertFalse(os.path.exists(target))

        (agenda,) = lab.message("Customer visit agenda", OTHER_USER).attachments
        self.assertEqual((lab.message("Customer visit agenda", OTHER_USER).id, agenda.number), (report.id, 0))
        code, out, err = yield runClient(bobs.argv("fetch-attachment", "Inbox/2", "1", "-o", target, "--mailbox", OTHER_USER))
        self.assertEqual(code, 0, err)
        self.assertEqual(sha256Of(target), sha256Of(agenda.path))
        self.assertGreater(lab.reads("Customer visit agenda", 0, OTHER_USER), 0)
        entries, temporaries = _streamEntries(cacheDir)
        self.assertEqual((len(entries), temporaries), (3, []))
        (bobsEntry,) = set(entries) - set(aliceEntries)
        self.assertEqual(sha256Of(bobsEntry), sha256Of(agenda.path))
        mailboxDirectory = lambda path: os.path.relpath(path, cacheDir).split(os.sep)[0]
        self.assertEqual(len({mailboxDirectory(p) for p in aliceEntries}), 1)
        self.assertNotIn(mailboxDirectory(bobsEntry), {mailboxDirectory(p) for p in aliceEntries})
        # Same folder, message and attachment ids below the mailbox level.
        below = lambda path: os.path.relpath(path, cacheDir).split(os.sep)[1:]
        self.assertIn(below(bobsEntry), [below(p) for p in aliceEntries])


class PackTests(TestCase):
    """
    client -> proxy A (C{pack}, first hop) -> proxy C (C{pack},
    C{lasthop = no}, print mode) -> proxy B (C{pack}, last hop) -> lab
    Exchange.
    """

    timeout = 240

    #: Listed at A: GetPropertiesSpecific, SetColumns, QueryRows and
    #: ReadStream, which folders, messages, show and fetch-attachment send.
    OPNUMS = "0x07, 0x12, 0x15, 0x2C"

    @inlineCallbacks
    def test_sameOutputAsDirect(self):
        """
        folders, messages, show and fetch-attachment print through the
        chain exactly what they print directly (the attachment's bytes
        too), and the middle hop's print log shows the listed ROPs
        travelling in RopProxyPack (0xa5) between A and B.
        """
        log = LogCapture(self)
        lab = LabExchange(self)
        proxyB = Proxy(self, labBinding(lab), modules="pack")
        proxyC = Proxy.inFrontOf(self, proxyB, flags="seal,print", modules="pack", extra="    mpm_pack:opnums = 0x15\n    mpm_pack:lasthop = no\n")
        proxyA = Proxy.inFrontOf(self, proxyC, modules="pack", extra="    mpm_pack:opnums = %s\n" % (self.OPNUMS,))
        target = os.path.abspath(self.mktemp())
        commands = (
            ["folders"],
            ["messages", "Inbox"],
            ["show", "Inbox/1"],
            ["show", "Inbox/5"],
            ["fetch-attachment", "Inbox/2", "1", "-o", target],
        )
        for command in commands:
            code, direct, err = yield runClient(lab.argv(*command))
            self.assertEqual((code, err), (0, ""), command)
            code, chained, err = yield runClient(proxyA.argv(*command))
            self.assertEqual((code, err), (0, ""), command)
            self.assertEqual(chained, direct, command)
        self.assertEqual(sha256Of(target), sha256Of(lab.attachment(REPORT_SUBJECT, "Q3-sales-report.pdf").path))

        printed = log.texts("mapiproxy.ndrdump")
        rpc = [t for t in printed if t.startswith("exchange_emsmdb EcDoRpcExt2 (opnum 11)")]
        self.assertTrue(rpc)
        packed = [t for t in rpc if "RopProxyPack (0xa5)" in t]
        # Every command lists folders or rows: QueryRows is always packed.
        self.assertGreaterEqual(len(packed), len(commands))
        self.assertTrue(any("RopLogon (0xfe)" in t for t in rpc))
        # Each listed ROP travels inside a RopProxyPack between A and B,
        # never on its own.
        for rop in ("GetPropertiesSpecific (0x07)", "SetColumns (0x12)", "QueryRows (0x15)", "ReadStream (0x2c)"):
            name, ropId = rop.split(" ")
            self.assertTrue([t for t in packed if _inRequest(t, "request: %sRequest\n" % (name,))], rop)
            self.assertFalse([t for t in rpc if _inRequest(t, "Rop%s %s" % (name, ropId))], rop)
        # Those not listed travel as they are.
        self.assertTrue([t for t in rpc if _inRequest(t, "RopOpenFolder (0x02)")])
        self.assertFalse([t for t in rpc if _inRequest(t, "request: OpenFolderRequest")])


def _inRequest(printed, name):
    """
    Whether a ROP name appears in the request part of a printed call.
    """
    request = printed.split("\n  out", 1)[0]
    return name in request
