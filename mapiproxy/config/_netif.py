# -*- test-case-name: tests.test_config -*-
"""
Turn the items of Samba's C{interfaces} option into addresses to listen on.

Samba accepts an address, C{address/mask}, or a network interface name. We
take the address of C{address/mask} as written (Samba would look for the
local interface in that network), map C{lo} and C{localhost} to
C{127.0.0.1}, and resolve other interface names through the system: the
primary IPv4 address (C{SIOCGIFADDR}) and the global IPv6 addresses listed in
C{/proc/net/if_inet6}. Nothing here touches the network or DNS.
"""

import ipaddress
import socket
import struct

#: Linux ioctl that reads the primary IPv4 address of an interface.
_SIOCGIFADDR = 0x8915
#: Scope of IPv6 link-local addresses in /proc/net/if_inet6 (unusable for a
#: listening socket without a scope id).
_IPV6_LINK_SCOPE = 0x20
_IF_INET6 = "/proc/net/if_inet6"

_LOOPBACK_NAMES = frozenset({"lo", "localhost"})


def resolveListenItem(item, interfaceAddresses=None):
    """
    Resolve one item of Samba's C{interfaces} option.

    @param item: an IPv4/IPv6 address (IPv6 maybe in brackets), an
        C{address/mask} (the mask as a prefix length or a dotted mask), C{lo},
        C{localhost} or an interface name. Anything after a C{;} (Samba's
        C{;speed=...} hints) is ignored.
    @type item: L{str}
    @param interfaceAddresses: looks an interface name up, see
        L{systemInterfaceAddresses} (the default).

    @return: the addresses, at least one.
    @rtype: L{tuple} of L{str}

    @raise ValueError: for an unknown name or a malformed address.
    """
    if interfaceAddresses is None:
        interfaceAddresses = systemInterfaceAddresses
    text = item.split(";", 1)[0].strip()
    if text.lower() in _LOOPBACK_NAMES:
        return ("127.0.0.1",)
    if "/" in text:
        address, mask = text.split("/", 1)
        _checkMask(text, mask)
        return (_literal(address, text),)
    try:
        return (_literal(text, text),)
    except ValueError:
        pass
    addresses = interfaceAddresses(text)
    if addresses is None:
        raise ValueError("unknown interface or address %r" % (text,))
    if not addresses:
        raise ValueError("interface %r has no usable address" % (text,))
    return tuple(addresses)


def _literal(address, item):
    """
    Parse an address literal, normalised.

    @raise ValueError: when it is not one.
    """
    address = address.strip()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise ValueError("bad address in %r" % (item,)) from None


def _checkMask(item, mask):
    """
    Accept a prefix length (0..128) or a dotted IPv4 mask.

    @raise ValueError: otherwise.
    """
    if mask.isdigit() and mask.isascii() and int(mask) <= 128:
        return
    try:
        ipaddress.IPv4Address(mask)
    except ValueError:
        raise ValueError("bad mask in %r" % (item,)) from None


def systemInterfaceAddresses(name):
    """
    The addresses of a local network interface.

    @param name: an interface name such as C{eth0}.
    @type name: L{str}

    @return: its primary IPv4 address (if any) then its non-link-local IPv6
        addresses, or L{None} when there is no such interface.
    @rtype: L{tuple} of L{str}, or L{None}
    """
    try:
        names = {ifname for _, ifname in socket.if_nameindex()}
    except OSError:
        names = set()
    if name not in names:
        return None
    addresses = []
    ipv4 = _ipv4Address(name)
    if ipv4 is not None:
        addresses.append(ipv4)
    addresses.extend(_ipv6Addresses(name))
    return tuple(addresses)


def _ipv4Address(name):
    """
    The primary IPv4 address of an interface, or L{None}.
    """
    try:
        import fcntl
    except ImportError:
        return None
    request = struct.pack("256s", name.encode("utf-8")[:15])
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            reply = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, request)
    except OSError:
        return None
    # struct ifreq: 16 bytes of name, then a sockaddr_in whose address
    # starts 4 bytes in (after family and port).
    return socket.inet_ntoa(reply[20:24])


def _ipv6Addresses(name, path=_IF_INET6):
    """
    The global IPv6 addresses of an interface from C{/proc/net/if_inet6}
    (columns: address in hex, index, prefix length, scope, flags, name).
    """
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return []
    addresses = []
    for line in lines:
        fields = line.split()
        if len(fields) != 6 or fields[5] != name:
            continue
        try:
            scope = int(fields[3], 16)
            packed = bytes.fromhex(fields[0])
        except ValueError:
            continue
        if scope == _IPV6_LINK_SCOPE or len(packed) != 16:
            continue
        addresses.append(str(ipaddress.IPv6Address(packed)))
    return addresses
