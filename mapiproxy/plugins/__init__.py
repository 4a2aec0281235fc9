"""
Drop-in directory of mapiproxy plugins: a third-party package installs a
module here (e.g. C{mapiproxy/plugins/acme_modules.py}) defining
L{mapiproxy.imapiproxy.IModuleFactory} providers.
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))
__all__ = []
