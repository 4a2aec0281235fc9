# -*- test-case-name: tests.modules.test_loading -*-
"""
The stackable modules: the built-in ones, third-party ones found as
plugins, and how the configured stack is loaded.
"""

from dataclasses import dataclass
from typing import Any, Optional

from twisted.logger import Logger
from twisted.plugin import getPlugins
from zope.interface.verify import verifyObject

from mapiproxy.errors import ConfigError
from mapiproxy.imapiproxy import IModule, IModuleFactory

_log = Logger(namespace="mapiproxy")

#: OpenChange's modules that this version does not have yet: accepted by
#: name (start-up warns and calls pass unchanged).
NOT_YET_IMPLEMENTED = ()

#: The "registered" lines are printed once per process, as Samba does.
_announced = False


@dataclass
class LocalReply:
    """
    A module's answer to a call in place of the upstream's (OpenChange's
    C{norelay}): the response stub, or a decoded response object to encode.
    """

    stub: Optional[bytes] = None
    response: Any = None


def _builtins():
    from mapiproxy.modules.cache import CacheModule
    from mapiproxy.modules.downgrade import DowngradeModule
    from mapiproxy.modules.dummy import DummyModule
    from mapiproxy.modules.pack import PackModule

    return {"cache": CacheModule, "dummy": DummyModule, "downgrade": DowngradeModule, "pack": PackModule}


def availableModules():
    """
    Every module that can be named in the config: built-in ones first, then
    the plugins of installed packages (a plugin cannot shadow a built-in).

    @return: C{{name: (factory callable, description)}}.
    """
    found = {name: (cls, cls.description) for name, cls in _builtins().items()}
    for plugin in getPlugins(IModuleFactory):
        if plugin.name in found:
            _log.warn("mapiproxy: plugin module '{name}' ignored: the name is taken", name=plugin.name)
            continue
        found[plugin.name] = (plugin.makeModule, plugin.description)
    return found


def checkModuleName(name):
    """
    For the config loader: is C{name} a module we can load?

    @raise ValueError: it is not.
    """
    if name in NOT_YET_IMPLEMENTED:
        return name
    available = availableModules()
    if name not in available:
        raise ValueError("known: %s" % (", ".join(sorted(set(available) | set(NOT_YET_IMPLEMENTED))),))
    return name


def loadModules(names, moduleOptions, errorFor=None):
    """
    Instantiate, check and start the configured modules, in order.

    @param names: the C{dcerpc_mapiproxy:modules} list.
    @param moduleOptions: the config's L{mapiproxy.config.ModuleOptions}.
    @param errorFor: C{(option, message) -> ConfigError} for a module that
        fails its checks.
    @return: the started modules (a name listed twice is loaded twice, as
        in OpenChange).
    """
    available = availableModules()
    global _announced
    if not _announced:
        _announced = True
        for name in sorted(available):
            _log.info("MAPIPROXY module '{name}' registered", name=name)
    modules = []
    for name in names:
        if name in NOT_YET_IMPLEMENTED:
            _log.warn(
                "mapiproxy: module '{module}' is not implemented in this version: calls pass through unchanged",
                module=name,
            )
            continue
        factory, description = available[name]
        module = factory()
        try:
            verifyObject(IModule, module)
        except Exception as e:
            message = "module '%s' does not provide IModule: %s" % (name, e)
            raise (errorFor("dcerpc_mapiproxy:modules", message) if errorFor else ConfigError(message))
        module.startModule(moduleOptions.forModule(optionPrefix(name)))
        _log.info("MAPIPROXY module '{name}' loaded", name=name)
        _log.info("mapiproxy_module_load '{name}' ({description})", name=name, description=module.description)
        modules.append(module)
    return modules


def optionPrefix(name):
    """
    The prefix of a module's own options: C{mpm_<name>}, as OpenChange.
    """
    return "mpm_%s" % (name,)
