package scan

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/afero"
)

// maxManifestSize bounds how much of a MANIFEST.MF is read: real ones are a
// few hundred bytes, a jar is untrusted input.
const maxManifestSize = 1 << 20

// Manifest attributes that name a Gateway's release and edition; the server
// reads the same ones at start-up (ProductInfoReader) to print its banner.
const (
	attrVersion = "Implementation-Version"
	attrTitle   = "Implementation-Title"
	attrProduct = "Kaazing-Product"
)

// readJarManifest returns the main attributes of the META-INF/MANIFEST.MF
// of a jar. A jar without a manifest gives an empty map and no error. Errors
// do not repeat the jar's name: the caller's problem names it.
func readJarManifest(fsys afero.Fs, name string) (map[string]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("read zip: %w", err)
	}
	for _, zf := range zr.File {
		if !strings.EqualFold(zf.Name, "META-INF/MANIFEST.MF") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", zf.Name, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, maxManifestSize))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", zf.Name, err)
		}
		return parseManifest(data), nil
	}
	return map[string]string{}, nil
}

// parseManifest reads the main section of a JAR manifest: "Name: value"
// lines up to the first empty line. A line starting with a single space
// continues the previous value (the format wraps lines at 72 bytes). Lines
// end in CRLF, LF or CR. Malformed lines are skipped: the manifest is only
// evidence, and the other attributes are still worth having.
func parseManifest(data []byte) map[string]string {
	attrs := map[string]string{}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxManifestSize)
	sc.Split(scanManifestLines)
	last := ""
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // end of the main section
		}
		if line[0] == ' ' {
			if last != "" {
				attrs[last] += line[1:]
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			last = ""
			continue
		}
		last = name
		attrs[name] = strings.TrimPrefix(value, " ")
	}
	return attrs
}

// scanManifestLines is a bufio.SplitFunc for lines ending in CRLF, LF or a
// lone CR, all of which the manifest format allows.
func scanManifestLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if !atEOF {
				return 0, nil, nil // a CR at the end of the buffer: wait for a possible LF
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// editionFromManifest names the edition a manifest declares: its
// Kaazing-Product ("jms", "Community.Gateway", "Enterprise.Gateway"), or
// else its title ("Kaazing WebSocket Gateway - JMS Edition", the old
// "Kaazing Community Gateway").
func editionFromManifest(attrs map[string]string) string {
	if e := editionFromWord(strings.TrimSuffix(strings.TrimSpace(attrs[attrProduct]), ".Gateway")); e != "" {
		return e
	}
	return editionFromTitle(attrs[attrTitle])
}

// editionFromTitle finds the edition in a product title: "- JMS Edition",
// "(Enterprise Edition)", "Kaazing Community Gateway".
func editionFromTitle(title string) string {
	fields := strings.FieldsFunc(title, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '(' || r == ')' || r == '-'
	})
	for i, f := range fields {
		if strings.EqualFold(f, "edition") && i > 0 {
			return editionFromWord(fields[i-1])
		}
		if strings.EqualFold(f, "gateway") && i > 0 {
			if e := editionFromWord(fields[i-1]); e == "Community" || e == "Enterprise" {
				return e
			}
		}
	}
	return ""
}

// editionFromWord maps the spellings of an edition in product names, folder
// names and installer paths to its canonical name.
func editionFromWord(w string) string {
	switch strings.ToLower(w) {
	case "jms":
		return "JMS"
	case "html5":
		return "HTML5"
	case "xmpp":
		return "XMPP"
	case "amqp":
		return "AMQP"
	case "community":
		return "Community"
	case "enterprise":
		return "Enterprise"
	}
	return ""
}
