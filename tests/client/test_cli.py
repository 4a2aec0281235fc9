"""
Tests for L{mapiproxy.client.cli} and L{mapiproxy.client.session}: the pure
parts (arguments, credentials, message ids, formatting), the profile flow
against the scripted Exchange of L{tests.fakeexchange}, and every
subcommand end to end over loopback sockets against the lab Exchange
(NSPI, RFR, EMSMDB, AsyncEMSMDB and an endpoint mapper), directly and
through the proxy with the C{downgrade} module.
"""

import hashlib
import io
import json
import os

from twisted.internet import reactor
from twisted.internet.defer import fail, inlineCallbacks, succeed
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase

from mapiproxy.auth.credentials import ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.client import cli
from mapiproxy.client import session as S
from mapiproxy.dcerpc.constants import AuthLevel, AuthType
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.endpoints import EndpointMapperInterface
from mapiproxy.errors import ClientError, ConfigError
from mapiproxy.mapi.oxcdata import FLAG_ERROR, FLAG_NOT_FOUND, FLAG_VALUE, ROW_FLAGGED, ROW_STANDARD, FlaggedPropertyValue, PropertyRow
from tests.fakeexchange import EXCHANGE, EXCHANGE_FQDN, HOME_MDB, FakeExchange
from tests.peers import freePort
from tests.relaysupport import (
    CLIENT_DOMAIN,
    CLIENT_PASSWORD,
    CLIENT_USER,
    PROXY_HOST,
    UPSTREAM_DOMAIN,
    UPSTREAM_PASSWORD,
    UPSTREAM_USER,
    proxyConfig,
    startProxy,
)
from tests.server import FQDN, LAB_DOMAIN, LAB_HOST, ORG_DN, PASSWORD, SERVER_DN, USER, copySampleStore

#: The SHA-256 the sample store declares for its 5 MB attachment.
CAPTURE_SHA256 = "4532791efd4e8b3c555398f4c7a600b2428ec19631307a2c50015d235f110ebc"
INBOX_SUBJECTS = [
    "Welcome to the lab Exchange",
    "Q3 sales figures",
    "Scheduled maintenance on Saturday",
    "Partner newsletter - March",
    "Sensor capture from the demo rig",
]
PROXY_FQDN = "mapiproxy.proxy.test"


class ParseArgumentsTests(SynchronousTestCase):
    """
    L{cli.parseArguments}.
    """

    def test_optionsBeforeOrAfterCommand(self):
        """
        Common options may come before or after the subcommand name.
        """
        before = cli.parseArguments(["--binding", "h1", "--json", "--sign", "messages", "Inbox"])
        after = cli.parseArguments(["messages", "Inbox", "--binding", "h1", "--json", "--sign"])
        for args in (before, after):
            self.assertEqual((args.command, args.folder, args.binding, args.json, args.level), ("messages", "Inbox", "h1", True, "sign"))

    def test_defaults(self):
        """
        Options not given get their defaults: seal unless asked, NTLM, no
        JSON, compression on.
        """
        args = cli.parseArguments(["folders", "--binding", "h"])
        self.assertEqual(
            (args.level, args.spnego, args.json, args.no_compression, args.epmapper_port, args.host, args.debug),
            (None, False, False, False, None, None, False),
        )

    def test_missingBinding(self):
        """
        Without --binding the command line is refused.
        """
        self.assertRaises(cli.UsageError, cli.parseArguments, ["folders"])

    def test_unknownCommand(self):
        """
        An unknown subcommand is a usage error, not an exit.
        """
        self.assertRaises(cli.UsageError, cli.parseArguments, ["--binding", "h", "frobnicate"])

    def test_sealAndSignExclusive(self):
        """
        --seal and --sign cannot both be given.
        """
        self.assertRaises(cli.UsageError, cli.parseArguments, ["--binding", "h", "folders", "--seal", "--sign"])

    def test_subcommandArguments(self):
        """
        fetch-attachment takes a message, a number and -o; wait-newmail
        takes --timeout.
        """
        args = cli.parseArguments(["--binding", "h", "fetch-attachment", "Inbox/5", "2", "-o", "out.bin"])
        self.assertEqual((args.message, args.number, args.output), ("Inbox/5", 2, "out.bin"))
        args = cli.parseArguments(["--binding", "h", "wait-newmail", "--timeout", "2.5"])
        self.assertEqual(args.timeout, 2.5)
        self.assertRaises(cli.UsageError, cli.parseArguments, ["--binding", "h", "fetch-attachment", "Inbox/5", "0"])


