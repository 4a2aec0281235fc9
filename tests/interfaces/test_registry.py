"""
Tests for L{mapiproxy.interfaces.registry}.

The UUIDs, versions and opnum names are cross-checked against impacket's
interface modules (C{MSRPC_UUID_*} constants and C{OPNUMS} tables) and,
where python3-samba is installed, against the opnums of Samba's own NDR
tables.
"""

import importlib
import json
import subprocess
import uuid

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.dcerpc.pdu import SyntaxId
from mapiproxy.errors import ConfigError
from mapiproxy.interfaces import registry
from mapiproxy.interfaces.registry import (
    ALIASES,
    EXCHANGE_INTERFACES,
    INTERFACES,
    InterfaceInfo,
    lookupByName,
    lookupBySyntax,
    opnumName,
    parseInterfaceSpec,
)
from tests.peers import requireSambaPython

EMSMDB_UUID = uuid.UUID("a4f1db00-ca47-1067-b31f-00dd010662da")

#: Registry name -> impacket modules describing the same interface.
IMPACKET_MODULES = {
    "samr": ("samr",),
    "lsarpc": ("lsad", "lsat"),
    "netlogon": ("nrpc",),
    "drsuapi": ("drsuapi",),
    "backupkey": ("bkrp",),
    "srvsvc": ("srvs",),
    "wkssvc": ("wkst",),
    "winreg": ("rrp",),
    "spoolss": ("rprn",),
    "svcctl": ("scmr",),
    "mgmt": ("mgmt",),
    "exchange_nsp": ("nspi",),
    "exchange_ds_rfr": ("oxabref",),
    "epmapper": ("epm",),
}


def _impacketSyntaxes(module):
    """
    The interface syntaxes an impacket module declares.

    @return: C{(uuid, major, minor)} triples.
    """
    from impacket.uuid import bin_to_uuidtup

    found = []
    for name, value in vars(module).items():
        if name.startswith("MSRPC_UUID_") and isinstance(value, bytes) and len(value) == 20:
            text, version = bin_to_uuidtup(value)
            major, minor = (int(part) for part in version.split("."))
            found.append((uuid.UUID(text), major, minor))
    return found


class LookupByNameTests(SynchronousTestCase):
    """
    L{lookupByName} finds interfaces by registry name or alias.
    """

    def test_emsmdb(self):
        """
        C{exchange_emsmdb} is EMSMDB a4f1db00-... v0.81, authenticated as
        C{exchangeMDB}, found through the endpoint mapper.
        """
        info = lookupByName("exchange_emsmdb")
        self.assertEqual(
            (info.uuid, info.version, info.versionMinor, info.authService, info.endpointHint),
            (EMSMDB_UUID, 0, 81, "exchangeMDB", "ncacn_ip_tcp:"),
        )

    def test_heldCalls(self):
        """
        Only EcDoAsyncWaitEx is a call the server may hold (5 minutes,
        [MS-OXCRPC] 3.3.4.1).
        """
        held = {
            (info.name, info.opnums[opnum]): info.longestHold(opnum)
            for info in EXCHANGE_INTERFACES
            for opnum in range(len(info.opnums))
            if info.longestHold(opnum)
        }
        self.assertEqual(held, {("exchange_async_emsmdb", "EcDoAsyncWaitEx"): 300})

    def test_exchangeSyntaxes(self):
        """
        The four Exchange interfaces have the UUIDs and versions of
        [MS-OXCRPC], [MS-OXNSPI] and [MS-OXABREF].
        """
        self.assertEqual(
            [(i.name, str(i.uuid), i.versionString) for i in EXCHANGE_INTERFACES],
            [
                ("exchange_emsmdb", "a4f1db00-ca47-1067-b31f-00dd010662da", "0.81"),
                ("exchange_async_emsmdb", "5261574a-4572-206e-b268-6b199213b4e4", "0.1"),
                ("exchange_nsp", "f5cc5a18-4264-101a-8c59-08002b2f8426", "56.0"),
                ("exchange_ds_rfr", "1544f5e0-613c-11d1-93df-00c04fd7bd09", "1.0"),
            ],
        )

    def test_aliases(self):
        """
        Each alias names its target interface.
        """
        expected = {
            "lsa": "lsarpc",
            "nspi": "exchange_nsp",
            "emsmdb": "exchange_emsmdb",
            "rfr": "exchange_ds_rfr",
            "exchange_rfr": "exchange_ds_rfr",
            "asyncemsmdb": "exchange_async_emsmdb",
        }
        for alias, target in expected.items():
            self.assertIs(lookupByName(alias), lookupByName(target), alias)
        for alias, target in ALIASES.items():
            self.assertEqual(lookupByName(alias).name, target)

    def test_caseInsensitive(self):
        """
        Names are case-insensitive and blanks around them are ignored.
        """
        self.assertEqual(lookupByName(" Exchange_NSP ").name, "exchange_nsp")

    def test_unknown(self):
        """
        An unknown name raises L{ConfigError}, not L{KeyError}.
        """
        e = self.assertRaises(ConfigError, lookupByName, "exchange_foo")
        self.assertEqual(str(e), "unknown interface 'exchange_foo'")

    def test_notAString(self):
        """
        A non-string raises L{ConfigError} too.
        """
        self.assertRaises(ConfigError, lookupByName, None)

    def test_namesUnique(self):
        """
        No two interfaces share a name, and no alias shadows a name.
        """
        names = [info.name for info in INTERFACES]
        self.assertEqual(len(names), len(set(names)))
        self.assertFalse(set(names) & set(ALIASES))

    def test_syntaxesUnique(self):
        """
        No two interfaces share a UUID and major version.
        """
        keys = [(info.uuid, info.version) for info in INTERFACES]
        self.assertEqual(len(keys), len(set(keys)))


