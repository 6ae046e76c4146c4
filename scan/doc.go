// Package scan reads the disk for gwup: it finds KAAZING Gateway installations,
// reads the release each one is with the evidence for it, works out which
// configuration each one loads, parses that configuration into the sockets the
// Gateway would bind, and reads the live state of the host (/proc) when it can.
//
// Every access goes through an [afero.Fs] so that tests run on in-memory trees
// and the command can hand scan a read-only view of the real disk: scan never
// writes. The types in this package (Install, Listener, Problem, ...) are the
// shared vocabulary of gwup; detect and backup consume them.
//
// Paths: every path scan reports is absolute in the scanned filesystem, which
// with --sysroot is the mounted image seen as "/". Problems found on one install
// are recorded on that install and the scan goes on; only a failure to look at
// all is returned as an error.
package scan
