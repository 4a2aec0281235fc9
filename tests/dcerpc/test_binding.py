"""
Tests for L{mapiproxy.dcerpc.binding}.

Golden strings come from Samba: the examples of C{man rpcclient} ("BINDING
STRINGS") and the round-trip list of Samba's own
C{source4/torture/local/binding_string.c}, which C{dcerpc_binding_string}
must reproduce from C{dcerpc_parse_binding}.
"""

import dataclasses
import operator
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.dcerpc.binding import KNOWN_FLAGS, Binding
from mapiproxy.dcerpc.constants import AuthLevel, AuthType
from mapiproxy.errors import ConfigError

#: Strings of Samba's binding_string.c that name a host, which Samba writes
#: back unchanged (Samba compares case-insensitively: the UUID comes back in
#: lower case).
SAMBA_ROUND_TRIPS = [
    "ncacn_np:127.0.0.1[rpcecho]",
    "ncacn_ip_tcp:127.0.0.1",
    "ncacn_ip_tcp:127.0.0.1[20]",
    "ncacn_ip_tcp:127.0.0.1[20,sign]",
    "ncacn_http:127.0.0.1",
    "ncacn_http:127.0.0.1[78]",
    "ncacn_http:127.0.0.1[78,ProxyServer=myproxy:3128]",
    "ncacn_np:localhost[rpcecho]",
    "ncacn_np:localhost[/pipe/rpcecho,sign,seal]",
    "308FB580-1EB2-11CA-923B-08002B1075A7@ncacn_np:localhost",
    "308FB580-1EB2-11CA-923B-08002B1075A7@ncacn_ip_tcp:127.0.0.1",
    "ncalrpc:[IDENTIFIER]",
    "ncalrpc:[,Security=Sane]",
    "ncacn_unix_stream:[/tmp/epmapper]",
    "ncacn_unix_stream:[/tmp/epmapper,sign]",
]


