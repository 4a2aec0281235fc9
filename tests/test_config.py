"""
Tests for L{mapiproxy.config}: the smb.conf parser, the typed getters,
L{ModuleOptions} and L{MapiProxyConfig}.
"""

import json
import os
import shutil
import socket
import subprocess

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

import mapiproxy
from mapiproxy.config import (
    DEFAULT_INTERFACES,
    ConfigValue,
    MapiProxyConfig,
    ModuleOptions,
    SambaConfig,
    asList,
    logicalLines,
    normaliseName,
    resolveListenItem,
    splitList,
    systemInterfaceAddresses,
)
from mapiproxy.errors import ConfigError

SAMBA_PYTHON = "/usr/bin/python3"

#: The configuration OpenChange's documentation shows.
EXAMPLE = """\
[global]
    netbios name = MAPIPROXY
    realm = OPENCHANGE.LOCAL
    dcesrv:assoc group checking = false
    dcerpc endpoint servers = epmapper, mapiproxy
    dcerpc_mapiproxy:binding = ncacn_ip_tcp:192.168.1.1[print]
    dcerpc_mapiproxy:username = JohnDoe
    dcerpc_mapiproxy:password = openchange2!
    dcerpc_mapiproxy:domain = EXCHANGE
    dcerpc_mapiproxy:interfaces = exchange_emsmdb, exchange_nsp, exchange_ds_rfr
    dcerpc_mapiproxy:modules = downgrade
"""

#: A configuration in proxy mode that needs nothing else.
PROXY = """\
[global]
    dcerpc_mapiproxy:binding = ncacn_ip_tcp:127.0.0.1[print]
"""


def _sambaPythonAvailable():
    """
    Whether Debian's Python with the C{samba} bindings can be run.
    """
    if not os.path.exists(SAMBA_PYTHON):
        return False
    result = subprocess.run(
        [SAMBA_PYTHON, "-c", "import samba.param"], capture_output=True
    )
    return result.returncode == 0


def _sambaValues(path, names):
    """
    Ask Samba's own parser (python3-samba) for the values of C{names}.
    """
    script = (
        "import json, sys, samba.param\n"
        "lp = samba.param.LoadParm()\n"
        "lp.load(sys.argv[1])\n"
        "print(json.dumps({n: lp.get(n) for n in sys.argv[2:]}))\n"
    )
    result = subprocess.run(
        [SAMBA_PYTHON, "-c", script, path] + list(names),
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout.decode("utf-8").splitlines()[-1])


class _ConfigTestMixin:
    """
    Helpers to write configuration files and build configurations.
    """

    def writeFile(self, name, text, directory=None):
        """
        Write C{text} (L{str} or L{bytes}) as C{name} in a temporary
        directory and return its path.
        """
        if directory is None:
            directory = getattr(self, "_tmpdir", None)
            if directory is None:
                directory = self._tmpdir = os.path.abspath(self.mktemp())
        os.makedirs(os.path.dirname(os.path.join(directory, name)), exist_ok=True)
        path = os.path.join(directory, name)
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def build(self, text, path="etc/x.conf", **kwargs):
        """
        Build a L{MapiProxyConfig} from text; return it and the warnings.
        """
        warnings = []
        kwargs.setdefault("warn", warnings.append)
        config = MapiProxyConfig.fromSambaConfig(
            SambaConfig.fromString(text, path), **kwargs
        )
        return config, warnings

    def buildError(self, text, path="etc/x.conf", **kwargs):
        """
        Build from text, expecting a L{ConfigError}; return its message and
        check it is a single line.
        """
        error = self.assertRaises(ConfigError, self.build, text, path, **kwargs)
        message = str(error)
        self.assertNotIn("\n", message)
        return message


class NormaliseNameTests(SynchronousTestCase):
    """
    Tests for L{normaliseName}.
    """

    def test_caseAndBlanksIgnored(self):
        """
        Names differing only in case and blanks normalise to the same key.
        """
        keys = {
            normaliseName(n)
            for n in ("netbios name", "NetBIOSName", "netbios  name", " NETBIOS\tNAME")
        }
        self.assertEqual(keys, {"netbiosname"})

    def test_parametricKeepsColon(self):
        """
        Both halves of a parametric name are normalised and the colon stays.
        """
        self.assertEqual(
            normaliseName("DCERPC_MAPIPROXY : Use Machine Account"),
            "dcerpc_mapiproxy:usemachineaccount",
        )

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from("abcdefgh_:"),
                st.booleans(),
                st.sampled_from(["", " ", "\t", "  "]),
            ),
            min_size=1,
        )
    )
    def test_variantsShareKey(self, parts):
        """
        Any upper-casing and blank insertion leaves the key unchanged.
        """
        plain = "".join(char for char, _, _ in parts)
        variant = "".join(
            (char.upper() if upper else char) + blank for char, upper, blank in parts
        )
        self.assertEqual(normaliseName(variant), normaliseName(plain))


class LogicalLinesTests(SynchronousTestCase):
    """
    Tests for L{logicalLines}, the line reader of Samba's C{tini.c}.
    """

    def test_commentsAndBlankLinesSkipped(self):
        """
        Lines starting (after blanks) with C{#} or C{;}, and blank lines,
        produce nothing; line numbers still count them.
        """
        text = "# one\n  ; two\n\n   \na = b\n"
        self.assertEqual(list(logicalLines(text)), [(5, "a = b")])

    def test_continuation(self):
        """
        A line ending in a backslash continues on the next one and is
        numbered by its first line.
        """
        text = "a = one \\\n  two\\\nthree\nb = c\n"
        self.assertEqual(
            list(logicalLines(text)), [(1, "a = one two" + "three"), (4, "b = c")]
        )

    def test_continuationAfterBlank(self):
        """
        A backslash followed by one blank (as in CRLF files) continues.
        """
        text = "a = x\\ \ny\r\nb = z\\\r\n w\r\n"
        self.assertEqual(list(logicalLines(text)), [(1, "a = xy\r"), (3, "b = z w\r")])

    def test_blanksSqueezed(self):
        """
        Runs of blanks become one blank (the first of the run).
        """
        self.assertEqual(list(logicalLines("a  =  b \t c\n")), [(1, "a = b c")])

    def test_commentContinuationNotJoined(self):
        """
        A comment line ending in a backslash does not swallow the next line.
        """
        self.assertEqual(list(logicalLines("# x \\\na = b\n")), [(2, "a = b")])

    def test_noFinalNewline(self):
        """
        The last line is read even without a final newline.
        """
        self.assertEqual(list(logicalLines("a = b")), [(1, "a = b")])


