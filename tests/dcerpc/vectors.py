"""
Golden DCE/RPC fragments for the PDU codec and framing tests.

Provenance:

  - C{SAMBA_*}: packed by Samba's own NDR marshalling of C{ncacn_packet}
    (librpc/idl/dcerpc.idl through the python3-samba bindings of Debian's
    Samba), i.e. an independent implementation of the layouts. The script
    that made them is L{SAMBA_GENERATOR}; C{tests.dcerpc.test_pdu} runs it
    again under C{/usr/bin/python3} when python3-samba is installed and
    checks that it still prints exactly these bytes.
  - C{BE_*}: big-endian drep PDUs, written by hand below field by field
    and checked with tshark 4.0.17's DCE/RPC dissector (it decodes every
    field as annotated here: e.g. the interface version is read as the
    u32 C{if_version}, minor in the high half, so minor comes first).
"""

#: Run with /usr/bin/python3 (python3-samba); prints "NAME hex" lines.
SAMBA_GENERATOR = r'''
from samba.dcerpc import dcerpc, misc
from samba.ndr import ndr_pack

def syntax(uuid, version):
    s = misc.ndr_syntax_id()
    s.uuid = misc.GUID(uuid)
    s.if_version = version
    return s

NDR = syntax("8a885d04-1ceb-11c9-9fe8-08002b104860", 2)
NDR64 = syntax("71710533-beba-4937-8319-b5dbef9ccc36", 1)
BTFN = syntax("6cb71c2c-9812-4540-0300-000000000000", 1)
NULL = syntax("00000000-0000-0000-0000-000000000000", 0)
EMSMDB = syntax("a4f1db00-ca47-1067-b31f-00dd010662da", 0x510000)  # v0.81

def packet(ptype, flags, callId, body, authLength=0):
    p = dcerpc.ncacn_packet()
    p.rpc_vers = 5
    p.rpc_vers_minor = 0
    p.ptype = ptype
    p.pfc_flags = flags
    p.drep = [0x10, 0, 0, 0]
    p.call_id = callId
    p.auth_length = authLength
    p.u = body
    p.frag_length = 0
    p.frag_length = len(ndr_pack(p))
    return ndr_pack(p)

def context(contextId, abstract, transfers):
    c = dcerpc.ctx_list()
    c.context_id = contextId
    c.num_transfer_syntaxes = len(transfers)
    c.abstract_syntax = abstract
    c.transfer_syntaxes = transfers
    return c

def result(value, reason, syntax):
    r = dcerpc.ack_ctx()
    r.result = value
    r.reason = reason
    r.syntax = syntax
    return r

def trailer(authType, level, pad, contextId, value):
    a = dcerpc.auth()
    a.auth_type = authType
    a.auth_level = level
    a.auth_pad_length = pad
    a.auth_reserved = 0
    a.auth_context_id = contextId
    a.credentials = value
    return ndr_pack(a)

out = []
b = dcerpc.bind()
b.max_xmit_frag = 5840
b.max_recv_frag = 5840
b.assoc_group_id = 0
b.num_contexts = 2
b.ctx_list = [context(0, EMSMDB, [NDR, NDR64]), context(1, EMSMDB, [BTFN])]
b.auth_info = b""
out.append(("BIND", packet(11, 3, 1, b)))

a = dcerpc.bind_ack()
a.max_xmit_frag = 5840
a.max_recv_frag = 5840
a.assoc_group_id = 0x12345
a.secondary_address = "49152"
a.num_results = 3
a.ctx_list = [result(0, 0, NDR), result(2, 2, NULL), result(3, 3, NULL)]
a.auth_info = b""
out.append(("BIND_ACK", packet(12, 3, 1, a)))

r = dcerpc.bind_ack()
r.max_xmit_frag = 5840
r.max_recv_frag = 5840
r.assoc_group_id = 0x12345
r.secondary_address = ""
r.num_results = 1
r.ctx_list = [result(0, 0, NDR)]
r.auth_info = b""
out.append(("ALTER_CONTEXT_RESP", packet(15, 3, 2, r)))

q = dcerpc.request()
q.alloc_hint = 13
q.context_id = 1
q.opnum = 11
q.object = misc.GUID("12345678-9abc-def0-1122-334455667788")
q.stub_and_verifier = (bytes(range(1, 14)) + b"\x00" * 3
    + trailer(10, 6, 3, 79231, b"\x01\x00\x00\x00" + bytes(range(0xa0, 0xac))))
out.append(("REQUEST_OBJECT_AUTH", packet(0, 0x83, 7, q, authLength=16)))

s = dcerpc.response()
s.alloc_hint = 5
s.context_id = 1
s.cancel_count = 0
s.stub_and_verifier = (b"\xaa\xbb\xcc\xdd\xee" + b"\x00" * 11
    + trailer(10, 5, 11, 1, b"\x01\x00\x00\x00" + bytes(range(0xb0, 0xbc))))
out.append(("RESPONSE_AUTH", packet(2, 3, 7, s, authLength=16)))

f = dcerpc.fault()
f.alloc_hint = 32
f.context_id = 1
f.cancel_count = 0
f.flags = 0
f.status = 0x1c010002
f.reserved = 0
f.error_and_verifier = b""
out.append(("FAULT", packet(3, 0x23, 7, f)))

n = dcerpc.bind_nak()
n.reject_reason = 4
n.num_versions = 1
v = dcerpc.bind_nak_version()
v.rpc_vers = 5
v.rpc_vers_minor = 0
n.versions = [v]
out.append(("BIND_NAK", packet(13, 3, 1, n)))

t = dcerpc.auth3()
t.auth_info = trailer(10, 6, 0, 79231, b"NTLMSSP\x00\x03\x00\x00\x00")
out.append(("AUTH3", packet(16, 3, 1, t, authLength=12)))
out.append(("SHUTDOWN", packet(17, 3, 0, dcerpc.shutdown())))
out.append(("CO_CANCEL", packet(18, 3, 9, dcerpc.co_cancel())))
out.append(("ORPHANED", packet(19, 3, 9, dcerpc.orphaned())))
for name, data in out:
    print(name, data.hex())
'''

