# -*- test-case-name: tests.test_config -*-
"""
mapiproxy's configuration: Samba's smb.conf syntax with the
C{dcerpc_mapiproxy:*} options of OpenChange's MAPIProxy.

    conf = SambaConfig.fromFile("/etc/mapiproxy/smb.conf")
    config = MapiProxyConfig.fromSambaConfig(
        conf,
        knownInterfaces=mapiproxy.interfaces.registry.lookupByName,
        parseBinding=mapiproxy.dcerpc.binding.Binding.parse,
    )

L{SambaConfig} is the generic parser (every value remembers its file and
line); L{MapiProxyConfig} is the checked, frozen result the service uses;
L{ModuleOptions} is what a proxy module reads its own settings from. Every
error is a L{mapiproxy.errors.ConfigError} that reads
C{path:line: 'option': what is wrong}.
"""

from mapiproxy.config._mapiproxy import (
    DEFAULT_DYNAMIC_PORT_RANGE,
    DEFAULT_ENDPOINT_SERVERS,
    DEFAULT_INTERFACES,
    MapiProxyConfig,
)
from mapiproxy.config._moduleoptions import ModuleOptions
from mapiproxy.config._netif import resolveListenItem, systemInterfaceAddresses
from mapiproxy.config._smbconf import ConfigSection, SambaConfig, logicalLines
from mapiproxy.config._values import (
    ConfigValue,
    asBool,
    asInt,
    asList,
    asPath,
    asPortRange,
    normaliseName,
    splitList,
)

__all__ = [
    "DEFAULT_DYNAMIC_PORT_RANGE",
    "DEFAULT_ENDPOINT_SERVERS",
    "DEFAULT_INTERFACES",
    "ConfigSection",
    "ConfigValue",
    "MapiProxyConfig",
    "ModuleOptions",
    "SambaConfig",
    "asBool",
    "asInt",
    "asList",
    "asPath",
    "asPortRange",
    "logicalLines",
    "normaliseName",
    "resolveListenItem",
    "splitList",
    "systemInterfaceAddresses",
]
