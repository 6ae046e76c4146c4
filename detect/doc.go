// Package detect analyses what scan found: it never reads the disk, never
// prints and never exits. Every function takes scan values and returns
// values, so the analyses are table-tested with literal installs.
//
// # Port clashes
//
// [Clashes] compares the listeners of every pair of installs, and each
// install's listeners with the live sockets of the host. Address overlap
// follows the kernel as a Java gateway uses it: a wildcard (0.0.0.0 or ::)
// overlaps everything, localhost is 127.0.0.1 and ::1, distinct literal
// addresses never overlap, and a hostname is resolved through /etc/hosts only
// (never DNS): an unresolvable name gives a possible clash with the reason.
// JMX connectors clash on their port whatever the host, because the RMI
// registry binds every interface. Each clash carries a [Remediation]: a free
// port and the file:line to change.
//
// # Upgrade paths
//
// [PlanUpgrade] reads the embedded, versioned data file paths.json (schema
// [PathsSchema]): which release lines may go where, through which required
// stops, with what client impact and documentation. [KnownRelease] lets the
// command refuse a target the data does not know.
//
// # Findings
//
// [Analyze] turns clashes, plans, configuration checks against the target and
// scan problems into [Finding] values with stable keys (the Key* constants),
// severities, blocker and mandatory flags. --force demotes blockers that are
// not mandatory; a [Waiver] ("KEY" or "KEY@until=YYYY-MM-DD") marks findings
// waived until it expires. [ExitFindings] says whether a run fails.
package detect
