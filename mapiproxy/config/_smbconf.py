# -*- test-case-name: tests.test_config -*-
"""
A reader of Samba's smb.conf syntax, with the semantics of Samba's own
parser (C{lib/util/tini.c} and the section handling of C{lib/param}):

  - a line whose first non-blank character is C{#} or C{;} is a comment; a
    C{#} or C{;} later in a line is part of the value (Samba strips no
    trailing comment);
  - a line ending in C{\\} (optionally followed by one blank, which covers
    CRLF files) continues on the next line;
  - runs of blanks are squeezed to one, names and values are trimmed, and
    only the first C{=} of a line separates the name from the value;
  - option and section names compare without regard to case or blanks;
  - options before any section header belong to C{[global]}; C{[global]} and
    C{[globals]} may appear several times and are merged; for an option set
    twice, the last one wins;
  - C{include = PATH} reads another file in place.

Deliberate differences, for clearer errors: a relative include path is taken
relative to the including file (Samba uses the current directory), a missing
include file or an include loop is an error (Samba logs and goes on), and a
line that is neither C{[section]} nor C{name = value} is an error (Samba
skips it silently).
"""

import os

from mapiproxy.config._values import BLANKS, ConfigValue, TypedGetters, normaliseName
from mapiproxy.errors import ConfigError

#: The section names Samba treats as the global section.
GLOBAL_SECTION_NAMES = frozenset({"global", "globals"})

_INCLUDE = "include"


class ConfigSection(TypedGetters):
    """
    The options of one C{[section]}, with the L{TypedGetters} accessors.

    @ivar name: the section name as written (C{global} for the implicit
        global section).
    @ivar path: the file of the first header of this section, or of the
        configuration when the header is implicit.
    @ivar line: the line of the first header, or L{None} when the section
        has no header (options before any section).
    """

    def __init__(self, name, path, line):
        self.name = name
        self.path = path
        self.line = line
        self._values = {}

    @property
    def key(self):
        """
        The normalised section name.

        @rtype: L{str}
        """
        return normaliseName(self.name)

    @property
    def isGlobal(self):
        """
        Whether this is C{[global]}.

        @rtype: L{bool}
        """
        return self.key in GLOBAL_SECTION_NAMES

    def set(self, value):
        """
        Store an option, replacing an earlier one of the same name (Samba's
        last-one-wins rule).

        @type value: L{ConfigValue}
        """
        self._values.pop(value.key, None)
        self._values[value.key] = value

    def get(self, name):
        return self._values.get(normaliseName(name))

    def missingError(self, name, message="required option is missing"):
        return ConfigError(message, self.path, self.line, name)

    def __iter__(self):
        """
        Iterate over the options, in the order their winning lines were read.

        @rtype: iterator of L{ConfigValue}
        """
        return iter(list(self._values.values()))

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return "<ConfigSection [%s] %d options>" % (self.name, len(self))


class SambaConfig(TypedGetters):
    """
    A parsed smb.conf. The L{TypedGetters} accessors read C{[global]}.

    @ivar path: the path of the top-level file (or the name given to
        L{fromString}).
    @ivar globals: the C{[global]} section (always present, maybe empty).
    @type globals: L{ConfigSection}
    @ivar shares: the other sections, in the order they first appear.
    @type shares: L{tuple} of L{ConfigSection}
    """

    def __init__(self, path, globalSection, shares=()):
        self.path = path
        self.globals = globalSection
        self.shares = tuple(shares)

    @classmethod
    def fromFile(cls, path):
        """
        Read an smb.conf file (and the files it includes).

        @param path: the file to read.
        @type path: L{str}

        @rtype: L{SambaConfig}
        @raise ConfigError: when a file cannot be read or does not parse.
        """
        path = os.fspath(path)
        parser = _Parser(path)
        parser.parseFile(path, None)
        return parser.result()

    @classmethod
    def fromString(cls, text, path="<string>"):
        """
        Parse smb.conf text. Relative includes are resolved against the
        directory of C{path} (the current directory for C{<string>}).

        @param text: the configuration.
        @type text: L{str} or L{bytes} (UTF-8)
        @param path: the name used in error messages.
        @type path: L{str}

        @rtype: L{SambaConfig}
        @raise ConfigError: when it does not parse.
        """
        parser = _Parser(path)
        if isinstance(text, bytes):
            text = _decode(text, path)
        parser.parseText(text, path, [])
        return parser.result()

    def get(self, name):
        return self.globals.get(name)

    def missingError(self, name, message="required option is missing"):
        return self.globals.missingError(name, message)

    def __iter__(self):
        return iter(self.globals)

    def __repr__(self):
        return "<SambaConfig %s [global]: %d options, %d other sections>" % (
            self.path,
            len(self.globals),
            len(self.shares),
        )


