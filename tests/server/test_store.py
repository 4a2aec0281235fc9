"""
Tests for L{mapiproxy.server.store}: the sample store, ids, attachments
(files and generated content), the read flag, new-message detection and
the errors a user makes editing a store.
"""

import datetime
import hashlib
import json
import os
import stat
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import ConfigError
from mapiproxy.server.store import (
    EXPLICIT_ID_LIMIT,
    GeneratedContent,
    Store,
    derivedCounter,
    makeId,
    materializeAttachments,
    splitId,
    toFileTime,
)
from tests.server import SAMPLE_STORE, copySampleStore

TOP = "Top of Information Store"
INBOX = os.path.join(TOP, "Inbox")


def writeJSON(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


class SampleStoreTests(SynchronousTestCase):
    """
    The sample organisation in etc/sample-store.
    """

    def setUp(self):
        self.path = copySampleStore(self)
        self.store = Store.open(self.path)

    def test_organization(self):
        """
        organization.json gives the names and the DNs derived from them.
        """
        org = self.store.organization
        self.assertEqual((org.name, org.serverName, org.serverFQDN), ("First Organization", "LAB", "lab.example"))
        self.assertEqual(
            org.serverDN,
            "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=LAB",
        )
        self.assertEqual(org.mdbDN, org.serverDN + "/cn=Microsoft Private MDB")

    def test_users(self):
        """
        The five users load sorted by account, with derived legacy DNs and
        their details; the administrator has no mailbox.
        """
        self.assertEqual([u.account for u in self.store.users], ["administrator", "alice", "bob", "carol", "dave"])
        alice = self.store.user("ALICE")
        self.assertEqual(
            (alice.displayName, alice.smtpAddress, alice.detail("title"), alice.detail("businessPhone")),
            ("Alice Anderson", "alice@lab.example", "Sales Manager", "+1 555 0101"),
        )
        self.assertEqual(alice.legacyDN, self.store.organization.legacyDN + "/cn=Recipients/cn=alice")
        self.assertEqual(alice.aliases, ("a.anderson@lab.example",))
        self.assertIsNone(self.store.mailbox("administrator"))
        self.assertIsNone(self.store.user("nobody"))

    def test_folderTree(self):
        """
        Alice's mailbox has the special folders, each with its role,
        container class and display name.
        """
        mailbox = self.store.mailbox("alice")
        roles = {f.role: f for f in mailbox.folders()}
        for role in ("root", "ipmSubtree", "inbox", "outbox", "sentItems", "deletedItems", "drafts", "calendar", "contacts", "finder"):
            self.assertIn(role, roles)
        self.assertEqual(roles["calendar"].containerClass, "IPF.Appointment")
        self.assertEqual(roles["inbox"].displayName, "Inbox")
        self.assertIs(roles["inbox"].parent, roles["ipmSubtree"])
        self.assertIs(roles["ipmSubtree"].parent, mailbox.root)
        self.assertIs(mailbox.folderByRole("inbox"), roles["inbox"])
        self.assertIs(mailbox.folderByPath(TOP + "/Inbox"), roles["inbox"])
        self.assertIs(mailbox.folder(roles["drafts"].id), roles["drafts"])

    def test_inboxMessages(self):
        """
        Alice's Inbox holds five messages with their senders, recipients,
        times, flags and attachments.
        """
        inbox = self.store.mailbox("alice").folderByRole("inbox")
        self.assertEqual(
            [m.subject for m in inbox.messages],
            [
                "Welcome to the lab Exchange",
                "Q3 sales figures",
                "Scheduled maintenance on Saturday",
                "Partner newsletter - March",
                "Sensor capture from the demo rig",
            ],
        )
        report = inbox.messages[1]
        self.assertEqual((report.sender.name, report.sender.email, report.sender.account), ("Carol Clark", "carol@lab.example", "carol"))
        self.assertEqual([(r.kind, r.account) for r in report.recipients], [("to", "alice"), ("cc", "dave")])
        self.assertEqual((report.importance, report.read, report.messageClass), (2, False, "IPM.Note"))
        self.assertEqual(report.received, datetime.datetime(2024, 3, 5, 10, 12, 3, tzinfo=datetime.timezone.utc))
        self.assertEqual([a.name for a in report.attachments], ["Q3-sales-report.pdf"])
        newsletter = inbox.messages[3]
        self.assertEqual((newsletter.sender.name, newsletter.sender.email, newsletter.sender.account), ("Partner News", "news@partner.example", None))
        self.assertEqual(inbox.unreadCount, 3)
        self.assertEqual(len(self.store.mailbox("bob").folderByRole("inbox").messages), 5)
        self.assertIs(self.store.mailbox("alice").message(report.id), report)


class IdTests(SynchronousTestCase):
    """
    Folder and message ids.
    """

    def test_layout(self):
        """
        An id is the replica id (2 bytes, little-endian) then the global
        counter (6 bytes, big-endian), as [MS-OXCDATA] 2.2.1.1 lays it out.
        """
        self.assertEqual(makeId(0x0000000000AB).to_bytes(8, "little"), bytes.fromhex("01000000000000ab"))
        self.assertEqual(makeId(0x123456789ABC, 5).to_bytes(8, "little"), bytes.fromhex("0500123456789abc"))
        self.assertRaises(ValueError, makeId, 1 << 48)

    @settings(max_examples=200, deadline=None)
    @given(st.integers(0, (1 << 48) - 1), st.integers(0, 0xFFFF))
    def test_roundTrip(self, counter, replica):
        """
        L{splitId} undoes L{makeId}.
        """
        self.assertEqual(splitId(makeId(counter, replica)), (replica, counter))

    def test_derivedCounter(self):
        """
        A derived counter is the SHA-256 of the path, top bit set, so it
        never meets an explicit one.
        """
        digest = hashlib.sha256(b"mapiproxy-store:Top of Information Store/Inbox").digest()
        self.assertEqual(derivedCounter(TOP + "/Inbox"), int.from_bytes(digest[:6], "big") | (1 << 47))
        self.assertGreaterEqual(derivedCounter(""), 1 << 47)
        self.assertLess(EXPLICIT_ID_LIMIT, 1 << 47)

    def test_stableAcrossLoadsAndCopies(self):
        """
        Two copies of a store, loaded separately, give every folder and
        message the same id; all ids of a mailbox differ.
        """
        first = Store.open(copySampleStore(self)).mailbox("alice")
        second = Store.open(copySampleStore(self)).mailbox("alice")

        def ids(mailbox):
            return sorted(
                [(f.relativePath, f.id) for f in mailbox.folders()]
                + [(m.relativePath, m.id) for f in mailbox.folders() for m in f.messages]
            )

        self.assertEqual(ids(first), ids(second))
        values = [i for _, i in ids(first)]
        self.assertEqual(len(values), len(set(values)))
        self.assertEqual(splitId(first.folderByRole("inbox").id)[1], derivedCounter(TOP + "/Inbox"))

    def test_explicitId(self):
        """
        An C{"id"} member gives the global counter.
        """
        path = copySampleStore(self)
        inbox = os.path.join(path, "mailboxes", "bob", INBOX)
        writeJSON(os.path.join(inbox, "folder.json"), {"displayName": "Inbox", "role": "inbox", "id": 42})
        store = Store.open(path)
        self.assertEqual(store.mailbox("bob").folderByRole("inbox").id, makeId(42))

    def test_duplicateExplicitId(self):
        """
        The same explicit id twice in a mailbox is an error naming the
        second file.
        """
        path = copySampleStore(self)
        base = os.path.join(path, "mailboxes", "bob", TOP)
        writeJSON(os.path.join(base, "Drafts", "folder.json"), {"displayName": "Drafts", "id": 7})
        writeJSON(os.path.join(base, "Inbox", "folder.json"), {"displayName": "Inbox", "id": 7})
        e = self.assertRaises(ConfigError, Store.open, path)
        self.assertEqual(e.option, "id")
        self.assertIn("used twice", str(e))

    def test_fileTime(self):
        """
        FILETIMEs count 100 ns from 1601: the Unix epoch is
        116444736000000000.
        """
        utc = datetime.timezone.utc
        self.assertEqual(toFileTime(datetime.datetime(1601, 1, 1, tzinfo=utc)), 0)
        self.assertEqual(toFileTime(datetime.datetime(1970, 1, 1, tzinfo=utc)), 116444736000000000)
        self.assertEqual(toFileTime(datetime.datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=utc)), 116444736010000050)


