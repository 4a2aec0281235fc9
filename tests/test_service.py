"""
The twistd plugin, its options, and the service's start-up.
"""

import os

from twisted.application.service import IServiceMaker
from twisted.internet import reactor
from twisted.logger import formatEvent, globalLogPublisher
from twisted.plugin import getPlugins
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase, TestCase

from mapiproxy.errors import ConfigError
from mapiproxy.service import MapiProxyService, Options, makeService
from tests.peers import freePort
from tests.relaysupport import PROXY_HOST, proxyConfig

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "etc", "mapiproxy.conf")


class PluginTests(SynchronousTestCase):
    """
    twistd finds the plugin and parses its options.
    """

    def test_discovered(self):
        """
        'mapiproxy' is among twistd's plugins, with its Options.
        """
        makers = {p.tapname: p for p in getPlugins(IServiceMaker)}
        self.assertIn("mapiproxy", makers)
        self.assertIs(makers["mapiproxy"].options, Options)

    def test_configRequired(self):
        """
        Without -c the options say what is missing.
        """
        error = self.assertRaises(UsageError, Options().parseOptions, [])
        self.assertIn("-c/--config", str(error))

    def test_helpDocumentsOptions(self):
        """
        --help documents -c, --listen and --epmapper-port.
        """
        text = str(Options())
        for option in ("--config", "--listen", "--epmapper-port"):
            self.assertIn(option, text)

    def test_badConfigOneLine(self):
        """
        A bad option stops start-up with one line naming file, line and option.
        """
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[global]\n  dcerpc_mapiproxy:binding = ncacn_ip_tcp:10.0.0.1\n  dcerpc_mapiproxy:interfaces = exchange_emsmdb, nosuchthing\n")
        error = self.assertRaises(UsageError, Options().parseOptions, ["-c", path])
        self.assertEqual(str(error).count("\n"), 0)
        self.assertIn("%s:3: 'dcerpc_mapiproxy:interfaces'" % (path,), str(error))
        self.assertIn("nosuchthing", str(error))

    def test_unknownModule(self):
        """
        An unknown module name stops start-up.
        """
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[global]\n dcerpc_mapiproxy:binding = ncacn_ip_tcp:10.0.0.1\n dcerpc_mapiproxy:modules = downgrade, frobnicate\n")
        error = self.assertRaises(UsageError, Options().parseOptions, ["-c", path])
        self.assertIn("frobnicate", str(error))

    def test_exampleConfigLoads(self):
        """
        The shipped example config (OpenChange's documentation example) loads
        into proxy mode; overrides apply.
        """
        options = Options()
        options.parseOptions(["-c", EXAMPLE, "-e", "1135", "-l", "127.0.0.2"])
        config = options["mapiproxyConfig"]
        self.assertFalse(config.serverMode)
        self.assertEqual(config.epmapperPort, 1135)
        self.assertEqual(config.listenAddresses, ("127.0.0.2",))
        # Samba writes flags without an endpoint as "[,flag]".
        self.assertEqual(str(config.upstreamBinding), "ncacn_ip_tcp:192.168.1.1[,print]")
        self.assertNotIn("openchange2!", repr(config))

    def test_serverModeNeedsStore(self):
        """
        Server mode without a store stops start-up naming the option.
        """
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[global]\n dcerpc_mapiproxy:server = true\n")
        options = Options()
        options.parseOptions(["-c", path])
        error = self.assertRaises(ConfigError, makeService, options)
        self.assertIn("'dcerpc_mapiproxy:store'", str(error))