class LookupBySyntaxTests(SynchronousTestCase):
    """
    L{lookupBySyntax} finds the interface a client binds to.
    """

    def test_exact(self):
        """
        UUID, major and minor version find the interface.
        """
        self.assertEqual(lookupBySyntax(EMSMDB_UUID, 0, 81).name, "exchange_emsmdb")

    def test_textUuid(self):
        """
        The UUID may be given as text, in any case.
        """
        info = lookupBySyntax("F5CC5A18-4264-101A-8C59-08002B2F8426", 56, 0)
        self.assertEqual(info.name, "exchange_nsp")

    def test_anyMinor(self):
        """
        Without a minor version any minor version matches.
        """
        self.assertEqual(lookupBySyntax(EMSMDB_UUID, 0).name, "exchange_emsmdb")

    def test_wrongMinor(self):
        """
        A different minor version does not match.
        """
        self.assertIsNone(lookupBySyntax(EMSMDB_UUID, 0, 80))

    def test_wrongMajor(self):
        """
        A different major version does not match.
        """
        self.assertIsNone(lookupBySyntax(EMSMDB_UUID, 1, 81))

    def test_unknown(self):
        """
        An unknown UUID, or text that is no UUID, finds nothing.
        """
        self.assertIsNone(lookupBySyntax(uuid.UUID(int=7), 1, 0))
        self.assertIsNone(lookupBySyntax("not-a-uuid", 1, 0))

    def test_syntaxId(self):
        """
        L{InterfaceInfo.syntaxId} is the L{SyntaxId} a client binds to.
        """
        expected = SyntaxId(uuid.UUID("f5cc5a18-4264-101a-8c59-08002b2f8426"), 56, 0)
        self.assertEqual(lookupByName("exchange_nsp").syntaxId, expected)

    def test_everyInterfaceFindsItself(self):
        """
        Every registered interface is found by its own syntax.
        """
        for info in INTERFACES:
            self.assertIs(lookupBySyntax(info.uuid, info.version, info.versionMinor), info)