class SambaConfigParserTests(_ConfigTestMixin, SynchronousTestCase):
    """
    Tests for L{SambaConfig} parsing.
    """

    def test_trailingCommentsKept(self):
        """
        C{#} and C{;} after the start of a line are part of the value, as in
        Samba.
        """
        conf = SambaConfig.fromString("[global]\na = x # y\nb = x ; y\n")
        self.assertEqual((conf.getString("a"), conf.getString("b")), ("x # y", "x ; y"))

    def test_valueWithEquals(self):
        """
        Only the first C{=} separates the name from the value.
        """
        conf = SambaConfig.fromString("x:opt = a=b = c\n")
        self.assertEqual(conf.getString("x:opt"), "a=b = c")

    def test_valuesTrimmed(self):
        """
        Blanks around names and values are dropped; inner runs squeezed.
        """
        conf = SambaConfig.fromString("   server  string   =   a   b   \n")
        self.assertEqual(conf.getString("server string"), "a b")
        self.assertEqual(conf.get("server string").name, "server string")

    def test_emptyValue(self):
        """
        An option may be set to the empty string.
        """
        conf = SambaConfig.fromString("realm =\n")
        self.assertEqual(conf.getString("realm", "default"), "")

    def test_namesCaseAndBlankInsensitive(self):
        """
        Options are found whatever the case and blanks of the lookup name.
        """
        conf = SambaConfig.fromString(
            "NetBIOS  Name = A\nDCERPC_MAPIPROXY:Use Machine Account = yes\n"
        )
        self.assertEqual(conf.getString("netbiosname"), "A")
        self.assertTrue(conf.getBool("dcerpc_mapiproxy:usemachineaccount"))

    def test_duplicateLastWins(self):
        """
        For an option set twice the last value wins, with its own line.
        """
        conf = SambaConfig.fromString(
            "[global]\nlog level = 1\nLog Level = 2\n", "etc/x.conf"
        )
        value = conf.get("log level")
        self.assertEqual((value.value, value.path, value.line), ("2", "etc/x.conf", 3))

    def test_optionsBeforeSectionAreGlobal(self):
        """
        Options before any section header belong to C{[global]}.
        """
        conf = SambaConfig.fromString("workgroup = EARLY\n[global]\nrealm = R\n")
        self.assertEqual(conf.getString("workgroup"), "EARLY")
        self.assertEqual(conf.globals.line, 2)

    def test_sectionNamesCaseAndBlankInsensitive(self):
        """
        C{[GLOBAL]}, C{[ global ]} and C{[globals]} all open the global
        section, and are merged.
        """
        conf = SambaConfig.fromString(
            "[GLOBAL]\na = 1\n[ global ]\nb = 2\n[globals]\nc = 3\n"
        )
        self.assertEqual([v.value for v in conf.globals], ["1", "2", "3"])
        self.assertEqual(conf.shares, ())

    def test_sharesSeparate(self):
        """
        Options of other sections do not reach C{[global]}.
        """
        conf = SambaConfig.fromString(
            "[global]\na = 1\n[homes]\npath = /x\n[global]\nb = 2\n"
        )
        self.assertEqual([s.name for s in conf.shares], ["homes"])
        self.assertEqual(conf.shares[0].getString("path"), "/x")
        self.assertIsNone(conf.getString("path"))
        self.assertEqual(conf.getString("b"), "2")

    def test_crlf(self):
        """
        CRLF line endings read like LF ones, continuations included.
        """
        conf = SambaConfig.fromString(
            "[global]\r\nx:a = one\r\nx:b = two, \\\r\n three\r\n"
        )
        self.assertEqual(
            (conf.getString("x:a"), conf.getList("x:b")), ("one", ("two", "three"))
        )

    def test_utf8(self):
        """
        Files are UTF-8; a leading byte-order mark is ignored.
        """
        path = self.writeFile("u.conf", "\ufeffx:name = Grüße ✓\n".encode("utf-8"))
        self.assertEqual(SambaConfig.fromFile(path).getString("x:name"), "Grüße ✓")

    def test_invalidUtf8(self):
        """
        Bytes that are not UTF-8 give an error at their line.
        """
        path = self.writeFile("bad.conf", b"[global]\na = ok\nb = \xff\n")
        error = self.assertRaises(ConfigError, SambaConfig.fromFile, path)
        self.assertEqual(str(error), "%s:3: not valid UTF-8 (byte 0xff)" % (path,))

    def test_bytesString(self):
        """
        L{SambaConfig.fromString} accepts UTF-8 bytes.
        """
        conf = SambaConfig.fromString("x:a = é\n".encode("utf-8"))
        self.assertEqual(conf.getString("x:a"), "é")

    def test_missingBracket(self):
        """
        A section header without C{]} is an error at its line.
        """
        error = self.assertRaises(
            ConfigError, SambaConfig.fromString, "a = 1\n[global\n", "etc/x.conf"
        )
        self.assertEqual(str(error), "etc/x.conf:2: section header without ']'")

    def test_emptySectionName(self):
        """
        C{[]} is an error.
        """
        error = self.assertRaises(ConfigError, SambaConfig.fromString, "[ ]\n", "c")
        self.assertEqual(str(error), "c:1: empty section name")

    def test_optionWithoutName(self):
        """
        A line starting with C{=} is an error, as Samba refuses the file.
        """
        error = self.assertRaises(ConfigError, SambaConfig.fromString, "\n = x\n", "c")
        self.assertEqual(str(error), "c:2: option without a name")

    def test_lineWithoutEquals(self):
        """
        A line that is neither a header nor C{name = value} is an error at its
        line (Samba would skip it silently).
        """
        error = self.assertRaises(
            ConfigError, SambaConfig.fromString, "[global]\nnetbios name MAPI\n", "c"
        )
        self.assertEqual(
            str(error),
            "c:2: expected 'name = value' or '[section]', got 'netbios name MAPI'",
        )

    def test_missingFile(self):
        """
        A configuration file that cannot be read gives an error naming it.
        """
        path = os.path.join(self.mktemp(), "none.conf")
        error = self.assertRaises(ConfigError, SambaConfig.fromFile, path)
        self.assertEqual(
            str(error),
            "%s:-: cannot read config file: No such file or directory" % (path,),
        )

    def test_includeRelative(self):
        """
        A relative include is read from the including file's directory, in
        place: later lines override it, it overrides earlier ones.
        """
        self.writeFile("sub/extra.conf", "x:a = included\nx:b = included\n")
        main = self.writeFile(
            "main.conf", "x:a = main\ninclude = sub/extra.conf\nx:b = main\n"
        )
        conf = SambaConfig.fromFile(main)
        self.assertEqual(
            (conf.getString("x:a"), conf.getString("x:b")), ("included", "main")
        )
        value = conf.get("x:a")
        self.assertEqual(
            (value.path, value.line),
            (os.path.join(os.path.dirname(main), "sub/extra.conf"), 1),
        )

    def test_includeNested(self):
        """
        An included file's own relative includes start from its directory.
        """
        self.writeFile("a/b/leaf.conf", "x:leaf = yes\n")
        self.writeFile("a/mid.conf", "include = b/leaf.conf\nx:mid = yes\n")
        main = self.writeFile("main.conf", "[global]\ninclude = a/mid.conf\n")
        conf = SambaConfig.fromFile(main)
        self.assertEqual((conf.getBool("x:leaf"), conf.getBool("x:mid")), (True, True))

    def test_includeTwiceIsNotALoop(self):
        """
        The same file may be included twice in a row.
        """
        self.writeFile("inc.conf", "x:n = 1\n")
        main = self.writeFile("main.conf", "include = inc.conf\nINCLUDE = inc.conf\n")
        self.assertEqual(SambaConfig.fromFile(main).getString("x:n"), "1")

    def test_includeLoop(self):
        """
        A file including itself, directly or not, is an error at the include
        that closes the loop, naming the chain.
        """
        a = self.writeFile("a.conf", "include = b.conf\n")
        b = self.writeFile("b.conf", "\ninclude = a.conf\n")
        error = self.assertRaises(ConfigError, SambaConfig.fromFile, a)
        ra, rb = os.path.realpath(a), os.path.realpath(b)
        self.assertEqual(
            str(error),
            "%s:2: 'include': include loop: %s -> %s -> %s" % (b, ra, rb, ra),
        )

    def test_includeMissing(self):
        """
        A missing include file is an error at the include line.
        """
        main = self.writeFile("main.conf", "[global]\n\ninclude = nothere.conf\n")
        target = os.path.join(os.path.dirname(main), "nothere.conf")
        error = self.assertRaises(ConfigError, SambaConfig.fromFile, main)
        self.assertEqual(
            str(error),
            "%s:3: 'include': cannot read include file %r: No such file or directory"
            % (main, target),
        )

    def test_includeEmpty(self):
        """
        An include without a path is an error.
        """
        error = self.assertRaises(
            ConfigError, SambaConfig.fromString, "include =\n", "c"
        )
        self.assertEqual(str(error), "c:1: 'include': empty include path")

    def test_includeSwitchesSection(self):
        """
        A section opened in an included file stays current after it, as in
        Samba.
        """
        self.writeFile("share.conf", "[data]\npath = /d\n")
        main = self.writeFile("main.conf", "include = share.conf\ncomment = c\n")
        conf = SambaConfig.fromFile(main)
        self.assertIsNone(conf.getString("comment"))
        self.assertEqual(conf.shares[0].getString("comment"), "c")

    def test_secretValueMaskedInRepr(self):
        """
        The repr of a value whose option holds a password does not show it.
        """
        conf = SambaConfig.fromString(
            "dcerpc_mapiproxy:password = hunter2\nx:y = shown\n"
        )
        self.assertNotIn("hunter2", repr(conf.get("dcerpc_mapiproxy:password")))
        self.assertIn("shown", repr(conf.get("x:y")))

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet=st.sampled_from("ab =[]#;\\\n\r\t:x\xe9"), max_size=80))
    def test_arbitraryTextOnlyConfigError(self, text):
        """
        Any text either parses or raises L{ConfigError}, nothing else.
        """
        try:
            conf = SambaConfig.fromString(text)
        except ConfigError:
            return
        for value in conf.globals:
            self.assertIsInstance(value, ConfigValue)

    def test_matchesSamba(self):
        """
        Values read from a tricky file equal those Samba's own parser reads
        (python3-samba).
        """
        if not _sambaPythonAvailable():
            raise self.skipTest("python3-samba is not available")
        path = self.writeFile(
            "s.conf",
            "x:before = early\n[global]\nx:plain = value\n"
            "x:blanks =   a    b\t\tc   \nx:trailing = v # not a comment\n"
            "x:semi = v ; not a comment\nx:equals = a=b=c\n"
            "x:cont = one, \\\n    two, \\\nthree\nx:contspace = a\\ \n   b\n"
            "x:crlf = crlf\r\nx:contcrlf = p\\\r\n q\r\n ; comment\n # comment\n"
            "x:contthencomment = a\\\n# b\nx:Mixed Case = m\nX : Spaced Name = s\n"
            "x:utf8 = grüße\nx:empty =\nx:dup = first\n[share]\nx:inshare = no\n"
            "[globals]\nx:dup = second\n",
        )
        names = [
            "x:before", "x:plain", "x:blanks", "x:trailing", "x:semi",
            "x:equals", "x:cont", "x:contspace", "x:crlf", "x:contcrlf",
            "x:contthencomment", "x:mixedcase", "x:spaced name", "x:utf8",
            "x:empty", "x:dup", "x:inshare",
        ]  # fmt: skip
        conf = SambaConfig.fromFile(path)
        ours = {name: conf.getString(name) for name in names}
        self.assertEqual(ours, _sambaValues(path, names))
        self.assertEqual(ours["x:cont"], "one, two, three")