class ParseTests(SynchronousTestCase):
    """
    L{Binding.parse} accepts every form Samba accepts that names a host.
    """

    def test_transportAndHost(self):
        """
        C{ncacn_ip_tcp:host} has a transport, a host and nothing else.
        """
        b = Binding.parse("ncacn_ip_tcp:192.168.1.1")
        self.assertEqual(
            (b.transport, b.host, b.endpoint, b.flags, dict(b.options), b.object),
            ("ncacn_ip_tcp", "192.168.1.1", None, frozenset(), {}, None),
        )

    def test_port(self):
        """
        The first option that is not a flag is the endpoint: a TCP port.
        """
        b = Binding.parse("ncacn_ip_tcp:exchange.example.com[1024]")
        self.assertEqual((b.host, b.endpoint, b.port), ("exchange.example.com", "1024", 1024))

    def test_portAndFlags(self):
        """
        Flags follow the endpoint.
        """
        b = Binding.parse("ncacn_ip_tcp:192.168.1.1[135,seal,print]")
        self.assertEqual((b.endpoint, b.flags), ("135", frozenset(["seal", "print"])))

    def test_flagFirstIsNotEndpoint(self):
        """
        A first option that is a known flag is a flag, not the endpoint
        (C{man rpcclient}: C{ncacn_ip_tcp:samba.example.com[sign,seal,krb5]}).
        """
        b = Binding.parse("ncacn_ip_tcp:samba.example.com[sign,seal,krb5]")
        self.assertEqual((b.endpoint, b.flags), (None, frozenset(["sign", "seal", "krb5"])))

    def test_emptyFirstOption(self):
        """
        Samba's own form for flags without an endpoint, C{host[,seal]}, has
        no endpoint.
        """
        b = Binding.parse("ncacn_ip_tcp:h[,seal]")
        self.assertEqual((b.endpoint, b.flags), (None, frozenset(["seal"])))

    def test_flagsCaseInsensitive(self):
        """
        Flag names are case-insensitive and kept in lower case.
        """
        b = Binding.parse("ncacn_ip_tcp:h[SEAL,Print,SpNeGo]")
        self.assertEqual(b.flags, frozenset(["seal", "print", "spnego"]))

    def test_transportCaseInsensitive(self):
        """
        The transport name is case-insensitive and kept in lower case.
        """
        self.assertEqual(Binding.parse("NCACN_IP_TCP:h").transport, "ncacn_ip_tcp")

    def test_endpointOption(self):
        """
        C{endpoint=N} sets the endpoint and C{flag=flag} sets a flag, as
        Samba's C{dcerpc_binding_set_string_option} does.
        """
        b = Binding.parse("ncacn_ip_tcp:h[endpoint=99,seal=seal]")
        self.assertEqual((b.endpoint, b.flags), ("99", frozenset(["seal"])))

    def test_keyValueOptions(self):
        """
        Other C{key=value} options are kept in order.
        """
        b = Binding.parse("ncacn_ip_tcp:h[135,sign,b=2,a=1]")
        self.assertEqual(list(b.options.items()), [("b", "2"), ("a", "1")])

    def test_objectPrefix(self):
        """
        A C{UUID@} prefix is the object UUID.
        """
        b = Binding.parse("a4f1db00-ca47-1067-b31f-00dd010662da@ncacn_ip_tcp:10.0.0.5[seal]")
        self.assertEqual(
            (b.object, b.host, b.flags),
            (uuid.UUID("a4f1db00-ca47-1067-b31f-00dd010662da"), "10.0.0.5", frozenset(["seal"])),
        )

    def test_objectOption(self):
        """
        C{object=UUID} sets the object UUID too.
        """
        b = Binding.parse("ncacn_ip_tcp:h[object=a4f1db00-ca47-1067-b31f-00dd010662da]")
        self.assertEqual(b.object, uuid.UUID("a4f1db00-ca47-1067-b31f-00dd010662da"))

    def test_nullObjectIsNone(self):
        """
        The nil UUID as object means no object, as Samba's
        C{dcerpc_binding_set_object} treats it.
        """
        b = Binding.parse("00000000-0000-0000-0000-000000000000@ncacn_ip_tcp:h")
        self.assertEqual((b.object, b.format()), (None, "ncacn_ip_tcp:h"))

    def test_bareHost(self):
        """
        A string without a transport is a host, served over C{ncacn_ip_tcp}.
        """
        b = Binding.parse("192.168.1.1")
        self.assertEqual((b.transport, b.host), ("ncacn_ip_tcp", "192.168.1.1"))

    def test_bareHostWithOptions(self):
        """
        A bare host may carry options.
        """
        b = Binding.parse("exchange[6001,seal]")
        self.assertEqual((b.transport, b.host, b.port), ("ncacn_ip_tcp", "exchange", 6001))

    def test_ipv6Samba(self):
        """
        Samba writes IPv6 literals bare after the transport.
        """
        b = Binding.parse("ncacn_ip_tcp:::1[1024,sign]")
        self.assertEqual((b.host, b.port, b.flags), ("::1", 1024, frozenset(["sign"])))

    def test_ipv6Bracketed(self):
        """
        The bracketed form C{[::1][1024,sign]} is accepted too.
        """
        b = Binding.parse("ncacn_ip_tcp:[fe80::1][1024,sign]")
        self.assertEqual((b.host, b.port), ("fe80::1", 1024))

    def test_ipv6BareHost(self):
        """
        A bare IPv6 literal is a host, as in Samba (C{is_ipaddress_v6}).
        """
        b = Binding.parse("fe80::1%eth0[135]")
        self.assertEqual((b.transport, b.host, b.port), ("ncacn_ip_tcp", "fe80::1%eth0", 135))

    def test_whitespaceAroundItems(self):
        """
        Blanks around the whole string and around options are ignored.
        """
        b = Binding.parse("  ncacn_ip_tcp:h[135, seal]  ")
        self.assertEqual((b.endpoint, b.flags), ("135", frozenset(["seal"])))

    def test_portZero(self):
        """
        Port 0 (let the system choose, for a listening binding) is accepted.
        """
        self.assertEqual(Binding.parse("ncacn_ip_tcp:127.0.0.1[0]").port, 0)


