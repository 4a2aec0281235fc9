"""
Helpers for proxy tests: an rpcecho upstream served by the engine (which
can be killed and brought back), and a L{MapiProxyService} configured from
an smb.conf text.
"""

import os

from twisted.internet import reactor

from mapiproxy.auth.credentials import ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.config import MapiProxyConfig, SambaConfig
from mapiproxy.dcerpc.binding import Binding
from mapiproxy.dcerpc.server import RPCServerFactory, RPCServerProtocol
from mapiproxy.service import MapiProxyService, knownInterface, knownModule
from mapiproxy.testing.echo import ECHO_UUID, EchoInterface
from tests.peers import freePort

CLIENT_USER = "alice"
CLIENT_PASSWORD = "Client.Pass1"
CLIENT_DOMAIN = "PROXYDOM"
UPSTREAM_USER = "relay"
UPSTREAM_PASSWORD = "Upstream.Pass1"
UPSTREAM_DOMAIN = "UPDOM"
ECHO_SPEC = "%s/1.0" % (ECHO_UUID,)
PROXY_HOST = "127.0.0.2"
UPSTREAM_HOST = "127.0.0.1"


class _TrackingProtocol(RPCServerProtocol):
    def connectionMade(self):
        super().connectionMade()
        self.factory.connections.append(self)


class EchoUpstream:
    """
    An rpcecho server on 127.0.0.1 that counts its connections and can be
    killed (listener closed, connections aborted) and restarted on its port.
    """

    def __init__(self, testCase):
        path = testCase.mktemp()
        addUser(path, UPSTREAM_USER, UPSTREAM_PASSWORD)
        identity = ServerIdentity("UPSTREAM", UPSTREAM_DOMAIN)
        self.echo = EchoInterface(reactor)
        self.factory = RPCServerFactory([self.echo], passdb=PassDB.fromFile(path, identity), identity=identity)
        self.factory.protocol = _TrackingProtocol
        self.factory.connections = []
        self.port = 0
        self._listener = None
        testCase.addCleanup(self.stop)
        self.start()

    def start(self):
        self._listener = reactor.listenTCP(self.port, self.factory, interface=UPSTREAM_HOST)
        self.port = self._listener.getHost().port

    def kill(self):
        """
        Stop listening and abort every connection, like a crashed server.
        """
        d = self._listener.stopListening()
        self._listener = None
        for proto in self.factory.connections:
            proto.transport.abortConnection()
        return d

    def stop(self):
        if self._listener is not None:
            self.kill()

    @property
    def associations(self):
        return [proto.association for proto in self.factory.connections]


def proxyConfig(testCase, binding, interfaces=ECHO_SPEC, extra="", epmapperPort=None):
    """
    A proxy configuration listening on 127.0.0.2 with its own passdb.

    @return: the L{MapiProxyConfig}.
    """
    passdb = os.path.abspath(testCase.mktemp())
    addUser(passdb, CLIENT_USER, CLIENT_PASSWORD)
    text = """
[global]
    netbios name = MAPIPROXY
    realm = PROXY.TEST
    workgroup = %(domain)s
    dcesrv:assoc group checking = false
    dcerpc endpoint servers = epmapper, mapiproxy
    dcerpc_mapiproxy:binding = %(binding)s
    dcerpc_mapiproxy:username = %(user)s
    dcerpc_mapiproxy:password = %(password)s
    dcerpc_mapiproxy:domain = %(upDomain)s
    dcerpc_mapiproxy:interfaces = %(interfaces)s
    dcerpc_mapiproxy:upstream_timeout = 30
    dcerpc_mapiproxy:connect_timeout = 5
    passdb backend = smbpasswd:%(passdb)s
    interfaces = %(host)s
    bind interfaces only = yes
    rpc server port:epmapper = %(epmapperPort)d
    rpc server dynamic port range = 20000-29999
%(extra)s
""" % dict(
        domain=CLIENT_DOMAIN,
        binding=binding,
        user=UPSTREAM_USER,
        password=UPSTREAM_PASSWORD,
        upDomain=UPSTREAM_DOMAIN,
        interfaces=interfaces,
        passdb=passdb,
        host=PROXY_HOST,
        extra=extra,
        epmapperPort=epmapperPort or freePort(PROXY_HOST),
    )
    path = testCase.mktemp()
    with open(path, "w") as f:
        f.write(text)
    return MapiProxyConfig.fromSambaConfig(
        SambaConfig.fromFile(path),
        knownInterfaces=knownInterface,
        knownModules=knownModule,
        parseBinding=Binding.parse,
        warn=lambda message: None,
    )


def startProxy(testCase, config):
    """
    Start a proxy service; stopped at cleanup.
    """
    service = MapiProxyService(config, reactor)
    service.startService()
    testCase.addCleanup(service.stopService)
    return service


