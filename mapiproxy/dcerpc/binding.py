# -*- test-case-name: tests.dcerpc.test_binding -*-
"""
DCE/RPC binding strings in Samba's syntax (C{man rpcclient}, "BINDING
STRINGS"; Samba's C{dcerpc_parse_binding} and C{dcerpc_binding_string}).

    [OBJECT-UUID@]TRANSPORT:HOST[ENDPOINT,FLAG,...,KEY=VALUE,...]

Examples::

    ncacn_ip_tcp:192.168.1.1
    ncacn_ip_tcp:192.168.1.1[135]
    ncacn_ip_tcp:exchange.example.com[1024,seal,print]
    ncacn_ip_tcp:exchange.example.com[seal]
    ncacn_ip_tcp:::1[135,sign]
    a4f1db00-ca47-1067-b31f-00dd010662da@ncacn_ip_tcp:10.0.0.5[seal]

Rules, as Samba applies them:
  - The options section is a comma-separated list. Its first element is
    the endpoint (a TCP port for C{ncacn_ip_tcp}) unless it is a known flag
    name; any later element must be a flag or a C{key=value} pair.
    C{endpoint=N} also sets the endpoint. Flag names are case-insensitive.
  - IPv6 literals are written bare after the transport
    (C{ncacn_ip_tcp:fe80::1[135]}), and a bare IPv6 literal without a
    transport is a host. As an extension we also accept the bracketed
    C{ncacn_ip_tcp:[::1][135]} form, and always format the Samba form.
  - A string without a transport (C{192.168.1.1}) is a host. Samba leaves the
    transport unknown there (rpcclient then uses named pipes); for mapiproxy,
    which only speaks TCP, a bare host means C{ncacn_ip_tcp}.
  - Formatting writes the endpoint first, then the flags in Samba's fixed
    order, then the other options. Like Samba, a binding with flags but no
    endpoint is written C{host[,seal]}; both that and C{host[seal]} parse.

Differences from Samba that a user can notice: we reject an empty host for
network transports, a C{ncacn_ip_tcp}/C{ncacn_http} endpoint that is not a
port number in 0-65535, and an C{@} prefix that is not a UUID.
"""

import ipaddress
import re
import types
import uuid
from dataclasses import dataclass, field, replace
from typing import Mapping, Optional

from mapiproxy.dcerpc.constants import NULL_UUID, AuthLevel, AuthType
from mapiproxy.errors import ConfigError

NCACN_IP_TCP = "ncacn_ip_tcp"

#: Transport names Samba knows (C{transports[]} in Samba's binding.c).
KNOWN_TRANSPORTS = (
    "ncacn_np",
    NCACN_IP_TCP,
    "ncacn_http",
    "ncadg_ip_udp",
    "ncalrpc",
    "ncacn_unix_stream",
    "ncadg_unix_dgram",
    "ncacn_at_dsp",
    "ncadg_at_ddp",
    "ncacn_vns_ssp",
    "ncacn_vns_ipc",
    "ncadg_ipx",
    "ncacn_spx",
)

#: Flag names in the order Samba writes them (C{ncacn_options[]}).
KNOWN_FLAGS = (
    "sign",
    "seal",
    "connect",
    "spnego",
    "ntlm",
    "krb5",
    "schannel",
    "validate",
    "print",
    "padcheck",
    "bigendian",
    "smb1",
    "smb2",
    "ndr64",
    "packet",
)

#: Options Samba writes before the free-form ones, in this order.
_SPECIAL_OPTIONS = ("target_hostname", "target_principal", "assoc_group_id")

#: Transports whose endpoint is a port number.
_PORT_TRANSPORTS = frozenset([NCACN_IP_TCP, "ncacn_http", "ncadg_ip_udp"])

#: Transports that may have an empty host (local IPC).
_LOCAL_TRANSPORTS = frozenset(["ncalrpc", "ncacn_unix_stream", "ncadg_unix_dgram"])

