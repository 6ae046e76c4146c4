package backup

// manifest.go defines gwup-manifest.json, the last entry of every gwup
// backup archive. It is written last because it holds the sha256 of every
// byte that went into the archive, computed while writing; verify and
// restore trust an archive only as far as it agrees with its manifest.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"time"
)

// ManifestName is the name of the manifest entry inside a backup archive.
const ManifestName = "gwup-manifest.json"

// ManifestSchema versions the [Manifest] document.
const ManifestSchema = "gwup/backup/v1"

// Manifest describes a backup archive.
type Manifest struct {
	Schema  string    `json:"schema"`
	Gwup    string    `json:"gwup"` // gwup version that wrote it
	Host    string    `json:"host"`
	Home    string    `json:"home"`
	Release string    `json:"release"`
	Method  Method    `json:"method"`
	Created time.Time `json:"created"`
	// Complete is false when some selected file could not be read or changed
	// while it was archived; those are listed in Unreadable and Changed.
	Complete   bool         `json:"complete"`
	Unreadable []Unreadable `json:"unreadable,omitempty"`
	// Changed are entries whose file changed while it was archived: the
	// bytes in the archive match the manifest but may be a torn copy.
	Changed []string `json:"changed,omitempty"`
	// Deleted are shipped files the home no longer had (methods shipped and
	// pristine).
	Deleted []string `json:"deleted,omitempty"`
	Entries []Entry  `json:"entries"`
}

// Entry is one file or symlink of the archive.
type Entry struct {
	Path   string      `json:"path"`             // name in the archive
	Source string      `json:"source,omitempty"` // original absolute path, for OutsidePrefix entries
	Size   int64       `json:"size"`
	Mode   fs.FileMode `json:"mode"`
	MTime  time.Time   `json:"mtime"` // whole seconds: zip and tar keep no more in common
	SHA256 string      `json:"sha256,omitempty"`
	Link   string      `json:"link,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

// IsLink reports whether the entry is a symlink.
func (e Entry) IsLink() bool { return e.Mode&fs.ModeSymlink != 0 }

func parseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("parse %s: %w", ManifestName, err)
	}
	if m.Schema != ManifestSchema {
		return Manifest{}, fmt.Errorf("parse %s: schema %q, want %q", ManifestName, m.Schema, ManifestSchema)
	}
	if len(m.Entries) > limits.entries {
		return Manifest{}, fmt.Errorf("parse %s: %d entries, more than %d", ManifestName, len(m.Entries), limits.entries)
	}
	seen := map[string]bool{}
	for _, e := range m.Entries {
		if _, err := cleanEntryName(e.Path); err != nil || e.Path == "" || e.Path == ManifestName {
			return Manifest{}, fmt.Errorf("parse %s: entry %q: unsafe or reserved name", ManifestName, e.Path)
		}
		if seen[e.Path] {
			return Manifest{}, fmt.Errorf("parse %s: entry %q listed twice", ManifestName, e.Path)
		}
		seen[e.Path] = true
	}
	return m, nil
}