class OpnumTests(SynchronousTestCase):
    """
    Opnum names, by the numbers of the specifications.
    """

    def test_exchangeOpnums(self):
        """
        The opnums the proxy rewrites have the numbers of the specifications.
        """
        cases = [
            ("exchange_emsmdb", 0, "EcDoConnect"),
            ("exchange_emsmdb", 1, "EcDoDisconnect"),
            ("exchange_emsmdb", 2, "EcDoRpc"),
            ("exchange_emsmdb", 10, "EcDoConnectEx"),
            ("exchange_emsmdb", 11, "EcDoRpcExt2"),
            ("exchange_emsmdb", 14, "EcDoAsyncConnectEx"),
            ("exchange_async_emsmdb", 0, "EcDoAsyncWaitEx"),
            ("exchange_nsp", 0, "NspiBind"),
            ("exchange_nsp", 3, "NspiQueryRows"),
            ("exchange_nsp", 7, "NspiDNToMId"),
            ("exchange_nsp", 9, "NspiGetProps"),
            ("exchange_nsp", 20, "NspiResolveNamesW"),
            ("exchange_ds_rfr", 0, "RfrGetNewDSA"),
            ("exchange_ds_rfr", 1, "RfrGetFQDNFromServerDN"),
            ("epmapper", 2, "ept_lookup"),
            ("epmapper", 3, "ept_map"),
            ("epmapper", 4, "ept_lookup_handle_free"),
            ("samr", 64, "SamrConnect5"),
        ]
        for name, opnum, expected in cases:
            self.assertEqual(opnumName(lookupByName(name), opnum), expected)

    def test_tableSizes(self):
        """
        EMSMDB has 15 opnums, NSPI 21, RFR 2, AsyncEMSMDB 1, the endpoint
        mapper 7.
        """
        expected = {
            "exchange_emsmdb": 15,
            "exchange_nsp": 21,
            "exchange_ds_rfr": 2,
            "exchange_async_emsmdb": 1,
            "epmapper": 7,
        }
        sizes = {name: len(lookupByName(name).opnums) for name in expected}
        self.assertEqual(sizes, expected)

    def test_fallbackPastTable(self):
        """
        An opnum past the table is named C{"opnum N"}.
        """
        self.assertEqual(opnumName(lookupByName("exchange_ds_rfr"), 42), "opnum 42")

    def test_fallbackUnnamed(self):
        """
        An opnum whose name we do not carry is named C{"opnum N"}.
        """
        self.assertEqual(lookupByName("lsarpc").opnumName(1), "opnum 1")

    def test_fallbackNegative(self):
        """
        A negative opnum does not index the table from the end.
        """
        self.assertEqual(lookupByName("exchange_nsp").opnumName(-1), "opnum -1")

    def test_fallbackUnknownInterface(self):
        """
        Without an interface every opnum is C{"opnum N"}.
        """
        self.assertEqual(opnumName(None, 3), "opnum 3")

    def test_opnumFor(self):
        """
        L{InterfaceInfo.opnumFor} is the inverse of L{opnumName},
        case-insensitively.
        """
        nsp = lookupByName("exchange_nsp")
        self.assertEqual(nsp.opnumFor("nspigetprops"), 9)
        for opnum, name in enumerate(nsp.opnums):
            self.assertEqual(nsp.opnumFor(name), opnum)

    def test_opnumForUnknown(self):
        """
        L{InterfaceInfo.opnumFor} raises L{ConfigError} for a name it lacks,
        including the empty name of an unnamed opnum.
        """
        self.assertRaises(ConfigError, lookupByName("exchange_nsp").opnumFor, "NspiFoo")
        self.assertRaises(ConfigError, lookupByName("lsarpc").opnumFor, "")


class ImpacketCrossCheckTests(SynchronousTestCase):
    """
    The registry agrees with impacket's interface modules.
    """

    def test_syntaxes(self):
        """
        Each interface has the UUID and version impacket declares for it.
        """
        for name, modules in IMPACKET_MODULES.items():
            info = lookupByName(name)
            for moduleName in modules:
                module = importlib.import_module("impacket.dcerpc.v5." + moduleName)
                self.assertIn(
                    (info.uuid, info.version, info.versionMinor),
                    _impacketSyntaxes(module),
                    name,
                )

    def test_opnumNames(self):
        """
        Every opnum impacket names has the same name here.
        """
        checked = 0
        for name, modules in IMPACKET_MODULES.items():
            info = lookupByName(name)
            for moduleName in modules:
                module = importlib.import_module("impacket.dcerpc.v5." + moduleName)
                for opnum, (request, _) in getattr(module, "OPNUMS", {}).items():
                    self.assertEqual(info.opnumName(opnum), request.__name__, (name, opnum))
                    checked += 1
        self.assertGreater(checked, 300)

    def test_knownUuids(self):
        """
        impacket's table of interfaces by specification lists every
        registered interface UUID except Samba's own unixinfo.
        """
        from impacket.dcerpc.v5 import epm

        known = {key.upper() for key in epm.KNOWN_PROTOCOLS}
        for info in INTERFACES:
            if info.name in ("unixinfo", "epmapper"):
                continue
            self.assertIn(str(info.uuid).upper(), known, info.name)