# Samba: bind, call_id 1, max frags 5840, two contexts for EMSMDB v0.81:
# context 0 offers NDR and NDR64 (n_transfer_syn = 2), context 1 offers
# the bind time feature syntax with bits 0x03.
SAMBA_BIND = bytes.fromhex(
    "05000b03100000008800000001000000d016d016000000000200000000000200"
    "00dbf1a447ca6710b31f00dd010662da00005100045d888aeb1cc9119fe80800"
    "2b1048600200000033057171babe37498319b5dbef9ccc360100000001000100"
    "00dbf1a447ca6710b31f00dd010662da000051002c1cb76c1298404503000000"
    "0000000001000000"
)

# Samba: bind_ack, secondary address "49152", results: acceptance (NDR),
# provider rejection reason 2, negotiate_ack with bits 0x03.
SAMBA_BIND_ACK = bytes.fromhex(
    "05000c03100000006c00000001000000d016d016452301000600343931353200"
    "0300000000000000045d888aeb1cc9119fe808002b1048600200000002000200"
    "0000000000000000000000000000000000000000030003000000000000000000"
    "000000000000000000000000"
)

# Samba: alter_context_resp with an empty secondary address (length 0).
SAMBA_ALTER_CONTEXT_RESP = bytes.fromhex(
    "05000f03100000003800000002000000d016d016452301000000000001000000"
    "00000000045d888aeb1cc9119fe808002b10486002000000"
)

# Samba: request with an object UUID and an NTLM privacy trailer: 13-byte
# stub, 3 bytes of pad (16-aligned from the stub at offset 40).
SAMBA_REQUEST_OBJECT_AUTH = bytes.fromhex(
    "050000831000000050001000070000000d00000001000b0078563412bc9af0de"
    "11223344556677880102030405060708090a0b0c0d0000000a0603007f350100"
    "01000000a0a1a2a3a4a5a6a7a8a9aaab"
)