class StartupTests(TestCase):
    """
    The service listens, registers and logs like Samba/OpenChange.
    """

    def test_startupLines(self):
        """
        Start-up prints the endpoint server and interface registration lines
        a MAPIProxy user knows, and every interface gets a port.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        config = proxyConfig(
            self, "ncacn_ip_tcp:127.0.0.1[1,seal]", interfaces="exchange_emsmdb, exchange_async_emsmdb, exchange_nsp, exchange_ds_rfr, samr"
        )
        service = MapiProxyService(config, reactor)
        service.startService()
        self.addCleanup(service.stopService)
        texts = [formatEvent(e) for e in events]
        for name in ("epmapper", "exchange_emsmdb", "exchange_async_emsmdb", "exchange_nsp", "exchange_ds_rfr", "samr"):
            self.assertIn("DCERPC endpoint server '%s' registered" % (name,), texts)
            port = service.ports[name]
            self.assertIn(
                "dcesrv_interface_register: interface '%s' registered on endpoint 'ncacn_ip_tcp:[%d]'" % (name, port), texts
            )
        self.assertEqual(len(set(service.ports.values())), 6)
        registered = {entry.annotation for entry in service.mapper.mapper.entries}
        self.assertEqual(registered, {"exchange_emsmdb", "exchange_async_emsmdb", "exchange_nsp", "exchange_ds_rfr", "samr"})
        self.assertEqual({entry.host for entry in service.mapper.mapper.entries}, {PROXY_HOST})

    def test_portTaken(self):
        """
        A port that cannot be bound stops start-up with the option's line.
        """
        from twisted.internet.protocol import Factory

        blocker = reactor.listenTCP(0, Factory(), interface=PROXY_HOST)
        self.addCleanup(blocker.stopListening)
        config = proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[1]", epmapperPort=blocker.getHost().port)
        service = MapiProxyService(config, reactor)
        error = self.assertRaises(ConfigError, service.startService)
        self.assertIn("rpc server port:epmapper", str(error))
        self.assertIn("cannot listen on port %d" % (blocker.getHost().port,), str(error))


SAMPLE_STORE = os.path.join(os.path.dirname(EXAMPLE), "sample-store")


class ServerModeTests(TestCase):
    """
    The lab Exchange served by the service: server mode, and local NSPI in
    front of a relayed rest.
    """

    def _config(self, extra, binding=None):
        from mapiproxy.config import MapiProxyConfig, SambaConfig
        from mapiproxy.dcerpc.binding import Binding
        from mapiproxy.service import knownInterface, knownModule

        text = "[global]\n netbios name = LAB\n interfaces = 127.0.0.2\n bind interfaces only = yes\n"
        text += " rpc server port:epmapper = %d\n dcerpc_mapiproxy:store = %s\n%s" % (freePort(PROXY_HOST), SAMPLE_STORE, extra)
        if binding:
            text += " dcerpc_mapiproxy:binding = %s\n" % (binding,)
        return MapiProxyConfig.fromSambaConfig(
            SambaConfig.fromString(text),
            knownInterfaces=knownInterface,
            knownModules=knownModule,
            parseBinding=Binding.parse,
            warn=lambda message: None,
        )

    def test_serverModeServesLocally(self):
        """
        dcerpc_mapiproxy:server = yes serves NSPI and RFR from the store,
        registered in the endpoint mapper, with no upstream at all.
        """
        from mapiproxy.server.nspi import NspiServer

        config = self._config(" dcerpc_mapiproxy:server = yes\n dcerpc_mapiproxy:interfaces = exchange_nsp, exchange_ds_rfr\n")
        service = MapiProxyService(config, reactor)
        service.startService()
        self.addCleanup(service.stopService)
        self.assertIsNone(service.upstream)
        self.assertIsInstance(service.interfaces[0], NspiServer)
        registered = {entry.annotation for entry in service.mapper.mapper.entries}
        self.assertEqual(registered, {"exchange_nsp", "exchange_ds_rfr"})

    def test_localNspiRelayedRest(self):
        """
        In proxy mode, nspi_server serves NSPI locally and the rest is relayed.
        """
        from mapiproxy.relay import RelayInterface
        from mapiproxy.server.nspi import NspiServer

        config = self._config(
            " dcerpc_mapiproxy:nspi_server = lab\n dcerpc_mapiproxy:interfaces = exchange_nsp, samr\n",
            binding="ncacn_ip_tcp:127.0.0.1[1,seal]",
        )
        service = MapiProxyService(config, reactor)
        kinds = {i.name: type(i) for i in service.interfaces}
        self.assertEqual(kinds, {"exchange_nsp": NspiServer, "samr": RelayInterface})


class DemoConfigTests(SynchronousTestCase):
    """
    The shipped demo: the lab Exchange and the proxy in one service.
    """

    def test_demoBuilds(self):
        """
        etc/demo.conf loads; its service holds the lab Exchange (server
        mode, the four Exchange interfaces served locally) as a child, and
        relays the same four interfaces to it in print mode.
        """
        from mapiproxy.ndrdump import NdrDumpPrinter
        from mapiproxy.relay import RelayInterface
        from mapiproxy.service import loadConfig

        demo = os.path.join(os.path.dirname(EXAMPLE), "demo.conf")
        service = MapiProxyService(loadConfig(demo), reactor)
        self.assertIsNotNone(service.lab)
        self.assertTrue(service.lab.config.serverMode)
        self.assertEqual(
            sorted(service.lab.local), ["exchange_async_emsmdb", "exchange_ds_rfr", "exchange_emsmdb", "exchange_nsp"]
        )
        self.assertTrue(all(isinstance(i, RelayInterface) for i in service.interfaces))
        self.assertEqual(service.upstream.epmapperPort, 1135)
        self.assertTrue(any(isinstance(o, NdrDumpPrinter) for o in service.observers))
