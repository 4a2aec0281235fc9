"""
Tests for L{mapiproxy.dcerpc.pdu}.
"""

import os
import shutil
import struct
import subprocess
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.dcerpc import pdu
from mapiproxy.dcerpc.constants import (
    AuthLevel,
    AuthType,
    BindTimeFeature,
    ContextResult,
    PFC,
    ProviderReason,
    PType,
    Status,
)
from mapiproxy.errors import FragmentTooLarge, MalformedPDU
from tests.dcerpc import vectors

EMSMDB = pdu.SyntaxId(uuid.UUID("a4f1db00-ca47-1067-b31f-00dd010662da"), 0, 81)
NSPI = pdu.SyntaxId(uuid.UUID("f5cc5a18-4264-101a-8c59-08002b2f8426"), 56, 0)
BTFN_3 = pdu.SyntaxId(uuid.UUID("6cb71c2c-9812-4540-0300-000000000000"), 1, 0)
OBJECT = uuid.UUID("12345678-9abc-def0-1122-334455667788")
BE = b"\x00\x00\x00\x00"


def ntlm(
    level=AuthLevel.PRIVACY, value=b"\x01\x00\x00\x00" + b"\xee" * 12, pad=0, contextId=79231
):
    """
    An NTLM auth trailer.
    """
    return pdu.AuthVerifier(AuthType.NTLM, level, pad, contextId, value)


def samplePDUs():
    """
    One or more PDUs of every type, with and without auth trailers, in
    both byte orders.
    """
    samples = [
        pdu.Request(callId=3, contextId=0, opnum=5, stub=b"hello"),
        pdu.Request(callId=3, allocHint=7, contextId=2, opnum=11, stub=b"x" * 37, object=OBJECT),
        pdu.Request(callId=4, opnum=1, stub=b"abc", auth=ntlm()),
        pdu.Request(
            callId=4, opnum=1, stub=b"a" * 16, object=OBJECT, auth=ntlm(), pfcFlags=PFC.FIRST_FRAG
        ),
        pdu.Response(callId=5, allocHint=100, contextId=1, cancelCount=2, stub=b"r" * 100),
        pdu.Response(callId=5, stub=b"", auth=ntlm(AuthLevel.INTEGRITY)),
        pdu.Fault(callId=6, contextId=1, status=Status.NCA_S_OP_RNG_ERROR, pfcFlags=0x23),
        pdu.Fault(
            callId=6, status=Status.ACCESS_DENIED, faultFlags=1, stub=b"\x01\x02\x03", auth=ntlm()
        ),
        pdu.Bind(
            callId=1,
            maxXmitFrag=4280,
            maxRecvFrag=4280,
            assocGroupId=0x1234,
            contexts=[
                pdu.PresentationContext(0, EMSMDB, [pdu.NDR_SYNTAX, pdu.NDR64_SYNTAX]),
                pdu.PresentationContext(1, EMSMDB, [BTFN_3]),
                pdu.PresentationContext(2, NSPI, []),
            ],
            auth=ntlm(value=b"NTLMSSP\x00\x01\x00\x00\x00"),
        ),
        pdu.AlterContext(callId=2, contexts=[pdu.PresentationContext(1, NSPI, [pdu.NDR_SYNTAX])]),
        pdu.BindAck(
            callId=1,
            assocGroupId=9,
            secondaryAddress=b"1234",
            results=[
                pdu.ContextResult(ContextResult.ACCEPTANCE, 0, pdu.NDR_SYNTAX),
                pdu.ContextResult(ContextResult.NEGOTIATE_ACK, 3, pdu.NULL_SYNTAX),
            ],
            auth=ntlm(value=b"NTLMSSP\x00\x02\x00\x00\x00"),
        ),
        pdu.AlterContextResp(callId=2, results=[pdu.ContextResult(0, 0, pdu.NDR_SYNTAX)]),
        pdu.BindNak(callId=1, rejectReason=4),
        pdu.BindNak(callId=1, rejectReason=9, versions=[(5, 0), (5, 1)], extra=b"\x00" * 16),
        pdu.Auth3(callId=1, auth=ntlm(value=b"NTLMSSP\x00\x03\x00\x00\x00")),
        pdu.Shutdown(),
        pdu.CoCancel(callId=9),
        pdu.CoCancel(callId=9, auth=ntlm()),
        pdu.Orphaned(callId=9, pfcFlags=PFC.LAST_FRAG),
    ]
    bigEndian = [
        pdu.Request(
            callId=0x01020304,
            drep=BE,
            allocHint=1,
            contextId=258,
            opnum=3,
            stub=b"be",
            object=OBJECT,
            auth=ntlm(),
        ),
        pdu.Bind(
            callId=1, drep=BE, contexts=[pdu.PresentationContext(1, EMSMDB, [pdu.NDR_SYNTAX])]
        ),
        pdu.BindAck(
            callId=1,
            drep=BE,
            secondaryAddress=b"135",
            results=[pdu.ContextResult(2, 2, pdu.NULL_SYNTAX)],
        ),
        pdu.Fault(callId=1, drep=BE, status=0x1C010003),
        pdu.BindNak(callId=1, drep=BE, rejectReason=2),
        pdu.Orphaned(callId=0x0A0B0C0D, drep=BE, auth=ntlm()),
    ]
    return samples + bigEndian


def patchHeader(data, fragLength=None, authLength=None, version=None, ptype=None):
    """
    Overwrite common-header fields of a little-endian fragment.
    """
    data = bytearray(data)
    if version is not None:
        data[0:2] = bytes(version)
    if ptype is not None:
        data[2] = ptype
    if fragLength is not None:
        struct.pack_into("<H", data, 8, fragLength)
    if authLength is not None:
        struct.pack_into("<H", data, 10, authLength)
    return bytes(data)


