# -*- test-case-name: tests.test_service -*-
"""
The twistd plugin's C{Options} and C{makeService}, and the embeddable
L{MapiProxyService}: the only place that wires config, passdb, interfaces,
relay, endpoint mapper and listeners together.
"""


import sys

import attrs
from twisted.application.service import MultiService
from twisted.internet.error import CannotListenError
from twisted.logger import Logger
from twisted.python import usage

from mapiproxy import __version__
from mapiproxy.auth.credentials import Credentials, ServerIdentity
from mapiproxy.auth.passdb import PassDB
from mapiproxy.config import MapiProxyConfig
from mapiproxy.dcerpc.association import AssociationGroups, ServerSettings
from mapiproxy.dcerpc.binding import Binding
from mapiproxy.dcerpc.constants import AuthLevel
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.endpoints import EndpointMapperInterface
from mapiproxy.errors import ConfigError
from mapiproxy.calllog import CallLog
from mapiproxy.capture import CaptureObserver, PcapWriter
from mapiproxy.interfaces import registry
from mapiproxy.interfaces.codecs import codecFor
from mapiproxy.modules import checkModuleName, loadModules
from mapiproxy.ndrdump import NdrDumpPrinter
from mapiproxy.relay import RelayInterface, UpstreamSettings
from mapiproxy.rewrite import NspiRewriter, RfrRewriter, ServerNames

_log = Logger(namespace="mapiproxy")

def knownInterface(name):
    """
    Check an interface name or UUID/version spec (for the config loader).
    """
    return registry.parseInterfaceSpec(name)


def knownModule(name):
    """
    Check a module name (for the config loader): a built-in one, an
    installed plugin, or one of OpenChange's not implemented yet.
    """
    return checkModuleName(name)


def loadConfig(path):
    """
    Read and check a configuration file.

    @rtype: L{MapiProxyConfig}
    @raise ConfigError: one line naming the file, the line and the option.
    """
    return MapiProxyConfig.fromFile(
        path,
        knownInterfaces=knownInterface,
        knownModules=knownModule,
        parseBinding=Binding.parse,
    )


class Options(usage.Options):
    """
    C{twistd mapiproxy} options.
    """

    synopsis = "-c SMB.CONF [options]"
    longdesc = (
        "mapiproxy relays Microsoft Exchange RPC (EMSMDB, AsyncEMSMDB, NSPI, RFR) "
        "and other DCE/RPC interfaces over ncacn_ip_tcp, configured like "
        "OpenChange's MAPIProxy with Samba's smb.conf syntax "
        "(dcerpc_mapiproxy:* options). See etc/mapiproxy-reference.conf."
    )
    optParameters = [
        ["config", "c", None, "The smb.conf-style configuration file (required)."],
        [
            "listen",
            "l",
            None,
            "Comma-separated addresses to listen on; overrides 'interfaces' and "
            "'bind interfaces only'.",
        ],
        [
            "epmapper-port",
            "e",
            None,
            "Port of our endpoint mapper; overrides 'rpc server port:epmapper' "
            "(default 135, which needs root).",
            int,
        ],
    ]

    def postOptions(self):
        if not self["config"]:
            raise usage.UsageError("-c/--config is required (an smb.conf-style file)")
        try:
            config = loadConfig(self["config"])
        except ConfigError as e:
            raise usage.UsageError(str(e))
        overrides = {}
        if self["listen"]:
            overrides["listenAddresses"] = tuple(a.strip() for a in self["listen"].split(",") if a.strip())
        if self["epmapper-port"] is not None:
            if not 0 < self["epmapper-port"] < 65536:
                raise usage.UsageError("--epmapper-port must be 1-65535")
            overrides["epmapperPort"] = self["epmapper-port"]
        self["mapiproxyConfig"] = attrs.evolve(config, **overrides) if overrides else config

    def opt_version(self):
        """
        Print the version and exit.
        """
        print("mapiproxy %s" % (__version__,))
        raise SystemExit(0)