class CredentialsTests(SynchronousTestCase):
    """
    C{-U} in its rpcclient forms, and the password prompt.
    """

    def test_slashForm(self):
        """
        DOMAIN/user%password splits into its three parts.
        """
        c = cli.parseUser("CORP/alice%pa%ss", prompt=self.fail)
        self.assertEqual((c.domain, c.username, c.password), ("CORP", "alice", "pa%ss"))

    def test_backslashForm(self):
        """
        DOMAIN\\user%password, as rpcclient takes it, gives the same.
        """
        c = cli.parseUser("CORP\\alice%secret", prompt=self.fail)
        self.assertEqual((c.domain, c.username, c.password), ("CORP", "alice", "secret"))

    def test_promptsForMissingPassword(self):
        """
        Without C{%password} the prompt is asked, naming the account.
        """
        asked = []
        c = cli.parseUser("CORP/alice", prompt=lambda text: asked.append(text) or "typed")
        self.assertEqual((c.username, c.password, asked), ("alice", "typed", ["Password for [CORP\\alice]: "]))

    def test_emptyUser(self):
        """
        An empty user name is refused with ConfigError.
        """
        self.assertRaises(ConfigError, cli.parseUser, "CORP/%x", lambda t: "")

    def test_credentialsReprHidesPassword(self):
        """
        The options built from a command line never show the password.
        """
        options = cli.optionsFrom(cli.parseArguments(["--binding", "h", "-U", "D/u%Sekr1t", "folders"]))
        self.assertNotIn("Sekr1t", repr(options))


class OptionsTests(SynchronousTestCase):
    """
    L{cli.optionsFrom}.
    """

    def options(self, *argv):
        return cli.optionsFrom(cli.parseArguments(list(argv) + ["-U", "D/u%p", "folders"]))

    def test_sealByDefault(self):
        """
        Packet privacy and NTLM unless asked otherwise.
        """
        o = self.options("--binding", "ncacn_ip_tcp:h")
        self.assertEqual((o.authLevel, o.authType, o.epmapperPort, o.compression, o.obfuscation), (AuthLevel.PRIVACY, AuthType.NTLM, 135, True, True))

    def test_signAndSpnego(self):
        """
        --sign asks for integrity, --spnego for auth_type 9; so do the
        binding's own flags.
        """
        o = self.options("--binding", "h", "--sign", "--spnego")
        self.assertEqual((o.authLevel, o.authType), (AuthLevel.INTEGRITY, AuthType.SPNEGO))
        o = self.options("--binding", "ncacn_ip_tcp:h[1234,sign,spnego]")
        self.assertEqual((o.authLevel, o.authType, o.binding.port), (AuthLevel.INTEGRITY, AuthType.SPNEGO, 1234))

    def test_kerberosRefused(self):
        """
        A krb5 binding is refused: only NTLM and SPNEGO are there.
        """
        self.assertRaises(ConfigError, self.options, "--binding", "ncacn_ip_tcp:h[krb5]")

    def test_hostsAndStoreBinding(self):
        """
        --host NAME=ADDRESS entries become the hosts map; --store-binding
        and --no-compression are kept.
        """
        o = self.options("--binding", "h", "--host", "a.example=127.0.0.5", "--host", "b=::1", "--store-binding", "ncacn_ip_tcp:s[99]", "--no-compression")
        self.assertEqual((o.hosts, o.storeBinding.host, o.storeBinding.port, o.compression), ({"a.example": "127.0.0.5", "b": "::1"}, "s", 99, False))
        self.assertRaises(cli.UsageError, self.options, "--binding", "h", "--host", "nothing")

    def test_badBinding(self):
        """
        A binding that does not parse is a ConfigError.
        """
        self.assertRaises(ConfigError, self.options, "--binding", "ncacn_ip_tcp:h[notaport]")


class MessageSpecTests(SynchronousTestCase):
    """
    L{S.parseMessageSpec}.
    """

    def test_folderAndIndex(self):
        """
        FOLDER/N names the N-th message of a folder, at any depth.
        """
        self.assertEqual(S.parseMessageSpec("Inbox/3"), ("Inbox", 3, None))
        self.assertEqual(S.parseMessageSpec("Inbox/Projects/12"), ("Inbox/Projects", 12, None))

    def test_mid(self):
        """
        A 0x id is a MID, with or without a folder.
        """
        self.assertEqual(S.parseMessageSpec("0x5b6055490bfa0001"), (None, None, 0x5B6055490BFA0001))
        self.assertEqual(S.parseMessageSpec("Sent Items/0x10"), ("Sent Items", None, 0x10))

    def test_bareIndex(self):
        """
        A bare number is an index with no folder (the Inbox).
        """
        self.assertEqual(S.parseMessageSpec("2"), (None, 2, None))

    def test_bad(self):
        """
        Zero, words and bad hex are refused with ClientError.
        """
        for text in ("Inbox/0", "Inbox/first", "0xZZ", "0x" + "1" * 17, ""):
            self.assertRaises(ClientError, S.parseMessageSpec, text)