class SyntaxIdTests(SynchronousTestCase):
    """
    Tests for L{pdu.SyntaxId}.
    """

    def test_encodeNDR(self):
        """
        The NDR syntax encodes as its GUID in little-endian form, then u16
        major 2 and u16 minor 0.
        """
        self.assertEqual(
            pdu.NDR_SYNTAX.encode(),
            bytes.fromhex("045d888aeb1cc9119fe808002b104860" "0200" "0000"),
        )

    def test_encodeMinorVersion(self):
        """
        EMSMDB v0.81 puts the minor version in the second u16.
        """
        self.assertEqual(EMSMDB.encode()[16:], b"\x00\x00\x51\x00")

    def test_encodeBigEndian(self):
        """
        For a big-endian drep the GUID fields and if_version (a u32 with
        the minor version in its high half) are big-endian.
        """
        self.assertEqual(
            EMSMDB.encode(bigEndian=True),
            bytes.fromhex("a4f1db00ca471067b31f00dd010662da" "00510000"),
        )

    def test_decodeAtOffset(self):
        """
        L{pdu.SyntaxId.decode} reads 20 bytes at the offset given.
        """
        data = b"\xff" * 3 + NSPI.encode() + b"\xff"
        self.assertEqual(pdu.SyntaxId.decode(data, 3), NSPI)

    def test_decodeBigEndian(self):
        """
        Decoding what was encoded for a big-endian drep gives the value
        back.
        """
        self.assertEqual(pdu.SyntaxId.decode(EMSMDB.encode(True), 0, True), EMSMDB)

    def test_decodeTruncated(self):
        """
        Fewer than 20 bytes raise L{MalformedPDU}.
        """
        self.assertRaises(MalformedPDU, pdu.SyntaxId.decode, pdu.NDR_SYNTAX.encode()[:19], 0)
        self.assertRaises(MalformedPDU, pdu.SyntaxId.decode, pdu.NDR_SYNTAX.encode(), 1)

    def test_encodeVersionOutOfRange(self):
        """
        A version that does not fit 16 bits raises L{MalformedPDU}.
        """
        self.assertRaises(MalformedPDU, pdu.SyntaxId(OBJECT, 0x10000).encode)

    def test_isNDR(self):
        """
        Only NDR 2.0 is NDR; only NDR64 1.0 is NDR64.
        """
        self.assertEqual(
            [s.isNDR for s in (pdu.NDR_SYNTAX, pdu.NDR64_SYNTAX, EMSMDB)], [True, False, False]
        )
        self.assertEqual(
            [s.isNDR64 for s in (pdu.NDR_SYNTAX, pdu.NDR64_SYNTAX, EMSMDB)], [False, True, False]
        )

    def test_bindTimeFeatures(self):
        """
        The bitmask is the little-endian integer in the last 8 bytes of a
        6cb71c2c-9812-4540- UUID.
        """
        self.assertEqual(BTFN_3.bindTimeFeatures, 3)
        self.assertEqual(
            pdu.SyntaxId(uuid.UUID("6cb71c2c-9812-4540-0100-000000000000"), 1).bindTimeFeatures,
            BindTimeFeature.SECURITY_CONTEXT_MULTIPLEXING,
        )
        self.assertEqual(
            pdu.SyntaxId(uuid.UUID("6cb71c2c-9812-4540-0001-000000000000"), 1).bindTimeFeatures,
            0x100,
        )

    def test_noBindTimeFeatures(self):
        """
        Other syntaxes have no bind time features.
        """
        self.assertIsNone(pdu.NDR_SYNTAX.bindTimeFeatures)
        self.assertIsNone(pdu.NULL_SYNTAX.bindTimeFeatures)

    def test_forBindTimeFeatures(self):
        """
        L{pdu.SyntaxId.forBindTimeFeatures} builds the syntax Windows
        offers, version 1.0.
        """
        self.assertEqual(pdu.SyntaxId.forBindTimeFeatures(3), BTFN_3)
        self.assertEqual(pdu.SyntaxId.forBindTimeFeatures(2).bindTimeFeatures, 2)


class RoundTripTests(SynchronousTestCase):
    """
    Encoding then decoding gives the same PDU, and re-encoding gives the
    same bytes.
    """

    def test_encodeDecode(self):
        """
        Every sample PDU survives encode then decode.
        """
        for message in samplePDUs():
            if message.auth is not None:
                # authPadLength is an output of encode.
                message.auth.authPadLength = pdu.decode(pdu.encode(message)).auth.authPadLength
            self.assertEqual(pdu.decode(pdu.encode(message)), message)

    def test_decodeEncode(self):
        """
        Decoding then encoding any encoded sample gives the same bytes.
        """
        for message in samplePDUs():
            data = pdu.encode(message)
            self.assertEqual(pdu.encode(pdu.decode(data)), data, message)

    def test_decodeTypes(self):
        """
        Each fragment decodes to the class of its PTYPE.
        """
        for message in samplePDUs():
            decoded = pdu.decode(pdu.encode(message))
            self.assertIs(type(decoded), type(message))
            self.assertEqual(decoded.PTYPE, pdu.encode(message)[2])

    def test_decodeMemoryview(self):
        """
        L{pdu.decode} accepts a memoryview or bytearray and returns bytes
        stubs.
        """
        data = pdu.encode(pdu.Request(callId=1, stub=b"stub"))
        for form in (bytearray(data), memoryview(data)):
            decoded = pdu.decode(form)
            self.assertEqual(decoded.stub, b"stub")
            self.assertIsInstance(decoded.stub, bytes)

    def test_encodeMemoryviewStub(self):
        """
        A stub may be a memoryview slice, as L{fragmentStub} returns.
        """
        message = pdu.Request(callId=1, stub=memoryview(b"0123456789")[2:5])
        self.assertEqual(pdu.decode(pdu.encode(message)).stub, b"234")

    def test_versionMinorKept(self):
        """
        rpc_vers_minor 1 is accepted and written back.
        """
        data = patchHeader(vectors.SAMBA_SHUTDOWN, version=(5, 1))
        decoded = pdu.decode(data)
        self.assertEqual(decoded.versionMinor, 1)
        self.assertEqual(pdu.encode(decoded), data)


