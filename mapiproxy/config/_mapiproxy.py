# -*- test-case-name: tests.test_config -*-
"""
L{MapiProxyConfig}: everything mapiproxy reads from an smb.conf, checked
once at start-up, as one frozen object.

The option names are those of OpenChange's MAPIProxy (C{dcerpc_mapiproxy:*})
and of Samba (C{interfaces}, C{rpc server port}, C{passdb backend}, ...),
plus a few of our own limits (C{dcerpc_mapiproxy:max_fragment},
C{max_stub}, C{upstream_timeout}, C{connect_timeout}).
"""

import socket
import types

import attrs
from twisted.logger import Logger

from mapiproxy.config._moduleoptions import ModuleOptions
from mapiproxy.config._netif import resolveListenItem
from mapiproxy.config._sambaoptions import SAMBA_OPTIONS
from mapiproxy.config._smbconf import SambaConfig
from mapiproxy.config._values import (
    asBool,
    asInt,
    asList,
    asPath,
    normaliseName,
)
from mapiproxy.dcerpc.constants import (
    DEFAULT_MAX_FRAGMENT,
    MAX_FRAGMENT_SIZE,
    MIN_FRAGMENT_SIZE,
)
from mapiproxy.errors import ConfigError

_log = Logger()

#: The RPC interfaces proxied when C{dcerpc_mapiproxy:interfaces} is not
#: set. OpenChange's default lacks AsyncEMSMDB; Outlook drops the
#: connection without it, so ours has it.
DEFAULT_INTERFACES = (
    "exchange_emsmdb",
    "exchange_async_emsmdb",
    "exchange_nsp",
    "exchange_ds_rfr",
)

#: C{dcerpc endpoint servers} when it is not set: unlike Samba's default,
#: this one enables mapiproxy.
DEFAULT_ENDPOINT_SERVERS = ("epmapper", "mapiproxy")

#: The endpoint servers mapiproxy provides; others are ignored with a warning.
KNOWN_ENDPOINT_SERVERS = frozenset(DEFAULT_ENDPOINT_SERVERS)

#: Samba's compiled-in C{smb passwd file} (Debian's build).
DEFAULT_SMB_PASSWD_FILE = "/etc/samba/smbpasswd"

#: The endpoint mapper's well-known port (C{rpc server port:epmapper}).
DEFAULT_EPMAPPER_PORT = 135
#: Samba's default C{rpc server dynamic port range}.
DEFAULT_DYNAMIC_PORT_RANGE = (49152, 65535)
#: The largest reassembled stub by default (C{dcerpc_mapiproxy:max_stub}).
DEFAULT_MAX_STUB = 16 * 1024 * 1024
#: Seconds to wait for an upstream reply by default.
DEFAULT_UPSTREAM_TIMEOUT = 60
#: Seconds to wait for the upstream TCP connection by default.
DEFAULT_CONNECT_TIMEOUT = 10

#: Listen addresses when C{bind interfaces only} is off. Only IPv4: on
#: Linux a socket on C{::} also takes IPv4 and would collide with
#: C{0.0.0.0}; list C{::} (or C{::1}) in C{interfaces} with
#: C{bind interfaces only = yes} to serve IPv6.
WILDCARD_LISTEN_ADDRESSES = ("0.0.0.0",)

_MAPIPROXY = "dcerpc_mapiproxy"
_DCESRV = "dcesrv"
_RPC_SERVER_PORT = normaliseName("rpc server port")

#: The C{dcerpc_mapiproxy:*} options we read (normalised names).
MAPIPROXY_OPTIONS = frozenset(
    normaliseName(name)
    for name in (
        "server binding username password domain use_machine_account "
        "delegated_auth ndrdump interfaces modules nspi_server emsmdb_server "
        "rfr_server pcap call_log max_fragment max_stub upstream_timeout "
        "connect_timeout store lab_config upstream_epmapper_port "
        "rewrite_network_address rewrite_home_mdb "
        "rewrite_dntomid rewrite_rfr"
    ).split()
)

#: The C{dcesrv:*} options we read (normalised names).
DCESRV_OPTIONS = frozenset({normaliseName("assoc group checking")})