class HelperTests(SynchronousTestCase):
    """
    The DN and binding helpers of profile creation, and row decoding.
    """

    def test_serverDN(self):
        """
        The server DN is the home MDB's parent; its name follows
        C{cn=Servers/cn=}.
        """
        self.assertEqual(S.serverDNOf(HOME_MDB), ORG_DN + "/cn=Configuration/cn=Servers/cn=" + EXCHANGE)
        self.assertEqual(S.serverNameOf(HOME_MDB), EXCHANGE)
        self.assertEqual(S.serverDNOf("/o=x/cn=a/cn=b"), "/o=x/cn=a")
        self.assertEqual(S.serverNameOf("/o=x"), "")

    def test_storeHost(self):
        """
        The store host is the first ncacn_ip_tcp network address's.
        """
        self.assertEqual(S.storeHostOf(["ncacn_http:web", "ncacn_ip_tcp:mbx.example", "ncacn_ip_tcp:other"], "fb"), "mbx.example")
        self.assertEqual(S.storeHostOf(["ncalrpc:x"], "fallback"), "fallback")

    def test_matchesUser(self):
        """
        A GAL row is the user by account, SMTP local part, display name or
        the DN's last component, case-insensitively.
        """
        row = {S.PR_ACCOUNT >> 16: "alice", S.PR_SMTP_ADDRESS >> 16: "a.anderson@x", S.PR_EMAIL_ADDRESS_A >> 16: "/o=x/cn=Recipients/cn=AliceA"}
        for name in ("ALICE", "a.anderson", "alicea", "a.anderson@x"):
            self.assertTrue(S._matchesUser(row, name), name)
        self.assertFalse(S._matchesUser(row, "bob"))

    def test_rowValues(self):
        """
        Standard rows give their values; flagged rows give None for a
        missing property and an error marker for one in error.
        """
        columns = [S.PidTagSubject, S.PidTagMessageSize, S.PidTagBody]
        self.assertEqual(S.rowValues(columns, PropertyRow(ROW_STANDARD, ["s", 5, "b"])), {S.PidTagSubject: "s", S.PidTagMessageSize: 5, S.PidTagBody: "b"})
        flagged = PropertyRow(ROW_FLAGGED, [FlaggedPropertyValue(FLAG_VALUE, "s"), FlaggedPropertyValue(FLAG_NOT_FOUND, None), FlaggedPropertyValue(FLAG_ERROR, 0x8007000E)])
        values = S.rowValues(columns, flagged)
        self.assertEqual((values[S.PidTagSubject], values[S.PidTagMessageSize], values[S.PidTagBody].code), ("s", None, 0x8007000E))

    def test_mapiErrorName(self):
        """
        Known MAPI codes get their name, others their hex value.
        """
        self.assertEqual(S.mapiErrorName(0x8004010F), "ecNotFound (0x8004010f)")
        self.assertEqual(S.mapiErrorName(0x12345678), "0x12345678")


class FormattingTests(SynchronousTestCase):
    """
    The human-readable forms.
    """

    def test_formatSize(self):
        """
        Bytes, then KB/MB with one decimal.
        """
        self.assertEqual([cli.formatSize(n) for n in (0, 1023, 1024, 51200, 5242880)], ["0 B", "1023 B", "1.0 KB", "50.0 KB", "5.0 MB"])

    def test_formatVersion(self):
        """
        [MS-OXCRPC] 3.1.4.1.3: with the high bit of the second word set,
        the first packs major and minor (Exchange 2010 RTM is 14.0.639.21);
        without it, the first is the major (OpenChange's downgrade answer
        6.0.4417.5).
        """
        self.assertEqual(cli.formatVersion((0x0E00, 0x827F, 0x0015)), "14.0.639.21")
        self.assertEqual(cli.formatVersion((0x0006, 0x1141, 0x0005)), "6.0.4417.5")

    def test_formatFolders(self):
        """
        The tree is indented by depth with right-aligned counts.
        """
        folders = [S.Folder(1, "Inbox", "Inbox", 0, total=5, unread=3), S.Folder(2, "Projects", "Inbox/Projects", 1, total=12, unread=0)]
        store = type("Store", (), {"displayName": "Alice", "profile": None})()
        self.assertEqual(
            cli.formatFolders(store, folders),
            "Mailbox of Alice\nFolder      Unread   Total\nInbox            3       5\n  Projects       0      12",
        )

    def test_formatMessages(self):
        """
        One numbered row per message with its id, flags and subject.
        """
        from datetime import datetime, timezone

        folder = S.Folder(1, "Inbox", "Inbox", 0)
        messages = [
            S.MessageSummary(1, 1, 0x10, "Hello", "Bob", datetime(2024, 3, 4, 8, 55, tzinfo=timezone.utc), 878, True, False),
            S.MessageSummary(2, 1, 0x20, "Report", "Carol Clark", None, 52000, False, True),
        ]
        self.assertEqual(
            cli.formatMessages(folder, messages).splitlines(),
            [
                "Inbox: 2 message(s), 1 unread",
                "#  Id                  Received          From         Size     Flags  Subject",
                "1  0x0000000000000010  2024-03-04 08:55  Bob          878 B    --     Hello",
                "2  0x0000000000000020  -                 Carol Clark  50.8 KB  UA     Report",
            ],
        )

    def test_formatProfile(self):
        """
        One labelled fact a line, the store binding saying where its port
        comes from.
        """
        profile = S.Profile(nspiServer="ab.example", displayName="Alice", smtpAddress="a@x", storeHost="mbx.example", storeAddress="127.0.0.1")
        lines = cli.formatProfile(profile).splitlines()
        self.assertEqual(lines[0], "User:                Alice <a@x>")
        self.assertEqual(lines[3], "Address book server: ab.example")
        self.assertEqual(lines[-1], "Message store:       ncacn_ip_tcp:mbx.example (port from its endpoint mapper), reached at 127.0.0.1")

    def test_toJSON(self):
        """
        Dataclasses become dicts with their id as text; dates ISO 8601.
        """
        from datetime import datetime, timezone

        summary = S.MessageSummary(1, 2, 0xABC, "s", "b", datetime(2024, 1, 2, tzinfo=timezone.utc))
        value = json.loads(json.dumps(cli.toJSON([summary])))
        self.assertEqual((value[0]["id"], value[0]["messageId"], value[0]["received"]), ("0x0000000000000abc", 0xABC, "2024-01-02T00:00:00+00:00"))

    def test_progressBar(self):
        """
        The bar is drawn per chunk for big downloads only, ends with a
        newline, and skips redraws that would not change the percentage.
        """
        stream = io.StringIO()
        bar = cli.ProgressBar(stream, "f", width=10, minimum=100)
        bar(10, 50)
        self.assertEqual(stream.getvalue(), "")
        bar(100, 400)
        bar(101, 400)
        bar(400, 400)
        self.assertEqual(stream.getvalue(), "\rf [##........]  25% 100 B / 400 B\rf [##########] 100% 400 B / 400 B\n")