def _decode(data, path):
    """
    Decode a file's bytes as UTF-8 (an initial byte-order mark is dropped).

    @raise ConfigError: at the line of the first invalid byte.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(
            "not valid UTF-8 (byte 0x%02x)" % (data[e.start],), path, line
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _readFile(path, includedBy):
    """
    Read and decode one file.

    @param includedBy: the C{include} option that names it, or L{None} for
        the top-level file.
    @type includedBy: L{ConfigValue} or L{None}

    @raise ConfigError: when it cannot be read, at the include line if any.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        reason = e.strerror or str(e)
        if includedBy is not None:
            raise includedBy.error(
                "cannot read include file %r: %s" % (path, reason)
            ) from None
        raise ConfigError("cannot read config file: %s" % (reason,), path) from None
    return _decode(data, path)


def logicalLines(text):
    """
    Split smb.conf text into logical lines the way Samba's C{tini.c} does:
    skip blank and comment lines, join continued lines, squeeze runs of
    blanks to one.

    @param text: the whole file.
    @type text: L{str}

    @return: C{(lineNumber, content)} pairs; C{lineNumber} is where the
        logical line starts; C{content} has no leading blank.
    @rtype: iterator of L{tuple}
    """
    position, end, lineNumber = 0, len(text), 1
    while position < end:
        while position < end and text[position] in BLANKS:
            position += 1
        if position >= end:
            return
        first = text[position]
        if first == "\n":
            position, lineNumber = position + 1, lineNumber + 1
            continue
        if first in "#;":
            newline = text.find("\n", position)
            if newline < 0:
                return
            position, lineNumber = newline + 1, lineNumber + 1
            continue
        start = lineNumber
        position, lineNumber, content = _readLogicalLine(text, position, lineNumber)
        yield start, content


def _readLogicalLine(text, position, lineNumber):
    """
    Read one logical line from C{position} (a non-blank character).

    @return: C{(position, lineNumber, content)} after the line.
    """
    buf = []
    end = len(text)
    while position < end:
        char = text[position]
        position += 1
        if char == "\n":
            lineNumber += 1
            if buf and buf[-1] == "\\":
                del buf[-1]
                continue
            if len(buf) > 1 and buf[-2] == "\\" and buf[-1] in BLANKS:
                del buf[-2:]
                continue
            break
        if buf and buf[-1] in BLANKS and char in BLANKS:
            continue
        buf.append(char)
    return position, lineNumber, "".join(buf)


class _Parser:
    """
    The state of one parse: the sections read so far, the current section
    and the stack of files being read (to detect include loops).
    """

    def __init__(self, path):
        self._path = path
        self._global = ConfigSection("global", path, None)
        self._shares = {}
        self._current = self._global

    def result(self):
        """
        @rtype: L{SambaConfig}
        """
        return SambaConfig(self._path, self._global, self._shares.values())

    def parseFile(self, path, includedBy, stack=()):
        """
        Read one file into the current state.

        @param includedBy: the C{include} value naming it, or L{None}.
        @param stack: the real paths of the files including this one.
        """
        text = _readFile(path, includedBy)
        self.parseText(text, path, list(stack) + [os.path.realpath(path)])

    def parseText(self, text, path, stack):
        """
        Parse text read from C{path}.

        @param stack: the real paths of the files being read, innermost last.
        """
        for lineNumber, content in logicalLines(text):
            if content.startswith("["):
                self._section(content, path, lineNumber)
            else:
                self._option(content, path, lineNumber, stack)

    def _section(self, content, path, lineNumber):
        close = content.find("]")
        if close < 0:
            raise ConfigError("section header without ']'", path, lineNumber)
        name = content[1:close].strip(BLANKS)
        key = normaliseName(name)
        if not key:
            raise ConfigError("empty section name", path, lineNumber)
        if key in GLOBAL_SECTION_NAMES:
            if self._global.line is None:
                self._global.path, self._global.line = path, lineNumber
            self._current = self._global
            return
        if key not in self._shares:
            self._shares[key] = ConfigSection(name, path, lineNumber)
        self._current = self._shares[key]

    def _option(self, content, path, lineNumber, stack):
        equals = content.find("=")
        if equals < 0:
            raise ConfigError(
                "expected 'name = value' or '[section]', got %r" % (content,),
                path,
                lineNumber,
            )
        name = content[:equals].strip(BLANKS)
        if not name:
            raise ConfigError("option without a name", path, lineNumber)
        value = ConfigValue(name, content[equals + 1 :].strip(BLANKS), path, lineNumber)
        if value.key == _INCLUDE:
            self._include(value, stack)
        else:
            self._current.set(value)

    def _include(self, value, stack):
        target = value.value
        if not target:
            raise value.error("empty include path")
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(value.path), target)
        real = os.path.realpath(target)
        if real in stack:
            chain = " -> ".join(stack[stack.index(real) :] + [real])
            raise value.error("include loop: %s" % (chain,))
        self.parseFile(target, value, stack)