class AttachmentTests(SynchronousTestCase):
    """
    Attachments stored as files and generated ones.
    """

    def setUp(self):
        self.path = copySampleStore(self)
        self.store = Store.open(self.path)
        inbox = self.store.mailbox("alice").folderByRole("inbox")
        self.report = inbox.messages[1].attachments[0]
        self.capture, self.notes = inbox.messages[4].attachments

    def test_rangesOfAFile(self):
        """
        Ranges of a stored attachment are the bytes of its file, cut at the
        end.
        """
        with open(self.notes.path, "rb") as f:
            content = f.read()
        self.assertEqual(self.notes.size, len(content))
        self.assertEqual(self.notes.read(0, 10), content[:10])
        self.assertEqual(self.notes.read(37, 50), content[37:87])
        self.assertEqual(self.notes.read(len(content) - 5, 100), content[-5:])
        self.assertEqual(self.notes.read(len(content) + 10, 10), b"")
        self.assertEqual(self.notes.mimeType, "text/plain")
        self.assertEqual(self.notes.sha256(), hashlib.sha256(content).hexdigest())

    def test_generatedOnFirstOpen(self):
        """
        A generated attachment is missing from the copy, has its declared
        size anyway, is written on first open and matches the digest its
        message records.
        """
        self.assertFalse(os.path.exists(self.report.path))
        self.assertEqual(self.report.size, 51200)
        with self.report.open() as f:
            content = f.read()
        self.assertTrue(os.path.exists(self.report.path))
        self.assertEqual(os.stat(self.report.path).st_mode & 0o777, 0o644)
        self.assertEqual(len(content), 51200)
        self.assertTrue(content.startswith(b"%PDF-1.4\n"))
        self.assertTrue(content.endswith(b"\n%%EOF\n"))
        self.assertEqual(hashlib.sha256(content).hexdigest(), self.report.expectedSha256)
        with open(self.report.path, "rb") as f:
            self.assertEqual(f.read(), content)

    def test_largeAttachmentDigest(self):
        """
        The 5 MiB attachment has the SHA-256 its message records; a range
        at its end reads the same as the whole content's tail.
        """
        self.assertEqual(self.capture.size, 5 * 1024 * 1024)
        self.assertEqual(self.capture.sha256(), self.capture.expectedSha256)
        self.assertEqual(
            self.capture.expectedSha256, "4532791efd4e8b3c555398f4c7a600b2428ec19631307a2c50015d235f110ebc"
        )
        with open(self.capture.path, "rb") as f:
            f.seek(5 * 1024 * 1024 - 1000)
            tail = f.read()
        self.assertEqual(self.capture.read(5 * 1024 * 1024 - 1000, 4096), tail)

    def test_readOnlyStoreServesFromGenerator(self):
        """
        When the file cannot be written, a generated attachment is streamed
        from its generator: same bytes, nothing on disk.
        """

        def refuse(content, path):
            raise PermissionError(13, "read-only")

        self.patch(GeneratedContent, "writeTo", refuse)
        whole = self.report.read(0, 1 << 20)
        self.assertFalse(os.path.exists(self.report.path))
        self.assertEqual(hashlib.sha256(whole).hexdigest(), self.report.expectedSha256)
        with self.report.open() as f:
            f.seek(51200 - 7)
            self.assertEqual(f.read(), b"\n%%EOF\n")
            f.seek(100)
            self.assertEqual(f.read(50), whole[100:150])

    @settings(max_examples=200, deadline=None)
    @given(st.integers(0, 300), st.integers(0, 300), st.binary(max_size=20), st.binary(max_size=20), st.integers(0, 200))
    def test_generatedRanges(self, offset, length, header, trailer, extra):
        """
        Any range of generated content is the slice of the whole content;
        the header and trailer sit at both ends.
        """
        content = GeneratedContent(b"seed", len(header) + len(trailer) + extra, header, trailer)
        whole = content.read(0, content.size)
        self.assertEqual(len(whole), content.size)
        self.assertEqual(content.read(offset, length), whole[offset : offset + length])
        self.assertTrue(whole.startswith(header) and whole.endswith(trailer))

    def test_generatorGolden(self):
        """
        Generated bytes are SHA-256(seed || block number) in counter mode.
        """
        content = GeneratedContent(b"abc", 40)
        expected = hashlib.sha256(b"abc" + (0).to_bytes(8, "big")).digest() + hashlib.sha256(b"abc" + (1).to_bytes(8, "big")).digest()[:8]
        self.assertEqual(content.read(0, 40), expected)

    def test_materializeAndScript(self):
        """
        make-attachments.py writes the generated attachments of a store
        and checks their digests; a second run writes nothing.
        """
        script = os.path.join(SAMPLE_STORE, "make-attachments.py")
        run = subprocess.run([sys.executable, script, self.path], capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("2 generated attachment(s) written", run.stdout)
        self.assertTrue(os.path.exists(self.capture.path))
        self.assertEqual(materializeAttachments(Store.open(self.path)), [])

    def test_materializeDetectsWrongDigest(self):
        """
        A file whose digest differs from the recorded one is reported.
        """
        with open(self.report.path, "wb") as f:
            f.write(b"not the report")
        self.assertRaises(ValueError, materializeAttachments, self.store)


class ChangeTests(SynchronousTestCase):
    """
    Marking messages read and noticing new ones.
    """

    def setUp(self):
        self.path = copySampleStore(self)
        self.store = Store.open(self.path)
        self.inbox = self.store.mailbox("alice").folderByRole("inbox")

    def test_markReadPersists(self):
        """
        markRead rewrites the file with the flag set and everything else
        kept, atomically (no temporary file left, same permissions).
        """
        message = self.inbox.messages[1]
        with open(message.path, encoding="utf-8") as f:
            before = json.load(f)
        os.chmod(message.path, 0o640)
        self.store.markRead(message)
        self.assertTrue(message.read)
        with open(message.path, encoding="utf-8") as f:
            after = json.load(f)
        self.assertEqual(after, dict(before, read=True))
        self.assertEqual(stat.S_IMODE(os.stat(message.path).st_mode), 0o640)
        self.assertEqual([n for n in os.listdir(os.path.dirname(message.path)) if n.startswith(".")], [])
        reloaded = Store.open(self.path).mailbox("alice").message(message.id)
        self.assertTrue(reloaded.read)
        self.store.markRead(message, read=False)
        self.assertFalse(Store.open(self.path).mailbox("alice").message(message.id).read)

    def _drop(self, name, data, folder=None):
        folder = folder or self.inbox
        path = os.path.join(folder.path, "messages", name)
        if isinstance(data, str):
            with open(path, "w") as f:
                f.write(data)
        else:
            writeJSON(path, data)
        return path

    def test_newMessageNoticed(self):
        """
        A message file dropped into a folder is returned by the next
        newMessages, once, told to the subscribers, and listed in the
        folder from then on.
        """
        seen = []
        unsubscribe = self.store.subscribe(lambda account, message: seen.append((account, message.subject)))
        self.assertEqual(self.store.newMessages("alice"), [])
        self._drop("0100.json", {"subject": "Fresh news", "from": "bob", "to": ["alice"], "body": "Hello"})
        (message,) = self.store.newMessages("alice")
        self.assertEqual((message.subject, message.sender.account, message.folder), ("Fresh news", "bob", self.inbox))
        self.assertEqual(self.store.newMessages("alice"), [])
        self.assertIn(message, self.inbox.messages)
        self.assertIs(self.store.mailbox("alice").message(message.id), message)
        self.assertEqual(seen, [("alice", "Fresh news")])
        unsubscribe()
        self._drop("0101.json", {"subject": "Second"})
        self.assertEqual(list(self.store.poll()), ["alice"])
        self.assertEqual(seen, [("alice", "Fresh news")])

    def test_partialFileRetried(self):
        """
        A file that does not parse yet is left pending and picked up once
        it does.
        """
        path = self._drop("0200.json", '{"subject": "half wri')
        self.assertEqual(self.store.newMessages("alice"), [])
        self.assertIn(path, self.store.mailbox("alice").pending)
        self._drop("0200.json", {"subject": "whole now"})
        self.assertEqual([m.subject for m in self.store.newMessages("alice")], ["whole now"])
        self.assertEqual(self.store.mailbox("alice").pending, {})

    def test_dotFilesIgnored(self):
        """
        Temporary dot files of atomic writers are not messages.
        """
        self._drop(".0300.json.tmp", {"subject": "temporary"})
        self._drop(".0301.json", {"subject": "hidden"})
        self.assertEqual(self.store.newMessages("alice"), [])

    def test_removedMessageForgotten(self):
        """
        A message whose file is deleted leaves its folder at the next scan.
        """
        message = self.inbox.messages[0]
        os.unlink(message.path)
        self.assertEqual(self.store.newMessages("alice"), [])
        self.assertNotIn(message, self.inbox.messages)
        self.assertIsNone(self.store.mailbox("alice").message(message.id))

    def test_newFolderNoticed(self):
        """
        A new folder directory with a message appears with its message.
        """
        folder = os.path.join(self.inbox.path, "Projects")
        writeJSON(os.path.join(folder, "folder.json"), {"displayName": "Projects"})
        writeJSON(os.path.join(folder, "messages", "0001.json"), {"subject": "Kick-off"})
        (message,) = self.store.newMessages("alice")
        self.assertEqual((message.subject, message.folder.displayName, message.folder.parent), ("Kick-off", "Projects", self.inbox))
        self.assertIn(message.folder, self.inbox.children)


class ValidationTests(SynchronousTestCase):
    """
    What a user gets wrong, reported with the file (and member) at fault.
    """

    def setUp(self):
        self.path = copySampleStore(self)

    def _write(self, relative, text):
        with open(os.path.join(self.path, relative), "w", encoding="utf-8") as f:
            f.write(text)

    def test_badJSON(self):
        """
        A user file that is not JSON names the file and the line.
        """
        self._write("users/bob.json", '{\n  "displayName": "Bob",\n  oops\n}\n')
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.path, os.path.join(self.path, "users", "bob.json"))
        self.assertEqual(e.line, 3)
        self.assertIn("bob.json:3: bad JSON", str(e))

    def test_badMessageJSON(self):
        """
        A message file that is not JSON names the message file.
        """
        relative = os.path.join("mailboxes", "alice", INBOX, "messages", "0002.json")
        self._write(relative, "[1, 2")
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.path, os.path.join(self.path, relative))

    def test_notAnObject(self):
        """
        JSON that is not an object is refused.
        """
        self._write("organization.json", "[]")
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertIn("organization.json", str(e))
        self.assertIn("JSON object", str(e))

    def test_missingMember(self):
        """
        A missing required member is named.
        """
        self._write("users/carol.json", '{"account": "carol"}')
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual((e.option, os.path.basename(e.path)), ("displayName", "carol.json"))

    def test_wrongType(self):
        """
        A member of the wrong type is named.
        """
        self._write("users/carol.json", '{"displayName": "Carol", "title": 5}')
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.option, "title")

    def test_accountMismatch(self):
        """
        A user file whose account is not its name is refused.
        """
        self._write("users/carol.json", '{"displayName": "Carol", "account": "caroline"}')
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.option, "account")

    def test_attachmentOutsideFolder(self):
        """
        An attachment name with a directory part is refused.
        """
        relative = os.path.join("mailboxes", "bob", INBOX, "messages", "0002.json")
        self._write(relative, json.dumps({"subject": "x", "attachments": [{"file": "../../../../users/bob.json"}]}))
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual((e.option, e.path), ("file", os.path.join(self.path, relative)))

    def test_missingAttachmentFile(self):
        """
        An attachment whose file is missing (and not generated) is refused.
        """
        relative = os.path.join("mailboxes", "bob", INBOX, "messages", "0002.json")
        self._write(relative, json.dumps({"subject": "x", "attachments": ["nothere.txt"]}))
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertIn("nothere.txt", str(e))

    def test_badRecipient(self):
        """
        A recipient that is neither an account nor an address is named.
        """
        relative = os.path.join("mailboxes", "bob", INBOX, "messages", "0002.json")
        self._write(relative, json.dumps({"subject": "x", "cc": ["not a person"]}))
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.option, "cc")

    def test_badTime(self):
        """
        A time that is not ISO 8601 is named.
        """
        relative = os.path.join("mailboxes", "bob", INBOX, "messages", "0002.json")
        self._write(relative, json.dumps({"subject": "x", "sent": "yesterday"}))
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.option, "sent")

    def test_unknownRole(self):
        """
        A folder role outside the known list is refused.
        """
        self._write(os.path.join("mailboxes", "bob", INBOX, "folder.json"), '{"role": "spam"}')
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.option, "role")

    def test_missingOrganization(self):
        """
        A directory without organization.json is not a store.
        """
        os.unlink(os.path.join(self.path, "organization.json"))
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertEqual(e.path, os.path.join(self.path, "organization.json"))

    def test_missingMailbox(self):
        """
        A user with a mailbox must have its directory.
        """
        import shutil

        shutil.rmtree(os.path.join(self.path, "mailboxes", "dave"))
        e = self.assertRaises(ConfigError, Store.open, self.path)
        self.assertIn("mailboxes/dave", str(e))

    def test_notADirectory(self):
        """
        A path that is not a directory is refused.
        """
        self.assertRaises(ConfigError, Store.open, os.path.join(self.path, "organization.json"))