_FLAG_ORDER = {name: index for index, name in enumerate(KNOWN_FLAGS)}
_HOSTNAME = re.compile(r"\A[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?\Z")
_FORBIDDEN_HOST_CHARS = frozenset("[],@= \t\r\n")
_OPTION_KEY = re.compile(r"\A[A-Za-z0-9_.-]+\Z")
_UUID_TEXT = re.compile(r"\A[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\Z")


def _isIPv6(text):
    """
    Is C{text} an IPv6 literal (optionally with a C{%scope})?

    @type text: L{str}
    @rtype: L{bool}
    """
    if ":" not in text:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _parseUuid(text, value):
    """
    Parse an object UUID the way Samba accepts it: 36 characters, with
    hyphens.

    @param text: the whole binding string (for the error message).
    @param value: the UUID text.
    @rtype: L{uuid.UUID}
    @raise ConfigError: C{value} is not a UUID in that form.
    """
    if not _UUID_TEXT.match(value):
        raise _fail(text, "%r is not an object UUID" % (value,))
    return uuid.UUID(value)


def _fail(text, why):
    """
    Build the error for a binding string that does not parse.

    @param text: the binding string.
    @param why: what is wrong with it.
    @rtype: L{ConfigError}
    """
    return ConfigError("bad binding string %r: %s" % (text, why))