#: Registry name, our opnum name, Samba python module, Samba call name.
SAMBA_NAMES = [
    ("samr", "SamrConnect5", "samr", "Connect5"),
    ("samr", "SamrLookupDomainInSamServer", "samr", "LookupDomain"),
    ("samr", "SamrEnumerateUsersInDomain", "samr", "EnumDomainUsers"),
    ("samr", "SamrTestPrivateFunctionsUser", "samr", "TestPrivateFunctionsUser"),
    ("lsarpc", "LsarOpenPolicy2", "lsa", "OpenPolicy2"),
    ("lsarpc", "LsarOpenTrustedDomainByName", "lsa", "OpenTrustedDomainByName"),
    ("lsarpc", "LsarCreateTrustedDomainEx2", "lsa", "CreateTrustedDomainEx2"),
    ("netlogon", "NetrServerAuthenticate3", "netlogon", "netr_ServerAuthenticate3"),
    ("netlogon", "NetrAccountSync", "netlogon", "netr_AccountSync"),
    ("drsuapi", "DRSCrackNames", "drsuapi", "DsCrackNames"),
    ("drsuapi", "DRSGetReplInfo", "drsuapi", "DsReplicaGetInfo"),
    ("drsuapi", "DRSQuerySitesByCost", "drsuapi", "QuerySitesByCost"),
    ("dnsserver", "R_DnssrvEnumRecords2", "dnsserver", "DnssrvEnumRecords2"),
    ("dnsserver", "R_DnssrvUpdateRecord2", "dnsserver", "DnssrvUpdateRecord2"),
    ("unixinfo", "GetPWUid", "unixinfo", "GetPWUid"),
    ("srvsvc", "NetrCharDevQPurgeSelf", "srvsvc", "NetCharDevQPurgeSelf"),
    ("winreg", "BaseRegNotifyChangeKeyValue", "winreg", "NotifyChangeKeyValue"),
    ("winreg", "BaseInitiateSystemShutdownEx", "winreg", "InitiateSystemShutdownEx"),
    ("svcctl", "ROpenSCManagerA", "svcctl", "OpenSCManagerA"),
    ("svcctl", "REnumServicesStatusExA", "svcctl", "EnumServicesStatusExA"),
    ("mgmt", "inq_princ_name", "mgmt", "inq_princ_name"),
    ("epmapper", "ept_lookup_handle_free", "epmapper", "epm_LookupHandleFree"),
]

_SAMBA_SCRIPT = """
import importlib, json, sys
out = {}
for module, call in json.loads(sys.argv[1]):
    out[module + "." + call] = getattr(
        importlib.import_module("samba.dcerpc." + module), call).opnum()
print(json.dumps(out))
"""


class SambaCrossCheckTests(SynchronousTestCase):
    """
    The registry agrees with the opnums of Samba's NDR tables.
    """

    def test_opnumsMatchSamba(self):
        """
        Operations named by both agree on their opnum, including those
        impacket does not name.
        """
        python = requireSambaPython()
        pairs = [(module, call) for _, _, module, call in SAMBA_NAMES]
        result = subprocess.run(
            [python, "-c", _SAMBA_SCRIPT, json.dumps(pairs)],
            capture_output=True,
            timeout=60,
            check=True,
        )
        samba = json.loads(result.stdout)
        for name, ours, module, call in SAMBA_NAMES:
            self.assertEqual(
                lookupByName(name).opnumFor(ours), samba[module + "." + call], (name, ours)
            )


