# -*- test-case-name: tests.test_rewrite -*-
"""
The rewrites that keep Outlook talking to the proxy instead of going
around it (OpenChange's C{dcesrv_mapiproxy_nspi.c} / C{_rfr.c}, done on
every row and property position, both string types, with NULLs allowed):

  - the replies that carry rows (NspiGetProps, NspiQueryRows,
    NspiResolveNames(W), NspiSeekEntries, NspiGetMatches): C{PR_EMS_AB_NETWORK_ADDRESS}
    becomes C{ncacn_ip_tcp:<netbios>.<realm>} (lower case), and the server
    part of C{PR_EMS_AB_HOME_MDB} (C{/cn=Servers/cn=EXCH}) becomes the
    proxy's netbios name, the real name remembered for the session;
  - NspiDNToMId requests: the proxy's name goes back to the real one;
  - RfrGetNewDSA and RfrGetFQDNFromServerDN replies: the server becomes the
    proxy's FQDN.
"""

import re

from twisted.logger import Logger

_log = Logger()

PR_EMS_AB_NETWORK_ADDRESS = 0x8170101E
PR_EMS_AB_HOME_MDB = 0x8006001E

#: The NSPI replies that carry property rows: QueryRows, SeekEntries,
#: GetMatches, GetProps, ResolveNames, ResolveNamesW (Outlook reads the
#: home MDB from ResolveNamesW as often as from QueryRows).
ROW_REPLIES = (3, 4, 5, 9, 19, 20)

_SERVERS = re.compile(r"(/cn=Servers/cn=)([^/]*)", re.IGNORECASE)


class ServerNames:
    """
    The real Exchange server names learned from NSPI replies, shared by the
    NSPI and RFR rewrites of one proxy (a client's NSPI and RFR calls come
    on different connections).
    """

    def __init__(self):
        self.last = None

    def remember(self, name):
        self.last = name


class NspiRewriter:
    """
    The NSPI rewrites, a hook of the C{exchange_nsp} relay.

    @param netbiosName: the proxy's netbios name.
    @param fqdn: the proxy's fully qualified name (lower case).
    """

    def __init__(self, netbiosName, fqdn, networkAddress=True, homeMdb=True, dnToMId=True, names=None):
        self.netbiosName = netbiosName
        self.names = names if names is not None else ServerNames()
        self.networkAddress = "ncacn_ip_tcp:%s" % (fqdn.lower(),)
        self.rewriteNetworkAddress = networkAddress
        self.rewriteHomeMdb = homeMdb
        self.rewriteDNToMId = dnToMId

    def __repr__(self):
        return "<NspiRewriter %s>" % (self.netbiosName,)

    def request(self, rc):
        if rc.opnum != 7 or not self.rewriteDNToMId:
            return
        exchange = _state(rc).get("exchname") or self.names.last
        if not exchange:
            return
        names = rc.request.pNames.Strings
        changed = False
        for index, name in enumerate(names):
            if name is None:
                continue
            new = _SERVERS.sub(lambda m: _replaceServer(m, self.netbiosName, exchange), name)
            if new != name:
                names[index] = new
                changed = True
        if changed:
            rc.requestChanged()
            _log.debug("NspiDNToMId: {proxy} -> {exchange}", proxy=self.netbiosName, exchange=exchange)

    def response(self, rc):
        if rc.opnum not in ROW_REPLIES:
            return
        response = rc.response
        rows = response.ppRows
        if rows is None:
            return
        from mapiproxy.interfaces.nspi_types import rewriteStrings

        changed = 0
        if self.rewriteNetworkAddress:
            changed += self._networkAddress(rows)
        if self.rewriteHomeMdb:
            changed += rewriteStrings(rows, PR_EMS_AB_HOME_MDB, lambda old: self._homeMdb(rc, old))
        if changed:
            rc.responseChanged()
            _log.info(
                "mapiproxy: {operation}: {count} server name(s) rewritten to the proxy",
                operation=rc.opnumName,
                count=changed,
            )

    def _networkAddress(self, rows):
        """
        Every PR_EMS_AB_NETWORK_ADDRESS (8-bit or Unicode, single or
        multi-valued) becomes the one address of the proxy, as OpenChange
        replaces the whole list with one string.
        """
        from mapiproxy.interfaces.nspi_types import PropType, iterPropertyValues

        wanted = PR_EMS_AB_NETWORK_ADDRESS >> 16
        changed = 0
        for value in iterPropertyValues(rows):
            if value.propId != wanted or value.value is None:
                continue
            if value.propType in (PropType.MultipleString8, PropType.MultipleString):
                new = [self.networkAddress]
            elif value.propType in (PropType.String8, PropType.String):
                new = self.networkAddress
            else:
                continue
            if value.value != new:
                value.value = new
                changed += 1
        return changed

    def _homeMdb(self, rc, value):
        match = _SERVERS.search(value)
        if match is None:
            return value
        if match.group(2).lower() != self.netbiosName.lower():
            _state(rc)["exchname"] = match.group(2)
            self.names.remember(match.group(2))
        return _SERVERS.sub(lambda m: m.group(1) + self.netbiosName, value, count=1)


def _replaceServer(match, proxyName, exchange):
    if match.group(2).lower() == proxyName.lower():
        return match.group(1) + exchange
    return match.group(0)


def _state(rc):
    """
    Where the real Exchange name is remembered: the client's association
    (QueryRows and DNToMId may come on different NSPI contexts).
    """
    return rc.session.association.state.setdefault("nspi-rewrite", {})


class RfrRewriter:
    """
    The RFR rewrites, a hook of the C{exchange_ds_rfr} relay.
    """

    def __init__(self, fqdn, netbiosName=None, names=None):
        self.fqdn = fqdn.lower()
        self.netbiosName = netbiosName
        self.names = names if names is not None else ServerNames()

    def __repr__(self):
        return "<RfrRewriter %s>" % (self.fqdn,)

    def request(self, rc):
        """
        RfrGetFQDNFromServerDN asks about the proxy's server DN (the one the
        NSPI rewrite gave the client): ask Exchange about its real one.
        """
        if rc.opnum != 1 or not self.netbiosName or not self.names.last:
            return
        request = rc.request
        new = _SERVERS.sub(lambda m: _replaceServer(m, self.netbiosName, self.names.last), request.szMailboxServerDN)
        if new != request.szMailboxServerDN:
            request.szMailboxServerDN = new
            request.cbMailboxServerDN = None
            rc.requestChanged()

    def response(self, rc):
        response = rc.response
        if rc.opnum == 0:
            if response.ppszServerPresent and response.ppszServer != self.fqdn:
                _log.info("RfrGetNewDSA: {server} -> {proxy}", server=response.ppszServer, proxy=self.fqdn)
                response.ppszServer = self.fqdn
                rc.responseChanged()
        elif rc.opnum == 1:
            if response.ppszServerFQDN is not None and response.ppszServerFQDN != self.fqdn:
                _log.info("RfrGetFQDNFromServerDN: {server} -> {proxy}", server=response.ppszServerFQDN, proxy=self.fqdn)
                response.ppszServerFQDN = self.fqdn
                rc.responseChanged()
