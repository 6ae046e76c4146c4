package backup

// ShippedName is the file, at the top of a Gateway home, in which gwup unpack
// records the files of the release as shipped. The next upgrade compares the
// home against it to know exactly which files the user changed, added or
// deleted (dpkg's recorded conffile hashes, without a package database).
const ShippedName = ".gwup-shipped.json"

// ShippedSchema versions the [Shipped] document.
const ShippedSchema = "gwup/shipped/v1"

// Shipped lists the files of a release as it was unpacked into a home.
type Shipped struct {
	Schema  string        `json:"schema"`
	Release string        `json:"release"`
	Archive string        `json:"archive"` // the archive it came from, as given
	Files   []ShippedFile `json:"files"`
}

// ShippedFile is one file of a release. Path is slash-separated and relative
// to the home (the archive's top folder stripped).
type ShippedFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Mode   uint32 `json:"mode"`             // permission bits and type bits as in fs.FileMode
	SHA256 string `json:"sha256,omitempty"` // hex; empty for directories and symlinks
	Link   string `json:"link,omitempty"`   // symlink target
}