class ParseErrorTests(SynchronousTestCase):
    """
    L{Binding.parse} raises L{ConfigError} naming the problem.
    """

    def assertBad(self, text, reason):
        """
        Parsing C{text} fails with C{reason} in the message.
        """
        e = self.assertRaises(ConfigError, Binding.parse, text)
        self.assertIn(reason, str(e))

    def test_emptyHost(self):
        """
        A network transport needs a host.
        """
        self.assertBad("ncacn_ip_tcp:", "empty host")

    def test_emptyHostWithPort(self):
        """
        Samba's server-side form without a host is refused for TCP.
        """
        self.assertBad("ncacn_ip_tcp:[135]", "empty host")

    def test_empty(self):
        """
        An empty string is not a binding.
        """
        self.assertBad("   ", "empty")

    def test_notAString(self):
        """
        A non-string is refused with a ConfigError, not a TypeError.
        """
        self.assertBad(None, "not a string")

    def test_unclosedBracket(self):
        """
        An options section without C{]} is refused.
        """
        self.assertBad("ncacn_ip_tcp:h[135", "unbalanced brackets")

    def test_strayClosingBracket(self):
        """
        A C{]} without C{[} is refused.
        """
        self.assertBad("ncacn_ip_tcp:h]", "unbalanced brackets")

    def test_twoSections(self):
        """
        Two options sections are refused.
        """
        self.assertBad("ncacn_ip_tcp:h[1][2]", "unbalanced brackets")

    def test_textAfterSection(self):
        """
        Text after the options section is refused.
        """
        self.assertBad("ncacn_ip_tcp:h[1]x", "unbalanced brackets")

    def test_badPort(self):
        """
        A TCP endpoint that is not a number is refused.
        """
        self.assertBad("ncacn_ip_tcp:h[abc]", "bad port 'abc'")

    def test_portTooLarge(self):
        """
        A TCP port past 65535 is refused.
        """
        self.assertBad("ncacn_ip_tcp:h[65536]", "bad port '65536'")

    def test_negativePort(self):
        """
        A negative port is refused.
        """
        self.assertBad("ncacn_ip_tcp:h[-1]", "bad port '-1'")

    def test_unknownTransport(self):
        """
        An unknown transport is named.
        """
        self.assertBad("ncacn_foo:h", "unknown transport 'ncacn_foo'")

    def test_unknownLaterOption(self):
        """
        Only the first option may be an endpoint; later ones must be flags
        or C{key=value} (as in Samba).
        """
        self.assertBad("ncacn_ip_tcp:h[135,sealed]", "unknown option 'sealed'")

    def test_emptyLaterOption(self):
        """
        An empty option after the first is refused, as in Samba.
        """
        self.assertBad("ncacn_ip_tcp:h[135,]", "unknown option ''")

    def test_flagWithOtherValue(self):
        """
        C{flag=value} must repeat the flag name.
        """
        self.assertBad("ncacn_ip_tcp:h[seal=sign]", "flag 'seal' cannot take the value 'sign'")

    def test_badObject(self):
        """
        An C{@} prefix must be a 36-character UUID.
        """
        self.assertBad("nouuid@ncacn_ip_tcp:h", "'nouuid' is not an object UUID")

    def test_objectWithoutHyphens(self):
        """
        The compact 32-digit UUID form is refused, as Samba refuses it.
        """
        self.assertBad(
            "a4f1db00ca471067b31f00dd010662da@ncacn_ip_tcp:h", "is not an object UUID"
        )

    def test_hostWithColon(self):
        """
        A host with a colon that is not an IPv6 literal is refused.
        """
        self.assertBad("ncacn_ip_tcp:h:135", "bad host 'h:135'")

    def test_hostWithBlank(self):
        """
        A host with a blank in it is refused.
        """
        self.assertBad("ncacn_ip_tcp:my host", "bad host 'my host'")

    def test_emptyEndpointOption(self):
        """
        C{endpoint=} needs a value.
        """
        self.assertBad("ncacn_ip_tcp:h[endpoint=]", "empty endpoint")

    def test_unknownFlagInConstructor(self):
        """
        Building a binding with an unknown flag is refused.
        """
        self.assertRaises(ConfigError, Binding, host="h", flags=frozenset(["sealed"]))

    def test_badHostInConstructor(self):
        """
        Building a binding checks the host and port as parsing does.
        """
        self.assertRaises(ConfigError, Binding, host="")
        self.assertRaises(ConfigError, Binding, host="a b")
        self.assertRaises(ConfigError, Binding, host="h", endpoint="http")
        self.assertRaises(ConfigError, Binding, transport="tcp", host="h")


