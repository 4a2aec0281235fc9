# -*- test-case-name: tests.server.test_nspi -*-
"""
Server mode: the lab Exchange. A store on disk (L{store}) holds an
organisation, its users and their mailboxes; the address book (L{directory})
is served over NSPI (L{nspi}) and the referral interface (L{rfr}).

L{makeServerInterfaces} is what the service wiring registers.
"""

from mapiproxy.server.directory import Directory
from mapiproxy.server.nspi import NspiServer
from mapiproxy.server.rfr import RfrServer
from mapiproxy.server.store import Store

__all__ = ["makeServerInterfaces", "Directory", "NspiServer", "RfrServer", "Store"]


def makeServerInterfaces(store, identity=None, allowAnonymous=False, reactor=None):
    """
    The locally served interfaces of a store: C{exchange_nsp} and
    C{exchange_ds_rfr}, and with a reactor C{exchange_emsmdb} and
    C{exchange_async_emsmdb}.

    The name they announce (C{PR_EMS_AB_NETWORK_ADDRESS}, the RFR answers)
    is the store's C{serverFQDN}; a store without one announces the
    identity's C{dnsHostname}, else its server name in lower case.

    @param store: the L{Store}.
    @param identity: the L{mapiproxy.auth.credentials.ServerIdentity} of the
        service, or L{None}.
    @param allowAnonymous: serve NSPI to clients that did not authenticate
        (and honour NspiBind's C{fAnonymousLogin}).
    @param reactor: the reactor (for the EMSMDB/AsyncEMSMDB servers, when
        present).
    @return: the interfaces, NSPI first.
    @rtype: L{list} of L{mapiproxy.imapiproxy.IRPCInterface}
    """
    organization = store.organization
    fqdn = organization.serverFQDN or getattr(identity, "dnsHostname", "") or organization.serverName.lower()
    directory = Directory.fromStore(store, serverFQDN=fqdn)
    interfaces = [NspiServer(directory, allowAnonymous=allowAnonymous), RfrServer.fromDirectory(directory)]
    if reactor is not None:
        from mapiproxy.server.asyncemsmdb import AsyncEmsmdbInterface
        from mapiproxy.server.emsmdb import EmsmdbInterface

        emsmdb = EmsmdbInterface(store, reactor, identity=identity)
        interfaces.extend([emsmdb, AsyncEmsmdbInterface(emsmdb, reactor)])
    return interfaces