def _run(argv, prompt=None):
    out, err = io.StringIO(), io.StringIO()
    d = cli.run(reactor, argv, out, err, prompt=prompt or (lambda text: "not-asked"))
    return d.addCallback(lambda code: (code, out.getvalue(), err.getvalue()))


class FakeExchangeProfileTests(TestCase):
    """
    The profile flow against the scripted Exchange (one listener, no
    endpoint mapper, no NspiResolveNamesW).
    """

    timeout = 60

    def _argv(self, exchange, *extra, user=UPSTREAM_USER, password=UPSTREAM_PASSWORD):
        return ["--binding", "ncacn_ip_tcp:127.0.0.1[%d]" % (exchange.port,), "-U", "%s\\%s%%%s" % (UPSTREAM_DOMAIN, user, password)] + list(extra)

    @inlineCallbacks
    def test_profile(self):
        """
        RfrGetNewDSA, NspiBind, NspiResolveNamesW (faulted: the GAL is
        walked with NspiQueryRows instead, and NspiDNToMId gives the user's
        MId), NspiDNToMId of the server DN, NspiGetProps of the server,
        NspiUnbind and RfrGetFQDNFromServerDN; the output names the mailbox
        server and its binding.
        """
        exchange = FakeExchange(self)
        code, out, err = yield _run(self._argv(exchange, "profile", "--mailbox", "Bob", "--host", EXCHANGE_FQDN + "=127.0.0.1"))
        self.assertEqual((code, err), (0, ""))
        self.assertEqual([opnum for opnum, _ in exchange.nspi.requests], [0, 20, 3, 7, 7, 9, 1])
        self.assertEqual([opnum for opnum, _ in exchange.rfr.requests], [0, 1])
        serverDN = S.serverDNOf(HOME_MDB)
        self.assertEqual(exchange.nspi.requests[1][1].paWStr.Strings, ["Bob"])
        self.assertEqual(exchange.nspi.requests[3][1].pNames.Strings, ["/cn=Recipients/cn=bob"])
        self.assertEqual(exchange.nspi.requests[4][1].pNames.Strings, [serverDN])
        self.assertEqual(exchange.nspi.requests[5][1].pStat.CurrentRec, 1000)
        self.assertEqual(exchange.rfr.requests[1][1].szMailboxServerDN, serverDN)
        self.assertIn("User:                Bob\n", out)
        self.assertIn("Legacy DN:           /cn=Recipients/cn=bob\n", out)
        self.assertIn("Address book server: %s\n" % (EXCHANGE_FQDN,), out)
        self.assertIn("Mailbox server:      %s\n" % (EXCHANGE,), out)
        self.assertIn("Network addresses:   ncacn_ip_tcp:%s, ncacn_http:%s\n" % (EXCHANGE_FQDN, EXCHANGE_FQDN), out)
        self.assertIn("Message store:       ncacn_ip_tcp:%s (port from its endpoint mapper), reached at 127.0.0.1\n" % (EXCHANGE_FQDN,), out)

    @inlineCallbacks
    def test_profileJSON(self):
        """
        --json prints one document that parses back, with what was learned.
        """
        exchange = FakeExchange(self)
        code, out, err = yield _run(self._argv(exchange, "profile", "--json", "--mailbox", "alice", "--host", EXCHANGE_FQDN + "=127.0.0.1"))
        self.assertEqual(code, 0, err)
        document = json.loads(out)
        self.assertEqual(document["command"], "profile")
        self.assertEqual((document["profile"]["homeMDB"], document["profile"]["storeHost"], document["profile"]["userDN"]), (HOME_MDB, EXCHANGE_FQDN, "/cn=Recipients/cn=alice"))

    @inlineCallbacks
    def test_unresolvableNameFallsBack(self):
        """
        A server name that does not resolve is replaced by the --binding
        host, with a note.
        """
        exchange = FakeExchange(self)
        code, out, err = yield _run(self._argv(exchange, "profile", "--mailbox", "alice", "--host", EXCHANGE_FQDN + "=127.0.0.1"))
        self.assertEqual(code, 0, err)
        self.assertNotIn("note:", out)
        options = cli.optionsFrom(cli.parseArguments(self._argv(exchange, "profile", "--host", "Mapped.Example=127.0.0.9")))
        notes = []
        asked = []
        options.note = notes.append

        def resolver(name):
            # No DNS from the tests: a resolver that knows nothing.
            asked.append(name)
            return fail(OSError("no such name"))

        options.resolver = resolver
        host = yield S._pickHost(reactor, options, "name.invalid", "mailbox server")
        self.assertEqual((host, notes, asked), ("127.0.0.1", ["cannot resolve name.invalid (mailbox server): using 127.0.0.1"], ["name.invalid"]))
        host = yield S._pickHost(reactor, options, "mapped.example", "mailbox server")
        self.assertEqual((host, asked), ("127.0.0.9", ["name.invalid"]))
        options.resolver = lambda name: succeed("192.0.2.1")
        host = yield S._pickHost(reactor, options, "resolves.example", "mailbox server")
        self.assertEqual(host, "resolves.example")

    @inlineCallbacks
    def test_unknownUser(self):
        """
        A mailbox the address book does not know is a one-line error and
        exit status 1.
        """
        exchange = FakeExchange(self)
        code, out, err = yield _run(self._argv(exchange, "profile", "--mailbox", "zoe", "--host", EXCHANGE_FQDN + "=127.0.0.1"))
        self.assertEqual((code, out, err), (1, "", "mapiproxy-client: error: user 'zoe' is not in the address book\n"))

    @inlineCallbacks
    def test_wrongPassword(self):
        """
        A wrong password is a one-line error and exit status 1; nothing is
        asked of the address book.
        """
        exchange = FakeExchange(self)
        code, out, err = yield _run(self._argv(exchange, "profile", password="wrong"))
        self.assertEqual(code, 1)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertIn("wrong user name or password", err)
        self.assertEqual(exchange.nspi.requests, [])

    @inlineCallbacks
    def test_unreachable(self):
        """
        A server nobody listens on is a one-line error naming it.
        """
        port = freePort("127.0.0.1")
        code, out, err = yield _run(["--binding", "ncacn_ip_tcp:127.0.0.1[%d]" % (port,), "-U", "D/u%p", "--connect-timeout", "5", "profile"])
        self.assertEqual(code, 1)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertIn("cannot connect to 127.0.0.1[%d]" % (port,), err)

    @inlineCallbacks
    def test_usageError(self):
        """
        A bad command line exits 2 without touching the network.
        """
        code, out, err = yield _run(["profile"])
        self.assertEqual(code, 2)
        self.assertTrue(err.startswith("mapiproxy-client: error: no server"), err)


