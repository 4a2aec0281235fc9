# -*- test-case-name: tests.test_config -*-
"""
The parametric options a proxy module reads for itself, such as
C{mpm_cache:path} or C{mpm_pack:opnums}.
"""

from mapiproxy.config._values import TypedGetters, normaliseName
from mapiproxy.errors import ConfigError


class ModuleOptions(TypedGetters):
    """
    A read-only view of parametric options (C{prefix:option = value}), with
    the L{TypedGetters} accessors, so that a module reads its settings and
    gets errors that point at the right file and line.

    The full view takes complete names (C{getBool("mpm_cache:ahead")}); the
    view returned by L{forModule} takes bare names (C{getBool("ahead")}).

    @ivar prefix: the prefix of this view (normalised), or C{""} for all.
    @ivar anchor: the C{(path, line)} that errors about an absent option
        point at (the C{dcerpc_mapiproxy:modules} line, or C{[global]}).
    """

    def __init__(self, values=(), anchor=(None, None), prefix=""):
        """
        @param values: the parametric options.
        @type values: iterable of L{mapiproxy.config.ConfigValue}
        @param anchor: see L{ModuleOptions.anchor}.
        @param prefix: restrict the view to C{prefix:*} options.
        @type prefix: L{str}
        """
        self.prefix = normaliseName(prefix)
        self.anchor = tuple(anchor)
        self._values = {}
        for value in values:
            if not self.prefix or value.key.split(":", 1)[0] == self.prefix:
                self._values[value.key] = value

    def forModule(self, prefix):
        """
        The options of one module, addressed without their prefix.

        @param prefix: the module's option prefix, e.g. C{mpm_cache}.
        @type prefix: L{str}

        @rtype: L{ModuleOptions}
        """
        return ModuleOptions(self._values.values(), self.anchor, prefix)

    def prefixes(self):
        """
        The distinct prefixes present, sorted.

        @rtype: L{tuple} of L{str}
        """
        return tuple(sorted({key.split(":", 1)[0] for key in self._values}))

    def _fullName(self, name):
        if self.prefix and ":" not in name:
            return "%s:%s" % (self.prefix, name)
        return name

    def get(self, name):
        return self._values.get(normaliseName(self._fullName(name)))

    def missingError(self, name, message="required option is missing"):
        path, line = self.anchor
        return ConfigError(message, path, line, self._fullName(name))

    def __iter__(self):
        """
        @rtype: iterator of L{mapiproxy.config.ConfigValue}
        """
        return iter(list(self._values.values()))

    def __len__(self):
        return len(self._values)

    def __eq__(self, other):
        if not isinstance(other, ModuleOptions):
            return NotImplemented
        return (self.prefix, self._values) == (other.prefix, other._values)

    def __hash__(self):
        return hash((self.prefix, tuple(sorted(self._values))))

    def __repr__(self):
        # Names only: a module option may hold a secret.
        names = ", ".join(value.name for value in self._values.values())
        return "<ModuleOptions %s>" % (names or "(none)",)