class SambaVectorTests(SynchronousTestCase):
    """
    Golden fragments marshalled by Samba's NDR (see L{vectors}).
    """

    def assertGolden(self, data, expected):
        """
        C{data} decodes to C{expected}, C{expected} encodes to C{data} and
        C{data} re-encodes to itself.
        """
        self.assertEqual(pdu.decode(data), expected)
        self.assertEqual(pdu.encode(expected), data)
        self.assertEqual(pdu.encode(pdu.decode(data)), data)

    def test_bind(self):
        """
        A bind with two transfer syntaxes in one element and a bind time
        feature context.
        """
        self.assertGolden(
            vectors.SAMBA_BIND,
            pdu.Bind(
                callId=1,
                maxXmitFrag=5840,
                maxRecvFrag=5840,
                assocGroupId=0,
                contexts=[
                    pdu.PresentationContext(0, EMSMDB, [pdu.NDR_SYNTAX, pdu.NDR64_SYNTAX]),
                    pdu.PresentationContext(1, EMSMDB, [BTFN_3]),
                ],
            ),
        )
        context = pdu.decode(vectors.SAMBA_BIND).contexts[1]
        self.assertEqual(context.transferSyntaxes[0].bindTimeFeatures, 3)

    def test_bindAck(self):
        """
        A bind_ack with an acceptance, a provider rejection (reason 2) and
        a negotiate_ack (bits 3).
        """
        self.assertGolden(
            vectors.SAMBA_BIND_ACK,
            pdu.BindAck(
                callId=1,
                maxXmitFrag=5840,
                maxRecvFrag=5840,
                assocGroupId=0x12345,
                secondaryAddress=b"49152",
                results=[
                    pdu.ContextResult(ContextResult.ACCEPTANCE, 0, pdu.NDR_SYNTAX),
                    pdu.ContextResult(
                        ContextResult.PROVIDER_REJECTION,
                        ProviderReason.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED,
                        pdu.NULL_SYNTAX,
                    ),
                    pdu.ContextResult(
                        ContextResult.NEGOTIATE_ACK,
                        BindTimeFeature.SECURITY_CONTEXT_MULTIPLEXING
                        | BindTimeFeature.KEEP_CONNECTION_ON_ORPHAN,
                        pdu.NULL_SYNTAX,
                    ),
                ],
            ),
        )

    def test_alterContextRespEmptyAddress(self):
        """
        An empty secondary address is length 0 with no bytes, then 2 pad
        bytes.
        """
        self.assertGolden(
            vectors.SAMBA_ALTER_CONTEXT_RESP,
            pdu.AlterContextResp(
                callId=2,
                maxXmitFrag=5840,
                maxRecvFrag=5840,
                assocGroupId=0x12345,
                secondaryAddress=b"",
                results=[pdu.ContextResult(0, 0, pdu.NDR_SYNTAX)],
            ),
        )

    def test_requestObjectAuth(self):
        """
        A request with an object UUID and an auth trailer: the stub
        excludes the 3 pad bytes.
        """
        self.assertGolden(
            vectors.SAMBA_REQUEST_OBJECT_AUTH,
            pdu.Request(
                callId=7,
                pfcFlags=PFC.FIRST_FRAG | PFC.LAST_FRAG,
                allocHint=13,
                contextId=1,
                opnum=11,
                stub=bytes(range(1, 14)),
                object=OBJECT,
                auth=pdu.AuthVerifier(
                    AuthType.NTLM,
                    AuthLevel.PRIVACY,
                    3,
                    79231,
                    b"\x01\x00\x00\x00" + bytes(range(0xA0, 0xAC)),
                ),
            ),
        )
        self.assertEqual(pdu.decode(vectors.SAMBA_REQUEST_OBJECT_AUTH).pfcFlags, 0x83)

    def test_responseAuth(self):
        """
        A response with an integrity trailer and 11 pad bytes.
        """
        self.assertGolden(
            vectors.SAMBA_RESPONSE_AUTH,
            pdu.Response(
                callId=7,
                allocHint=5,
                contextId=1,
                stub=b"\xaa\xbb\xcc\xdd\xee",
                auth=pdu.AuthVerifier(
                    AuthType.NTLM,
                    AuthLevel.INTEGRITY,
                    11,
                    1,
                    b"\x01\x00\x00\x00" + bytes(range(0xB0, 0xBC)),
                ),
            ),
        )

    def test_fault(self):
        """
        A fault with did-not-execute and nca_s_op_rng_error.
        """
        self.assertGolden(
            vectors.SAMBA_FAULT,
            pdu.Fault(
                callId=7,
                pfcFlags=0x23,
                allocHint=32,
                contextId=1,
                status=Status.NCA_S_OP_RNG_ERROR,
            ),
        )

    def test_bindNak(self):
        """
        A bind_nak with one supported version and nothing after it.
        """
        self.assertGolden(vectors.SAMBA_BIND_NAK, pdu.BindNak(callId=1, rejectReason=4))

    def test_auth3(self):
        """
        An auth3 has 4 pad bytes before its sec_trailer and an
        auth_pad_length of 0.
        """
        self.assertGolden(
            vectors.SAMBA_AUTH3,
            pdu.Auth3(
                callId=1,
                auth=pdu.AuthVerifier(
                    AuthType.NTLM, AuthLevel.PRIVACY, 0, 79231, b"NTLMSSP\x00\x03\x00\x00\x00"
                ),
            ),
        )

    def test_headerOnly(self):
        """
        Shutdown, co_cancel and orphaned are a bare header.
        """
        self.assertGolden(vectors.SAMBA_SHUTDOWN, pdu.Shutdown(callId=0))
        self.assertGolden(vectors.SAMBA_CO_CANCEL, pdu.CoCancel(callId=9))
        self.assertGolden(vectors.SAMBA_ORPHANED, pdu.Orphaned(callId=9))

    def test_generatorStillMatches(self):
        """
        Samba's NDR, run now through python3-samba, prints exactly the
        stored vectors.
        """
        python = "/usr/bin/python3"
        if not os.path.exists(python) or shutil.which("smbd") is None:
            raise self.skipTest("python3-samba is not installed")
        result = subprocess.run(
            [python, "-c", vectors.SAMBA_GENERATOR], capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0 and "No module named 'samba'" in result.stderr:
            raise self.skipTest("python3-samba is not installed")
        self.assertEqual(result.returncode, 0, result.stderr)
        produced = dict(line.split() for line in result.stdout.splitlines())
        self.assertEqual(
            {name: bytes.fromhex(value) for name, value in produced.items()},
            vectors.SAMBA_VECTORS,
        )


class BigEndianTests(SynchronousTestCase):
    """
    A big-endian drep (C706 14.1) applies to the header and fixed body
    integers; these vectors were checked with tshark.
    """

    def test_bind(self):
        """
        A big-endian bind decodes and encodes back.
        """
        expected = pdu.Bind(
            callId=0x01020304,
            drep=BE,
            maxXmitFrag=4280,
            maxRecvFrag=5840,
            assocGroupId=0x0A0B0C0D,
            contexts=[pdu.PresentationContext(258, EMSMDB, [pdu.NDR_SYNTAX, pdu.NDR64_SYNTAX])],
        )
        self.assertEqual(pdu.decode(vectors.BE_BIND), expected)
        self.assertEqual(pdu.encode(expected), vectors.BE_BIND)

    def test_bindAck(self):
        """
        A big-endian bind_ack decodes and encodes back.
        """
        expected = pdu.BindAck(
            callId=0x01020304,
            drep=BE,
            maxXmitFrag=4280,
            maxRecvFrag=5840,
            assocGroupId=0x0A0B0C0D,
            secondaryAddress=b"49152",
            results=[
                pdu.ContextResult(0, 0, pdu.NDR_SYNTAX),
                pdu.ContextResult(2, 2, pdu.NULL_SYNTAX),
            ],
        )
        self.assertEqual(pdu.decode(vectors.BE_BIND_ACK), expected)
        self.assertEqual(pdu.encode(expected), vectors.BE_BIND_ACK)

    def test_requestObject(self):
        """
        A big-endian request's alloc_hint, context, opnum and object UUID
        are big-endian; the stub is untouched.
        """
        expected = pdu.Request(
            callId=0x01020304,
            drep=BE,
            allocHint=0x11223344,
            contextId=258,
            opnum=2571,
            stub=b"\x00\x00\x00\x00",
            object=OBJECT,
        )
        self.assertEqual(pdu.decode(vectors.BE_REQUEST_OBJECT), expected)
        self.assertEqual(pdu.encode(expected), vectors.BE_REQUEST_OBJECT)

    def test_fault(self):
        """
        A big-endian fault's status is big-endian.
        """
        expected = pdu.Fault(
            callId=0x01020304, drep=BE, allocHint=32, contextId=258, status=0x1C010002
        )
        self.assertEqual(pdu.decode(vectors.BE_FAULT), expected)
        self.assertEqual(pdu.encode(expected), vectors.BE_FAULT)

    def test_authTrailerBigEndian(self):
        """
        auth_context_id in the sec_trailer is big-endian too.
        """
        auth = ntlm(contextId=0x01020304, value=b"v")
        data = pdu.encode(pdu.Orphaned(callId=1, drep=BE, auth=auth))
        self.assertEqual(data[16:], b"\x0a\x06\x00\x00\x01\x02\x03\x04v")
        self.assertEqual(data[10:12], b"\x00\x01")


class ImpacketTests(SynchronousTestCase):
    """
    Cross-checks with impacket's structures and its real client.
    """

    def test_bindFromImpacket(self):
        """
        A bind built with impacket's MSRPCBind/CtxItem/MSRPCHeader decodes
        to its fields, and ours encodes to the same bytes.
        """
        from impacket.dcerpc.v5 import rpcrt
        from impacket.uuid import uuidtup_to_bin

        bind = rpcrt.MSRPCBind()
        for contextId, iface in enumerate(
            [
                ("a4f1db00-ca47-1067-b31f-00dd010662da", "0.81"),
                ("f5cc5a18-4264-101a-8c59-08002b2f8426", "56.0"),
            ]
        ):
            item = rpcrt.CtxItem()
            item["ContextID"] = contextId
            item["TransItems"] = 1
            item["AbstractSyntax"] = uuidtup_to_bin(iface)
            item["TransferSyntax"] = uuidtup_to_bin(
                ("8a885d04-1ceb-11c9-9fe8-08002b104860", "2.0")
            )
            bind.addCtxItem(item)
        header = rpcrt.MSRPCHeader()
        header["type"] = rpcrt.MSRPC_BIND
        header["call_id"] = 5
        header["pduData"] = bind.getData()
        data = header.get_packet()

        ours = pdu.Bind(
            callId=5,
            maxXmitFrag=4280,
            maxRecvFrag=4280,
            contexts=[
                pdu.PresentationContext(0, EMSMDB, [pdu.NDR_SYNTAX]),
                pdu.PresentationContext(1, NSPI, [pdu.NDR_SYNTAX]),
            ],
        )
        self.assertEqual(pdu.decode(data), ours)
        self.assertEqual(pdu.encode(ours), data)

    def test_requestFromImpacket(self):
        """
        A request built with impacket's MSRPCRequestHeader matches ours
        byte for byte.
        """
        from impacket.dcerpc.v5 import rpcrt

        header = rpcrt.MSRPCRequestHeader()
        header["call_id"] = 9
        header["alloc_hint"] = 6
        header["ctx_id"] = 2
        header["op_num"] = 10
        header["pduData"] = b"abcdef"
        data = header.get_packet()
        ours = pdu.Request(callId=9, allocHint=6, contextId=2, opnum=10, stub=b"abcdef")
        self.assertEqual(pdu.decode(data), ours)
        self.assertEqual(pdu.encode(ours), data)

    def test_bindAckFromImpacket(self):
        """
        A bind_ack body built with impacket's MSRPCRelayBindAck (odd-length
        secondary address, so 1 pad byte) decodes to its fields.
        """
        from impacket.dcerpc.v5 import rpcrt

        body = rpcrt.MSRPCRelayBindAck()
        body["max_tfrag"] = 4280
        body["max_rfrag"] = 5840
        body["assoc_group"] = 0x4321
        body["SecondaryAddr"] = b"1234"
        result = rpcrt.CtxItemResult()
        result["Result"] = 2
        result["Reason"] = 1
        result["TransferSyntax"] = b"\x00" * 20
        body.addCtxItem(result)
        header = rpcrt.MSRPCHeader()
        header["type"] = rpcrt.MSRPC_BINDACK
        header["call_id"] = 1
        header["pduData"] = body.getData()
        data = header.get_packet()

        ours = pdu.BindAck(
            callId=1,
            maxXmitFrag=4280,
            maxRecvFrag=5840,
            assocGroupId=0x4321,
            secondaryAddress=b"1234",
            results=[pdu.ContextResult(2, 1, pdu.NULL_SYNTAX)],
        )
        self.assertEqual(pdu.decode(data), ours)
        self.assertEqual(pdu.encode(ours), data)

    def test_bindAckParsedByImpacket(self):
        """
        impacket's MSRPCBindAck parser reads our bind_ack with an auth
        trailer: results, secondary address and token.
        """
        from impacket.dcerpc.v5 import rpcrt

        ours = pdu.BindAck(
            callId=1,
            maxXmitFrag=4280,
            maxRecvFrag=4280,
            secondaryAddress=b"49153",
            results=[
                pdu.ContextResult(0, 0, pdu.NDR_SYNTAX),
                pdu.ContextResult(3, 3, pdu.NULL_SYNTAX),
            ],
            auth=ntlm(value=b"NTLMSSP\x00\x02\x00\x00\x00"),
        )
        parsed = rpcrt.MSRPCBindAck(pdu.encode(ours))
        self.assertEqual(parsed["SecondaryAddrLen"], 6)
        self.assertEqual(parsed["SecondaryAddr"], "49153")
        self.assertEqual(parsed["ctx_num"], 2)
        self.assertEqual(
            [(i["Result"], i["Reason"]) for i in parsed.getCtxItems()], [(0, 0), (3, 3)]
        )
        self.assertEqual(parsed.getCtxItem(1)["TransferSyntax"], pdu.NDR_SYNTAX.encode())
        self.assertEqual(parsed["auth_data"], b"NTLMSSP\x00\x02\x00\x00\x00")

    def test_realClient(self):
        """
        impacket's DCERPC_v5 client at packet privacy, talking to a fake
        transport: its bind, auth3 and sealed, fragmented request with an
        object UUID (padded its own way, to 4 with 0xBB) decode, and
        re-encode to the very same bytes.
        """
        fragments = captureImpacketClient(self)
        bind, auth3 = pdu.decode(fragments[0]), pdu.decode(fragments[1])
        self.assertIsInstance(bind, pdu.Bind)
        self.assertEqual(bind.contexts, [pdu.PresentationContext(0, EMSMDB, [pdu.NDR_SYNTAX])])
        self.assertEqual(bind.auth.authType, AuthType.NTLM)
        self.assertEqual(bind.auth.authLevel, AuthLevel.PRIVACY)
        self.assertEqual(bind.auth.authValue[:8], b"NTLMSSP\x00")
        self.assertIsInstance(auth3, pdu.Auth3)
        self.assertEqual(auth3.auth.authValue[8:12], b"\x03\x00\x00\x00")
        requests = [pdu.decode(f) for f in fragments[2:]]
        self.assertEqual([r.pfcFlags for r in requests], [0x81, 0x80, 0x82])
        self.assertEqual({r.object for r in requests}, {OBJECT})
        self.assertEqual({r.opnum for r in requests}, {11})
        self.assertEqual(sum(len(r.stub) for r in requests), 150)
        self.assertEqual([r.auth.authPadLength for r in requests], [0, 0, 2])
        for fragment in fragments:
            self.assertEqual(pdu.encode(pdu.decode(fragment)), fragment)
        for fragment, request in zip(fragments[2:], requests):
            start, end, verifier = pdu.authRegion(fragment)
            self.assertEqual(fragment[start : end - verifier.authPadLength], request.stub)
            self.assertEqual(verifier, request.auth)


def captureImpacketClient(testCase):
    """
    Run impacket's DCERPC_v5 (NTLM, packet privacy) against an in-memory
    transport and return every fragment it sent: bind, auth3, then a
    150-byte request with an object UUID cut into 64-byte fragments.
    """
    from impacket.dcerpc.v5 import transport
    from impacket.dcerpc.v5.rpcrt import DCERPC_v5
    from impacket.uuid import uuidtup_to_bin
    from spnego._ntlm_raw.messages import AvId, Challenge, TargetInfo, Version

    class MemoryTransport(transport.DCERPCTransport):
        def __init__(self):
            transport.DCERPCTransport.__init__(self, "127.0.0.1", 0)
            self.sent = []
            self.replies = []

        def connect(self):
            return 1

        def disconnect(self):
            return 1

        def send(self, data, forceWriteAndx=0, forceRecv=0):
            self.sent.append(bytes(data))

        def recv(self, forceRecv=0, count=0):
            return self.replies.pop(0)

    info = TargetInfo()
    info[AvId.nb_domain_name] = "LAB"
    info[AvId.nb_computer_name] = "EXCH"
    info[AvId.dns_domain_name] = "lab.test"
    info[AvId.dns_computer_name] = "exch.lab.test"
    challenge = Challenge(
        flags=0xE2898235,
        server_challenge=b"\x11" * 8,
        target_name="LAB",
        target_info=info,
        version=Version(10, 0, 17763),
    )
    memory = MemoryTransport()
    memory.set_credentials("user", "not-a-real-secret", "LAB")
    memory.replies.append(
        pdu.encode(
            pdu.BindAck(
                callId=1,
                maxXmitFrag=4280,
                maxRecvFrag=4280,
                secondaryAddress=b"49152",
                results=[pdu.ContextResult(0, 0, pdu.NDR_SYNTAX)],
                auth=ntlm(value=challenge.pack()),
            )
        )
    )
    client = DCERPC_v5(memory)
    client.set_auth_level(AuthLevel.PRIVACY)
    client.bind(uuidtup_to_bin(("a4f1db00-ca47-1067-b31f-00dd010662da", "0.81")))
    client.set_max_fragment_size(64)
    client.call(11, b"A" * 150, uuid=OBJECT.bytes_le)
    testCase.assertEqual(len(memory.sent), 5)
    return memory.sent


class PaddingTests(SynchronousTestCase):
    """
    Auth padding on encode, and padding chosen by peers on decode.
    """

    def test_requestPadTo16FromStub(self):
        """
        The sec_trailer of a request starts at a multiple of 16 counted
        from the stub, with or without an object UUID, and auth_pad_length
        says how many zeros were added.
        """
        for obj, start in ((None, 24), (OBJECT, 40)):
            for length in range(0, 40):
                message = pdu.Request(callId=1, stub=b"s" * length, object=obj, auth=ntlm())
                data = pdu.encode(message)
                secStart = len(data) - 16 - 8
                self.assertEqual((secStart - start) % 16, 0)
                self.assertEqual(data[secStart + 2], secStart - start - length)
                padding = b"\x00" * (secStart - start - length)
                self.assertEqual(data[start + length : secStart], padding)

    def test_faultPadFromOffset24(self):
        """
        A fault's pad counts from offset 24, so status and reserved are
        part of the protected region.
        """
        data = pdu.encode(pdu.Fault(callId=1, status=5, auth=ntlm()))
        self.assertEqual(len(data), 24 + 16 + 8 + 16)
        self.assertEqual(data[24 + 16 + 2], 8)

    def test_otherPDUsPadTo4(self):
        """
        A bind_nak with a trailer is padded to 4 from the PDU start.
        """
        data = pdu.encode(pdu.BindNak(callId=1, rejectReason=1, auth=ntlm(value=b"")))
        self.assertEqual(len(data), 24 + 8)
        self.assertEqual(data[21:24], b"\x00\x00\x00")
        self.assertEqual(data[26], 3)

    def test_noPadWithoutAuth(self):
        """
        Without an auth trailer nothing is added after the stub.
        """
        self.assertEqual(len(pdu.encode(pdu.Request(callId=1, stub=b"abc"))), 27)

    def test_peerPaddingKept(self):
        """
        A request padded to 4 with 0xBB (impacket's choice) re-encodes
        exactly, and its stub excludes the pad.
        """
        data = bytes.fromhex(
            "0500000310000000" "2c001000" "01000000"
            "03000000" "0000" "0100"
            "616263" "bb"
            "0a060100" "7f350100"
        ) + b"\x01" * 16
        data = patchHeader(data, fragLength=len(data))
        decoded = pdu.decode(data)
        self.assertEqual(decoded.stub, b"abc")
        self.assertEqual(decoded.auth.authPadLength, 1)
        self.assertEqual(pdu.encode(decoded), data)

    def test_changedStubRepadded(self):
        """
        When the stub changes so that the old pad no longer fits, encode
        pads to 16 again.
        """
        decoded = pdu.decode(vectors.SAMBA_REQUEST_OBJECT_AUTH)
        decoded.stub = b"\x05" * 14
        data = pdu.encode(decoded)
        self.assertEqual(data[40 + 16 + 2], 2)
        self.assertEqual(pdu.decode(data).stub, b"\x05" * 14)

    def test_replacedAuthRepadded(self):
        """
        A decoded request given a fresh verifier (as a relay re-signing it
        does) gets a correct pad and auth_pad_length, not the stale ones.
        """
        decoded = pdu.decode(vectors.SAMBA_RESPONSE_AUTH)
        decoded.auth = ntlm(pad=0)
        data = pdu.encode(decoded)
        self.assertEqual(data[24 + 16 + 2], 11)
        self.assertEqual(pdu.decode(data).stub, b"\xaa\xbb\xcc\xdd\xee")

    def test_misalignedTrailerRealigned(self):
        """
        Pad bytes that leave the sec_trailer off a 4-byte boundary are
        decoded but not written back: encode aligns the trailer.
        """
        data = b"\x05\x00\x13\x03\x10\x00\x00\x00\x24\x00\x01\x00\x09\x00\x00\x00"
        data += b"\xcc\xcc\xcc" + b"\x0a\x06\x00\x00\x01\x00\x00\x00" + b"\x77"
        data = patchHeader(data, fragLength=len(data))
        decoded = pdu.decode(data)
        self.assertEqual(decoded.wirePad, b"\xcc\xcc\xcc")
        aligned = pdu.Orphaned(callId=9, auth=ntlm(value=b"\x77", contextId=1))
        self.assertEqual(pdu.encode(decoded), pdu.encode(aligned))

    def test_padLengthNeverPastPad(self):
        """
        A decoded auth3 whose authPadLength was raised past its 4 pad
        bytes is written with its default padding instead.
        """
        decoded = pdu.decode(vectors.SAMBA_AUTH3)
        decoded.auth.authPadLength = 7
        self.assertEqual(pdu.encode(decoded), vectors.SAMBA_AUTH3)

    def test_authPadLengthIgnoredWhenBuilt(self):
        """
        For a PDU built in memory, authPadLength is an output: a wrong
        value does not change the layout.
        """
        data = pdu.encode(pdu.Request(callId=1, stub=b"abcd", auth=ntlm(pad=0)))
        self.assertEqual(data[24 + 16 + 2], 12)

    def test_equalityIgnoresWirePad(self):
        """
        Two PDUs that differ only in their pad bytes are equal.
        """
        first = pdu.decode(vectors.SAMBA_REQUEST_OBJECT_AUTH)
        second = pdu.decode(vectors.SAMBA_REQUEST_OBJECT_AUTH)
        second.wirePad = b"\xff\xff\xff"
        self.assertEqual(first, second)
        self.assertNotEqual(pdu.encode(first), pdu.encode(second))


class ObjectFlagTests(SynchronousTestCase):
    """
    L{PFC.OBJECT_UUID} follows C{Request.object}.
    """

    def test_flagSetByObject(self):
        """
        Building a request with an object sets the flag.
        """
        self.assertEqual(pdu.Request(callId=1, object=OBJECT).pfcFlags, 0x83)

    def test_flagClearedByNoObject(self):
        """
        Building a request with the flag but no object clears the flag.
        """
        self.assertEqual(pdu.Request(callId=1, pfcFlags=0x83).pfcFlags, 0x03)

    def test_flagClearedWithoutObject(self):
        """
        The flag is cleared on the wire when the object is removed.
        """
        message = pdu.Request(callId=1, object=OBJECT, stub=b"x")
        message.object = None
        data = pdu.encode(message)
        self.assertEqual(data[3], 0x03)
        self.assertEqual(len(data), 25)


class SigningTests(SynchronousTestCase):
    """
    Tests for L{pdu.encodeForSigning} and L{pdu.authRegion}.
    """

    def test_encodeForSigning(self):
        """
        The region is stub plus pad, the verifier is zeros at the end, and
        the lengths are final.
        """
        message = pdu.Request(
            callId=1, opnum=2, stub=b"0123456789", object=OBJECT, auth=ntlm(value=b"")
        )
        buf, start, end = pdu.encodeForSigning(message, 16)
        self.assertIsInstance(buf, bytearray)
        self.assertEqual((start, end), (40, 56))
        self.assertEqual(bytes(buf[start:end]), b"0123456789" + b"\x00" * 6)
        self.assertEqual(bytes(buf[-16:]), b"\x00" * 16)
        self.assertEqual(struct.unpack_from("<HH", buf, 8), (len(buf), 16))

    def test_signThenRegion(self):
        """
        After a verifier is written into the signing buffer, authRegion on
        the fragment finds the same region and verifier.
        """
        message = pdu.Response(callId=1, stub=b"x" * 33, auth=ntlm(value=b""))
        buf, start, end = pdu.encodeForSigning(message, 16)
        buf[-16:] = b"V" * 16
        regionStart, regionEnd, verifier = pdu.authRegion(bytes(buf))
        self.assertEqual((regionStart, regionEnd), (start, end))
        self.assertEqual(verifier.authValue, b"V" * 16)
        self.assertEqual(bytes(buf[regionStart : regionEnd - verifier.authPadLength]), b"x" * 33)
        self.assertEqual(pdu.decode(bytes(buf)).stub, b"x" * 33)

    def test_faultRegionIncludesStatus(self):
        """
        A fault's region starts at 24, before the status.
        """
        buf, start, end = pdu.encodeForSigning(pdu.Fault(callId=1, status=7, auth=ntlm()), 16)
        self.assertEqual(start, 24)
        self.assertEqual(bytes(buf[start : start + 4]), b"\x07\x00\x00\x00")
        self.assertEqual(pdu.authRegion(bytes(buf))[:2], (start, end))

    def test_headerOnlyRegionEmpty(self):
        """
        A PDU without a stub has an empty region just before its
        sec_trailer.
        """
        buf, start, end = pdu.encodeForSigning(pdu.Orphaned(callId=1, auth=ntlm()), 16)
        self.assertEqual((start, end, len(buf)), (16, 16, 40))
        self.assertEqual(pdu.authRegion(bytes(buf))[:2], (16, 16))

    def test_auth3RegionEmpty(self):
        """
        An auth3's region is empty and sits after its 4 pad bytes.
        """
        self.assertEqual(pdu.authRegion(vectors.SAMBA_AUTH3)[:2], (20, 20))

    def test_encodeForSigningNeedsAuth(self):
        """
        Without an auth trailer there is nothing to sign.
        """
        self.assertRaises(ValueError, pdu.encodeForSigning, pdu.Request(callId=1), 16)

    def test_authRegionNeedsAuth(self):
        """
        authRegion on a fragment without a trailer raises L{MalformedPDU}.
        """
        self.assertRaises(MalformedPDU, pdu.authRegion, pdu.encode(pdu.Request(callId=1)))

    def test_authRegionPadTooLong(self):
        """
        authRegion rejects an auth_pad_length longer than the stub.
        """
        data = bytearray(vectors.SAMBA_RESPONSE_AUTH)
        data[len(data) - 16 - 8 + 2] = 17
        self.assertRaises(MalformedPDU, pdu.authRegion, bytes(data))


class HeaderLengthTests(SynchronousTestCase):
    """
    Tests for L{pdu.headerLength} and L{pdu.stubOffset}.
    """

    def test_lengths(self):
        """
        24 for request, response and fault; 40 for a request with an
        object UUID; 16 for the rest.
        """
        self.assertEqual(pdu.headerLength(PType.REQUEST, 0), 24)
        self.assertEqual(pdu.headerLength(PType.REQUEST, PFC.OBJECT_UUID | PFC.FIRST_FRAG), 40)
        self.assertEqual(pdu.headerLength(PType.RESPONSE, PFC.OBJECT_UUID), 24)
        self.assertEqual(pdu.stubOffset(PType.FAULT, 3), 24)
        self.assertEqual(pdu.headerLength(PType.BIND, 3), 16)


class EncodeErrorTests(SynchronousTestCase):
    """
    Values that do not fit the wire raise typed errors.
    """

    def test_tooLarge(self):
        """
        A PDU past 65535 bytes raises L{FragmentTooLarge}.
        """
        self.assertRaises(FragmentTooLarge, pdu.encode, pdu.Response(callId=1, stub=b"x" * 65512))
        self.assertEqual(len(pdu.encode(pdu.Response(callId=1, stub=b"x" * 65511))), 65535)

    def test_fieldOutOfRange(self):
        """
        A call_id past 32 bits or a count past 255 raises L{MalformedPDU}.
        """
        self.assertRaises(MalformedPDU, pdu.encode, pdu.Shutdown(callId=2**32))
        self.assertRaises(MalformedPDU, pdu.encode, pdu.BindNak(versions=[(256, 0)]))
        contexts = [pdu.PresentationContext(i, NSPI, []) for i in range(256)]
        self.assertRaises(MalformedPDU, pdu.encode, pdu.Bind(contexts=contexts))

    def test_badDrep(self):
        """
        A drep that is not 4 bytes raises L{MalformedPDU}.
        """
        self.assertRaises(MalformedPDU, pdu.encode, pdu.Shutdown(drep=b"\x10"))


class ReprTests(SynchronousTestCase):
    """
    Reprs never show stubs or auth values.
    """

    def test_authValueHidden(self):
        """
        The auth value is shown as its length only.
        """
        text = repr(ntlm(value=b"SECRETSECRET"))
        self.assertNotIn("SECRET", text)
        self.assertIn("<12 bytes>", text)

    def test_stubHidden(self):
        """
        A request's repr shows its fields but not its stub or token.
        """
        text = repr(pdu.Request(callId=7, opnum=3, stub=b"password1", auth=ntlm(value=b"token")))
        self.assertNotIn("password1", text)
        self.assertNotIn("token", text)
        self.assertIn("opnum=3", text)
        self.assertIn("callId=7", text)


class MalformedTests(SynchronousTestCase):
    """
    Bad input raises L{MalformedPDU} and nothing else.
    """

    def test_truncatedEverywhere(self):
        """
        Every proper prefix of every vector is rejected (frag_length no
        longer matches).
        """
        for data in list(vectors.SAMBA_VECTORS.values()) + [vectors.BE_BIND, vectors.BE_BIND_ACK]:
            for length in range(len(data)):
                self.assertRaises(MalformedPDU, pdu.decode, data[:length])

    def test_truncatedBodies(self):
        """
        With frag_length patched to match, every cut into a fixed body or
        a count-sized list is rejected.
        """
        for data in (
            vectors.SAMBA_BIND,
            vectors.SAMBA_BIND_ACK,
            vectors.SAMBA_ALTER_CONTEXT_RESP,
            vectors.SAMBA_BIND_NAK,
            vectors.SAMBA_FAULT,
        ):
            for length in range(16, len(data)):
                cut = patchHeader(data[:length], fragLength=length)
                self.assertRaises(MalformedPDU, pdu.decode, cut)
        request = pdu.encode(pdu.Request(callId=1, object=OBJECT))
        for length in range(16, 40):
            cut = patchHeader(request[:length], fragLength=length)
            self.assertRaises(MalformedPDU, pdu.decode, cut)

    def test_wrongFragLength(self):
        """
        A frag_length other than the fragment's length is rejected.
        """
        data = vectors.SAMBA_FAULT
        self.assertRaises(MalformedPDU, pdu.decode, patchHeader(data, fragLength=len(data) + 1))
        self.assertRaises(MalformedPDU, pdu.decode, patchHeader(data, fragLength=len(data) - 1))
        self.assertRaises(MalformedPDU, pdu.decode, data + b"\x00")

    def test_authLengthTooBig(self):
        """
        An auth_length that leaves no room for the header and sec_trailer
        is rejected.
        """
        data = vectors.SAMBA_AUTH3
        self.assertRaises(MalformedPDU, pdu.decode, patchHeader(data, authLength=len(data) - 23))
        self.assertRaises(MalformedPDU, pdu.decode, patchHeader(data, authLength=0xFFFF))
        self.assertRaises(MalformedPDU, pdu.authRegion, patchHeader(data, authLength=0xFFFF))

    def test_authLengthIntoBody(self):
        """
        An auth_length that moves the sec_trailer into a fixed body is
        rejected.
        """
        data = vectors.SAMBA_REQUEST_OBJECT_AUTH
        intoBody = patchHeader(data, authLength=len(data) - 8 - 30)
        self.assertRaises(MalformedPDU, pdu.decode, intoBody)

    def test_countsPastTheEnd(self):
        """
        n_context_elem, n_transfer_syn, n_results and n_protocols past the
        end of the body are rejected.
        """
        bind = bytearray(vectors.SAMBA_BIND)
        bind[24] = 3
        self.assertRaises(MalformedPDU, pdu.decode, bytes(bind))
        bind = bytearray(vectors.SAMBA_BIND)
        bind[30] = 3
        self.assertRaises(MalformedPDU, pdu.decode, bytes(bind))
        bind[30] = 0xFF
        self.assertRaises(MalformedPDU, pdu.decode, bytes(bind))
        ack = bytearray(vectors.SAMBA_BIND_ACK)
        ack[32] = 4
        self.assertRaises(MalformedPDU, pdu.decode, bytes(ack))
        nak = bytearray(vectors.SAMBA_BIND_NAK)
        nak[18] = 2
        self.assertRaises(MalformedPDU, pdu.decode, bytes(nak))

    def test_secondaryAddressPastTheEnd(self):
        """
        A secondary address length past the body is rejected.
        """
        ack = bytearray(vectors.SAMBA_BIND_ACK)
        struct.pack_into("<H", ack, 24, 200)
        self.assertRaises(MalformedPDU, pdu.decode, bytes(ack))

    def test_secondaryAddressWithoutNul(self):
        """
        A secondary address without its terminating NUL is rejected.
        """
        ack = bytearray(vectors.SAMBA_BIND_ACK)
        ack[31] = 0x30
        self.assertRaises(MalformedPDU, pdu.decode, bytes(ack))

    def test_padLengthTooBig(self):
        """
        An auth_pad_length longer than the stub is rejected.
        """
        data = bytearray(vectors.SAMBA_REQUEST_OBJECT_AUTH)
        data[len(data) - 24 + 2] = 17
        self.assertRaises(MalformedPDU, pdu.decode, bytes(data))
        fault = pdu.encode(pdu.Fault(callId=1, auth=ntlm()))
        fault = bytearray(fault)
        fault[len(fault) - 24 + 2] = 9
        self.assertRaises(MalformedPDU, pdu.decode, bytes(fault))

    def test_badVersion(self):
        """
        rpc_vers other than 5 or a minor version above 1 is rejected.
        """
        for version in ((4, 0), (6, 0), (5, 2), (0, 0)):
            data = patchHeader(vectors.SAMBA_SHUTDOWN, version=version)
            self.assertRaises(MalformedPDU, pdu.decode, data)

    def test_unknownPType(self):
        """
        Connectionless, RTS and unknown PTYPEs are rejected.
        """
        for ptype in (PType.PING, PType.WORKING, PType.RTS, 21, 0xFF):
            data = patchHeader(vectors.SAMBA_SHUTDOWN, ptype=ptype)
            self.assertRaises(MalformedPDU, pdu.decode, data)

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=300))
    def test_randomBytes(self, data):
        """
        Random bytes either decode or raise L{MalformedPDU}.
        """
        try:
            pdu.decode(data)
        except MalformedPDU:
            pass
        try:
            pdu.authRegion(data)
        except MalformedPDU:
            pass

    @settings(max_examples=200, deadline=None)
    @given(
        st.sampled_from(sorted(vectors.SAMBA_VECTORS)),
        st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6),
        st.booleans(),
    )
    def test_mutatedVectors(self, name, changes, bigEndian):
        """
        Vectors with random bytes overwritten (frag_length kept right)
        either decode or raise L{MalformedPDU}; what decodes re-encodes.
        """
        data = bytearray(vectors.SAMBA_VECTORS[name])
        for offset, value in changes:
            if offset < len(data):
                data[offset] = value
        if bigEndian:
            data[4] = 0
            struct.pack_into(">H", data, 8, len(data))
        else:
            data[4] = 0x10
            struct.pack_into("<H", data, 8, len(data))
        try:
            decoded = pdu.decode(bytes(data))
        except MalformedPDU:
            return
        pdu.encode(decoded)


class DecodedAuthRegionTests(SynchronousTestCase):
    """
    L{pdu.decodedAuthRegion} agrees with L{pdu.authRegion}, which reads the
    fragment again.
    """

    def test_agreesWithAuthRegion(self):
        """
        For requests (with and without an object UUID), responses and
        faults with auth trailers of several lengths, both give the same
        stub region.
        """
        import uuid as _uuid

        from mapiproxy.dcerpc import pdu as P

        for authValue in (b"\x01" * 16, b"\x02" * 37):
            auth = P.AuthVerifier(authType=10, authLevel=6, authPadLength=0, authContextId=1, authValue=authValue)
            for message in (
                P.Request(callId=1, opnum=3, stub=b"x" * 13, auth=auth),
                P.Request(callId=2, opnum=3, stub=b"y" * 40, object=_uuid.UUID(int=7), auth=auth),
                P.Response(callId=3, stub=b"z" * 5, auth=auth),
                P.Fault(callId=4, status=5, auth=auth),
            ):
                fragment = P.encode(message)
                decoded = P.decode(fragment)
                start, end, verifier = P.authRegion(fragment)
                self.assertEqual(P.decodedAuthRegion(decoded, len(fragment)), (start, end))