class Lab:
    """
    The lab Exchange of a private copy of the sample store: NSPI, RFR,
    EMSMDB and AsyncEMSMDB on one loopback listener, registered with an
    endpoint mapper on another; alice in the passdb.
    """

    def __init__(self, testCase):
        from mapiproxy.server import makeServerInterfaces
        from mapiproxy.server.asyncemsmdb import AsyncEmsmdbInterface
        from mapiproxy.server.emsmdb import EmsmdbInterface
        from mapiproxy.server.store import Store

        self.path = copySampleStore(testCase)
        self.store = Store.open(self.path)
        passdb = testCase.mktemp()
        addUser(passdb, USER, PASSWORD)
        identity = ServerIdentity("LAB", LAB_DOMAIN, FQDN, FQDN)
        nspi, rfr = makeServerInterfaces(self.store, identity)
        self.emsmdb = EmsmdbInterface(self.store, reactor, identity, pollInterval=0.05)
        testCase.addCleanup(self.emsmdb.stop)
        self.async_ = AsyncEmsmdbInterface(self.emsmdb, reactor)
        mapper = EndpointMapperInterface()
        served = [nspi, rfr, self.emsmdb, self.async_]
        factory = RPCServerFactory([mapper] + served, passdb=PassDB.fromFile(passdb, identity), identity=identity)
        listener = reactor.listenTCP(0, factory, interface=LAB_HOST)
        testCase.addCleanup(listener.stopListening)
        mapperListener = reactor.listenTCP(0, factory, interface=LAB_HOST)
        testCase.addCleanup(mapperListener.stopListening)
        self.port = listener.getHost().port
        self.epmapperPort = mapperListener.getHost().port
        for interface in served:
            mapper.mapper.register(interface.syntax, self.port, "0.0.0.0", interface.name)

    def argv(self, *extra):
        """
        A command line for alice against this lab, its name mapped to
        127.0.0.1.
        """
        return [
            "--binding",
            "ncacn_ip_tcp:" + LAB_HOST,
            "--epmapper-port",
            str(self.epmapperPort),
            "-U",
            "%s/%s%%%s" % (LAB_DOMAIN, USER, PASSWORD),
            "--host",
            "%s=%s" % (FQDN, LAB_HOST),
        ] + list(extra)

    def inbox(self):
        return self.store.mailbox(USER).folderByRole("inbox")

    def dropMessage(self, subject, name="0099.json"):
        """
        Deliver a message into alice's Inbox the way a mail system would:
        a file renamed into place.
        """
        directory = os.path.join(self.inbox().path, "messages")
        with open(os.path.join(directory, ".tmp"), "w") as f:
            json.dump({"subject": subject, "from": "bob", "to": ["alice"], "body": "hi"}, f)
        os.rename(os.path.join(directory, ".tmp"), os.path.join(directory, name))