class TypedGetterTests(_ConfigTestMixin, SynchronousTestCase):
    """
    Tests for the typed getters of L{SambaConfig}.
    """

    def test_booleans(self):
        """
        yes/no, true/false, on/off and 1/0 in any case are booleans.
        """
        words = ["yes", "No", "TRUE", "false", "On", "OFF", "1", "0"]
        text = "".join("x:b%d = %s\n" % (i, w) for i, w in enumerate(words))
        conf = SambaConfig.fromString(text)
        self.assertEqual(
            [conf.getBool("x:b%d" % (i,)) for i in range(len(words))],
            [True, False, True, False, True, False, True, False],
        )

    def test_badBoolean(self):
        """
        Anything else is an error at its line.
        """
        conf = SambaConfig.fromString("\nX:Flag = maybe\n", "etc/x.conf")
        error = self.assertRaises(ConfigError, conf.getBool, "x:flag")
        self.assertEqual(
            str(error),
            "etc/x.conf:2: 'X:Flag': 'maybe' is not a boolean (use yes or no)",
        )

    def test_defaults(self):
        """
        Absent options give the default.
        """
        conf = SambaConfig.fromString("")
        self.assertEqual(
            (
                conf.getString("a", "s"),
                conf.getBool("a", True),
                conf.getInt("a", 7),
                conf.getList("a"),
                conf.getPortRange("a", (1, 2)),
                conf.getPath("a"),
            ),
            ("s", True, 7, (), (1, 2), None),
        )

    def test_integers(self):
        """
        Decimal, signed and C{0x} hexadecimal integers are read.
        """
        conf = SambaConfig.fromString("x:a = 42\nx:b = -3\nx:c = 0x1F\nx:d = +7\n")
        self.assertEqual(
            [conf.getInt(n) for n in ("x:a", "x:b", "x:c", "x:d")], [42, -3, 31, 7]
        )

    def test_badInteger(self):
        """
        A value that is not an integer is an error at its line.
        """
        conf = SambaConfig.fromString("x:n = 12abc\n", "c")
        error = self.assertRaises(ConfigError, conf.getInt, "x:n")
        self.assertEqual(str(error), "c:1: 'x:n': '12abc' is not an integer")

    def test_integerBounds(self):
        """
        Integers outside the allowed range are errors naming the range.
        """
        conf = SambaConfig.fromString("x:n = 70000\n", "c")
        error = self.assertRaises(ConfigError, conf.getInt, "x:n", 0, 1, 65535)
        self.assertEqual(str(error), "c:1: 'x:n': 70000 is out of range (1..65535)")
        error = self.assertRaises(ConfigError, conf.getInt, "x:n", 0, None, 10)
        self.assertEqual(str(error), "c:1: 'x:n': 70000 is too large (at most 10)")
        error = self.assertRaises(ConfigError, conf.getInt, "x:n", 0, 80000)
        self.assertEqual(str(error), "c:1: 'x:n': 70000 is too small (at least 80000)")

    def test_lists(self):
        """
        Lists split on commas, blanks, semicolons and continued lines; empty
        items vanish; double quotes keep separators.
        """
        conf = SambaConfig.fromString(
            'x:l = a, b  c,,d;e \\\n   f,\\\n g "h i" j"k l"m\n'
        )
        self.assertEqual(
            conf.getList("x:l"), ("a", "b", "c", "d", "e", "f", "g", "h i", "jk lm")
        )

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.text(alphabet="abcXYZ_.:/-0189", min_size=1, max_size=8), max_size=8
        ),
        st.lists(
            st.sampled_from([",", " ", ", ", "\t", ";", " , "]), min_size=8, max_size=8
        ),
    )
    def test_listRoundTrip(self, items, separators):
        """
        Items joined with any Samba separators split back into the same items.
        """
        text = "".join(item + sep for item, sep in zip(items, separators))
        self.assertEqual(splitList(text), tuple(items))

    def test_portRange(self):
        """
        A C{low-high} range is read, blanks around the dash allowed.
        """
        conf = SambaConfig.fromString("x:r = 1024 - 2048\n")
        self.assertEqual(conf.getPortRange("x:r"), (1024, 2048))

    def test_badPortRanges(self):
        """
        Malformed, reversed or out-of-bounds ranges are errors at their line.
        """
        cases = {
            "x:r = 5000": "'5000' is not a port range like 49152-65535",
            "x:r = 2000-1000": "bad port range 2000-1000 (need 1 <= low <= high <= 65535)",
            "x:r = 0-10": "bad port range 0-10 (need 1 <= low <= high <= 65535)",
            "x:r = 1-70000": "bad port range 1-70000 (need 1 <= low <= high <= 65535)",
        }
        for line, message in cases.items():
            conf = SambaConfig.fromString(line + "\n", "c")
            error = self.assertRaises(ConfigError, conf.getPortRange, "x:r")
            self.assertEqual(str(error), "c:1: 'x:r': " + message)

    def test_relativePath(self):
        """
        Relative paths are relative to the file that sets them; absolute ones
        are kept.
        """
        self.writeFile("inc/paths.conf", "x:rel = data/file\nx:abs = /var/x\n")
        main = self.writeFile("main.conf", "include = inc/paths.conf\n")
        conf = SambaConfig.fromFile(main)
        self.assertEqual(
            conf.getPath("x:rel"),
            os.path.join(os.path.dirname(main), "inc", "data/file"),
        )
        self.assertEqual(conf.getPath("x:abs"), "/var/x")

    def test_requireMissing(self):
        """
        L{SambaConfig.require} on an absent option points at C{[global]}.
        """
        conf = SambaConfig.fromString("\n[global]\n", "c")
        error = self.assertRaises(ConfigError, conf.require, "x:needed")
        self.assertEqual(str(error), "c:2: 'x:needed': required option is missing")


