# -*- test-case-name: tests.mapi.test_extbuf -*-
"""
The EMSMDB "XorMagic" obfuscation (the XorMagic flag of [MS-OXCRPC]
2.2.2.1, and the whole EcDoRpc blob): every payload
byte XORed with 0xA5. It is its own inverse. Sans-I/O.
"""

__all__ = ["XOR_MAGIC_BYTE", "xorMagic"]

#: The byte every obfuscated payload byte is XORed with.
XOR_MAGIC_BYTE = 0xA5

# bytes.translate runs in C, one table look-up per byte: far faster than an
# int.from_bytes round trip for the payload sizes EMSMDB carries.
_TABLE = bytes(value ^ XOR_MAGIC_BYTE for value in range(256))


def xorMagic(data):
    """
    XOR every byte of C{data} with 0xA5 (obfuscate or de-obfuscate).

    @param data: The payload.
    @type data: L{bytes}-like

    @return: The transformed payload, the same length.
    @rtype: L{bytes}
    """
    return bytes(data).translate(_TABLE)