class LabTests(TestCase):
    """
    Every subcommand against the lab Exchange over loopback sockets,
    NTLM with packet privacy, ports from the endpoint mapper.
    """

    timeout = 120

    def setUp(self):
        self.lab = Lab(self)

    @inlineCallbacks
    def test_profile(self):
        """
        The profile learns the lab's name from RFR and NSPI and the store
        binding from the server's network address.
        """
        code, out, err = yield _run(self.lab.argv("profile"))
        self.assertEqual((code, err), (0, ""))
        self.assertIn("User:                Alice Anderson <alice@lab.example>\n", out)
        self.assertIn("Address book server: %s\n" % (FQDN,), out)
        self.assertIn("Mailbox server DN:   %s\n" % (SERVER_DN,), out)
        self.assertIn("Mailbox server FQDN: %s\n" % (FQDN,), out)
        self.assertIn("Message store:       ncacn_ip_tcp:%s (port from its endpoint mapper), reached at %s\n" % (FQDN, LAB_HOST), out)

    @inlineCallbacks
    def test_folders(self):
        """
        The folder tree under Top of Information Store, with the Inbox's
        counts as the store has them.
        """
        code, out, err = yield _run(self.lab.argv("folders"))
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0], "Mailbox of Alice Anderson")
        names = [line.split()[0] for line in lines[2:]]
        for name in ("Calendar", "Contacts", "Drafts", "Inbox", "Outbox"):
            self.assertIn(name, names)
        inbox = self.lab.inbox()
        unread = sum(1 for m in inbox.messages if not m.read)
        (row,) = [line for line in lines if line.startswith("Inbox ")]
        self.assertEqual(row.split()[1:], [str(unread), str(len(inbox.messages))])
        self.assertEqual((unread, len(inbox.messages)), (3, 5))

    @inlineCallbacks
    def test_messagesAndShow(self):
        """
        messages Inbox lists the five sample messages in order; show
        Inbox/2 prints its headers, body and attachment; the same message
        by its MID alone gives the same output.
        """
        code, out, err = yield _run(self.lab.argv("messages", "inbox"))
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0], "Inbox: 5 message(s), 3 unread")
        self.assertEqual([line.split("  ")[-1].strip() for line in lines[2:]], INBOX_SUBJECTS)
        mid = lines[3].split()[1]
        code, shown, err = yield _run(self.lab.argv("show", "Inbox/2"))
        self.assertEqual((code, err), (0, ""))
        self.assertTrue(shown.startswith("Message %s in Inbox\nFrom:    Carol Clark <carol@lab.example>\n" % (mid,)), shown)
        self.assertIn("Subject: Q3 sales figures\n", shown)
        self.assertIn("please find the Q3 sales report attached.", shown)
        self.assertIn("Attachments:\n  [1] Q3-sales-report.pdf (50.0 KB)\n", shown)
        code, again, err = yield _run(self.lab.argv("show", mid))
        self.assertEqual((code, again), (0, shown))

    @inlineCallbacks
    def test_spnegoAndSign(self):
        """
        --spnego --sign (auth_type 9, packet integrity) gives the same
        folder listing as the default NTLM with sealing.
        """
        code, sealed, err = yield _run(self.lab.argv("folders"))
        self.assertEqual(code, 0, err)
        code, signed, err = yield _run(self.lab.argv("folders", "--spnego", "--sign"))
        self.assertEqual((code, signed), (0, sealed))

    @inlineCallbacks
    def test_unknownFolder(self):
        """
        An unknown folder is a one-line error listing what is there.
        """
        code, out, err = yield _run(self.lab.argv("messages", "Inbox/Nowhere"))
        self.assertEqual(code, 1)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertIn("no folder 'Nowhere' in Inbox", err)
        code, out, err = yield _run(self.lab.argv("messages", "Nowhere", "--json"))
        document = json.loads(out)
        self.assertEqual((code, document["command"]), (1, "messages"))
        self.assertTrue(document["error"].startswith("no folder 'Nowhere' in Top of Information Store (there: "), document["error"])

    @inlineCallbacks
    def test_fetchAttachment(self):
        """
        The 5 MB attachment arrives whole: its SHA-256 is the stored
        file's and the declared one, and a progress bar was drawn on
        stderr.
        """
        target = os.path.abspath(self.mktemp())
        code, out, err = yield _run(self.lab.argv("fetch-attachment", "Inbox/5", "1", "-o", target))
        self.assertEqual(code, 0, err)
        with open(target, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        (message,) = [m for m in self.lab.inbox().messages if m.subject == INBOX_SUBJECTS[4]]
        stored = [a for a in message.attachments if a.name == "sensor-capture.bin"][0]
        with open(stored.path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest)
        self.assertEqual(digest, CAPTURE_SHA256)
        self.assertEqual(out, "Saved sensor-capture.bin (5242880 bytes) to %s\nSHA-256: %s\n" % (target, CAPTURE_SHA256))
        self.assertIn("100% 5.0 MB / 5.0 MB\n", err)

    @inlineCallbacks
    def test_noCompressionSameResult(self):
        """
        With --no-compression and --no-obfuscation the same attachment
        (the 50 KB one) arrives with the same bytes.
        """
        first, second = os.path.abspath(self.mktemp()), os.path.abspath(self.mktemp())
        code, out, err = yield _run(self.lab.argv("fetch-attachment", "Inbox/2", "1", "-o", first))
        self.assertEqual(code, 0, err)
        code, out, err = yield _run(self.lab.argv("fetch-attachment", "Inbox/2", "1", "-o", second, "--no-compression", "--no-obfuscation"))
        self.assertEqual(code, 0, err)
        with open(first, "rb") as a, open(second, "rb") as b:
            data = a.read()
            self.assertEqual((len(data), data), (51200, b.read()))

    @inlineCallbacks
    def test_json(self):
        """
        --json output of folders, messages and show parses back and agrees
        with the store.
        """
        code, out, err = yield _run(self.lab.argv("--json", "folders"))
        self.assertEqual(code, 0, err)
        document = json.loads(out)
        self.assertEqual((document["command"], document["mailbox"], document["legacy"]), ("folders", "Alice Anderson", False))
        inbox = [f for f in document["folders"] if f["path"] == "Inbox"][0]
        self.assertEqual(inbox["total"], 5)
        code, out, err = yield _run(self.lab.argv("messages", "Inbox", "--json"))
        messages = json.loads(out)["messages"]
        self.assertEqual([m["subject"] for m in messages], INBOX_SUBJECTS)
        code, out, err = yield _run(self.lab.argv("show", "Inbox/5", "--json"))
        message = json.loads(out)["message"]
        self.assertEqual((message["id"], [a["name"] for a in message["attachments"]]), (messages[4]["id"], ["sensor-capture.bin", "meeting-notes.txt"]))
        self.assertEqual(message["attachments"][0]["size"], 5242880)

    @inlineCallbacks
    def test_addressBook(self):
        """
        The GAL lists the sample users, in text and in JSON.
        """
        code, out, err = yield _run(self.lab.argv("address-book"))
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Alice Anderson  alice@lab.example", out)
        code, out, err = yield _run(self.lab.argv("address-book", "--json"))
        accounts = [e["account"] for e in json.loads(out)["entries"]]
        self.assertIn("alice", accounts)
        self.assertIn("bob", accounts)
        self.assertEqual(sorted(accounts), sorted(u.account for u in self.lab.store.users))

    @inlineCallbacks
    def test_waitNewMail(self):
        """
        wait-newmail parks in EcDoAsyncWaitEx; a message dropped into the
        Inbox wakes it and it prints the new message.
        """
        running = _run(self.lab.argv("wait-newmail", "--timeout", "20"))
        yield deferLater(reactor, 0.5, lambda: None)
        self.assertFalse(running.called)
        self.lab.dropMessage("Fresh off the press")
        code, out, err = yield running
        self.assertEqual(code, 0, err)
        self.assertIn("New mail in Inbox: 0x", out)
        self.assertIn("From:    Bob Brown\nSubject: Fresh off the press\nClass:   IPM.Note\n", out)
        self.assertNotIn("polling", out)

    @inlineCallbacks
    def test_waitNewMailTimeout(self):
        """
        Without new mail, wait-newmail gives up after --timeout with exit
        status 1.
        """
        code, out, err = yield _run(self.lab.argv("wait-newmail", "--timeout", "0.5"))
        self.assertEqual((code, err), (1, "mapiproxy-client: error: no new mail within 0.5s\n"))


class _ProxyMixin:
    """
    A lab Exchange and the proxy in front of it.
    """

    timeout = 120

    def _proxy(self, modules=None):
        self.lab = Lab(self)
        epmapperPort = freePort(PROXY_HOST)
        extra = "    dcerpc_mapiproxy:username = %s\n    dcerpc_mapiproxy:password = %s\n    dcerpc_mapiproxy:domain = %s\n" % (USER, PASSWORD, LAB_DOMAIN)
        if modules:
            extra += "    dcerpc_mapiproxy:modules = %s\n" % (modules,)
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:%s[%d,seal]" % (LAB_HOST, self.lab.port),
            interfaces="exchange_nsp, exchange_ds_rfr, exchange_emsmdb, exchange_async_emsmdb",
            extra=extra,
            epmapperPort=epmapperPort,
        )
        startProxy(self, config)
        return [
            "--binding",
            "ncacn_ip_tcp:" + PROXY_HOST,
            "--epmapper-port",
            str(epmapperPort),
            "-U",
            "%s/%s%%%s" % (CLIENT_DOMAIN, CLIENT_USER, CLIENT_PASSWORD),
            "--host",
            "%s=%s" % (PROXY_FQDN, PROXY_HOST),
        ]