@dataclass(frozen=True)
class Binding:
    """
    A parsed DCE/RPC binding string.

    @ivar transport: the lower-case transport name, e.g. C{"ncacn_ip_tcp"}.
    @ivar host: the host name or IP literal (IPv6 without brackets).
    @ivar endpoint: the endpoint (a port number as text for TCP), or L{None}.
    @ivar flags: the lower-case flag names set (see L{KNOWN_FLAGS}).
    @ivar options: the other C{key=value} options, in the order given
        (read-only mapping).
    @ivar object: the object UUID of the C{UUID@} prefix, or L{None}.
    """

    transport: str = NCACN_IP_TCP
    host: str = ""
    endpoint: Optional[str] = None
    flags: frozenset = frozenset()
    options: Mapping[str, str] = field(default_factory=dict)
    object: Optional[uuid.UUID] = None

    def __post_init__(self):
        object.__setattr__(self, "flags", frozenset(f.lower() for f in self.flags))
        unknown = self.flags - frozenset(KNOWN_FLAGS)
        if unknown:
            raise ConfigError("unknown binding flag(s): %s" % (", ".join(sorted(unknown)),))
        object.__setattr__(self, "options", types.MappingProxyType(dict(self.options)))
        if self.object == NULL_UUID:
            object.__setattr__(self, "object", None)
        if self.transport not in KNOWN_TRANSPORTS:
            raise ConfigError("unknown binding transport %r" % (self.transport,))
        where = "%s:%s" % (self.transport, self.host)
        self._checkHost(where, self.transport, self.host)
        if self.endpoint is not None:
            self._checkEndpoint(where, self.transport, self.endpoint)

    def __hash__(self):
        return hash(
            (
                self.transport,
                self.host,
                self.endpoint,
                self.flags,
                tuple(self.options.items()),
                self.object,
            )
        )

    @classmethod
    def parse(cls, text):
        """
        Parse a binding string.

        @param text: e.g. C{"ncacn_ip_tcp:192.168.1.1[135,seal,print]"}.
        @type text: L{str}
        @rtype: L{Binding}
        @raise ConfigError: the string is not a binding string, with the
            reason in the message.
        """
        if not isinstance(text, str):
            raise ConfigError("bad binding string %r: not a string" % (text,))
        s = text.strip()
        if not s:
            raise _fail(text, "empty")

        objectUuid = None
        at = s.find("@")
        bracket = s.find("[")
        if at != -1 and (bracket == -1 or at < bracket):
            objectUuid = _parseUuid(text, s[:at])
            s = s[at + 1 :]

        transport = NCACN_IP_TCP
        bracket = s.find("[")
        head = s if bracket == -1 else s[:bracket]
        colon = head.find(":")
        if colon != -1 and not _isIPv6(head):
            name = head[:colon].lower()
            if name not in KNOWN_TRANSPORTS:
                raise _fail(text, "unknown transport %r" % (head[:colon],))
            transport = name
            s = s[colon + 1 :]

        close = s.find("]")
        if s.startswith("[") and close != -1 and _isIPv6(s[1:close]):
            # Our extension: a bracketed IPv6 literal, options after it.
            host = s[1:close]
            s = s[close + 1 :]
        else:
            bracket = s.find("[")
            if bracket == -1:
                host, s = s, ""
            else:
                host, s = s[:bracket], s[bracket:]

        rawOptions = None
        if s:
            if not (s.startswith("[") and s.endswith("]")):
                raise _fail(text, "unbalanced brackets")
            rawOptions = s[1:-1]
            if "[" in rawOptions or "]" in rawOptions:
                raise _fail(text, "unbalanced brackets")
        elif "]" in host:
            raise _fail(text, "unbalanced brackets")

        endpoint = None
        flags = set()
        options = {}
        if rawOptions is not None:
            for index, item in enumerate(rawOptions.split(",")):
                item = item.strip()
                if "=" in item:
                    key, value = item.split("=", 1)
                    key, value = key.strip(), value.strip()
                    if not _OPTION_KEY.match(key):
                        raise _fail(text, "bad option name %r" % (key,))
                    if key.lower() in _FLAG_ORDER:
                        if value.lower() != key.lower():
                            raise _fail(text, "flag %r cannot take the value %r" % (key, value))
                        flags.add(key.lower())
                    elif key == "endpoint":
                        if not value:
                            raise _fail(text, "empty endpoint")
                        endpoint = value
                    elif key == "object":
                        objectUuid = _parseUuid(text, value)
                    else:
                        if key == "target_hostname" and value == host:
                            continue
                        options[key] = value
                elif item.lower() in _FLAG_ORDER:
                    flags.add(item.lower())
                elif index == 0:
                    endpoint = item or None
                else:
                    raise _fail(text, "unknown option %r" % (item,))

        cls._checkHost(text, transport, host)
        if endpoint is not None:
            cls._checkEndpoint(text, transport, endpoint)
        return cls(
            transport=transport,
            host=host,
            endpoint=endpoint,
            flags=frozenset(flags),
            options=options,
            object=objectUuid,
        )

    @staticmethod
    def _checkHost(text, transport, host):
        """
        Reject a host that no transport could use.

        @raise ConfigError: the host is empty or malformed.
        """
        if not host:
            if transport in _LOCAL_TRANSPORTS:
                return
            raise _fail(text, "empty host")
        if _FORBIDDEN_HOST_CHARS.intersection(host):
            raise _fail(text, "bad host %r" % (host,))
        if transport in _PORT_TRANSPORTS:
            if _isIPv6(host):
                return
            if ":" in host or not _HOSTNAME.match(host):
                raise _fail(text, "bad host %r" % (host,))

    @staticmethod
    def _checkEndpoint(text, transport, endpoint):
        """
        Reject an endpoint the transport cannot use.

        @raise ConfigError: a TCP/UDP/HTTP endpoint is not a port number.
        """
        if transport in _PORT_TRANSPORTS:
            if not (endpoint.isascii() and endpoint.isdigit()) or int(endpoint) > 0xFFFF:
                raise _fail(text, "bad port %r (expected 0-65535)" % (endpoint,))

    def format(self):
        """
        Write this binding the way Samba's C{dcerpc_binding_string} does.

        @return: e.g. C{"ncacn_ip_tcp:192.168.1.1[135,seal,print]"}.
        @rtype: L{str}
        """
        parts = []
        if self.object is not None:
            parts.append("%s@" % (self.object,))
        parts.append("%s:%s" % (self.transport, self.host))
        items = []
        for name in KNOWN_FLAGS:
            if name in self.flags:
                items.append(name)
        for key in _SPECIAL_OPTIONS:
            if key in self.options:
                items.append("%s=%s" % (key, self.options[key]))
        for key, value in self.options.items():
            if key not in _SPECIAL_OPTIONS:
                items.append("%s=%s" % (key, value))
        if self.endpoint is not None or items:
            parts.append("[%s%s]" % (self.endpoint or "", "".join("," + i for i in items)))
        return "".join(parts)

    __str__ = format

    @property
    def port(self):
        """
        The TCP (or UDP/HTTP) port of the endpoint.

        @return: the port, or L{None} when there is no endpoint or the
            transport has no ports.
        @rtype: L{int} or L{None}
        """
        if self.transport in _PORT_TRANSPORTS and self.endpoint is not None:
            return int(self.endpoint)
        return None

    def authLevelOr(self, default):
        """
        The authentication level the flags ask for.

        @param default: what to answer when no level flag (C{seal},
            C{sign}, C{packet}, C{connect}) is set.
        @rtype: L{AuthLevel} (or C{default})
        """
        if "seal" in self.flags:
            return AuthLevel.PRIVACY
        if "sign" in self.flags:
            return AuthLevel.INTEGRITY
        if "connect" in self.flags:
            return AuthLevel.CONNECT
        if "packet" in self.flags:
            return AuthLevel.PKT
        return default

    @property
    def authLevel(self):
        """
        The authentication level as Samba derives it
        (C{dcerpc_binding_get_auth_info}): the level flag if one is set,
        else L{AuthLevel.INTEGRITY} when an authentication type flag
        (C{spnego}, C{krb5}, C{schannel}, C{ntlm}) is set, else
        L{AuthLevel.NONE}.

        @rtype: L{AuthLevel}
        """
        if self.flags.intersection(("spnego", "krb5", "schannel", "ntlm")):
            return self.authLevelOr(AuthLevel.INTEGRITY)
        return self.authLevelOr(AuthLevel.NONE)

    @property
    def authType(self):
        """
        The authentication type the flags ask for: C{spnego} gives
        L{AuthType.SPNEGO}, C{krb5} L{AuthType.KERBEROS}, C{schannel}
        L{AuthType.SCHANNEL}, anything else L{AuthType.NTLM} (mapiproxy
        always authenticates; Samba would say "none" when no flag is set).

        @rtype: L{AuthType}
        """
        if "spnego" in self.flags:
            return AuthType.SPNEGO
        if "krb5" in self.flags:
            return AuthType.KERBEROS
        if "schannel" in self.flags:
            return AuthType.SCHANNEL
        return AuthType.NTLM

    @property
    def printMode(self):
        """
        Whether the C{print} flag (dump every call) is set.

        @rtype: L{bool}
        """
        return "print" in self.flags

    def withEndpoint(self, port):
        """
        A copy of this binding with another endpoint.

        @param port: the new port (or endpoint text), or L{None} for none.
        @type port: L{int}, L{str} or L{None}
        @rtype: L{Binding}
        @raise ConfigError: the port is not valid for the transport.
        """
        endpoint = None if port is None else str(port)
        if endpoint is not None:
            self._checkEndpoint(self.format(), self.transport, endpoint)
        return replace(self, endpoint=endpoint)

    def withFlags(self, *names):
        """
        A copy of this binding with more flags set.

        @param names: flag names (case-insensitive).
        @rtype: L{Binding}
        @raise ConfigError: a name is not a known flag.
        """
        return replace(self, flags=self.flags | frozenset(n.lower() for n in names))

    def withoutFlags(self, *names):
        """
        A copy of this binding with some flags cleared (names that are not
        set are ignored).

        @param names: flag names (case-insensitive).
        @rtype: L{Binding}
        """
        return replace(self, flags=self.flags - frozenset(n.lower() for n in names))