class ModuleOptionsTests(_ConfigTestMixin, SynchronousTestCase):
    """
    Tests for L{ModuleOptions} as built by L{MapiProxyConfig}.
    """

    TEXT = """\
[global]
    dcerpc_mapiproxy:modules = cache pack
    mpm_cache:path = cache-dir
    MPM_Cache:Ahead = yes
    mpm_cache:sync_min = 500000
    mpm_pack:opnums = 0x70,0x75, 0xa
    mpm_pack:lasthop = perhaps
    dcerpc_mapiproxy:ndrdump = no
    rpc server port:exchange_nsp = 1026
"""

    def setUp(self):
        config, self.warnings = self.build(self.TEXT, "/etc/mp/x.conf")
        self.options = config.moduleOptions

    def test_onlyModuleOptions(self):
        """
        Parametric options with a module prefix are collected; mapiproxy's,
        dcesrv's and C{rpc server port}'s are not, and none warns.
        """
        self.assertEqual(
            sorted(v.key for v in self.options),
            [
                "mpm_cache:ahead",
                "mpm_cache:path",
                "mpm_cache:sync_min",
                "mpm_pack:lasthop",
                "mpm_pack:opnums",
            ],
        )
        self.assertEqual(self.options.prefixes(), ("mpm_cache", "mpm_pack"))
        self.assertEqual(self.warnings, [])

    def test_typedGetters(self):
        """
        A module's view reads its options by bare name, typed.
        """
        cache = self.options.forModule("mpm_cache")
        self.assertEqual(
            (
                cache.getBool("ahead"),
                cache.getInt("sync_min"),
                cache.getBool("sync", False),
            ),
            (True, 500000, False),
        )
        self.assertEqual(cache.getPath("path"), "/etc/mp/cache-dir")
        self.assertEqual(
            self.options.getList("mpm_pack:opnums"), ("0x70", "0x75", "0xa")
        )

    def test_errorLocation(self):
        """
        A bad module value is an error at its own file and line.
        """
        error = self.assertRaises(
            ConfigError, self.options.forModule("mpm_pack").getBool, "lasthop"
        )
        self.assertEqual(
            str(error),
            "/etc/mp/x.conf:7: 'mpm_pack:lasthop': 'perhaps' is not a boolean (use yes or no)",
        )

    def test_valueError(self):
        """
        L{ConfigValue.error} lets a module report its own complaint.
        """
        value = self.options.forModule("mpm_pack").get("opnums")
        self.assertEqual(
            str(value.error("unknown ROP 0xa")),
            "/etc/mp/x.conf:6: 'mpm_pack:opnums': unknown ROP 0xa",
        )

    def test_missingPointsAtModulesLine(self):
        """
        An absent required option is reported at the modules line.
        """
        error = self.assertRaises(
            ConfigError, self.options.forModule("mpm_dummy").require, "test"
        )
        self.assertEqual(
            str(error), "/etc/mp/x.conf:2: 'mpm_dummy:test': required option is missing"
        )

    def test_reprShowsNoValues(self):
        """
        The repr names the options but shows no value.
        """
        text = repr(self.options)
        self.assertIn("mpm_cache:path", text)
        self.assertNotIn("cache-dir", text)

    def test_emptyDefault(self):
        """
        A default L{ModuleOptions} is empty.
        """
        self.assertEqual((len(ModuleOptions()), ModuleOptions().prefixes()), (0, ()))