def makeService(options):
    """
    The twistd entry point.

    @param options: parsed L{Options}.
    @rtype: L{MapiProxyService}
    """
    return _TwistdService(options["mapiproxyConfig"])


class MapiProxyService(MultiService):
    """
    The whole proxy as one service: embed it in an existing Twisted
    application with C{MapiProxyService(config).setServiceParent(app)}.

    @ivar config: the L{MapiProxyConfig}.
    @ivar factory: the L{RPCServerFactory} every listener shares.
    @ivar ports: C{{interface name: port number}} once started.
    """

    def __init__(self, config, reactor=None):
        super().__init__()
        self.config = config
        self._reactor = reactor
        self.lab = None
        if config.labConfig:
            # The lab Exchange of the demo: its own service, started first.
            self.lab = type(self)(loadConfig(config.labConfig), reactor)
            self.lab.setServiceParent(self)
        self.identity = ServerIdentity(
            netbiosName=config.netbiosName,
            workgroup=config.workgroup,
            dnsDomain=config.dnsDomain,
            dnsHostname=config.fqdn,
        )
        self.passdb = self._loadPassdb()
        self.serverNames = ServerNames()
        self.local = self._localInterfaces()
        relayed = [info for info in map(knownInterface, config.interfaces) if info.name not in self.local]
        self.upstream = self._upstreamSettings() if relayed else None
        self.observers = self._observers()
        self.modules = loadModules(config.modules, config.moduleOptions, config.errorFor)
        self.interfaces = [
            self.local[info.name]
            if info.name in self.local
            else RelayInterface(
                info,
                self.upstream,
                self.reactor,
                codec=codecFor(info.name),
                hooks=self._rewriters(info.name),
                observers=self.observers,
                modules=self.modules,
            )
            for info in map(knownInterface, config.interfaces)
        ]
        self.mapper = EndpointMapperInterface() if config.servesEpmapper else None
        served = list(self.interfaces) + ([self.mapper] if self.mapper else [])
        self.factory = RPCServerFactory(
            served,
            passdb=self.passdb,
            identity=self.identity,
            settings=ServerSettings(maxFragment=config.maxFragment, maxStub=config.maxStub),
            groups=AssociationGroups(checking=config.assocGroupChecking),
        )
        self.ports = {}
        self._listeners = []

    @property
    def reactor(self):
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def _loadPassdb(self):
        config = self.config
        if config.passdbPath is None:
            # The config loader already said so (every client is refused).
            return None
        return PassDB.fromFile(config.passdbPath, self.identity)

    def _rewriters(self, name):
        """
        The built-in rewrites of an interface (proxy mode).
        """
        config = self.config
        if name == "exchange_nsp":
            return [
                NspiRewriter(
                    config.netbiosName,
                    config.fqdn,
                    networkAddress=config.rewriteNetworkAddress,
                    homeMdb=config.rewriteHomeMdb,
                    dnToMId=config.rewriteDNToMId,
                    names=self.serverNames,
                )
            ]
        if name == "exchange_ds_rfr" and config.rewriteRfr:
            return [RfrRewriter(config.fqdn, config.netbiosName, names=self.serverNames)]
        return []

    def _observers(self):
        """
        Print mode, the call log and the capture, as the config asks.
        """
        config = self.config
        observers = []
        binding = config.upstreamBinding or (Binding.parse(config.binding) if config.binding else None)
        if config.ndrdump or (binding is not None and binding.printMode):
            observers.append(NdrDumpPrinter())
        if config.pcap:
            observers.append(CaptureObserver(PcapWriter(config.pcap)))
        if config.callLog:
            try:
                observers.append(CallLog(config.callLog))
            except OSError as e:
                raise config.errorFor("dcerpc_mapiproxy:call_log", "cannot open %s: %s" % (config.callLog, e.strerror))
        return observers

    def _localInterfaces(self):
        """
        The interfaces served by the lab Exchange: every configured one in
        server mode, else those named by nspi_server / emsmdb_server /
        rfr_server.

        @return: C{{interface name: IRPCInterface}}.
        """
        config = self.config
        wanted = set()
        if config.serverMode:
            wanted = {knownInterface(name).name for name in config.interfaces}
        else:
            for name, value in (
                ("exchange_nsp", config.nspiServer),
                ("exchange_emsmdb", config.emsmdbServer),
                ("exchange_ds_rfr", config.rfrServer),
            ):
                if value:
                    wanted.add(name)
        if not wanted:
            return {}
        if config.storePath is None:
            raise config.errorFor(
                "dcerpc_mapiproxy:store",
                "serving Exchange interfaces locally needs the store: set dcerpc_mapiproxy:store "
                "(etc/sample-store is the sample organisation)",
            )
        from mapiproxy.server import makeServerInterfaces
        from mapiproxy.server.store import Store

        self.store = Store.open(config.storePath)
        available = {i.name: i for i in makeServerInterfaces(self.store, self.identity, reactor=self.reactor)}
        missing = sorted(wanted - set(available))
        if missing:
            raise config.errorFor(
                "dcerpc_mapiproxy:interfaces",
                "no local server for %s in this version (available: %s)" % (", ".join(missing), ", ".join(sorted(available))),
            )
        return {name: available[name] for name in wanted}

    def _upstreamSettings(self):
        config = self.config
        if config.binding is None:
            raise config.errorFor(
                "dcerpc_mapiproxy:binding",
                "required for the relayed interfaces (dcerpc_mapiproxy:server is off for them)",
            )
        if config.useMachineAccount and not config.username:
            raise config.errorFor(
                "dcerpc_mapiproxy:use_machine_account",
                "a machine account is not supported: set dcerpc_mapiproxy:username and :password",
            )
        binding = config.upstreamBinding or Binding.parse(config.binding)
        unsupported = sorted(binding.flags & {"krb5", "schannel"})
        if unsupported:
            raise config.errorFor(
                "dcerpc_mapiproxy:binding",
                "'%s' is not supported upstream: mapiproxy authenticates with NTLM or SPNEGO(NTLM)" % (unsupported[0],),
            )
        credentials = None
        if config.username and config.password is not None:
            credentials = Credentials(config.username, config.password, config.domain or "")
        return UpstreamSettings(
            host=binding.host,
            port=binding.port,
            credentials=credentials,
            authType=binding.authType,
            authLevel=binding.authLevelOr(AuthLevel.PRIVACY),
            connectTimeout=config.connectTimeout,
            callTimeout=config.upstreamTimeout,
            maxFragment=config.maxFragment,
            epmapperPort=config.upstreamEpmapperPort,
        )

    # -- starting and stopping -------------------------------------------------

    def privilegedStartService(self):
        # Listen before twistd drops privileges (port 135); the lab first.
        super().privilegedStartService()
        self._listen()

    def startService(self):
        super().startService()
        if not self._listeners:
            self._listen()

    def stopService(self):
        super().stopService()
        for observer in self.observers:
            close = getattr(observer, "close", None)
            if close is not None:
                close()
        listeners, self._listeners = self._listeners, []
        from twisted.internet.defer import gatherResults

        return gatherResults([listener.stopListening() for listener in listeners])

    def _listen(self):
        config = self.config
        self._logStartup()
        plan = []
        if self.mapper is not None:
            plan.append(("epmapper", [self.mapper], config.epmapperPort))
        byPort = {}
        dynamic = []
        for interface in self.interfaces:
            port = config.portFor(interface.name)
            if port:
                byPort.setdefault(port, []).append(interface)
            else:
                dynamic.append(interface)
        for port, interfaces in sorted(byPort.items()):
            plan.append((interfaces[0].name, interfaces, port))
        try:
            for name, interfaces, port in plan:
                self._listenOn(name, interfaces, port)
            for interface in dynamic:
                self._listenDynamic(interface)
        except Exception:
            for listener in self._listeners:
                listener.stopListening()
            self._listeners = []
            raise

    def _logStartup(self):
        config = self.config
        mode = "server mode" if config.serverMode else "proxy mode"
        _log.info("mapiproxy {version} starting ({mode})", version=__version__, mode=mode)
        for name in ["epmapper"] * bool(self.mapper) + [i.name for i in self.interfaces]:
            _log.info("DCERPC endpoint server '{name}' registered", name=name)
        if self.upstream is not None:
            _log.info(
                "mapiproxy: relaying to {binding} as {account}",
                binding=self.upstream.describe(),
                account="%s\\%s" % (self.upstream.credentials.domain, self.upstream.credentials.username)
                if self.upstream.credentials
                else "anonymous",
            )
        if self.local:
            _log.info(
                "mapiproxy: serving {names} from the store {path}",
                names=", ".join(sorted(self.local)),
                path=config.storePath,
            )
        if config.delegatedAuth:
            _log.info("mapiproxy: dcerpc_mapiproxy:delegated_auth = yes is what mapiproxy always does")
        else:
            _log.info(
                "mapiproxy: the upstream association is opened at each client's first "
                "authenticated call (never for a client that did not authenticate)"
            )
        if self.passdb is not None:
            _log.info(
                "mapiproxy: {count} users in passdb {path}", count=len(self.passdb), path=config.passdbPath
            )

    def _listenEverywhere(self, port):
        """
        Listen on C{port} on every listen address, or on none.

        @return: the listeners.
        @raise CannotListenError: one address could not be bound (the
            others opened meanwhile are closed again).
        """
        listeners = []
        try:
            for address in self.config.listenAddresses:
                listeners.append(self.reactor.listenTCP(port, self.factory, interface=address))
        except CannotListenError:
            for listener in listeners:
                listener.stopListening()
            raise
        return listeners

    def _listenOn(self, name, interfaces, port):
        try:
            listeners = self._listenEverywhere(port)
        except CannotListenError as e:
            option = "rpc server port:%s" % (name,) if name == "epmapper" else "rpc server port"
            raise self.config.errorFor(option, "cannot listen on port %d: %s" % (port, e.socketError)) from None
        self._register(interfaces, listeners)

    def _listenDynamic(self, interface):
        low, high = self.config.dynamicPortRange
        for port in range(low, high + 1):
            try:
                listeners = self._listenEverywhere(port)
            except CannotListenError:
                continue
            self._register([interface], listeners)
            return
        raise self.config.errorFor(
            "rpc server dynamic port range",
            "no free port in %d-%d for %s" % (low, high, interface.name),
        )

    def _register(self, interfaces, listeners):
        self._listeners.extend(listeners)
        port = listeners[0].getHost().port
        for interface in interfaces:
            self.ports[interface.name] = port
            if self.mapper is not None and interface is not self.mapper:
                for listener in listeners:
                    self.mapper.mapper.register(interface.syntax, port, listener.getHost().host, interface.name)
            _log.info(
                "dcesrv_interface_register: interface '{name}' registered on endpoint 'ncacn_ip_tcp:[{port}]'",
                name=interface.name,
                port=port,
            )


__all__ = ["MapiProxyService", "Options", "loadConfig", "makeService"]


class _TwistdService(MapiProxyService):
    """
    The service as twistd runs it: a start-up error a user can fix is one
    log line and exit status 1, not a traceback.
    """

    def privilegedStartService(self):
        try:
            super().privilegedStartService()
        except ConfigError as e:
            _log.critical("mapiproxy: cannot start: {error}", error=str(e))
            print("mapiproxy: cannot start: %s" % (e,), file=sys.stderr)
            raise SystemExit(1)