class ParseInterfaceSpecTests(SynchronousTestCase):
    """
    L{parseInterfaceSpec} reads interfaces as users write them.
    """

    def test_name(self):
        """
        A registry name gives the registered interface.
        """
        self.assertIs(parseInterfaceSpec("exchange_nsp"), registry.EXCHANGE_NSP)

    def test_alias(self):
        """
        An alias gives its target.
        """
        self.assertIs(parseInterfaceSpec("EMSMDB"), registry.EXCHANGE_EMSMDB)

    def test_slashVersion(self):
        """
        C{UUID/MAJOR.MINOR} gives the registered interface.
        """
        self.assertIs(
            parseInterfaceSpec("a4f1db00-ca47-1067-b31f-00dd010662da/0.81"),
            registry.EXCHANGE_EMSMDB,
        )

    def test_colonVersion(self):
        """
        C{UUID:MAJOR.MINOR} is accepted too, UUID in upper case.
        """
        self.assertIs(
            parseInterfaceSpec("12345778-1234-ABCD-EF00-0123456789AC:1.0"), registry.SAMR
        )

    def test_majorOnly(self):
        """
        C{UUID/MAJOR} means minor version 0.
        """
        self.assertIs(
            parseInterfaceSpec("f5cc5a18-4264-101a-8c59-08002b2f8426/56"), registry.EXCHANGE_NSP
        )

    def test_sambaPackedVersion(self):
        """
        Samba's C{UUID/0xVVVVVVVV} has the major version in the low 16 bits
        and the minor version in the high 16 bits.
        """
        self.assertIs(
            parseInterfaceSpec("a4f1db00-ca47-1067-b31f-00dd010662da/0x00510000"),
            registry.EXCHANGE_EMSMDB,
        )
        info = parseInterfaceSpec("12345678-0000-0000-0000-000000000001/0x00020003")
        self.assertEqual((info.version, info.versionMinor), (3, 2))

    def test_bareKnownUuid(self):
        """
        A bare UUID of a registered interface gives that interface.
        """
        self.assertIs(
            parseInterfaceSpec("1544f5e0-613c-11d1-93df-00c04fd7bd09"), registry.EXCHANGE_DS_RFR
        )

    def test_bareUnknownUuid(self):
        """
        A bare unknown UUID gives an anonymous interface, version 1.0.
        """
        text = "12345678-0000-0000-0000-000000000001"
        self.assertEqual(
            parseInterfaceSpec(text),
            InterfaceInfo(text, uuid.UUID(text), 1, 0, ()),
        )

    def test_unknownUuidWithVersion(self):
        """
        An unknown syntax gives an anonymous interface named after the
        specification, with no opnum names.
        """
        info = parseInterfaceSpec("12345678-0000-0000-0000-000000000001:2.3")
        self.assertEqual(
            (info.name, info.version, info.versionMinor, info.opnums, info.opnumName(1)),
            ("12345678-0000-0000-0000-000000000001:2.3", 2, 3, (), "opnum 1"),
        )

    def test_knownUuidOtherVersion(self):
        """
        A registered UUID with another version is not the registered
        interface.
        """
        info = parseInterfaceSpec("a4f1db00-ca47-1067-b31f-00dd010662da/0.80")
        self.assertEqual(
            (info.name, info.versionMinor, info.opnums),
            ("a4f1db00-ca47-1067-b31f-00dd010662da/0.80", 80, ()),
        )

    def test_errors(self):
        """
        Garbage raises L{ConfigError}.
        """
        for text in (
            "",
            "   ",
            None,
            "exchange_foo",
            "a4f1db00-ca47-1067-b31f-00dd010662da/0.x",
            "a4f1db00-ca47-1067-b31f-00dd010662da/70000.0",
            "a4f1db00-ca47-1067-b31f-00dd010662da/1.70000",
            "a4f1db00-ca47-1067-b31f-00dd010662da/",
            "a4f1db00ca471067b31f00dd010662da/1.0",
            "a4f1db00-ca47-1067-b31f-00dd010662da/1.0/2",
        ):
            self.assertRaises(ConfigError, parseInterfaceSpec, text)