class MapiProxyConfigTests(_ConfigTestMixin, SynchronousTestCase):
    """
    Tests for L{MapiProxyConfig.fromSambaConfig}.
    """

    def test_example(self):
        """
        OpenChange's documented configuration is a proxy to its binding with
        its credentials, interfaces and modules, and draws no warning.
        """
        config, warnings = self.build(EXAMPLE)
        self.assertEqual(warnings, [])
        self.assertEqual(
            (
                config.serverMode,
                config.binding,
                config.username,
                config.password,
                config.domain,
                config.interfaces,
                config.modules,
                config.endpointServers,
                config.servesEpmapper,
                config.assocGroupChecking,
            ),
            (
                False,
                "ncacn_ip_tcp:192.168.1.1[print]",
                "JohnDoe",
                "openchange2!",
                "EXCHANGE",
                ("exchange_emsmdb", "exchange_nsp", "exchange_ds_rfr"),
                ("downgrade",),
                ("epmapper", "mapiproxy"),
                True,
                False,
            ),
        )
        self.assertEqual(
            (config.netbiosName, config.realm, config.dnsDomain, config.fqdn),
            (
                "MAPIPROXY",
                "OPENCHANGE.LOCAL",
                "openchange.local",
                "mapiproxy.openchange.local",
            ),
        )

    def test_defaults(self):
        """
        An empty configuration is server mode with the default interfaces,
        ports and limits.
        """
        config, warnings = self.build("")
        self.assertEqual(warnings, [])
        self.assertEqual(
            (
                config.serverMode,
                config.binding,
                config.interfaces,
                config.modules,
                config.workgroup,
                config.realm,
                config.epmapperPort,
                config.rpcServerPort,
                config.dynamicPortRange,
                config.listenAddresses,
                config.maxFragment,
                config.maxStub,
                config.upstreamTimeout,
                config.connectTimeout,
                config.passdbPath,
                config.pcap,
                config.callLog,
            ),
            (
                True,
                None,
                (
                    "exchange_emsmdb",
                    "exchange_async_emsmdb",
                    "exchange_nsp",
                    "exchange_ds_rfr",
                ),
                (),
                "WORKGROUP",
                "",
                135,
                0,
                (49152, 65535),
                ("0.0.0.0",),
                5840,
                16 * 1024 * 1024,
                60,
                10,
                None,
                None,
                None,
            ),
        )
        self.assertIn("exchange_async_emsmdb", DEFAULT_INTERFACES)

    def test_netbiosNameFromHost(self):
        """
        Without C{netbios name} the host name's first label, upper-case, is
        used, and the FQDN is that name in lower case when no realm is set.
        """
        config, _ = self.build("")
        label = socket.gethostname().split(".")[0]
        self.assertEqual(
            (config.netbiosName, config.fqdn), (label.upper(), label.lower())
        )

    def test_namesUpperCased(self):
        """
        NetBIOS name, realm and workgroup are upper-cased, as Samba does.
        """
        config, _ = self.build(
            "netbios name = proxy1\nrealm = lab.example\nworkgroup = lab\n"
        )
        self.assertEqual(
            (config.netbiosName, config.realm, config.workgroup, config.fqdn),
            ("PROXY1", "LAB.EXAMPLE", "LAB", "proxy1.lab.example"),
        )

    def test_longNetbiosNameWarns(self):
        """
        A NetBIOS name longer than 15 characters draws a warning.
        """
        _, warnings = self.build("\nnetbios name = abcdefghijklmnopq\n")
        self.assertEqual(
            warnings, ["etc/x.conf:2: 'netbios name': longer than 15 characters"]
        )

    def test_passwordMasked(self):
        """
        Neither repr nor str of the configuration shows the password.
        """
        config, _ = self.build(EXAMPLE)
        self.assertNotIn("openchange2!", repr(config))
        self.assertNotIn("openchange2!", str(config))
        self.assertIn("password='********'", repr(config))
        self.assertNotIn(
            "openchange2!", repr(config.source.globals.get("dcerpc_mapiproxy:password"))
        )

    def test_serverModeExplicit(self):
        """
        An explicit C{dcerpc_mapiproxy:server} wins over the binding rule.
        """
        config, _ = self.build(PROXY + "dcerpc_mapiproxy:server = yes\n")
        self.assertTrue(config.serverMode)
        self.assertEqual(config.binding, "ncacn_ip_tcp:127.0.0.1[print]")

    def test_proxyModeWithoutBinding(self):
        """
        Proxy mode without a binding is an error naming the binding option at
        the line that asks for proxy mode.
        """
        message = self.buildError("[global]\n dcerpc_mapiproxy:server = no\n")
        self.assertEqual(
            message,
            "etc/x.conf:2: 'dcerpc_mapiproxy:binding': required when "
            "'dcerpc_mapiproxy:server' is false (proxy mode)",
        )

    def test_parseBinding(self):
        """
        The binding goes through C{parseBinding} and its result is kept.
        """
        seen = []

        def parse(text):
            seen.append(text)
            return ("parsed", text)

        config, _ = self.build(PROXY, parseBinding=parse)
        self.assertEqual(seen, ["ncacn_ip_tcp:127.0.0.1[print]"])
        self.assertEqual(
            config.upstreamBinding, ("parsed", "ncacn_ip_tcp:127.0.0.1[print]")
        )

    def test_badBinding(self):
        """
        A binding C{parseBinding} refuses is an error at its line.
        """

        def parse(text):
            raise ValueError("no endpoint")

        message = self.buildError(
            "\ndcerpc_mapiproxy:binding = ncacn_ip_tcp:\n", parseBinding=parse
        )
        self.assertEqual(
            message,
            "etc/x.conf:2: 'dcerpc_mapiproxy:binding': "
            "bad binding string 'ncacn_ip_tcp:': no endpoint",
        )

    def test_projectBindingParser(self):
        """
        With mapiproxy's own binding parser, a bad binding is one line at its
        file and line, and a good one is kept parsed.
        """
        from mapiproxy.dcerpc.binding import Binding

        config, _ = self.build(EXAMPLE, parseBinding=Binding.parse)
        self.assertEqual(config.upstreamBinding, Binding.parse(config.binding))
        message = self.buildError(
            "\ndcerpc_mapiproxy:binding = nosuch:1.2.3.4\n", parseBinding=Binding.parse
        )
        self.assertTrue(
            message.startswith(
                "etc/x.conf:2: 'dcerpc_mapiproxy:binding': "
                "bad binding string 'nosuch:1.2.3.4': "
            ),
            message,
        )

    def test_projectInterfaceRegistry(self):
        """
        With mapiproxy's interface registry, the default interfaces are known
        and a misspelt one is an error at its line.
        """
        from mapiproxy.interfaces.registry import lookupByName

        config, _ = self.build("", knownInterfaces=lookupByName)
        self.assertEqual(config.interfaces, DEFAULT_INTERFACES)
        message = self.buildError(
            "[global]\ndcerpc_mapiproxy:interfaces = exchange_emsmbd\n",
            knownInterfaces=lookupByName,
        )
        self.assertEqual(
            message,
            "etc/x.conf:2: 'dcerpc_mapiproxy:interfaces': "
            "unknown interface 'exchange_emsmbd'",
        )

    def test_emptyBinding(self):
        """
        An empty binding is an error.
        """
        message = self.buildError("dcerpc_mapiproxy:binding =\n")
        self.assertEqual(
            message, "etc/x.conf:1: 'dcerpc_mapiproxy:binding': empty binding string"
        )

    def test_passwordWithoutUsername(self):
        """
        A password without a username is an error at the password line.
        """
        message = self.buildError(PROXY + "dcerpc_mapiproxy:password = secret\n")
        self.assertEqual(
            message,
            "etc/x.conf:3: 'dcerpc_mapiproxy:password': set without 'dcerpc_mapiproxy:username'",
        )
        self.assertNotIn("secret", message)

    def test_usernameWithoutPassword(self):
        """
        A username without a password draws a warning.
        """
        _, warnings = self.build(PROXY + "dcerpc_mapiproxy:username = u\n")
        self.assertEqual(
            warnings,
            [
                "etc/x.conf:3: 'dcerpc_mapiproxy:username': set without "
                "'dcerpc_mapiproxy:password'; ignored (as OpenChange does)"
            ],
        )

    def test_flags(self):
        """
        The boolean proxy options are read.
        """
        config, _ = self.build(
            PROXY + "dcerpc_mapiproxy:use_machine_account = yes\n"
            "dcerpc_mapiproxy:delegated_auth = true\ndcerpc_mapiproxy:ndrdump = on\n"
            "dcerpc_mapiproxy:nspi_server = mynspi\n"
        )
        self.assertEqual(
            (
                config.useMachineAccount,
                config.delegatedAuth,
                config.ndrdump,
                config.nspiServer,
                config.emsmdbServer,
            ),
            (True, True, True, "mynspi", None),
        )

    def test_endpointServersWithoutMapiproxy(self):
        """
        C{dcerpc endpoint servers} without C{mapiproxy} is an error.
        """
        message = self.buildError("dcerpc endpoint servers = epmapper, samr\n")
        self.assertEqual(
            message,
            "etc/x.conf:1: 'dcerpc endpoint servers': 'mapiproxy' is not listed: "
            "the proxy is not enabled",
        )

    def test_endpointServersUnknownWarns(self):
        """
        Endpoint servers mapiproxy does not provide draw one warning each; no
        epmapper means we do not serve the endpoint mapper.
        """
        config, warnings = self.build("dcerpc endpoint servers = mapiproxy rpcecho\n")
        self.assertEqual(
            warnings,
            [
                "etc/x.conf:1: 'dcerpc endpoint servers': endpoint server 'rpcecho' "
                "is not provided by mapiproxy; ignored"
            ],
        )
        self.assertFalse(config.servesEpmapper)

    def test_knownInterfaces(self):
        """
        Each interface goes through C{knownInterfaces}; an unknown one is an
        error at the interfaces line.
        """
        known = {"exchange_emsmdb", "exchange_nsp"}

        def check(name):
            if name not in known:
                raise KeyError(name)

        config, _ = self.build(
            "dcerpc_mapiproxy:interfaces = Exchange_EMSMDB exchange_nsp\n",
            knownInterfaces=check,
        )
        self.assertEqual(config.interfaces, ("exchange_emsmdb", "exchange_nsp"))
        message = self.buildError(
            "\n\ndcerpc_mapiproxy:interfaces = exchange_emsmdb, exchange_foo\n",
            knownInterfaces=check,
        )
        self.assertEqual(
            message,
            "etc/x.conf:3: 'dcerpc_mapiproxy:interfaces': unknown interface 'exchange_foo'",
        )

    def test_duplicateInterfaceWarns(self):
        """
        An interface listed twice is kept once, with a warning.
        """
        config, warnings = self.build(
            "dcerpc_mapiproxy:interfaces = exchange_nsp exchange_nsp\n"
        )
        self.assertEqual(config.interfaces, ("exchange_nsp",))
        self.assertEqual(
            warnings,
            [
                "etc/x.conf:1: 'dcerpc_mapiproxy:interfaces': an interface is listed twice"
            ],
        )

    def test_noInterfaces(self):
        """
        An empty interface list is an error.
        """
        message = self.buildError("dcerpc_mapiproxy:interfaces =\n")
        self.assertEqual(
            message, "etc/x.conf:1: 'dcerpc_mapiproxy:interfaces': no interface listed"
        )

    def test_knownModules(self):
        """
        Modules keep their order and repetitions; an unknown one is an error
        carrying the validator's explanation.
        """

        def check(name):
            if name not in ("cache", "pack"):
                raise ValueError("known modules: cache, pack")

        config, _ = self.build(
            "dcerpc_mapiproxy:modules = pack, cache pack\n", knownModules=check
        )
        self.assertEqual(config.modules, ("pack", "cache", "pack"))
        message = self.buildError(
            "[global]\ndcerpc_mapiproxy:modules = cache foo\n", knownModules=check
        )
        self.assertEqual(
            message,
            "etc/x.conf:2: 'dcerpc_mapiproxy:modules': unknown module 'foo' "
            "(known modules: cache, pack)",
        )

    def test_unknownOptionsWarn(self):
        """
        Unknown Samba options and unknown dcerpc_mapiproxy and dcesrv keys
        warn with file and line; known Samba options and module options do
        not.
        """
        _, warnings = self.build(
            "[global]\n"
            "log level = 3\nserver role = standalone server\ndebug level = 1\n"
            "security = user\nmax log size = 1000\nserver string = x\n"
            "foo bar = 1\n"
            "dcerpc_mapiproxy:bindng = x\n"
            "dcesrv:whatever = 1\n"
            "mpm_dummy:test = 1\n"
        )
        self.assertEqual(
            warnings,
            [
                "etc/x.conf:8: 'foo bar': unknown option; ignored",
                "etc/x.conf:9: 'dcerpc_mapiproxy:bindng': unknown dcerpc_mapiproxy option; ignored",
                "etc/x.conf:10: 'dcesrv:whatever': unknown dcesrv option; ignored",
            ],
        )

    def test_defaultWarnLogs(self):
        """
        Without a C{warn} callable, warnings are logged at warning level.
        """
        with capturedLogs() as events:
            MapiProxyConfig.fromSambaConfig(SambaConfig.fromString("foo = 1\n", "c"))
        messages = [
            e["configWarning"] for e in events if e["log_level"] == LogLevel.warn
        ]
        self.assertEqual(messages, ["c:1: 'foo': unknown option; ignored"])

    def test_sharesIgnored(self):
        """
        Other sections are ignored with one info line; a mapiproxy option
        placed in one warns.
        """
        with capturedLogs() as events:
            _, warnings = self.build(
                "[global]\n[homes]\npath = /h\n[data]\ndcerpc_mapiproxy:modules = x\n"
            )
        infos = [e for e in events if e.get("sections")]
        self.assertEqual([e["sections"] for e in infos], ["[homes], [data]"])
        self.assertEqual(
            warnings,
            [
                "etc/x.conf:5: 'dcerpc_mapiproxy:modules': only read in [global], not in [data]; ignored"
            ],
        )

    def test_ports(self):
        """
        C{rpc server port}, its per-interface forms and the dynamic range are
        read; L{MapiProxyConfig.portFor} combines them.
        """
        config, warnings = self.build(
            "rpc server port = 4000\n"
            "rpc server port:exchange_emsmdb = 1025\n"
            "RPC Server Port : Exchange_NSP = 1026\n"
            "rpc server port:epmapper = 1135\n"
            "rpc server dynamic port range = 50000-50100\n"
        )
        self.assertEqual(warnings, [])
        self.assertEqual(
            [
                config.portFor(n)
                for n in (
                    "exchange_emsmdb",
                    "EXCHANGE_NSP",
                    "exchange_ds_rfr",
                    "epmapper",
                )
            ],
            [1025, 1026, 4000, 1135],
        )
        self.assertEqual(
            (config.epmapperPort, config.dynamicPortRange, dict(config.interfacePorts)),
            (1135, (50000, 50100), {"exchange_emsmdb": 1025, "exchange_nsp": 1026}),
        )

    def test_badPorts(self):
        """
        Ports out of range are errors at their line.
        """
        cases = {
            "rpc server port = 65536": "'rpc server port': 65536 is out of range (0..65535)",
            "rpc server port:exchange_nsp = -1": "'rpc server port:exchange_nsp': -1 is out of range (0..65535)",
            "rpc server port:epmapper = 0": "'rpc server port:epmapper': 0 is out of range (1..65535)",
            "rpc server dynamic port range = 9-8": "'rpc server dynamic port range': bad port range 9-8 "
            "(need 1 <= low <= high <= 65535)",
        }
        for line, message in cases.items():
            self.assertEqual(
                self.buildError("\n" + line + "\n"), "etc/x.conf:2: " + message
            )

    def test_portForUnservedInterfaceWarns(self):
        """
        A port for an interface that is not served draws a warning.
        """
        _, warnings = self.build("rpc server port:exchange_emsmbd = 1025\n")
        self.assertEqual(
            warnings,
            [
                "etc/x.conf:1: 'rpc server port:exchange_emsmbd': 'exchange_emsmbd' "
                "is not in dcerpc_mapiproxy:interfaces; ignored"
            ],
        )

    def test_listenWithoutBindOnly(self):
        """
        Without C{bind interfaces only}, the listed interfaces are resolved
        but we listen on the wildcard address.
        """
        config, _ = self.build("interfaces = lo 127.0.0.2/8\n")
        self.assertEqual(
            (
                config.listenInterfaces,
                config.interfaceAddresses,
                config.listenAddresses,
            ),
            (("lo", "127.0.0.2/8"), ("127.0.0.1", "127.0.0.2"), ("0.0.0.0",)),
        )

    def test_listenBindOnly(self):
        """
        With C{bind interfaces only}, we listen on the listed addresses only.
        """
        config, _ = self.build(
            "interfaces = lo 127.0.0.2/8, localhost [::1] 127.0.0.3/255.0.0.0\n"
            "bind interfaces only = yes\n"
        )
        self.assertEqual(
            config.listenAddresses, ("127.0.0.1", "127.0.0.2", "::1", "127.0.0.3")
        )

    def test_listenInterfaceName(self):
        """
        An interface name is resolved through the C{interfaceAddresses}
        callable.
        """
        table = {"eth7": ("10.1.2.3", "fd00::7")}
        config, _ = self.build(
            "interfaces = eth7\nbind interfaces only = yes\n",
            interfaceAddresses=table.get,
        )
        self.assertEqual(config.listenAddresses, ("10.1.2.3", "fd00::7"))

    def test_listenUnknownInterface(self):
        """
        An unknown interface name is an error at the interfaces line.
        """
        message = self.buildError(
            "\ninterfaces = lo nosuchif0\n", interfaceAddresses={}.get
        )
        self.assertEqual(
            message,
            "etc/x.conf:2: 'interfaces': unknown interface or address 'nosuchif0'",
        )

    def test_listenInterfaceWithoutAddress(self):
        """
        An interface without an address is an error.
        """
        message = self.buildError(
            "interfaces = ifb0\n", interfaceAddresses={"ifb0": ()}.get
        )
        self.assertEqual(
            message,
            "etc/x.conf:1: 'interfaces': interface 'ifb0' has no usable address",
        )

    def test_listenBadMask(self):
        """
        A malformed mask or address in C{address/mask} is an error.
        """
        self.assertEqual(
            self.buildError("interfaces = 10.0.0.1/abc\n"),
            "etc/x.conf:1: 'interfaces': bad mask in '10.0.0.1/abc'",
        )
        self.assertEqual(
            self.buildError("interfaces = 10.0.0.300/8\n"),
            "etc/x.conf:1: 'interfaces': bad address in '10.0.0.300/8'",
        )

    def test_bindOnlyWithoutInterfaces(self):
        """
        C{bind interfaces only} without interfaces is an error.
        """
        self.assertEqual(
            self.buildError("bind interfaces only = yes\n"),
            "etc/x.conf:1: 'bind interfaces only': set but 'interfaces' lists no address",
        )

    def test_passdb(self):
        """
        C{passdb backend = smbpasswd:PATH} gives the passdb path, relative to
        the configuration file.
        """
        passdb = self.writeFile("users/smbpasswd", "")
        main = self.writeFile("x.conf", "passdb backend = smbpasswd:users/smbpasswd\n")
        config = MapiProxyConfig.fromFile(main, warn=self.fail)
        self.assertEqual(config.passdbPath, passdb)

    def test_passdbSmbPasswdFile(self):
        """
        C{passdb backend = smbpasswd} uses C{smb passwd file}, which also
        works alone.
        """
        passdb = self.writeFile("smbpasswd", "")
        config, _ = self.build(
            "passdb backend = smbpasswd\nsmb passwd file = %s\n" % (passdb,)
        )
        self.assertEqual(config.passdbPath, passdb)
        config, _ = self.build("smb passwd file = %s\n" % (passdb,))
        self.assertEqual(config.passdbPath, passdb)

    def test_passdbUnreadable(self):
        """
        A passdb file that cannot be read is an error at the option's line.
        """
        missing = os.path.join(os.path.abspath(self.mktemp()), "smbpasswd")
        self.assertEqual(
            self.buildError("[global]\npassdb backend = smbpasswd:%s\n" % (missing,)),
            "etc/x.conf:2: 'passdb backend': cannot read passdb %r: No such file or directory"
            % (missing,),
        )

    def test_passdbOtherBackend(self):
        """
        Backends other than smbpasswd are refused.
        """
        self.assertEqual(
            self.buildError("passdb backend = tdbsam\n"),
            "etc/x.conf:1: 'passdb backend': only the smbpasswd backend is supported, not 'tdbsam'",
        )
        self.assertEqual(
            self.buildError("passdb backend = ldapsam:ldap://127.0.0.1\n"),
            "etc/x.conf:1: 'passdb backend': only the smbpasswd backend is supported, not 'ldapsam'",
        )

    def test_noPassdbNoted(self):
        """
        Without a passdb the log notes that every client will be refused.
        """
        with capturedLogs() as events:
            config, _ = self.build("")
        self.assertIsNone(config.passdbPath)
        self.assertEqual(
            [e["log_format"] for e in events if e["log_level"] == LogLevel.info],
            [
                "{path}: no 'passdb backend = smbpasswd:PATH': every client will be refused"
            ],
        )

    def test_limits(self):
        """
        The limit options are read.
        """
        config, _ = self.build(
            "dcerpc_mapiproxy:max_fragment = 4280\ndcerpc_mapiproxy:max_stub = 0x100000\n"
            "dcerpc_mapiproxy:upstream_timeout = 30\ndcerpc_mapiproxy:connect_timeout = 5\n"
        )
        self.assertEqual(
            (
                config.maxFragment,
                config.maxStub,
                config.upstreamTimeout,
                config.connectTimeout,
            ),
            (4280, 1048576, 30, 5),
        )

    def test_badLimits(self):
        """
        Limits out of range are errors at their line.
        """
        self.assertEqual(
            self.buildError("dcerpc_mapiproxy:max_fragment = 1000\n"),
            "etc/x.conf:1: 'dcerpc_mapiproxy:max_fragment': 1000 is out of range (1432..65535)",
        )
        self.assertEqual(
            self.buildError("dcerpc_mapiproxy:connect_timeout = 0\n"),
            "etc/x.conf:1: 'dcerpc_mapiproxy:connect_timeout': 0 is out of range (1..86400)",
        )

    def test_pcapAndCallLog(self):
        """
        C{pcap} and C{call_log} are read as paths.
        """
        config, _ = self.build(
            "dcerpc_mapiproxy:pcap = /tmp/x.pcap\ndcerpc_mapiproxy:call_log = calls.log\n",
            path="/etc/mp/x.conf",
        )
        self.assertEqual(
            (config.pcap, config.callLog), ("/tmp/x.pcap", "/etc/mp/calls.log")
        )

    def test_assocGroupCheckingBad(self):
        """
        A bad boolean in a dcesrv option is an error at its line.
        """
        self.assertEqual(
            self.buildError("dcesrv:assoc group checking = nope\n"),
            "etc/x.conf:1: 'dcesrv:assoc group checking': 'nope' is not a boolean (use yes or no)",
        )

    def test_errorFor(self):
        """
        L{MapiProxyConfig.errorFor} points at the option's line, or at
        C{[global]} when it is not set.
        """
        config, _ = self.build("[global]\nrpc server port:epmapper = 135\n")
        self.assertEqual(
            str(
                config.errorFor(
                    "rpc server port:epmapper", "cannot listen: Permission denied"
                )
            ),
            "etc/x.conf:2: 'rpc server port:epmapper': cannot listen: Permission denied",
        )
        self.assertEqual(
            str(config.errorFor("dcerpc_mapiproxy:binding", "unreachable")),
            "etc/x.conf:1: 'dcerpc_mapiproxy:binding': unreachable",
        )

    def test_directConstruction(self):
        """
        A configuration built directly has the defaults of an empty smb.conf
        and masks its password too.
        """
        config = MapiProxyConfig(password="hunter2", interfacePorts={"exchange_nsp": 7})
        built, _ = self.build("netbios name = MAPIPROXY\n")
        self.assertEqual(
            attrs.evolve(built, source=None, interfacePorts={"exchange_nsp": 7}),
            attrs.evolve(config, password=None),
        )
        self.assertNotIn("hunter2", repr(config))
        self.assertEqual(config.portFor("exchange_nsp"), 7)

    def test_frozenAndEqual(self):
        """
        The configuration is immutable, and two builds of the same text are
        equal.
        """
        first, _ = self.build(EXAMPLE)
        second, _ = self.build(EXAMPLE)
        self.assertEqual(first, second)
        self.assertEqual(hash(first), hash(second))
        self.assertRaises(AttributeError, setattr, first, "password", "x")


