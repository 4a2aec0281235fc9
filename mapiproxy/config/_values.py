# -*- test-case-name: tests.test_config -*-
"""
One smb.conf value that remembers where it was written, the conversions of
Samba's value types, and the typed getters shared by every view of a
configuration.
"""

import os
import re

import attrs

from mapiproxy.errors import ConfigError

#: What Samba's C{isspace()} treats as blank inside a line (the newline ends
#: the line and is handled by the parser).
BLANKS = " \t\r\v\f"

#: The separators of Samba's C{str_list_make_v3}: blanks, commas, semicolons
#: and line ends (C{LIST_SEP} in Samba's C{lib/util}).
_LIST_SEPARATORS = frozenset(" \t,;\n\r\v\f")

_TRUE = frozenset({"yes", "true", "on", "1"})
_FALSE = frozenset({"no", "false", "off", "0"})

_INTEGER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)\Z")
_PORT_RANGE = re.compile(r"\s*([0-9]+)\s*-\s*([0-9]+)\s*\Z")

#: Option names whose values are secrets: never shown in a repr.
_SECRET_WORDS = ("password", "passwd", "secret")


def normaliseName(name):
    """
    Turn an option or section name into the key Samba compares it by: Samba's
    C{strwicmp} ignores case and every blank, so C{netbios name},
    C{NetBIOSName} and C{netbios  name} are the same option. A parametric
    option C{prefix:option} keeps its colon; both halves lose their blanks.

    @param name: the name as written in the file.
    @type name: L{str}

    @return: the normalised key.
    @rtype: L{str}
    """
    return "".join(name.split()).lower()


def isSecretName(name):
    """
    Tell whether an option holds a secret that must never be shown.

    @param name: an option name (written or normalised).
    @type name: L{str}

    @rtype: L{bool}
    """
    key = normaliseName(name)
    return any(word in key for word in _SECRET_WORDS)


@attrs.frozen(repr=False)
class ConfigValue:
    """
    One C{name = value} line of an smb.conf file, with its origin.

    @ivar name: the option name as written (blanks squeezed, ends trimmed).
    @ivar value: the value, trimmed, with runs of blanks squeezed to one
        (Samba's C{tini.c} parser does both).
    @ivar path: the file the line comes from (an included file, if any).
    @ivar line: the 1-based line number where the (possibly continued) line
        starts.
    """

    name: str
    value: str
    path: str
    line: int

    @property
    def key(self):
        """
        The normalised option name, see L{normaliseName}.

        @rtype: L{str}
        """
        return normaliseName(self.name)

    @property
    def location(self):
        """
        Where the value was written, as C{path:line}.

        @rtype: L{str}
        """
        return "%s:%s" % (self.path, self.line)

    def error(self, message):
        """
        Build the error a user gets for this value.

        @param message: what is wrong, without location.
        @type message: L{str}

        @return: an error formatted as C{path:line: 'option': message}.
        @rtype: L{ConfigError}
        """
        return ConfigError(message, self.path, self.line, self.name)

    def __repr__(self):
        shown = "<masked>" if isSecretName(self.name) else repr(self.value)
        return "<ConfigValue %s = %s at %s>" % (self.name, shown, self.location)


def asString(value):
    """
    The value of C{value} as a string.

    @type value: L{ConfigValue}
    @rtype: L{str}
    """
    return value.value


def asBool(value):
    """
    Convert a Samba boolean: C{yes/no}, C{true/false}, C{on/off}, C{1/0}, in
    any case (Samba's C{set_boolean}).

    @type value: L{ConfigValue}
    @rtype: L{bool}

    @raise ConfigError: for anything else.
    """
    word = value.value.strip(BLANKS).lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise value.error("%r is not a boolean (use yes or no)" % (value.value,))


def asInt(value, minimum=None, maximum=None):
    """
    Convert a decimal (or C{0x} hexadecimal) integer and check its bounds.

    @type value: L{ConfigValue}
    @param minimum: the smallest value allowed, or L{None}.
    @param maximum: the largest value allowed, or L{None}.

    @rtype: L{int}

    @raise ConfigError: when the text is not an integer or out of bounds.
    """
    text = value.value.strip(BLANKS)
    if not _INTEGER.match(text):
        raise value.error("%r is not an integer" % (value.value,))
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits[:2].lower() == "0x":
        number = sign * int(digits[2:], 16)
    else:
        number = sign * int(digits, 10)
    _checkBounds(value, number, minimum, maximum)
    return number


def _checkBounds(value, number, minimum, maximum):
    """
    Raise when C{number} lies outside C{[minimum, maximum]}.

    @raise ConfigError: naming the allowed range.
    """
    if minimum is not None and maximum is not None:
        if not minimum <= number <= maximum:
            raise value.error(
                "%d is out of range (%d..%d)" % (number, minimum, maximum)
            )
    elif minimum is not None and number < minimum:
        raise value.error("%d is too small (at least %d)" % (number, minimum))
    elif maximum is not None and number > maximum:
        raise value.error("%d is too large (at most %d)" % (number, maximum))