_NETBIOS_NAME_LIMIT = 15


def _maskSecret(value):
    return "None" if value is None else "'********'"


def _hostLabel():
    """
    The default NetBIOS name: the first label of the host name, upper-case.
    """
    return socket.gethostname().split(".", 1)[0].upper() or "MAPIPROXY"


def _logWarning(message):
    _log.warn("{configWarning}", configWarning=message)


@attrs.frozen(kw_only=True)
class MapiProxyConfig:
    """
    The mapiproxy configuration, built by L{fromSambaConfig}. Its repr masks
    the password. Built directly (as tests may do), every field has the
    default an empty smb.conf gives, except C{netbiosName} (C{MAPIPROXY}),
    and nothing is checked.

    @ivar netbiosName: C{netbios name}, upper-case; by default the first
        label of the host name.
    @ivar realm: C{realm}, upper-case, C{""} when unset.
    @ivar workgroup: C{workgroup}, upper-case, default C{WORKGROUP}.
    @ivar dnsDomain: the realm in lower case (C{""} when unset).
    @ivar fqdn: C{netbios name.realm} in lower case; just the lower-case
        NetBIOS name when no realm is set.
    @ivar endpointServers: C{dcerpc endpoint servers}, lower-case; contains
        C{mapiproxy}. Default C{epmapper, mapiproxy}.
    @ivar servesEpmapper: whether C{epmapper} is among the endpoint servers,
        i.e. we run the endpoint mapper.
    @ivar assocGroupChecking: C{dcesrv:assoc group checking} (default true;
        OpenChange's docs set it to false; mapiproxy works either way).
    @ivar serverMode: C{dcerpc_mapiproxy:server}: serve the Exchange
        interfaces locally (true) or relay them to C{binding} (false). The
        default is false when a binding is configured, true otherwise.
    @ivar binding: C{dcerpc_mapiproxy:binding}, the upstream binding string,
        or L{None}.
    @ivar upstreamBinding: what the C{parseBinding} callable made of
        C{binding}, or L{None}.
    @ivar username: C{dcerpc_mapiproxy:username} for the upstream, or
        L{None}.
    @ivar password: C{dcerpc_mapiproxy:password}, or L{None}. Never shown.
    @ivar domain: C{dcerpc_mapiproxy:domain}, or L{None}.
    @ivar useMachineAccount: C{dcerpc_mapiproxy:use_machine_account}.
    @ivar delegatedAuth: C{dcerpc_mapiproxy:delegated_auth}.
    @ivar ndrdump: C{dcerpc_mapiproxy:ndrdump}: print decoded calls.
    @ivar interfaces: C{dcerpc_mapiproxy:interfaces}: the RPC interface
        names served, lower-case, default L{DEFAULT_INTERFACES}.
    @ivar modules: C{dcerpc_mapiproxy:modules}: the module stack in order
        (a name listed twice is stacked twice, as in OpenChange).
    @ivar nspiServer: C{dcerpc_mapiproxy:nspi_server}, or L{None}.
    @ivar emsmdbServer: C{dcerpc_mapiproxy:emsmdb_server}, or L{None}.
    @ivar rfrServer: C{dcerpc_mapiproxy:rfr_server}, or L{None}.
    @ivar moduleOptions: every other parametric option of C{[global]}
        (C{mpm_cache:path}, ...), for the modules.
    @type moduleOptions: L{ModuleOptions}
    @ivar pcap: C{dcerpc_mapiproxy:pcap}, a capture file path, or L{None}.
    @ivar callLog: C{dcerpc_mapiproxy:call_log}, a path, or L{None}.
    @ivar storePath: C{dcerpc_mapiproxy:store}: the lab Exchange's store on
        disk (server mode, or the interfaces named by C{nspi_server} /
        C{emsmdb_server} / C{rfr_server}), or L{None}.
    @ivar labConfig: C{dcerpc_mapiproxy:lab_config}: another config file
        whose service (typically the lab Exchange in server mode) runs in the
        same process, started first: the demo's "lab Exchange + proxy".
    @ivar upstreamEpmapperPort: C{dcerpc_mapiproxy:upstream_epmapper_port}:
        where the upstream's endpoint mapper listens (default 135).
    @ivar rewriteNetworkAddress: C{dcerpc_mapiproxy:rewrite_network_address}
        (default yes): NSPI replies name the proxy as the address book server.
    @ivar rewriteHomeMdb: C{dcerpc_mapiproxy:rewrite_home_mdb} (default yes):
        NSPI replies name the proxy as the mailbox server.
    @ivar rewriteDNToMId: C{dcerpc_mapiproxy:rewrite_dntomid} (default yes):
        NspiDNToMId requests get the real server name back.
    @ivar rewriteRfr: C{dcerpc_mapiproxy:rewrite_rfr} (default yes):
        RfrGetNewDSA and RfrGetFQDNFromServerDN name the proxy.
    @ivar passdbPath: the smbpasswd file of the users allowed in
        (C{passdb backend = smbpasswd:PATH} or C{smb passwd file}), or
        L{None}: then no client can authenticate.
    @ivar listenInterfaces: the items of Samba's C{interfaces} as written.
    @ivar interfaceAddresses: the addresses they resolve to.
    @ivar bindInterfacesOnly: C{bind interfaces only}.
    @ivar listenAddresses: where to listen: L{interfaceAddresses} with
        C{bind interfaces only}, else L{WILDCARD_LISTEN_ADDRESSES}.
    @ivar rpcServerPort: C{rpc server port}: the port of every interface
        without a port of its own; 0 picks one from the dynamic range.
    @ivar interfacePorts: C{rpc server port:NAME} per interface name.
    @ivar dynamicPortRange: C{rpc server dynamic port range}, C{(low, high)}.
    @ivar epmapperPort: C{rpc server port:epmapper}, default 135.
    @ivar maxFragment: C{dcerpc_mapiproxy:max_fragment}: the largest
        fragment we send or accept (1432..65535, default 5840).
    @ivar maxStub: C{dcerpc_mapiproxy:max_stub}: the largest reassembled
        request or response stub, in bytes (default 16 MiB).
    @ivar upstreamTimeout: C{dcerpc_mapiproxy:upstream_timeout}: seconds to
        wait for an upstream reply (default 60).
    @ivar connectTimeout: C{dcerpc_mapiproxy:connect_timeout}: seconds to
        wait for the upstream TCP connection (default 10).
    @ivar source: the parsed file, to point errors found later at a line.
    """

    netbiosName: str = "MAPIPROXY"
    realm: str = ""
    workgroup: str = "WORKGROUP"
    dnsDomain: str = ""
    fqdn: str = "mapiproxy"
    endpointServers: tuple = DEFAULT_ENDPOINT_SERVERS
    servesEpmapper: bool = True
    assocGroupChecking: bool = True
    serverMode: bool = True
    binding: str = None
    upstreamBinding: object = attrs.field(default=None, eq=False)
    username: str = None
    password: str = attrs.field(default=None, repr=_maskSecret)
    domain: str = None
    useMachineAccount: bool = False
    delegatedAuth: bool = False
    ndrdump: bool = False
    interfaces: tuple = DEFAULT_INTERFACES
    modules: tuple = ()
    nspiServer: str = None
    emsmdbServer: str = None
    rfrServer: str = None
    moduleOptions: ModuleOptions = attrs.field(factory=ModuleOptions)
    pcap: str = None
    callLog: str = None
    rewriteNetworkAddress: bool = True
    storePath: str = None
    labConfig: str = None
    upstreamEpmapperPort: int = 135
    rewriteHomeMdb: bool = True
    rewriteDNToMId: bool = True
    rewriteRfr: bool = True
    passdbPath: str = None
    listenInterfaces: tuple = ()
    interfaceAddresses: tuple = ()
    bindInterfacesOnly: bool = False
    listenAddresses: tuple = WILDCARD_LISTEN_ADDRESSES
    rpcServerPort: int = 0
    interfacePorts: types.MappingProxyType = attrs.field(
        factory=lambda: types.MappingProxyType({}),
        converter=lambda ports: types.MappingProxyType(dict(ports)),
        eq=attrs.cmp_using(eq=lambda a, b: dict(a) == dict(b)),
        hash=False,
    )
    dynamicPortRange: tuple = DEFAULT_DYNAMIC_PORT_RANGE
    epmapperPort: int = DEFAULT_EPMAPPER_PORT
    maxFragment: int = DEFAULT_MAX_FRAGMENT
    maxStub: int = DEFAULT_MAX_STUB
    upstreamTimeout: int = DEFAULT_UPSTREAM_TIMEOUT
    connectTimeout: int = DEFAULT_CONNECT_TIMEOUT
    source: SambaConfig = attrs.field(default=None, repr=False, eq=False)

    @classmethod
    def fromSambaConfig(
        cls,
        conf,
        *,
        knownInterfaces=None,
        knownModules=None,
        parseBinding=None,
        warn=None,
        interfaceAddresses=None,
    ):
        """
        Build and check the configuration.

        @param conf: the parsed smb.conf.
        @type conf: L{SambaConfig}
        @param knownInterfaces: called with each RPC interface name; raises
            L{ConfigError}, L{KeyError} or L{ValueError} for an unknown one.
        @param knownModules: the same for module names.
        @param parseBinding: called with the binding string; returns its
            parsed form or raises L{ConfigError} or L{ValueError}.
        @param warn: called with a one-line message (C{path:line: 'option':
            text}) for each unknown or ignored option; by default logged as a
            warning.
        @param interfaceAddresses: looks up a network interface name (see
            L{mapiproxy.config._netif.systemInterfaceAddresses}, the default).

        @rtype: L{MapiProxyConfig}
        @raise ConfigError: for the first error, with file, line and option.
        """
        builder = _Builder(
            conf,
            warn or _logWarning,
            knownInterfaces,
            knownModules,
            parseBinding,
            interfaceAddresses,
        )
        return cls(**builder.build())

    @classmethod
    def fromFile(cls, path, **kwargs):
        """
        Read an smb.conf file and build the configuration from it.

        @param path: the file.
        @type path: L{str}
        @param kwargs: passed to L{fromSambaConfig}.

        @rtype: L{MapiProxyConfig}
        @raise ConfigError: when the file cannot be read or is wrong.
        """
        return cls.fromSambaConfig(SambaConfig.fromFile(path), **kwargs)

    def portFor(self, interfaceName):
        """
        The port to listen on for an RPC interface.

        @param interfaceName: an interface name (C{exchange_emsmdb}) or
            C{epmapper}.
        @type interfaceName: L{str}

        @return: the port; 0 means pick one from L{dynamicPortRange}.
        @rtype: L{int}
        """
        name = normaliseName(interfaceName)
        if name == "epmapper":
            return self.epmapperPort
        return self.interfacePorts.get(name, self.rpcServerPort)

    def errorFor(self, option, message):
        """
        Build an error about an option for a problem found after loading
        (e.g. a port that cannot be bound), pointing at the line that set it,
        or at C{[global]} when it was not set.

        @param option: the option name.
        @type option: L{str}
        @param message: what is wrong.
        @type message: L{str}

        @rtype: L{ConfigError}
        """
        if self.source is None:
            return ConfigError(message, option=option)
        value = self.source.get(option)
        if value is not None:
            return value.error(message)
        return self.source.missingError(option, message)


