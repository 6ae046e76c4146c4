// Package backup owns gwup's writes: it selects the files a user changed in a
// Gateway home, saves them into a private archive that is read back and
// verified before anything is said to be safe, verifies and restores such
// archives, and unpacks a new release over a home without losing any of them.
package backup
