# -*- test-case-name: tests.interfaces.test_registry -*-
"""
The interfaces mapiproxy knows by name: interface name <-> UUID/version <->
opnum names.

Names are the NDR table names Samba and OpenChange use (C{exchange_emsmdb},
C{exchange_nsp}, C{samr}, ...), so that C{dcerpc_mapiproxy:interfaces} in
smb.conf reads the same as OpenChange's. Opnum names are the ones of the
Microsoft specifications ([MS-OXCRPC], [MS-OXNSPI], [MS-OXABREF], [MS-SAMR],
...), as impacket also names its request classes. An empty string in an
opnum table marks an opnum whose name we do not carry; L{opnumName} then
answers C{"opnum N"}.

Interface specifications accepted by L{parseInterfaceSpec}:
  - a name or an alias (L{ALIASES}), case-insensitive: C{exchange_nsp},
    C{nspi};
  - C{UUID/MAJOR.MINOR} or C{UUID:MAJOR.MINOR} (C{.MINOR} optional, 0 by
    default);
  - C{UUID/0xVVVVVVVV}, Samba's C{ndr_syntax_id_to_string} form, where the
    low 16 bits of the number are the major version and the high 16 bits the
    minor version;
  - a bare C{UUID}: the registered interface with that UUID, or for an
    unknown UUID version 1.0.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Tuple

from mapiproxy.dcerpc.pdu import SyntaxId
from mapiproxy.errors import ConfigError

_TCP = "ncacn_ip_tcp:"


@dataclass(frozen=True)
class InterfaceInfo:
    """
    What mapiproxy knows about one RPC interface.

    @ivar name: the Samba/OpenChange NDR table name, e.g. C{"exchange_emsmdb"}.
    @ivar uuid: the interface UUID.
    @ivar version: the major version.
    @ivar versionMinor: the minor version.
    @ivar opnums: the operation names, indexed by opnum (C{""} where the name
        is not known).
    @ivar endpointHint: the IDL C{endpoint()} hint, e.g. C{"ncacn_ip_tcp:"}
        for an interface clients find through the endpoint mapper.
    @ivar authService: the IDL C{authservice()} principal, e.g.
        C{"exchangeMDB"}, or C{""}.
    @ivar description: a one-line human description (the specification).
    @ivar heldCalls: C{(opnum, seconds)} pairs: operations a server may
        legitimately hold before answering, and for how long at most (a
        long poll such as EcDoAsyncWaitEx).
    """

    name: str
    uuid: uuid.UUID
    version: int
    versionMinor: int
    opnums: Tuple[str, ...] = ()
    endpointHint: str = _TCP
    authService: str = ""
    description: str = ""
    heldCalls: Tuple[Tuple[int, float], ...] = ()

    def longestHold(self, opnum):
        """
        How long a server may hold this operation before it answers.

        @return: seconds, 0 for an operation answered at once.
        @rtype: L{float}
        """
        for held, seconds in self.heldCalls:
            if held == opnum:
                return seconds
        return 0

    @property
    def syntaxId(self):
        """
        The abstract syntax a client binds to.

        @rtype: L{SyntaxId}
        """
        return SyntaxId(self.uuid, self.version, self.versionMinor)

    @property
    def versionString(self):
        """
        The version as C{"MAJOR.MINOR"}.

        @rtype: L{str}
        """
        return "%d.%d" % (self.version, self.versionMinor)

    def opnumName(self, opnum):
        """
        Name an operation.

        @param opnum: the operation number.
        @type opnum: L{int}
        @return: e.g. C{"EcDoRpcExt2"}, or C{"opnum 42"} when unnamed.
        @rtype: L{str}
        """
        if 0 <= opnum < len(self.opnums) and self.opnums[opnum]:
            return self.opnums[opnum]
        return "opnum %d" % (opnum,)

    def opnumFor(self, name):
        """
        Find the number of an operation by name (case-insensitive).

        @param name: e.g. C{"NspiGetProps"}.
        @type name: L{str}
        @rtype: L{int}
        @raise ConfigError: this interface has no operation of that name.
        """
        wanted = name.lower()
        for opnum, known in enumerate(self.opnums):
            if known and known.lower() == wanted:
                return opnum
        raise ConfigError("interface %r has no operation %r" % (self.name, name))


def _info(name, uuidText, version, versionMinor, opnums, **kw):
    return InterfaceInfo(name, uuid.UUID(uuidText), version, versionMinor, tuple(opnums), **kw)


# [MS-OXCRPC] 3.1.4 / OpenChange exchange.idl.
EXCHANGE_EMSMDB = _info(
    "exchange_emsmdb",
    "a4f1db00-ca47-1067-b31f-00dd010662da",
    0,
    81,
    (
        "EcDoConnect",
        "EcDoDisconnect",
        "EcDoRpc",
        "EcGetMoreRpc",
        "EcRRegisterPushNotification",
        "EcRUnregisterPushNotification",
        "EcDummyRpc",
        "EcRGetDCName",
        "EcRNetGetDCName",
        "EcDoRpcExt",
        "EcDoConnectEx",
        "EcDoRpcExt2",
        "EcUnknown0xC",
        "EcUnknown0xD",
        "EcDoAsyncConnectEx",
    ),
    authService="exchangeMDB",
    description="[MS-OXCRPC] EMSMDB: Exchange mailbox RPC",
)

# [MS-OXCRPC] 3.3.4 / OpenChange asyncemsmdb.idl.
EXCHANGE_ASYNC_EMSMDB = _info(
    "exchange_async_emsmdb",
    "5261574a-4572-206e-b268-6b199213b4e4",
    0,
    1,
    ("EcDoAsyncWaitEx",),
    authService="exchangeMDB",
    description="[MS-OXCRPC] AsyncEMSMDB: Exchange asynchronous notifications",
    # The server completes EcDoAsyncWaitEx when an event is pending, or
    # after 5 minutes without one ([MS-OXCRPC] 3.3.4.1).
    heldCalls=((0, 300.0),),
)

# [MS-OXNSPI] 3.1.4.
EXCHANGE_NSP = _info(
    "exchange_nsp",
    "f5cc5a18-4264-101a-8c59-08002b2f8426",
    56,
    0,
    (
        "NspiBind",
        "NspiUnbind",
        "NspiUpdateStat",
        "NspiQueryRows",
        "NspiSeekEntries",
        "NspiGetMatches",
        "NspiResortRestriction",
        "NspiDNToMId",
        "NspiGetPropList",
        "NspiGetProps",
        "NspiCompareMIds",
        "NspiModProps",
        "NspiGetSpecialTable",
        "NspiGetTemplateInfo",
        "NspiModLinkAtt",
        "NspiDeleteEntries",
        "NspiQueryColumns",
        "NspiGetNamesFromIDs",
        "NspiGetIDsFromNames",
        "NspiResolveNames",
        "NspiResolveNamesW",
    ),
    authService="exchangeAB",
    description="[MS-OXNSPI] NSPI: Exchange address book",
)

# [MS-OXABREF] 3.1.4.
EXCHANGE_DS_RFR = _info(
    "exchange_ds_rfr",
    "1544f5e0-613c-11d1-93df-00c04fd7bd09",
    1,
    0,
    ("RfrGetNewDSA", "RfrGetFQDNFromServerDN"),
    authService="exchangeRFR",
    description="[MS-OXABREF] RFR: Exchange address book referral",
)

# C706 appendix O, [MS-RPCE] 2.2.1.2.
EPMAPPER = _info(
    "epmapper",
    "e1af8308-5d1f-11c9-91a4-08002b14a0fa",
    3,
    0,
    (
        "ept_insert",
        "ept_delete",
        "ept_lookup",
        "ept_map",
        "ept_lookup_handle_free",
        "ept_inq_object",
        "ept_mgmt_delete",
    ),
    endpointHint="ncacn_ip_tcp:[135]",
    description="[MS-RPCE] endpoint mapper",
)

# C706 appendix Q, [MS-RPCE] 2.2.1.3.
MGMT = _info(
    "mgmt",
    "afa8bd80-7d8a-11c9-bef4-08002b102989",
    1,
    0,
    (
        "inq_if_ids",
        "inq_stats",
        "is_server_listening",
        "stop_server_listening",
        "inq_princ_name",
    ),
    endpointHint="",
    description="[MS-RPCE] remote management interface",
)

# [MS-SAMR] 3.1.5.
SAMR = _info(
    "samr",
    "12345778-1234-abcd-ef00-0123456789ac",
    1,
    0,
    (
        "SamrConnect",
        "SamrCloseHandle",
        "SamrSetSecurityObject",
        "SamrQuerySecurityObject",
        "Opnum4NotUsedOnWire",
        "SamrLookupDomainInSamServer",
        "SamrEnumerateDomainsInSamServer",
        "SamrOpenDomain",
        "SamrQueryInformationDomain",
        "SamrSetInformationDomain",
        "SamrCreateGroupInDomain",
        "SamrEnumerateGroupsInDomain",
        "SamrCreateUserInDomain",
        "SamrEnumerateUsersInDomain",
        "SamrCreateAliasInDomain",
        "SamrEnumerateAliasesInDomain",
        "SamrGetAliasMembership",
        "SamrLookupNamesInDomain",
        "SamrLookupIdsInDomain",
        "SamrOpenGroup",
        "SamrQueryInformationGroup",
        "SamrSetInformationGroup",
        "SamrAddMemberToGroup",
        "SamrDeleteGroup",
        "SamrRemoveMemberFromGroup",
        "SamrGetMembersInGroup",
        "SamrSetMemberAttributesOfGroup",
        "SamrOpenAlias",
        "SamrQueryInformationAlias",
        "SamrSetInformationAlias",
        "SamrDeleteAlias",
        "SamrAddMemberToAlias",
        "SamrRemoveMemberFromAlias",
        "SamrGetMembersInAlias",
        "SamrOpenUser",
        "SamrDeleteUser",
        "SamrQueryInformationUser",
        "SamrSetInformationUser",
        "SamrChangePasswordUser",
        "SamrGetGroupsForUser",
        "SamrQueryDisplayInformation",
        "SamrGetDisplayEnumerationIndex",
        "SamrTestPrivateFunctionsDomain",
        "SamrTestPrivateFunctionsUser",
        "SamrGetUserDomainPasswordInformation",
        "SamrRemoveMemberFromForeignDomain",
        "SamrQueryInformationDomain2",
        "SamrQueryInformationUser2",
        "SamrQueryDisplayInformation2",
        "SamrGetDisplayEnumerationIndex2",
        "SamrCreateUser2InDomain",
        "SamrQueryDisplayInformation3",
        "SamrAddMultipleMembersToAlias",
        "SamrRemoveMultipleMembersFromAlias",
        "SamrOemChangePasswordUser2",
        "SamrUnicodeChangePasswordUser2",
        "SamrGetDomainPasswordInformation",
        "SamrConnect2",
        "SamrSetInformationUser2",
        "Opnum59NotUsedOnWire",
        "Opnum60NotUsedOnWire",
        "Opnum61NotUsedOnWire",
        "SamrConnect4",
        "Opnum63NotUsedOnWire",
        "SamrConnect5",
        "SamrRidToSid",
        "SamrSetDSRMPassword",
        "SamrValidatePassword",
    ),
    description="[MS-SAMR] security account manager",
)

# [MS-LSAD] 3.1.4 and [MS-LSAT] 3.1.4 (one interface).
LSARPC = _info(
    "lsarpc",
    "12345778-1234-abcd-ef00-0123456789ab",
    0,
    0,
    (
        "LsarClose",
        "",
        "LsarEnumeratePrivileges",
        "LsarQuerySecurityObject",
        "LsarSetSecurityObject",
        "",
        "LsarOpenPolicy",
        "LsarQueryInformationPolicy",
        "LsarSetInformationPolicy",
        "",
        "LsarCreateAccount",
        "LsarEnumerateAccounts",
        "LsarCreateTrustedDomain",
        "LsarEnumerateTrustedDomains",
        "LsarLookupNames",
        "LsarLookupSids",
        "LsarCreateSecret",
        "LsarOpenAccount",
        "LsarEnumeratePrivilegesAccount",
        "LsarAddPrivilegesToAccount",
        "LsarRemovePrivilegesFromAccount",
        "",
        "",
        "LsarGetSystemAccessAccount",
        "LsarSetSystemAccessAccount",
        "LsarOpenTrustedDomain",
        "LsarQueryInfoTrustedDomain",
        "LsarSetInformationTrustedDomain",
        "LsarOpenSecret",
        "LsarSetSecret",
        "LsarQuerySecret",
        "LsarLookupPrivilegeValue",
        "LsarLookupPrivilegeName",
        "LsarLookupPrivilegeDisplayName",
        "LsarDeleteObject",
        "LsarEnumerateAccountsWithUserRight",
        "LsarEnumerateAccountRights",
        "LsarAddAccountRights",
        "LsarRemoveAccountRights",
        "LsarQueryTrustedDomainInfo",
        "LsarSetTrustedDomainInfo",
        "LsarDeleteTrustedDomain",
        "LsarStorePrivateData",
        "LsarRetrievePrivateData",
        "LsarOpenPolicy2",
        "LsarGetUserName",
        "LsarQueryInformationPolicy2",
        "LsarSetInformationPolicy2",
        "LsarQueryTrustedDomainInfoByName",
        "LsarSetTrustedDomainInfoByName",
        "LsarEnumerateTrustedDomainsEx",
        "LsarCreateTrustedDomainEx",
        "",
        "LsarQueryDomainInformationPolicy",
        "LsarSetDomainInformationPolicy",
        "LsarOpenTrustedDomainByName",
        "",
        "LsarLookupSids2",
        "LsarLookupNames2",
        "LsarCreateTrustedDomainEx2",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "LsarLookupNames3",
        "",
        "",
        "",
        "",
        "LsarQueryForestTrustInformation",
        "LsarSetForestTrustInformation",
        "",
        "LsarLookupSids3",
        "LsarLookupNames4",
    ),
    description="[MS-LSAD]/[MS-LSAT] local security authority",
)

# [MS-NRPC] 3.5.4.
NETLOGON = _info(
    "netlogon",
    "12345678-1234-abcd-ef00-01234567cffb",
    1,
    0,
    (
        "NetrLogonUasLogon",
        "NetrLogonUasLogoff",
        "NetrLogonSamLogon",
        "NetrLogonSamLogoff",
        "NetrServerReqChallenge",
        "NetrServerAuthenticate",
        "NetrServerPasswordSet",
        "NetrDatabaseDeltas",
        "NetrDatabaseSync",
        "NetrAccountDeltas",
        "NetrAccountSync",
        "NetrGetDCName",
        "NetrLogonControl",
        "NetrGetAnyDCName",
        "NetrLogonControl2",
        "NetrServerAuthenticate2",
        "NetrDatabaseSync2",
        "NetrDatabaseRedo",
        "NetrLogonControl2Ex",
        "NetrEnumerateTrustedDomains",
        "DsrGetDcName",
        "NetrLogonGetCapabilities",
        "NetrLogonSetServiceBits",
        "NetrLogonGetTrustRid",
        "NetrLogonComputeServerDigest",
        "NetrLogonComputeClientDigest",
        "NetrServerAuthenticate3",
        "DsrGetDcNameEx",
        "DsrGetSiteName",
        "NetrLogonGetDomainInfo",
        "NetrServerPasswordSet2",
        "NetrServerPasswordGet",
        "NetrLogonSendToSam",
        "DsrAddressToSiteNamesW",
        "DsrGetDcNameEx2",
        "NetrLogonGetTimeServiceParentDomain",
        "NetrEnumerateTrustedDomainsEx",
        "DsrAddressToSiteNamesExW",
        "DsrGetDcSiteCoverageW",
        "NetrLogonSamLogonEx",
        "DsrEnumerateDomainTrusts",
        "DsrDeregisterDnsHostRecords",
        "NetrServerTrustPasswordsGet",
        "DsrGetForestTrustInformation",
        "NetrGetForestTrustInformation",
        "NetrLogonSamLogonWithFlags",
        "NetrServerGetTrustInfo",
    ),
    description="[MS-NRPC] netlogon",
)

# [MS-DRSR] 4.1 (IDL_DRS* without the prefix, as impacket names them).
DRSUAPI = _info(
    "drsuapi",
    "e3514235-4b06-11d1-ab04-00c04fc2dcd2",
    4,
    0,
    (
        "DRSBind",
        "DRSUnbind",
        "DRSReplicaSync",
        "DRSGetNCChanges",
        "DRSUpdateRefs",
        "DRSReplicaAdd",
        "DRSReplicaDel",
        "DRSReplicaModify",
        "DRSVerifyNames",
        "DRSGetMemberships",
        "DRSInterDomainMove",
        "DRSGetNT4ChangeLog",
        "DRSCrackNames",
        "DRSWriteSPN",
        "DRSRemoveDsServer",
        "DRSRemoveDsDomain",
        "DRSDomainControllerInfo",
        "DRSAddEntry",
        "DRSExecuteKCC",
        "DRSGetReplInfo",
        "DRSAddSidHistory",
        "DRSGetMemberships2",
        "DRSReplicaVerifyObjects",
        "DRSGetObjectExistence",
        "DRSQuerySitesByCost",
    ),
    description="[MS-DRSR] directory replication",
)

# [MS-DSSP] 3.2.5.
DSSETUP = _info(
    "dssetup",
    "3919286a-b10c-11d0-9ba8-00c04fd92ef5",
    0,
    0,
    ("DsRolerGetPrimaryDomainInformation",),
    description="[MS-DSSP] directory services setup",
)

# Samba's own interface (librpc/idl/unixinfo.idl).
UNIXINFO = _info(
    "unixinfo",
    "9c54e310-a955-4885-bd31-78787147dfa6",
    0,
    0,
    ("SidToUid", "UidToSid", "SidToGid", "GidToSid", "GetPWUid"),
    description="Samba unixinfo: SID <-> Unix id mapping",
)

# [MS-BKRP] 3.1.4.
BACKUPKEY = _info(
    "backupkey",
    "3dde7c30-165d-11d1-ab8f-00805f14db40",
    1,
    0,
    ("BackuprKey",),
    description="[MS-BKRP] BackupKey",
)

# [MS-DNSP] 3.1.4.
DNSSERVER = _info(
    "dnsserver",
    "50abc2a4-574d-40b3-9d66-ee4fd5fba076",
    5,
    0,
    (
        "R_DnssrvOperation",
        "R_DnssrvQuery",
        "R_DnssrvComplexOperation",
        "R_DnssrvEnumRecords",
        "R_DnssrvUpdateRecord",
        "R_DnssrvOperation2",
        "R_DnssrvQuery2",
        "R_DnssrvComplexOperation2",
        "R_DnssrvEnumRecords2",
        "R_DnssrvUpdateRecord2",
    ),
    description="[MS-DNSP] DNS server management",
)

# [MS-SRVS] 3.1.4.
SRVSVC = _info(
    "srvsvc",
    "4b324fc8-1670-01d3-1278-5a47bf6ee188",
    3,
    0,
    (
        "NetrCharDevEnum",
        "NetrCharDevGetInfo",
        "NetrCharDevControl",
        "NetrCharDevQEnum",
        "NetrCharDevQGetInfo",
        "NetrCharDevQSetInfo",
        "NetrCharDevQPurge",
        "NetrCharDevQPurgeSelf",
        "NetrConnectionEnum",
        "NetrFileEnum",
        "NetrFileGetInfo",
        "NetrFileClose",
        "NetrSessionEnum",
        "NetrSessionDel",
        "NetrShareAdd",
        "NetrShareEnum",
        "NetrShareGetInfo",
        "NetrShareSetInfo",
        "NetrShareDel",
        "NetrShareDelSticky",
        "NetrShareCheck",
        "NetrServerGetInfo",
        "NetrServerSetInfo",
        "NetrServerDiskEnum",
        "NetrServerStatisticsGet",
        "NetrServerTransportAdd",
        "NetrServerTransportEnum",
        "NetrServerTransportDel",
        "NetrRemoteTOD",
        "",
        "NetprPathType",
        "NetprPathCanonicalize",
        "NetprPathCompare",
        "NetprNameValidate",
        "NetprNameCanonicalize",
        "NetprNameCompare",
        "NetrShareEnumSticky",
        "NetrShareDelStart",
        "NetrShareDelCommit",
        "NetrpGetFileSecurity",
        "NetrpSetFileSecurity",
        "NetrServerTransportAddEx",
        "",
        "NetrDfsGetVersion",
        "NetrDfsCreateLocalPartition",
        "NetrDfsDeleteLocalPartition",
        "NetrDfsSetLocalVolumeState",
        "",
        "NetrDfsCreateExitPoint",
        "NetrDfsDeleteExitPoint",
        "NetrDfsModifyPrefix",
        "NetrDfsFixLocalVolume",
        "NetrDfsManagerReportSiteInfo",
        "NetrServerTransportDelEx",
        "NetrServerAliasAdd",
        "NetrServerAliasEnum",
        "NetrServerAliasDel",
        "NetrShareDelEx",
    ),
    endpointHint="ncacn_np:[\\pipe\\srvsvc]",
    description="[MS-SRVS] server service",
)

# [MS-WKST] 3.2.4.
WKSSVC = _info(
    "wkssvc",
    "6bffd098-a112-3610-9833-46c3f87e345a",
    1,
    0,
    (
        "NetrWkstaGetInfo",
        "NetrWkstaSetInfo",
        "NetrWkstaUserEnum",
        "",
        "",
        "NetrWkstaTransportEnum",
        "NetrWkstaTransportAdd",
        "",
        "NetrUseAdd",
        "NetrUseGetInfo",
        "NetrUseDel",
        "NetrUseEnum",
        "",
        "NetrWorkstationStatisticsGet",
        "",
        "",
        "",
        "",
        "",
        "",
        "NetrGetJoinInformation",
        "",
        "NetrJoinDomain2",
        "NetrUnjoinDomain2",
        "NetrRenameMachineInDomain2",
        "NetrValidateName2",
        "NetrGetJoinableOUs2",
        "NetrAddAlternateComputerName",
        "NetrRemoveAlternateComputerName",
        "NetrSetPrimaryComputerName",
        "NetrEnumerateComputerNames",
    ),
    endpointHint="ncacn_np:[\\pipe\\wkssvc]",
    description="[MS-WKST] workstation service",
)

# [MS-RRP] 3.1.5.
WINREG = _info(
    "winreg",
    "338cd001-2244-31f1-aaaa-900038001003",
    1,
    0,
    (
        "OpenClassesRoot",
        "OpenCurrentUser",
        "OpenLocalMachine",
        "OpenPerformanceData",
        "OpenUsers",
        "BaseRegCloseKey",
        "BaseRegCreateKey",
        "BaseRegDeleteKey",
        "BaseRegDeleteValue",
        "BaseRegEnumKey",
        "BaseRegEnumValue",
        "BaseRegFlushKey",
        "BaseRegGetKeySecurity",
        "BaseRegLoadKey",
        "BaseRegNotifyChangeKeyValue",
        "BaseRegOpenKey",
        "BaseRegQueryInfoKey",
        "BaseRegQueryValue",
        "BaseRegReplaceKey",
        "BaseRegRestoreKey",
        "BaseRegSaveKey",
        "BaseRegSetKeySecurity",
        "BaseRegSetValue",
        "BaseRegUnLoadKey",
        "BaseInitiateSystemShutdown",
        "BaseAbortSystemShutdown",
        "BaseRegGetVersion",
        "OpenCurrentConfig",
        "",
        "BaseRegQueryMultipleValues",
        "BaseInitiateSystemShutdownEx",
        "BaseRegSaveKeyEx",
        "OpenPerformanceText",
        "OpenPerformanceNlsText",
        "BaseRegQueryMultipleValues2",
        "BaseRegDeleteKeyEx",
    ),
    endpointHint="ncacn_np:[\\pipe\\winreg]",
    description="[MS-RRP] remote registry",
)

# [MS-RPRN] 3.1.4: impacket names only the opnums below.
SPOOLSS = _info(
    "spoolss",
    "12345678-1234-abcd-ef00-0123456789ab",
    1,
    0,
    ("RpcEnumPrinters", "RpcOpenPrinter")
    + ("",) * 8
    + ("RpcEnumPrinterDrivers", "", "RpcGetPrinterDriverDirectory")
    + ("",) * 16
    + ("RpcClosePrinter",)
    + ("",) * 35
    + ("RpcRemoteFindFirstPrinterChangeNotificationEx", "", "", "", "RpcOpenPrinterEx")
    + ("",) * 19
    + ("RpcAddPrinterDriverEx",),
    endpointHint="ncacn_np:[\\pipe\\spoolss]",
    description="[MS-RPRN] print system",
)

# [MS-SCMR] 3.1.4.
SVCCTL = _info(
    "svcctl",
    "367abb81-9844-35f1-ad32-98f038001003",
    2,
    0,
    (
        "RCloseServiceHandle",
        "RControlService",
        "RDeleteService",
        "RLockServiceDatabase",
        "RQueryServiceObjectSecurity",
        "RSetServiceObjectSecurity",
        "RQueryServiceStatus",
        "RSetServiceStatus",
        "RUnlockServiceDatabase",
        "RNotifyBootConfigStatus",
        "RI_ScSetServiceBitsW",
        "RChangeServiceConfigW",
        "RCreateServiceW",
        "REnumDependentServicesW",
        "REnumServicesStatusW",
        "ROpenSCManagerW",
        "ROpenServiceW",
        "RQueryServiceConfigW",
        "RQueryServiceLockStatusW",
        "RStartServiceW",
        "RGetServiceDisplayNameW",
        "RGetServiceKeyNameW",
        "RI_ScSetServiceBitsA",
        "RChangeServiceConfigA",
        "RCreateServiceA",
        "REnumDependentServicesA",
        "REnumServicesStatusA",
        "ROpenSCManagerA",
        "ROpenServiceA",
        "RQueryServiceConfigA",
        "RQueryServiceLockStatusA",
        "RStartServiceA",
        "RGetServiceDisplayNameA",
        "RGetServiceKeyNameA",
        "",
        "REnumServiceGroupW",
        "RChangeServiceConfig2A",
        "RChangeServiceConfig2W",
        "RQueryServiceConfig2A",
        "RQueryServiceConfig2W",
        "RQueryServiceStatusEx",
        "REnumServicesStatusExA",
        "REnumServicesStatusExW",
        "",
        "RCreateServiceWOW64A",
        "RCreateServiceWOW64W",
        "",
        "RNotifyServiceStatusChange",
        "RGetNotifyResults",
        "RCloseNotifyHandle",
        "RControlServiceExA",
        "RControlServiceExW",
        "",
        "",
        "",
        "",
        "RQueryServiceConfigEx",
    ),
    endpointHint="ncacn_np:[\\pipe\\svcctl]",
    description="[MS-SCMR] service control manager",
)

#: Every interface the registry knows, Exchange ones first.
INTERFACES = (
    EXCHANGE_EMSMDB,
    EXCHANGE_ASYNC_EMSMDB,
    EXCHANGE_NSP,
    EXCHANGE_DS_RFR,
    EPMAPPER,
    MGMT,
    SAMR,
    LSARPC,
    NETLOGON,
    DRSUAPI,
    DSSETUP,
    UNIXINFO,
    BACKUPKEY,
    DNSSERVER,
    SRVSVC,
    WKSSVC,
    WINREG,
    SPOOLSS,
    SVCCTL,
)

#: The Exchange interfaces mapiproxy proxies by default (OpenChange's three,
#: plus AsyncEMSMDB, without which Outlook drops the connection).
EXCHANGE_INTERFACES = (EXCHANGE_EMSMDB, EXCHANGE_ASYNC_EMSMDB, EXCHANGE_NSP, EXCHANGE_DS_RFR)

#: Other names users write for an interface, mapped to the registry name.
ALIASES = {
    "emsmdb": "exchange_emsmdb",
    "asyncemsmdb": "exchange_async_emsmdb",
    "async_emsmdb": "exchange_async_emsmdb",
    "nspi": "exchange_nsp",
    "nsp": "exchange_nsp",
    "rfr": "exchange_ds_rfr",
    "exchange_rfr": "exchange_ds_rfr",
    "lsa": "lsarpc",
    "epm": "epmapper",
    "nrpc": "netlogon",
    "bkrp": "backupkey",
}

_BY_NAME = {info.name: info for info in INTERFACES}
_BY_NAME.update((alias, _BY_NAME[target]) for alias, target in ALIASES.items())

_UUID_TEXT = r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
_SPEC = re.compile(r"\A(?P<uuid>%s)(?:[/:](?P<version>[^/:]+))?\Z" % (_UUID_TEXT,))
_DOTTED = re.compile(r"\A(?P<major>\d{1,5})(?:\.(?P<minor>\d{1,5}))?\Z")
_PACKED = re.compile(r"\A0[xX](?P<packed>[0-9A-Fa-f]{1,8})\Z")


def lookupByName(name):
    """
    Find an interface by name or alias (case-insensitive).

    @param name: e.g. C{"exchange_nsp"} or C{"nspi"}.
    @type name: L{str}
    @rtype: L{InterfaceInfo}
    @raise ConfigError: no interface has that name.
    """
    info = _BY_NAME.get(name.strip().lower()) if isinstance(name, str) else None
    if info is None:
        raise ConfigError("unknown interface %r" % (name,))
    return info


def lookupBySyntax(interfaceUuid, version, versionMinor=None):
    """
    Find the interface a client binds to.

    @param interfaceUuid: the abstract syntax UUID.
    @type interfaceUuid: L{uuid.UUID} or L{str}
    @param version: the major version; it must match exactly.
    @type version: L{int}
    @param versionMinor: the minor version, which must match exactly, or
        L{None} to accept any minor version.
    @type versionMinor: L{int} or L{None}
    @return: the interface, or L{None} when none is registered.
    @rtype: L{InterfaceInfo} or L{None}
    """
    if not isinstance(interfaceUuid, uuid.UUID):
        try:
            interfaceUuid = uuid.UUID(str(interfaceUuid))
        except ValueError:
            return None
    for info in INTERFACES:
        if info.uuid != interfaceUuid or info.version != version:
            continue
        if versionMinor is None or info.versionMinor == versionMinor:
            return info
    return None


def _parseVersion(text, version):
    """
    Parse the version part of an interface specification.

    @param text: the whole specification (for messages).
    @param version: C{"MAJOR"}, C{"MAJOR.MINOR"} or C{"0xVVVVVVVV"}.
    @return: C{(major, minor)}.
    @raise ConfigError: the version is not in one of these forms or out of
        range.
    """
    packed = _PACKED.match(version)
    if packed:
        value = int(packed.group("packed"), 16)
        return value & 0xFFFF, value >> 16
    dotted = _DOTTED.match(version)
    if not dotted:
        raise ConfigError("bad interface version in %r (expected MAJOR.MINOR)" % (text,))
    major = int(dotted.group("major"))
    minor = int(dotted.group("minor") or 0)
    if major > 0xFFFF or minor > 0xFFFF:
        raise ConfigError("interface version out of range in %r" % (text,))
    return major, minor


def parseInterfaceSpec(text):
    """
    Parse an interface as a user writes it in a configuration file.

    @param text: a name or alias, C{UUID/MAJOR.MINOR}, C{UUID:MAJOR.MINOR},
        C{UUID/0xVVVVVVVV} or a bare C{UUID} (see the module docstring).
    @type text: L{str}
    @return: the registered interface, or for a syntax the registry does not
        know an anonymous L{InterfaceInfo} named after C{text} with no opnum
        names.
    @rtype: L{InterfaceInfo}
    @raise ConfigError: C{text} is neither a known name nor a syntax.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("empty interface specification")
    spec = text.strip()
    info = _BY_NAME.get(spec.lower())
    if info is not None:
        return info
    match = _SPEC.match(spec)
    if not match:
        raise ConfigError("unknown interface %r (expected a name or UUID/MAJOR.MINOR)" % (spec,))
    interfaceUuid = uuid.UUID(match.group("uuid"))
    if match.group("version") is None:
        for info in INTERFACES:
            if info.uuid == interfaceUuid:
                return info
        major, minor = 1, 0
    else:
        major, minor = _parseVersion(spec, match.group("version"))
        info = lookupBySyntax(interfaceUuid, major, minor)
        if info is not None:
            return info
    return InterfaceInfo(spec, interfaceUuid, major, minor, ())


def opnumName(info, opnum):
    """
    Name an operation of an interface.

    @param info: the interface (L{None} for an unknown one).
    @type info: L{InterfaceInfo} or L{None}
    @param opnum: the operation number.
    @type opnum: L{int}
    @return: e.g. C{"NspiGetProps"}, or C{"opnum 42"} when unnamed.
    @rtype: L{str}
    """
    if info is None:
        return "opnum %d" % (opnum,)
    return info.opnumName(opnum)