class _Builder:
    """
    Reads a L{SambaConfig} into the fields of a L{MapiProxyConfig}, one
    group of options per method.
    """

    def __init__(self, conf, warn, knownInterfaces, knownModules, parseBinding, lookup):
        self._conf = conf
        self._global = conf.globals
        self._warn = warn
        self._knownInterfaces = knownInterfaces
        self._knownModules = knownModules
        self._parseBinding = parseBinding
        self._lookup = lookup

    def build(self):
        """
        @return: the keyword arguments of L{MapiProxyConfig}.
        @rtype: L{dict}
        """
        fields = {"source": self._conf}
        self._checkOptionNames()
        self._noteSections()
        for group in (
            self._names,
            self._endpointServers,
            self._upstream,
            self._interfaces,
            self._proxyOptions,
            self._passdb,
            self._listening,
            self._ports,
            self._limits,
        ):
            fields.update(group(fields))
        return fields

    def _get(self, name):
        return self._global.get(name)

    def _string(self, name):
        """
        A string option, L{None} when absent or empty.
        """
        value = self._get(name)
        if value is None or not value.value:
            return None
        return value.value

    def _checkOptionNames(self):
        for value in self._global:
            prefix, colon, option = value.key.partition(":")
            if not colon:
                if value.key not in SAMBA_OPTIONS:
                    self._warn(str(value.error("unknown option; ignored")))
            elif prefix == _MAPIPROXY and option not in MAPIPROXY_OPTIONS:
                self._warn(str(value.error("unknown dcerpc_mapiproxy option; ignored")))
            elif prefix == _DCESRV and option not in DCESRV_OPTIONS:
                self._warn(str(value.error("unknown dcesrv option; ignored")))

    def _noteSections(self):
        shares = self._conf.shares
        if not shares:
            return
        _log.info(
            "{path}: ignoring sections {sections} (mapiproxy serves no shares)",
            path=self._conf.path,
            sections=", ".join("[%s]" % (share.name,) for share in shares),
        )
        for share in shares:
            for value in share:
                prefix = value.key.partition(":")[0]
                if prefix in (_MAPIPROXY, _DCESRV, _RPC_SERVER_PORT):
                    self._warn(
                        str(
                            value.error(
                                "only read in [global], not in [%s]; ignored"
                                % (share.name,)
                            )
                        )
                    )

    def _names(self, fields):
        netbiosName = (self._string("netbios name") or _hostLabel()).upper()
        value = self._get("netbios name")
        if value is not None and len(netbiosName) > _NETBIOS_NAME_LIMIT:
            self._warn(
                str(value.error("longer than %d characters" % (_NETBIOS_NAME_LIMIT,)))
            )
        realm = (self._string("realm") or "").upper()
        fqdn = netbiosName + "." + realm if realm else netbiosName
        return {
            "netbiosName": netbiosName,
            "realm": realm,
            "workgroup": (self._string("workgroup") or "WORKGROUP").upper(),
            "dnsDomain": realm.lower(),
            "fqdn": fqdn.lower(),
        }

    def _endpointServers(self, fields):
        value = self._get("dcerpc endpoint servers")
        if value is None:
            servers = DEFAULT_ENDPOINT_SERVERS
        else:
            servers = tuple(name.lower() for name in asList(value))
            if "mapiproxy" not in servers:
                raise value.error("'mapiproxy' is not listed: the proxy is not enabled")
            for name in servers:
                if name not in KNOWN_ENDPOINT_SERVERS:
                    self._warn(
                        str(
                            value.error(
                                "endpoint server %r is not provided by "
                                "mapiproxy; ignored" % (name,)
                            )
                        )
                    )
        return {
            "endpointServers": servers,
            "servesEpmapper": "epmapper" in servers,
            "assocGroupChecking": self._global.getBool(
                "dcesrv:assoc group checking", True
            ),
        }

    def _upstream(self, fields):
        bindingValue = self._get("dcerpc_mapiproxy:binding")
        serverValue = self._get("dcerpc_mapiproxy:server")
        if serverValue is not None:
            serverMode = asBool(serverValue)
        else:
            serverMode = bindingValue is None
        if not serverMode and bindingValue is None:
            raise ConfigError(
                "required when 'dcerpc_mapiproxy:server' is false (proxy mode)",
                serverValue.path,
                serverValue.line,
                "dcerpc_mapiproxy:binding",
            )
        result = {
            "serverMode": serverMode,
            "binding": None,
            "upstreamBinding": None,
            "useMachineAccount": self._global.getBool(
                "dcerpc_mapiproxy:use_machine_account", False
            ),
            "delegatedAuth": self._global.getBool(
                "dcerpc_mapiproxy:delegated_auth", False
            ),
        }
        if bindingValue is not None:
            result["binding"], result["upstreamBinding"] = self._binding(bindingValue)
        result.update(self._credentials())
        return result

    def _binding(self, value):
        if not value.value:
            raise value.error("empty binding string")
        if self._parseBinding is None:
            return value.value, None
        try:
            parsed = self._parseBinding(value.value)
        except (ConfigError, ValueError) as e:
            detail = str(e)
            if repr(value.value) not in detail:
                detail = "bad binding string %r: %s" % (value.value, detail)
            raise value.error(detail) from None
        return value.value, parsed

    def _credentials(self):
        username = self._string("dcerpc_mapiproxy:username")
        passwordValue = self._get("dcerpc_mapiproxy:password")
        if passwordValue is not None and username is None:
            raise passwordValue.error("set without 'dcerpc_mapiproxy:username'")
        if username is not None and passwordValue is None:
            self._warn(
                str(
                    self._get("dcerpc_mapiproxy:username").error(
                        "set without 'dcerpc_mapiproxy:password'; ignored "
                        "(as OpenChange does)"
                    )
                )
            )
        return {
            "username": username,
            "password": None if passwordValue is None else passwordValue.value,
            "domain": self._string("dcerpc_mapiproxy:domain"),
        }

    def _interfaces(self, fields):
        interfaces = self._checkedNames(
            "dcerpc_mapiproxy:interfaces",
            DEFAULT_INTERFACES,
            self._knownInterfaces,
            "interface",
            lower=True,
        )
        modules = self._checkedNames(
            "dcerpc_mapiproxy:modules", (), self._knownModules, "module"
        )
        return {"interfaces": interfaces, "modules": modules}

    def _checkedNames(self, option, default, check, kind, lower=False):
        """
        Read a list of names and check each with C{check}.
        """
        value = self._get(option)
        if value is None:
            return default
        names = asList(value)
        if lower:
            names = tuple(name.lower() for name in names)
            if not names:
                raise value.error("no %s listed" % (kind,))
            if len(set(names)) != len(names):
                self._warn(str(value.error("an %s is listed twice" % (kind,))))
                names = tuple(dict.fromkeys(names))
        if check is not None:
            for name in names:
                _checkName(value, check, name, kind)
        return names

    def _proxyOptions(self, fields):
        moduleValues = []
        for value in self._global:
            prefix, colon, _ = value.key.partition(":")
            if colon and prefix not in (_MAPIPROXY, _DCESRV, _RPC_SERVER_PORT):
                moduleValues.append(value)
        anchor = self._get("dcerpc_mapiproxy:modules") or self._global
        return {
            "ndrdump": self._global.getBool("dcerpc_mapiproxy:ndrdump", False),
            "nspiServer": self._string("dcerpc_mapiproxy:nspi_server"),
            "emsmdbServer": self._string("dcerpc_mapiproxy:emsmdb_server"),
            "rfrServer": self._string("dcerpc_mapiproxy:rfr_server"),
            "moduleOptions": ModuleOptions(moduleValues, (anchor.path, anchor.line)),
            "pcap": self._global.getPath("dcerpc_mapiproxy:pcap"),
            "callLog": self._global.getPath("dcerpc_mapiproxy:call_log"),
            "rewriteNetworkAddress": self._global.getBool("dcerpc_mapiproxy:rewrite_network_address", True),
            "rewriteHomeMdb": self._global.getBool("dcerpc_mapiproxy:rewrite_home_mdb", True),
            "rewriteDNToMId": self._global.getBool("dcerpc_mapiproxy:rewrite_dntomid", True),
            "rewriteRfr": self._global.getBool("dcerpc_mapiproxy:rewrite_rfr", True),
            "storePath": self._global.getPath("dcerpc_mapiproxy:store"),
            "labConfig": self._global.getPath("dcerpc_mapiproxy:lab_config"),
            "upstreamEpmapperPort": self._global.getInt("dcerpc_mapiproxy:upstream_epmapper_port", 135, 1, 65535),
        }

    def _passdb(self, fields):
        backend = self._get("passdb backend")
        passwdFile = self._get("smb passwd file")
        if backend is not None:
            name, _, location = backend.value.partition(":")
            name = name.strip().lower()
            if name != "smbpasswd":
                raise backend.error(
                    "only the smbpasswd backend is supported, not %r" % (name,)
                )
            if location.strip():
                where, path = backend, asPath(attrs.evolve(backend, value=location))
            elif passwdFile is not None:
                where, path = passwdFile, asPath(passwdFile)
            else:
                where, path = backend, DEFAULT_SMB_PASSWD_FILE
        elif passwdFile is not None:
            where, path = passwdFile, asPath(passwdFile)
        else:
            _log.info(
                "{path}: no 'passdb backend = smbpasswd:PATH': every client "
                "will be refused",
                path=self._conf.path,
            )
            return {"passdbPath": None}
        try:
            with open(path, "rb"):
                pass
        except OSError as e:
            raise where.error(
                "cannot read passdb %r: %s" % (path, e.strerror or e)
            ) from None
        return {"passdbPath": path}

    def _listening(self, fields):
        value = self._get("interfaces")
        items = asList(value) if value is not None else ()
        addresses = []
        for item in items:
            try:
                resolved = resolveListenItem(item, self._lookup)
            except ValueError as e:
                raise value.error(str(e)) from None
            addresses.extend(resolved)
        addresses = tuple(dict.fromkeys(addresses))
        bindOnly = self._get("bind interfaces only")
        bindInterfacesOnly = asBool(bindOnly) if bindOnly is not None else False
        if bindInterfacesOnly and not addresses:
            raise bindOnly.error("set but 'interfaces' lists no address")
        return {
            "listenInterfaces": items,
            "interfaceAddresses": addresses,
            "bindInterfacesOnly": bindInterfacesOnly,
            "listenAddresses": (
                addresses if bindInterfacesOnly else WILDCARD_LISTEN_ADDRESSES
            ),
        }

    def _ports(self, fields):
        ports = {}
        epmapperPort = DEFAULT_EPMAPPER_PORT
        for value in self._global:
            prefix, colon, name = value.key.partition(":")
            if not colon or prefix != _RPC_SERVER_PORT:
                continue
            if name == "epmapper":
                epmapperPort = asInt(value, 1, 65535)
                continue
            ports[name] = asInt(value, 0, 65535)
            if name not in fields["interfaces"]:
                self._warn(
                    str(
                        value.error(
                            "%r is not in dcerpc_mapiproxy:interfaces; ignored"
                            % (name,)
                        )
                    )
                )
        return {
            "rpcServerPort": self._global.getInt("rpc server port", 0, 0, 65535),
            "interfacePorts": ports,
            "epmapperPort": epmapperPort,
            "dynamicPortRange": self._global.getPortRange(
                "rpc server dynamic port range", DEFAULT_DYNAMIC_PORT_RANGE
            ),
        }

    def _limits(self, fields):
        getInt = self._global.getInt
        return {
            "maxFragment": getInt(
                "dcerpc_mapiproxy:max_fragment",
                DEFAULT_MAX_FRAGMENT,
                MIN_FRAGMENT_SIZE,
                MAX_FRAGMENT_SIZE,
            ),
            "maxStub": getInt(
                "dcerpc_mapiproxy:max_stub",
                DEFAULT_MAX_STUB,
                MIN_FRAGMENT_SIZE,
                2**31 - 1,
            ),
            "upstreamTimeout": getInt(
                "dcerpc_mapiproxy:upstream_timeout", DEFAULT_UPSTREAM_TIMEOUT, 1, 86400
            ),
            "connectTimeout": getInt(
                "dcerpc_mapiproxy:connect_timeout", DEFAULT_CONNECT_TIMEOUT, 1, 86400
            ),
        }


def _checkName(value, check, name, kind):
    """
    Run a validation callable on one name from C{value}.

    @raise ConfigError: C{unknown <kind> '<name>'} at C{value}'s line, with
        the callable's own explanation in parentheses when it gave one.
    """
    try:
        check(name)
    except (ConfigError, KeyError, ValueError) as e:
        message = "unknown %s %r" % (kind, name)
        detail = "" if isinstance(e, KeyError) else str(e)
        if detail and detail != message:
            message += " (%s)" % (detail,)
        raise value.error(message) from None