class NetworkInterfaceTests(SynchronousTestCase):
    """
    Tests for L{resolveListenItem} and L{systemInterfaceAddresses}.
    """

    def test_literals(self):
        """
        Address literals, bracketed IPv6 and C{;} hints are accepted.
        """
        self.assertEqual(
            [
                resolveListenItem(item, {}.get)
                for item in (
                    "127.0.0.5",
                    "[::1]",
                    "::1/128",
                    "127.0.0.6;speed=1000",
                    "LocalHost",
                )
            ],
            [("127.0.0.5",), ("::1",), ("::1",), ("127.0.0.6",), ("127.0.0.1",)],
        )

    def test_unknownSystemInterface(self):
        """
        A name that is no local interface gives L{None}.
        """
        self.assertIsNone(systemInterfaceAddresses("nosuchif0"))

    def test_systemLoopback(self):
        """
        The system lookup of C{lo} finds the addresses C{ip addr} lists.
        """
        ip = shutil.which("ip")
        if ip is None:
            raise self.skipTest("no ip command to compare with")
        output = subprocess.run(
            [ip, "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True
        ).stdout
        expected = set()
        for line in output.splitlines():
            fields = line.split()
            family, address = fields[2], fields[3].split("/")[0]
            if family in ("inet", "inet6") and not address.startswith("fe80"):
                expected.add(address)
        found = systemInterfaceAddresses("lo")
        self.assertIn("127.0.0.1", found)
        self.assertEqual(set(found), expected)


class EtcConfigTests(SynchronousTestCase):
    """
    The example configurations shipped in C{etc/} load cleanly.
    """

    def _etc(self, name):
        path = os.path.join(
            os.path.dirname(os.path.dirname(mapiproxy.__file__)), "etc", name
        )
        if not os.path.exists(path):
            raise self.skipTest("%s is not installed" % (name,))
        return path

    def test_example(self):
        """
        C{etc/mapiproxy.conf} loads without warnings and proxies.
        """
        warnings = []
        config = MapiProxyConfig.fromFile(
            self._etc("mapiproxy.conf"), warn=warnings.append
        )
        self.assertEqual(warnings, [])
        self.assertEqual((config.serverMode, config.modules), (False, ("downgrade",)))

    def test_reference(self):
        """
        C{etc/mapiproxy-reference.conf} loads without warnings, at defaults.
        """
        warnings = []
        config = MapiProxyConfig.fromFile(
            self._etc("mapiproxy-reference.conf"), warn=warnings.append
        )
        self.assertEqual(warnings, [])
        self.assertEqual(
            (config.interfaces, config.maxFragment, config.epmapperPort),
            (DEFAULT_INTERFACES, 5840, 135),
        )

    def test_referenceListsEveryOption(self):
        """
        Every dcerpc_mapiproxy option mapiproxy reads is documented in the
        reference configuration.
        """
        from mapiproxy.config._mapiproxy import MAPIPROXY_OPTIONS

        with open(self._etc("mapiproxy-reference.conf"), encoding="utf-8") as f:
            text = f.read()
        documented = {
            normaliseName(line.lstrip("; ").split("=")[0])
            for line in text.splitlines()
            if "dcerpc_mapiproxy:" in line and "=" in line
        }
        self.assertEqual(
            {k for k in MAPIPROXY_OPTIONS}
            - {k.split(":", 1)[1] for k in documented if ":" in k},
            set(),
        )


class AsListTests(SynchronousTestCase):
    """
    Tests for L{asList} on a L{ConfigValue}.
    """

    def test_newlineSeparator(self):
        """
        Newlines and carriage returns separate items too.
        """
        value = ConfigValue("x:l", "a\nb\r\nc", "c", 1)
        self.assertEqual(asList(value), ("a", "b", "c"))