class FormatTests(SynchronousTestCase):
    """
    L{Binding.format} writes what Samba's C{dcerpc_binding_string} writes.
    """

    def test_sambaRoundTrips(self):
        """
        Every string of Samba's round-trip list that names a host comes back
        unchanged (case-insensitively, as Samba checks).
        """
        for text in SAMBA_ROUND_TRIPS:
            self.assertEqual(Binding.parse(text).format().lower(), text.lower(), text)

    def test_flagOrder(self):
        """
        Flags are written in Samba's fixed order, not the order given.
        """
        b = Binding.parse("ncacn_ip_tcp:192.168.1.1[135,print,seal]")
        self.assertEqual(str(b), "ncacn_ip_tcp:192.168.1.1[135,seal,print]")

    def test_flagsWithoutEndpoint(self):
        """
        Without an endpoint Samba starts the list with a comma.
        """
        self.assertEqual(str(Binding.parse("ncacn_ip_tcp:h[seal]")), "ncacn_ip_tcp:h[,seal]")

    def test_bareHostGetsTransport(self):
        """
        A bare host is written with its (implied) transport.
        """
        self.assertEqual(str(Binding.parse("192.168.1.1")), "ncacn_ip_tcp:192.168.1.1")

    def test_ipv6WrittenBare(self):
        """
        An IPv6 host given in brackets is written the Samba way.
        """
        self.assertEqual(
            str(Binding.parse("ncacn_ip_tcp:[::1][1024,sign]")), "ncacn_ip_tcp:::1[1024,sign]"
        )

    def test_object(self):
        """
        The object UUID is written first, in lower case.
        """
        b = Binding.parse("A4F1DB00-CA47-1067-B31F-00DD010662DA@ncacn_ip_tcp:h[seal]")
        self.assertEqual(str(b), "a4f1db00-ca47-1067-b31f-00dd010662da@ncacn_ip_tcp:h[,seal]")

    def test_specialOptionsFirst(self):
        """
        C{target_hostname}, C{target_principal} and C{assoc_group_id} come
        before other options, in that order, as Samba writes them.
        """
        b = Binding.parse(
            "ncacn_ip_tcp:h[1,zz=1,assoc_group_id=0x12345678,target_principal=p,"
            "target_hostname=t]"
        )
        self.assertEqual(
            str(b),
            "ncacn_ip_tcp:h[1,target_hostname=t,target_principal=p,"
            "assoc_group_id=0x12345678,zz=1]",
        )

    def test_targetHostnameEqualToHostDropped(self):
        """
        C{target_hostname} equal to the host is not written (Samba omits it).
        """
        self.assertEqual(str(Binding.parse("ncacn_ip_tcp:h[target_hostname=h]")), "ncacn_ip_tcp:h")