class ProxyTests(_ProxyMixin, TestCase):
    """
    The client through the proxy (sealed on both legs) to the lab Exchange.
    """

    @inlineCallbacks
    def test_profileLearnsProxy(self):
        """
        Through the proxy the profile names the proxy (rewritten network
        address and RFR answers), so the store goes through it too.
        """
        argv = self._proxy()
        code, out, err = yield _run(argv + ["profile"])
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Address book server: %s\n" % (PROXY_FQDN,), out)
        self.assertIn("Network addresses:   ncacn_ip_tcp:%s\n" % (PROXY_FQDN,), out)
        self.assertIn("Message store:       ncacn_ip_tcp:%s (port from its endpoint mapper), reached at %s\n" % (PROXY_FQDN, PROXY_HOST), out)
        self.assertNotIn("ncacn_ip_tcp:" + FQDN, out)
        self.assertNotIn("Address book server: " + FQDN, out)

    @inlineCallbacks
    def test_downgradeFallsBack(self):
        """
        With the downgrade module the proxy faults EcDoConnectEx; the
        client says so, uses EcDoConnect/EcDoRpc and lists the same folders
        and messages as directly.
        """
        argv = self._proxy("downgrade")
        code, out, err = yield _run(argv + ["folders"])
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("note: %s\n" % (S.FALLBACK_NOTE,)), out)
        code, direct, err = yield _run(self.lab.argv("folders"))
        self.assertEqual(out.split("\n", 1)[1], direct)
        code, out, err = yield _run(argv + ["messages", "Inbox", "--json"])
        document = json.loads(out)
        self.assertEqual((document["legacy"], document["notes"]), (True, [S.FALLBACK_NOTE]))
        self.assertEqual([m["subject"] for m in document["messages"]], INBOX_SUBJECTS)
        self.assertEqual(document["serverVersion"], "6.0.4417.5")

    @inlineCallbacks
    def test_fetchThroughProxy(self):
        """
        The 5 MB attachment through the proxy has the stored SHA-256.
        """
        argv = self._proxy()
        target = os.path.abspath(self.mktemp())
        code, out, err = yield _run(argv + ["fetch-attachment", "Inbox/5", "1", "-o", target])
        self.assertEqual(code, 0, err)
        with open(target, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), CAPTURE_SHA256)

    @inlineCallbacks
    def test_waitNewMailThroughProxy(self):
        """
        A message dropped into the Inbox wakes wait-newmail through the
        proxy (AsyncEMSMDB bound in the EMSMDB association's group).
        """
        argv = self._proxy()
        running = _run(argv + ["wait-newmail", "--timeout", "20"])
        yield deferLater(reactor, 0.5, lambda: None)
        self.lab.dropMessage("Via the proxy")
        code, out, err = yield running
        self.assertEqual(code, 0, err)
        self.assertIn("Subject: Via the proxy\n", out)


