#!/bin/sh
# check-deps.sh - fail when a layer includes a header from a layer above it.
#
#   sh tests/check-deps.sh            (from the top of the tree; `make check-deps`)
#
# Layers (ARCHITECTURE.md, "Modules"), lowest first:
#   lib   server/lib                  generic; includes only lib
#   mail  server/mail                 lib, mail
#   db    db                          lib, mail, db
#   svc   server/smtp server/auth server/queue pop3 imap server/master
#                                     lib, mail, db, svc; but only server/master
#                                     may include server/master/master.h
#   admin server/admin                lib, mail, db, admin, cfg: the admin actions,
#                                     shared by the CLI and the admin pages
#   ctl   server/ctl                  lib, mail, db, admin, ctl, cfg
#   web   server/http admin-ui webmail
#                                     lib, mail, db, svc, admin, web, cfg
#   cfg   server/master/config.[ch]   lib: onebox.conf's key table, read by
#                                     the services and by the CLI alike
#
# Each `#include "NAME"` is resolved the way the compiler does: the including
# file's directory first, then the -I directories of Makefile.in in order.
# Headers not found there (system headers in quotes, generated files) are
# ignored.  Prints `file:line: includes X (layer Y) from layer Z` for each
# violation and exits 1 when there is any.  `make check-deps` passes the
# Makefile's -I list in INC_DIRS.
set -u

INC_DIRS=${INC_DIRS:-"server/lib server/mail db server server/master server/auth server/smtp server/queue ."}
SRC_DIRS="server/lib server/mail db server/smtp server/auth server/queue pop3 imap server/master server/ctl server/admin
	server/http admin-ui webmail"

# ALLOW: known violations being worked on, one "FILE HEADER-PATH" per line,
# each with a comment (awk skips lines starting with #).
ALLOW='
'

files=$(for d in $SRC_DIRS; do
	[ -d "$d" ] && find "$d" -name '*.[ch]'
done | sort)
[ -n "$files" ] || { echo "check-deps: no sources found (run from the top of the tree)" >&2; exit 1; }

# shellcheck disable=SC2086
awk -v incdirs="$INC_DIRS" -v allow="$ALLOW" -v nfiles="$(echo "$files" | wc -l)" '
function layer(p) {
	if (p ~ /^server\/master\/config\.[ch]$/) return "cfg"
	if (p ~ /^server\/lib\//) return "lib"
	if (p ~ /^server\/mail\//) return "mail"
	if (p ~ /^db\//) return "db"
	if (p ~ /^(server\/(smtp|auth|queue|master)|pop3|imap)\//) return "svc"
	if (p ~ /^server\/admin\//) return "admin"
	if (p ~ /^server\/ctl\//) return "ctl"
	if (p ~ /^(server\/http|admin-ui|webmail)\//) return "web"
	return ""
}
function exists(p,   line, r) {
	r = (getline line < p)
	close(p)
	return r >= 0
}
function resolve(file, name,   d, i, p) {
	d = file
	sub(/\/[^\/]*$/, "", d)
	if (exists(d "/" name)) return d "/" name
	for (i = 1; i <= ndirs; i++) {
		p = dirs[i] "/" name
		sub(/^\.\//, "", p)
		if (exists(p)) return p
	}
	return ""
}
BEGIN {
	ndirs = split(incdirs, dirs, " ")
	n = split(allow, a, "\n")
	for (i = 1; i <= n; i++)
		if (a[i] !~ /^[ \t]*(#|$)/) {
			split(a[i], f, " ")
			allowed[f[1] " " f[2]] = 1
		}
	split("lib:lib mail:lib mail:mail db:lib db:mail db:db svc:lib svc:mail svc:db svc:svc " \
	    "ctl:lib ctl:mail ctl:db ctl:ctl cfg:lib cfg:cfg svc:cfg ctl:cfg " \
	    "admin:lib admin:mail admin:db admin:admin admin:cfg ctl:admin " \
	    "web:lib web:mail web:db web:svc web:admin web:web web:cfg", ok, " ")
	for (i in ok)
		okpair[ok[i]] = 1
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
	split($0, q, "\"")
	hdr = resolve(FILENAME, q[2])
	if (hdr == "" || (FILENAME " " hdr) in allowed)
		next
	from = layer(FILENAME)
	to = layer(hdr)
	if (to == "")
		next
	if (!((from ":" to) in okpair)) {
		printf "%s:%d: includes %s (layer %s) from layer %s\n", FILENAME, FNR, hdr, to, from
		bad = 1
	} else if (hdr == "server/master/master.h" && FILENAME !~ /^server\/master\//) {
		printf "%s:%d: includes %s (layer master) from layer %s (only server/master may)\n",
		    FILENAME, FNR, hdr, from
		bad = 1
	}
}
END {
	if (bad) {
		print "check-deps: layering violations (see ARCHITECTURE.md, Modules)" > "/dev/stderr"
		exit 1
	}
	printf "check-deps: %d files, no layering violations\n", nfiles
}' $files