class DerivedTests(SynchronousTestCase):
    """
    The properties the rest of mapiproxy uses.
    """

    def test_portNoneWithoutEndpoint(self):
        """
        No endpoint, no port.
        """
        self.assertIsNone(Binding.parse("ncacn_ip_tcp:h[seal]").port)

    def test_portNoneForPipes(self):
        """
        A named pipe endpoint is no port.
        """
        self.assertIsNone(Binding.parse("ncacn_np:h[samr]").port)

    def test_authLevelOr(self):
        """
        C{seal}, C{sign}, C{connect} and C{packet} map to their levels, the
        strongest winning; without one the default is returned.
        """
        cases = [
            ("[seal,sign]", AuthLevel.PRIVACY),
            ("[sign]", AuthLevel.INTEGRITY),
            ("[connect]", AuthLevel.CONNECT),
            ("[packet]", AuthLevel.PKT),
            ("[135]", "default"),
        ]
        for options, level in cases:
            b = Binding.parse("ncacn_ip_tcp:h" + options)
            self.assertEqual(b.authLevelOr("default"), level)

    def test_authLevelLikeSamba(self):
        """
        Without a level flag, an authentication flag means integrity and
        nothing means none (Samba's C{dcerpc_binding_get_auth_info}).
        """
        self.assertEqual(Binding.parse("ncacn_ip_tcp:h[spnego]").authLevel, AuthLevel.INTEGRITY)
        self.assertEqual(Binding.parse("ncacn_ip_tcp:h").authLevel, AuthLevel.NONE)
        self.assertEqual(Binding.parse("ncacn_ip_tcp:h[seal]").authLevel, AuthLevel.PRIVACY)

    def test_authType(self):
        """
        C{spnego} selects SPNEGO, C{krb5} Kerberos; anything else NTLM.
        """
        self.assertEqual(Binding.parse("ncacn_ip_tcp:h[seal,spnego]").authType, AuthType.SPNEGO)
        self.assertEqual(Binding.parse("ncacn_ip_tcp:h[krb5]").authType, AuthType.KERBEROS)
        self.assertEqual(Binding.parse("ncacn_ip_tcp:h[seal,ntlm]").authType, AuthType.NTLM)
        self.assertEqual(Binding.parse("ncacn_ip_tcp:h[seal]").authType, AuthType.NTLM)

    def test_printMode(self):
        """
        The C{print} flag turns print mode on.
        """
        self.assertTrue(Binding.parse("ncacn_ip_tcp:h[print]").printMode)
        self.assertFalse(Binding.parse("ncacn_ip_tcp:h[seal]").printMode)

    def test_withEndpoint(self):
        """
        L{Binding.withEndpoint} replaces the port and keeps the rest.
        """
        b = Binding.parse("ncacn_ip_tcp:h[135,seal]").withEndpoint(6004)
        self.assertEqual(str(b), "ncacn_ip_tcp:h[6004,seal]")

    def test_withEndpointNone(self):
        """
        L{Binding.withEndpoint} with L{None} removes the endpoint.
        """
        b = Binding.parse("ncacn_ip_tcp:h[135]").withEndpoint(None)
        self.assertEqual(str(b), "ncacn_ip_tcp:h")

    def test_withEndpointBad(self):
        """
        L{Binding.withEndpoint} refuses a port out of range.
        """
        self.assertRaises(ConfigError, Binding.parse("ncacn_ip_tcp:h").withEndpoint, 70000)

    def test_withoutFlags(self):
        """
        L{Binding.withoutFlags} clears the named flags, case-insensitively.
        """
        b = Binding.parse("ncacn_ip_tcp:h[135,seal,print]").withoutFlags("PRINT", "krb5")
        self.assertEqual(str(b), "ncacn_ip_tcp:h[135,seal]")

    def test_withFlags(self):
        """
        L{Binding.withFlags} adds flags; unknown ones are refused.
        """
        b = Binding.parse("ncacn_ip_tcp:h").withFlags("Sign")
        self.assertEqual(b.flags, frozenset(["sign"]))
        self.assertRaises(ConfigError, b.withFlags, "sealed")

    def test_frozen(self):
        """
        A binding cannot be changed in place, its options included.
        """
        b = Binding.parse("ncacn_ip_tcp:h[a=1]")
        self.assertRaises(dataclasses.FrozenInstanceError, setattr, b, "host", "x")
        self.assertRaises(TypeError, operator.setitem, b.options, "a", "2")

    def test_hashable(self):
        """
        Equal bindings are equal and hash alike, so they can key a dict.
        """
        a = Binding.parse("ncacn_ip_tcp:h[135,seal,a=1]")
        b = Binding.parse("ncacn_ip_tcp:h[endpoint=135,a=1,SEAL]")
        self.assertEqual(a, b)
        self.assertEqual({a: 1}[b], 1)


_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
_hosts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.lists(_label, min_size=1, max_size=3).map(".".join),
)
_options = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(
        lambda k: k not in KNOWN_FLAGS and k not in ("endpoint", "object", "target_hostname")
    ),
    st.text("ABCabc0123:./-", min_size=1, max_size=10),
    max_size=3,
)


class PropertyTests(SynchronousTestCase):
    """
    Property tests over generated bindings.
    """

    @settings(max_examples=200, deadline=None)
    @given(
        host=_hosts,
        port=st.one_of(st.none(), st.integers(0, 65535)),
        flags=st.frozensets(st.sampled_from(KNOWN_FLAGS)),
        options=_options,
        obj=st.one_of(st.none(), st.uuids().filter(lambda u: u.int != 0)),
    )
    def test_formatParseRoundTrip(self, host, port, flags, options, obj):
        """
        Parsing what L{Binding.format} wrote gives the same binding back.
        """
        b = Binding(
            host=host,
            endpoint=None if port is None else str(port),
            flags=flags,
            options=options,
            object=obj,
        )
        self.assertEqual(Binding.parse(b.format()), b)

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=40))
    def test_garbageRaisesConfigError(self, text):
        """
        Any text either parses or raises L{ConfigError}, nothing else.
        """
        try:
            b = Binding.parse(text)
        except ConfigError:
            return
        self.assertIsInstance(b.format(), str)