def splitList(text):
    """
    Split a list the way Samba's C{str_list_make_v3} does: items are separated
    by blanks, commas or semicolons; a double quote toggles a quoted stretch in
    which separators are kept (the quotes themselves are dropped); empty items
    vanish.

    @type text: L{str}
    @rtype: L{tuple} of L{str}
    """
    items = []
    current = []
    quoted = False
    started = False
    for char in text:
        if char == '"':
            quoted = not quoted
            started = True
        elif char in _LIST_SEPARATORS and not quoted:
            if started:
                items.append("".join(current))
            current = []
            started = False
        else:
            current.append(char)
            started = True
    if started:
        items.append("".join(current))
    return tuple(item for item in items if item)


def asList(value):
    """
    Convert a list value, see L{splitList}.

    @type value: L{ConfigValue}
    @rtype: L{tuple} of L{str}
    """
    return splitList(value.value)


def asPortRange(value):
    """
    Convert a port range C{low-high} (Samba's C{rpc server dynamic port
    range}), with C{1 <= low <= high <= 65535}.

    @type value: L{ConfigValue}
    @rtype: L{tuple} of two L{int}

    @raise ConfigError: when malformed or out of bounds.
    """
    match = _PORT_RANGE.match(value.value)
    if match is None:
        raise value.error("%r is not a port range like 49152-65535" % (value.value,))
    low, high = int(match.group(1)), int(match.group(2))
    if not 1 <= low <= high <= 65535:
        raise value.error(
            "bad port range %d-%d (need 1 <= low <= high <= 65535)" % (low, high)
        )
    return (low, high)


def asPath(value):
    """
    Convert a path. A relative path is taken relative to the directory of the
    file the value was written in (for a configuration given as a string, the
    current directory).

    @type value: L{ConfigValue}
    @rtype: L{str}

    @raise ConfigError: when the value is empty.
    """
    text = value.value.strip(BLANKS)
    if not text:
        raise value.error("empty path")
    if os.path.isabs(text):
        return text
    return os.path.join(os.path.dirname(value.path), text)


class TypedGetters:
    """
    Typed accessors over a set of L{ConfigValue}s. A subclass provides
    L{get} and L{missingError}; every getter returns C{default} when the
    option is absent and raises L{ConfigError} with file:line on a bad value.
    """

    def get(self, name):
        """
        Find an option.

        @param name: its name, in any case and spacing.
        @type name: L{str}

        @return: the value, or L{None} when absent.
        @rtype: L{ConfigValue} or L{None}
        """
        raise NotImplementedError()

    def missingError(self, name, message="required option is missing"):
        """
        Build the error for an absent option.

        @param name: the option name.
        @type name: L{str}
        @param message: what is wrong.
        @type message: L{str}

        @rtype: L{ConfigError}
        """
        raise NotImplementedError()

    def __contains__(self, name):
        return self.get(name) is not None

    def require(self, name):
        """
        Find an option that must be present.

        @type name: L{str}
        @rtype: L{ConfigValue}

        @raise ConfigError: when it is absent.
        """
        value = self.get(name)
        if value is None:
            raise self.missingError(name)
        return value

    def _convert(self, name, default, convert, *args):
        value = self.get(name)
        if value is None:
            return default
        return convert(value, *args)

    def getString(self, name, default=None):
        """
        Get a string option.

        @type name: L{str}
        @param default: returned when the option is absent.

        @rtype: L{str}
        """
        return self._convert(name, default, asString)

    def getBool(self, name, default=None):
        """
        Get a boolean option, see L{asBool}.

        @type name: L{str}
        @param default: returned when the option is absent.

        @rtype: L{bool}
        @raise ConfigError: on a value that is not a boolean.
        """
        return self._convert(name, default, asBool)

    def getInt(self, name, default=None, minimum=None, maximum=None):
        """
        Get an integer option, see L{asInt}.

        @type name: L{str}
        @param default: returned when the option is absent (not checked).
        @param minimum: the smallest value allowed, or L{None}.
        @param maximum: the largest value allowed, or L{None}.

        @rtype: L{int}
        @raise ConfigError: on a value that is not an integer or is out of
            bounds.
        """
        return self._convert(name, default, asInt, minimum, maximum)

    def getList(self, name, default=()):
        """
        Get a list option, see L{splitList}.

        @type name: L{str}
        @param default: returned when the option is absent.

        @rtype: L{tuple} of L{str}
        """
        return self._convert(name, default, asList)

    def getPortRange(self, name, default=None):
        """
        Get a C{low-high} port range, see L{asPortRange}.

        @type name: L{str}
        @param default: returned when the option is absent.

        @rtype: L{tuple} of two L{int}
        @raise ConfigError: on a malformed range.
        """
        return self._convert(name, default, asPortRange)

    def getPath(self, name, default=None):
        """
        Get a path option, relative paths resolved against the directory of
        the file that sets it, see L{asPath}.

        @type name: L{str}
        @param default: returned when the option is absent.

        @rtype: L{str}
        """
        return self._convert(name, default, asPath)
