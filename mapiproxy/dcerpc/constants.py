# -*- test-case-name: tests.dcerpc.test_pdu -*-
"""
Numbers of connection-oriented DCE/RPC: C706 chapter 12 and [MS-RPCE] 2.2.
"""

import enum
import uuid

RPC_VERSION = 5
RPC_VERSION_MINOR = 0

#: Little-endian integers, ASCII characters, IEEE floats: the only data
#: representation Windows, Samba and we send ([MS-RPCE] 2.2.2.3, C706 14.1).
DREP_LE = b"\x10\x00\x00\x00"

COMMON_HEADER_LENGTH = 16
SEC_TRAILER_LENGTH = 8
#: Windows and Samba align the auth trailer of request/response PDUs to 16.
AUTH_PAD_ALIGNMENT = 16
#: The smallest max_xmit_frag/max_recv_frag a peer may propose (C706 12.6.3.1).
MIN_FRAGMENT_SIZE = 1432
#: What we propose and accept at most when nothing else is configured.
DEFAULT_MAX_FRAGMENT = 5840
MAX_FRAGMENT_SIZE = 0xFFFF


class PType(enum.IntEnum):
    """PDU types of the connection-oriented protocol."""

    REQUEST = 0
    PING = 1
    RESPONSE = 2
    FAULT = 3
    WORKING = 4
    NOCALL = 5
    REJECT = 6
    ACK = 7
    CL_CANCEL = 8
    FACK = 9
    CANCEL_ACK = 10
    BIND = 11
    BIND_ACK = 12
    BIND_NAK = 13
    ALTER_CONTEXT = 14
    ALTER_CONTEXT_RESP = 15
    AUTH3 = 16
    SHUTDOWN = 17
    CO_CANCEL = 18
    ORPHANED = 19
    RTS = 20


class PFC(enum.IntFlag):
    """pfc_flags of the common header."""

    FIRST_FRAG = 0x01
    LAST_FRAG = 0x02
    PENDING_CANCEL = 0x04  # also SUPPORT_HEADER_SIGN in bind/bind_ack ([MS-RPCE] 2.2.2.3)
    SUPPORT_HEADER_SIGN = 0x04
    RESERVED_1 = 0x08
    CONC_MPX = 0x10
    DID_NOT_EXECUTE = 0x20
    MAYBE = 0x40
    OBJECT_UUID = 0x80


class AuthType(enum.IntEnum):
    """auth_type of the sec_trailer ([MS-RPCE] 2.2.1.1.7)."""

    NONE = 0
    SPNEGO = 9  # RPC_C_AUTHN_GSS_NEGOTIATE
    NTLM = 10  # RPC_C_AUTHN_WINNT
    SCHANNEL = 14
    KERBEROS = 16
    NETLOGON = 68
    DEFAULT = 0xFF


class AuthLevel(enum.IntEnum):
    """auth_level of the sec_trailer ([MS-RPCE] 2.2.1.1.8)."""

    DEFAULT = 0
    NONE = 1
    CONNECT = 2
    CALL = 3
    PKT = 4
    INTEGRITY = 5  # RPC_C_AUTHN_LEVEL_PKT_INTEGRITY: sign
    PRIVACY = 6  # RPC_C_AUTHN_LEVEL_PKT_PRIVACY: seal


class ContextResult(enum.IntEnum):
    """p_cont_def_result_t of a bind_ack result."""

    ACCEPTANCE = 0
    USER_REJECTION = 1
    PROVIDER_REJECTION = 2
    NEGOTIATE_ACK = 3  # bind time feature negotiation ([MS-RPCE] 3.3.1.5.3)


class ProviderReason(enum.IntEnum):
    """p_provider_reason_t of a bind_ack result."""

    REASON_NOT_SPECIFIED = 0
    ABSTRACT_SYNTAX_NOT_SUPPORTED = 1
    PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED = 2
    LOCAL_LIMIT_EXCEEDED = 3


class BindTimeFeature(enum.IntFlag):
    """Bits carried in the bind time feature negotiation context."""

    SECURITY_CONTEXT_MULTIPLEXING = 0x01
    KEEP_CONNECTION_ON_ORPHAN = 0x02


class BindNakReason(enum.IntEnum):
    """p_reject_reason_t of a bind_nak (C706 12.6.3.9, [MS-RPCE] 2.2.2.5)."""

    REASON_NOT_SPECIFIED = 0
    TEMPORARY_CONGESTION = 1
    LOCAL_LIMIT_EXCEEDED = 2
    CALLED_PADDR_UNKNOWN = 3
    PROTOCOL_VERSION_NOT_SUPPORTED = 4
    DEFAULT_CONTEXT_NOT_SUPPORTED = 5
    USER_DATA_NOT_READABLE = 6
    NO_PSAP_AVAILABLE = 7
    AUTHENTICATION_TYPE_NOT_RECOGNIZED = 8
    INVALID_CHECKSUM = 9