# Samba: response with an NTLM integrity trailer: 5-byte stub, 11 bytes
# of pad.
SAMBA_RESPONSE_AUTH = bytes.fromhex(
    "050002031000000040001000070000000500000001000000aabbccddee000000"
    "00000000000000000a050b000100000001000000b0b1b2b3b4b5b6b7b8b9babb"
)

# Samba: fault nca_s_op_rng_error, flags FIRST|LAST|DID_NOT_EXECUTE.
SAMBA_FAULT = bytes.fromhex(
    "0500032310000000200000000700000020000000010000000200011c00000000"
)

# Samba: bind_nak, reason 4 (protocol version not supported), versions 5.0.
SAMBA_BIND_NAK = bytes.fromhex("05000d031000000015000000010000000400010500")

# Samba: auth3 with its 4 zero pad bytes and a 12-byte token.
SAMBA_AUTH3 = bytes.fromhex(
    "050010031000000028000c0001000000000000000a0600007f3501004e544c4d"
    "5353500003000000"
)

SAMBA_SHUTDOWN = bytes.fromhex("05001103100000001000000000000000")
SAMBA_CO_CANCEL = bytes.fromhex("05001203100000001000000009000000")
SAMBA_ORPHANED = bytes.fromhex("05001303100000001000000009000000")

SAMBA_VECTORS = {
    "BIND": SAMBA_BIND,
    "BIND_ACK": SAMBA_BIND_ACK,
    "ALTER_CONTEXT_RESP": SAMBA_ALTER_CONTEXT_RESP,
    "REQUEST_OBJECT_AUTH": SAMBA_REQUEST_OBJECT_AUTH,
    "RESPONSE_AUTH": SAMBA_RESPONSE_AUTH,
    "FAULT": SAMBA_FAULT,
    "BIND_NAK": SAMBA_BIND_NAK,
    "AUTH3": SAMBA_AUTH3,
    "SHUTDOWN": SAMBA_SHUTDOWN,
    "CO_CANCEL": SAMBA_CO_CANCEL,
    "ORPHANED": SAMBA_ORPHANED,
}

# Big-endian bind (drep 00 00 00 00), call_id 0x01020304.
BE_BIND = bytes.fromhex(
    "05 00 0b 03 00000000 005c 0000 01020304"  # header, frag_length 92
    "10b8 16d0 0a0b0c0d 01 000000"  # max_xmit 4280, max_recv 5840, group, 1 context
    "0102 02 00"  # p_cont_id 258, 2 transfer syntaxes
    "a4f1db00 ca47 1067 b31f00dd010662da 0051 0000"  # EMSMDB, minor 81, major 0
    "8a885d04 1ceb 11c9 9fe808002b104860 0000 0002"  # NDR 2.0
    "71710533 beba 4937 8319b5dbef9ccc36 0000 0001"  # NDR64 1.0
)

# Big-endian bind_ack: secondary address "49152", acceptance + rejection.
BE_BIND_ACK = bytes.fromhex(
    "05 00 0c 03 00000000 0054 0000 01020304"  # header, frag_length 84
    "10b8 16d0 0a0b0c0d"
    "0006 3439313532 00"  # port_any_t "49152\\0" (26 + 6: already 4-aligned)
    "02 000000"  # 2 results
    "0000 0000 8a885d04 1ceb 11c9 9fe808002b104860 0000 0002"
    "0002 0002 00000000 0000 0000 0000000000000000 0000 0000"
)

# Big-endian request with an object UUID, alloc_hint 0x11223344,
# p_cont_id 258, opnum 2571, 4-byte stub.
BE_REQUEST_OBJECT = bytes.fromhex(
    "05 00 00 83 00000000 002c 0000 01020304"
    "11223344 0102 0a0b"
    "12345678 9abc def0 1122334455667788"
    "00000000"
)

# Big-endian fault nca_s_op_rng_error.
BE_FAULT = bytes.fromhex(
    "05 00 03 03 00000000 0020 0000 01020304"
    "00000020 0102 00 00 1c010002 00000000"
)
