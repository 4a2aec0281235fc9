# -*- test-case-name: tests.test_config -*-
"""
The names of the parameters Samba 4.17 knows (the output of C{testparm -sv}
plus the synonyms it accepts), so that a normal smb.conf loads without
"unknown option" warnings. mapiproxy reads only a few of them; the others
are accepted and ignored.
"""

from mapiproxy.config._values import normaliseName

_CANONICAL = """
abort shutdown script
access based share enum
acl allow execute always
acl check permissions
acl flag inherited canonicalization
acl group control
acl map full control
add group script
add machine script
add share command
add user script
add user to group script
additional dns hostnames
addport command
addprinter command
admin users
administrative share
afs share
afs token lifetime
afs username map
aio max threads
aio read size
aio write behind
aio write size
algorithmic rid base
allocation roundup size
allow dcerpc auth level connect
allow dns updates
allow insecure wide links
allow nt4 crypto
allow trusted domains
allow unsafe cluster upgrade
apply group policies
async dns timeout
async smb echo handler
auth event notification
auto services
available
bind interfaces only
binddns dir
block size
blocking locks
browse list
browseable
cache directory
case sensitive
change notify
change share command
check parent directory delete on close
check password script
cldap port
client NTLMv2 auth
client ipc max protocol
client ipc min protocol
client ipc signing
client lanman auth
client ldap sasl wrapping
client max protocol
client min protocol
client plaintext auth
client protection
client schannel
client signing
client smb encrypt
client smb3 encryption algorithms
client smb3 signing algorithms
client use kerberos
client use spnego
client use spnego principal
cluster addresses
clustering
comment
config backend
config file
copy
create krb5 conf
create mask
csc policy
ctdb locktime warn threshold
ctdb timeout
ctdbd socket
cups connection timeout
cups encrypt
cups options
cups server
dcerpc endpoint servers
deadtime
debug class
debug encryption
debug hires timestamp
debug pid
debug prefix timestamp
debug syslog format
debug uid
dedicated keytab file
default case
default devmode
default service
defer sharing violations
delete group script
delete readonly
delete share command
delete user from group script
delete user script
delete veto files
deleteprinter command
dfree cache time
dfree command
dgram port
directory mask
directory name cache size
disable netbios
disable spoolss
dmapi support
dns forwarder
dns port
dns proxy
dns update command
dns zone scavenging
dns zone transfer clients allow
dns zone transfer clients deny
domain logons
domain master
dont descend
dos charset
dos filemode
dos filetime resolution
dos filetimes
dsdb event notification
dsdb group change notification
dsdb password event notification
durable handles
ea support
enable asu support
enable core files
enable privileges
encrypt passwords
enhanced browsing
enumports command
eventlog list
fake directory create times
fake oplocks
follow symlinks
force create mode
force directory mode
force group
force printername
force unknown acl user
force user
fstype
get quota command
getwd cache
gpo update command
guest account
guest ok
guest only
hide dot files
hide files
hide new files timeout
hide special files
hide unreadable
hide unwriteable files
honor change notify privilege
host msdfs
hostname lookups
hosts allow
hosts deny
idmap backend
idmap cache time
idmap gid
idmap negative cache time
idmap uid
include
include system krb5 conf
inherit acls
inherit owner
inherit permissions
init logon delay
init logon delayed hosts
interfaces
invalid users
iprint server
kdc default domain supported enctypes
kdc enable fast
kdc force enable rc4 weak session keys
kdc supported enctypes
keepalive
kerberos encryption types
kerberos method
kernel change notify
kernel oplocks
kernel share modes
kpasswd port
krb5 port
lanman auth
large readwrite
ldap admin dn
ldap connection timeout
ldap debug level
ldap debug threshold
ldap delete dn
ldap deref
ldap follow referral
ldap group suffix
ldap idmap suffix
ldap machine suffix
ldap max anonymous request size
ldap max authenticated request size
ldap max search request size
ldap page size
ldap passwd sync
ldap replication sleep
ldap server require strong auth
ldap ssl
ldap suffix
ldap timeout
ldap user suffix
level2 oplocks
lm announce
lm interval
load printers
local master
lock directory
lock spin time
locking
log file
log level
log nt token command
log writeable files on exit
logging
logon drive
logon home
logon path
logon script
lppause command
lpq cache time
lpq command
lpresume command
lprm command
lsa over netlogon
machine password timeout
magic output
magic script
mangle prefix
mangled names
mangling char
mangling method
map acl inherit
map archive
map hidden
map readonly
map system
map to guest
max connections
max disk size
max log size
max mux
max open files
max print jobs
max reported print jobs
max smbd processes
max stat cache size
max ttl
max wins ttl
max xmit
mdns name
message command
min domain uid
min print space
min receivefile size
min wins ttl
mit kdc command
msdfs proxy
msdfs root
msdfs shuffle referrals
multicast dns register
name cache timeout
name resolve order
nbt client socket address
nbt port
ncalrpc dir
netbios aliases
netbios name
netbios scope
neutralize nt4 emulation
nmbd bind explicit broadcast
nsupdate command
nt acl support
nt hash store
nt pipe support
nt status support
ntlm auth
ntp signd socket directory
ntvfs handler
null passwords
obey pam restrictions
old password allowed period
oplock break wait time
oplocks
os level
os2 driver map
pam password change
panic action
passdb backend
passdb expand explicit
passwd chat
passwd chat debug
passwd chat timeout
passwd program
password hash gpg key ids
password hash userPassword schemes
password server
path
perfcount module
pid directory
posix locking
postexec
preexec
preexec close
preferred master
prefork backoff increment
prefork children
prefork maximum backoff
preload modules
preserve case
print command
print notify backchannel
printable
printcap cache time
printcap name
printer name
printing
printjob username
private dir
queuepause command
queueresume command
raw NTLMv2 auth
read list
read only
read raw
realm
registry shares
reject md5 clients
reject md5 servers
remote announce
remote browse sync
rename user script
require strong key
reset on zero vc
restrict anonymous
root directory
root postexec
root preexec
root preexec close
rpc big endian
rpc server dynamic port range
rpc server port
rpc start on demand helpers
samba kcc command
security
server max protocol
server min protocol
server multi channel support
server role
server schannel
server schannel require seal
server services
server signing
server smb encrypt
server smb3 encryption algorithms
server smb3 signing algorithms
server string
set primary group script
set quota command
short preserve case
show add printer wizard
shutdown script
smb passwd file
smb ports
smb1 unix extensions
smb2 disable lock sequence checking
smb2 disable oplock break retry
smb2 leases
smb2 max credits
smb2 max read
smb2 max trans
smb2 max write
smbd async dosmode
smbd force process locks
smbd getinfo ask sharemode
smbd max async dosmode
smbd max xattr size
smbd profiling level
smbd search ask sharemode
socket options
spn update command
spotlight
spotlight backend
stat cache
state directory
store dos attributes
strict allocate
strict locking
strict rename
strict sync
svcctl list
sync always
syslog
syslog only
template homedir
template shell
time server
timestamp logs
tls cafile
tls certfile
tls crlfile
tls dh params file
tls enabled
tls keyfile
tls priority
tls verify peer
unicode
unix charset
unix password sync
use client driver
use mmap
use sendfile
username level
username map
username map cache time
username map script
usershare allow guests
usershare max shares
usershare owner only
usershare path
usershare prefix allow list
usershare prefix deny list
usershare template share
utmp
utmp directory
valid users
veto files
veto oplock files
vfs objects
volume
volume serial number
wide links
winbind cache time
winbind debug traceid
winbind enum groups
winbind enum users
winbind expand groups
winbind max clients
winbind max domain connections
winbind nested groups
winbind normalize names
winbind nss info
winbind offline logon
winbind reconnect delay
winbind refresh tickets
winbind request timeout
winbind rpc only
winbind scan trusted domains
winbind sealed pipes
winbind separator
winbind use default domain
winbind use krb5 enterprise principals
winbindd socket directory
wins hook
wins proxy
wins server
wins support
workgroup
write list
write raw
wtmp directory
"""

_SYNONYMS = """
allow hosts
bind dns directory
browsable
casesignames
client ntlmv2 auth
create mode
debug level
debug timestamp
debuglevel
default
deny hosts
directory
directory mode
enable spoolss
exec
group
ldap password sync
lock dir
max protocol
min protocol
only guest
prefered master
preload
print ok
printcap
printer
private directory
protocol
public
root
root dir
smb encrypt
socket address
unix extensions
vfs object
winbind gid
winbind uid
writable
write ok
writeable
"""

#: Normalised names (see L{normaliseName}) of every Samba parameter.
SAMBA_OPTIONS = frozenset(
    normaliseName(name) for name in (_CANONICAL + _SYNONYMS).splitlines() if name
)