class Status(enum.IntEnum):
    """Fault statuses (C706 appendix E, [MS-RPCE] 2.2.2.11 / 3.1.1.5.5)."""

    ACCESS_DENIED = 0x00000005
    RPC_S_CANNOT_SUPPORT = 0x000006E4
    FAULT_CANT_PERFORM = 0x000006D8
    FAULT_NDR = 0x000006F7  # rpc_x_bad_stub_data
    SEC_PKG_ERROR = 0x00000721
    NCA_S_FAULT_INVALID_TAG = 0x1C000006
    NCA_S_FAULT_CANCEL = 0x1C00000D
    NCA_S_FAULT_UNSPEC = 0x1C000012
    NCA_S_FAULT_REMOTE_COMM_FAILURE = 0x1C000013
    NCA_S_FAULT_CONTEXT_MISMATCH = 0x1C00001A
    NCA_S_FAULT_REMOTE_NO_MEMORY = 0x1C00001B
    NCA_S_INVALID_PRES_CONTEXT_ID = 0x1C00001C
    NCA_S_UNSUPPORTED_AUTHN_LEVEL = 0x1C00001D
    NCA_S_INVALID_CHECKSUM = 0x1C00001F
    NCA_S_COMM_FAILURE = 0x1C010001
    NCA_S_OP_RNG_ERROR = 0x1C010002
    NCA_S_UNK_IF = 0x1C010003
    NCA_S_PROTO_ERROR = 0x1C01000B
    NCA_S_OUT_ARGS_TOO_BIG = 0x1C010013
    NCA_S_SERVER_TOO_BUSY = 0x1C010014
    NCA_S_UNSUPPORTED_TYPE = 0x1C010017


#: Names the way Samba's dcerpc_errstr prints them (DCERPC_FAULT_*/nca_*).
STATUS_NAMES = {
    Status.ACCESS_DENIED: "DCERPC_FAULT_ACCESS_DENIED",
    Status.RPC_S_CANNOT_SUPPORT: "DCERPC_FAULT_CANNOT_SUPPORT",
    Status.FAULT_CANT_PERFORM: "DCERPC_FAULT_CANT_PERFORM",
    Status.FAULT_NDR: "DCERPC_FAULT_NDR",
    Status.SEC_PKG_ERROR: "DCERPC_FAULT_SEC_PKG_ERROR",
    Status.NCA_S_FAULT_INVALID_TAG: "DCERPC_FAULT_INVALID_TAG",
    Status.NCA_S_FAULT_CANCEL: "DCERPC_FAULT_CANCEL",
    Status.NCA_S_FAULT_UNSPEC: "DCERPC_FAULT_OTHER",
    Status.NCA_S_FAULT_REMOTE_COMM_FAILURE: "DCERPC_FAULT_REMOTE_COMM_FAILURE",
    Status.NCA_S_FAULT_CONTEXT_MISMATCH: "DCERPC_FAULT_CONTEXT_MISMATCH",
    Status.NCA_S_FAULT_REMOTE_NO_MEMORY: "DCERPC_FAULT_REMOTE_NO_MEMORY",
    Status.NCA_S_INVALID_PRES_CONTEXT_ID: "DCERPC_FAULT_INVALID_PRES_CONTEXT_ID",
    Status.NCA_S_UNSUPPORTED_AUTHN_LEVEL: "DCERPC_FAULT_UNSUPPORTED_AUTHN_LEVEL",
    Status.NCA_S_INVALID_CHECKSUM: "DCERPC_FAULT_INVALID_CHECKSUM",
    Status.NCA_S_COMM_FAILURE: "DCERPC_FAULT_COMM_FAILURE",
    Status.NCA_S_OP_RNG_ERROR: "DCERPC_FAULT_OP_RNG_ERROR",
    Status.NCA_S_UNK_IF: "DCERPC_FAULT_UNK_IF",
    Status.NCA_S_PROTO_ERROR: "DCERPC_FAULT_PROTO_ERROR",
    Status.NCA_S_OUT_ARGS_TOO_BIG: "DCERPC_FAULT_OUT_ARGS_TOO_BIG",
    Status.NCA_S_SERVER_TOO_BUSY: "DCERPC_FAULT_SERVER_TOO_BUSY",
    Status.NCA_S_UNSUPPORTED_TYPE: "DCERPC_FAULT_UNSUPPORTED_TYPE",
}


def statusName(status):
    """
    Name a fault status for a log line.

    @param status: a fault status code.
    @type status: L{int}
    @return: e.g. C{"DCERPC_FAULT_OP_RNG_ERROR (0x1c010002)"}.
    @rtype: L{str}
    """
    name = STATUS_NAMES.get(status, "DCERPC_FAULT_UNKNOWN")
    return "%s (0x%08x)" % (name, status)


#: NDR 2.0 transfer syntax (the only one we speak).
NDR_SYNTAX_UUID = uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860")
NDR_SYNTAX_VERSION = 2
#: NDR64 transfer syntax: refused with proposed_transfer_syntaxes_not_supported.
NDR64_SYNTAX_UUID = uuid.UUID("71710533-beba-4937-8319-b5dbef9ccc36")
NDR64_SYNTAX_VERSION = 1
#: Bind time feature negotiation: the first 8 bytes of the UUID, in its
#: string form, are this prefix; the low bits of the last field carry
#: L{BindTimeFeature} bits ([MS-RPCE] 2.2.2.14).
BIND_TIME_FEATURE_PREFIX = "6cb71c2c-9812-4540-"

NULL_UUID = uuid.UUID(int=0)