class MainTests(TestCase):
    """
    The console script's C{main}, in a child process.
    """

    timeout = 60

    def _main(self, *argv):
        import sys

        from twisted.internet.utils import getProcessOutputAndValue

        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, PYTHONPATH=root)
        return getProcessOutputAndValue(sys.executable, ["-c", "from mapiproxy.client.cli import main; main()"] + list(argv), env=env, path=root)

    @inlineCallbacks
    def test_debugLogsCalls(self):
        """
        main() runs under the reactor and exits 0; with -d each call is
        logged on stderr, and the password is not.
        """
        exchange = FakeExchange(self)
        out, err, code = yield self._main(
            "--binding",
            "ncacn_ip_tcp:127.0.0.1[%d]" % (exchange.port,),
            "-U",
            "%s/%s%%%s" % (UPSTREAM_DOMAIN, UPSTREAM_USER, UPSTREAM_PASSWORD),
            "--mailbox",
            "alice",
            "--host",
            EXCHANGE_FQDN + "=127.0.0.1",
            "-d",
            "profile",
        )
        out, err = out.decode(), err.decode()
        self.assertEqual(code, 0, err)
        self.assertIn("Mailbox server:      %s\n" % (EXCHANGE,), out)
        for line in ("exchange_ds_rfr RfrGetNewDSA (opnum 0)", "exchange_nsp NspiBind (opnum 0)", "exchange_nsp NspiGetProps (opnum 9)"):
            self.assertIn(line, err)
        self.assertNotIn(UPSTREAM_PASSWORD, err + out)

    @inlineCallbacks
    def test_failureExitStatus(self):
        """
        main() exits 1 with one line on stderr when the server is
        unreachable, 2 on a usage error.
        """
        port = freePort("127.0.0.1")
        out, err, code = yield self._main("--binding", "ncacn_ip_tcp:127.0.0.1[%d]" % (port,), "-U", "D/u%p", "profile")
        self.assertEqual((code, out, len(err.splitlines())), (1, b"", 1))
        self.assertIn(b"cannot connect to 127.0.0.1[%d]" % (port,), err)
        out, err, code = yield self._main("folders")
        self.assertEqual(code, 2)


class DowngradedWaitTests(_ProxyMixin, TestCase):
    """
    wait-newmail on the EcDoConnect/EcDoRpc path (no EcDoAsyncConnectEx
    there): the client polls with idle EcDoRpc calls.
    """

    @inlineCallbacks
    def test_pollsForNewMail(self):
        """
        After the fallback, a dropped message is found by polling and
        printed.
        """
        argv = self._proxy("downgrade")
        running = _run(argv + ["wait-newmail", "--timeout", "20"])
        yield deferLater(reactor, 0.5, lambda: None)
        self.lab.dropMessage("Polled")
        code, out, err = yield running
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("note: %s\n" % (S.FALLBACK_NOTE,)), out)
        self.assertIn("Subject: Polled\n", out)
