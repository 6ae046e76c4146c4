package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// The Gateway logs one banner line each time it starts: the product title
// from the jar manifests and the version in parentheses
// (GatewayImpl.displayVersionInfo in 5.x), after whatever prefix the log4j
// layout or a container runtime adds:
//
//	INFO  Kaazing Gateway (5.0.0.15)
//	2016-03-30 21:02:33,448 INFO  com.kaazing.gateway.server.Gateway [main] Kaazing WebSocket Gateway (4.0.9.383)
//	INFO  Kaazing Gateway (develop-SNAPSHOT)
//
// The banner must end the line, and what is in the parentheses must parse as
// a [Version]: "Kaazing WebSocket Gateway (Development)", a title printed
// without version, or a README-style "(Community Edition)" is not a banner.
var bannerPattern = regexp.MustCompile(`(?i)\bkaazing(?:[ \t]+[a-z0-9]+){0,3}?[ \t]+gateway(?:[ \t]*-[ \t]*[a-z0-9]+(?:[ \t]+[a-z0-9]+)?[ \t]+edition)?[ \t]*\(([^()\s]{1,64})\)[ \t]*$`)

const (
	// bannerBlockSize is how much of a log is read at a time, from its end.
	bannerBlockSize = 256 << 10
	// BannerScanLimit caps how far back from its end a log is searched for a
	// banner: a gateway that has run for months without a restart may have
	// gigabytes of log after its banner, and a scan must stay cheap.
	BannerScanLimit = 64 << 20
	// maxBannerLine is the longest line looked at; longer ones (binary junk,
	// stack dumps on one line) are skipped without being kept in memory.
	maxBannerLine = 16 << 10
)

// ErrBannerScanLimit is returned (wrapped) by [ReadBanner] when no banner was
// found within [BannerScanLimit] bytes of the end of a log: there may be one
// further back.
var ErrBannerScanLimit = errors.New("scan limit reached")

// ReadBanner finds the newest startup banner in one log, reading it from the
// end in blocks, so a 2 GB log costs only its tail up to the last banner. r
// and size describe the whole file. It returns the version and the banner
// line (without line ending) and ok; ok is false without error when the log
// holds no banner, and false with an error wrapping [ErrBannerScanLimit] when
// none was found in the last BannerScanLimit bytes.
func ReadBanner(r io.ReaderAt, size int64) (version, line string, ok bool, err error) {
	return readBanner(r, size, BannerScanLimit, bannerBlockSize)
}

// readBanner is ReadBanner with the scan limit and block size as
// parameters, so that tests can make blocks tiny.
func readBanner(r io.ReaderAt, size, limit int64, blockSize int) (version, line string, ok bool, err error) {
	if size <= 0 {
		return "", "", false, nil
	}
	var (
		pos      = size
		carry    []byte // the start of the line cut by the previous block boundary
		dropping bool   // the line now at the end of carry was too long and is skipped
		block    = make([]byte, blockSize)
		buf      []byte
	)
	for pos > 0 {
		if size-pos >= limit {
			return "", "", false, fmt.Errorf("read banner: none in the last %d MiB: %w", limit>>20, ErrBannerScanLimit)
		}
		n := min(int64(len(block)), pos)
		pos -= n
		got, err := r.ReadAt(block[:n], pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", "", false, fmt.Errorf("read banner at offset %d: %w", pos, err)
		}
		if int64(got) < n {
			// The log shrank (rotated or truncated) while being read: what
			// is left in block is stale, so stop rather than misread it.
			return "", "", false, fmt.Errorf("read banner at offset %d: log shorter than %d bytes: %w", pos, size, io.ErrUnexpectedEOF)
		}
		buf = append(append(buf[:0], block[:n]...), carry...)

		// Every line after the first newline in buf is complete; at the
		// start of the file the first one is complete too.
		start := 0
		if pos > 0 {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				carry, dropping = keepCarry(carry, buf, dropping)
				continue
			}
			start = i + 1
		}
		end := len(buf)
		if dropping {
			// The last line of buf continues into what was dropped.
			end = max(start, bytes.LastIndexByte(buf, '\n'))
			dropping = false
		}
		if v, l, found := lastBanner(buf[start:end]); found {
			return v, l, true, nil
		}
		if pos > 0 {
			carry, dropping = keepCarry(carry, buf[:start-1], false)
		}
	}
	return "", "", false, nil
}

// keepCarry keeps the incomplete start of a line for the next (earlier)
// block, unless it has grown past maxBannerLine: then it is dropped and the
// line is marked as skipped.
func keepCarry(carry, part []byte, dropping bool) ([]byte, bool) {
	if dropping || len(part) > maxBannerLine {
		return carry[:0], true
	}
	return append(carry[:0], part...), false
}

// lastBanner returns the last banner among the complete lines of text. It
// looks only at the lines holding "gateway" and finds them with a forward
// substring search, the fastest there is: in a log where no line is a
// banner, a block costs little more than one pass of bytes.Index.
func lastBanner(text []byte) (version, line string, ok bool) {
	var found []byte
	lower, upper := indexFrom(text, 0, "ateway"), indexFrom(text, 0, "ATEWAY")
	for lower >= 0 || upper >= 0 {
		i := lower
		if i < 0 || upper >= 0 && upper < i {
			i = upper
		}
		start := bytes.LastIndexByte(text[:i], '\n') + 1
		end := len(text)
		if j := bytes.IndexByte(text[i:], '\n'); j >= 0 {
			end = i + j
		}
		if v, isBanner := parseBanner(text[start:end]); isBanner {
			version, found, ok = v, text[start:end], true
		}
		if lower >= 0 && lower < end {
			lower = indexFrom(text, end, "ateway")
		}
		if upper >= 0 && upper < end {
			upper = indexFrom(text, end, "ATEWAY")
		}
	}
	if !ok {
		return "", "", false
	}
	return version, cleanLine(found), true
}

// indexFrom is the index of the first sep in text at or after from, or -1.
func indexFrom(text []byte, from int, sep string) int {
	if from >= len(text) {
		return -1
	}
	i := bytes.Index(text[from:], []byte(sep))
	if i < 0 {
		return -1
	}
	return from + i
}

// parseBanner returns the version of a banner line.
func parseBanner(l []byte) (string, bool) {
	l = bytes.TrimRight(l, "\r")
	if len(l) == 0 || len(l) > maxBannerLine || l[len(l)-1] != ')' && l[len(l)-1] != ' ' && l[len(l)-1] != '\t' {
		return "", false
	}
	if !bytes.Contains(l, []byte("ateway")) && !bytes.Contains(l, []byte("ATEWAY")) {
		return "", false
	}
	m := bannerPattern.FindSubmatch(l)
	if m == nil {
		return "", false
	}
	v, err := ParseVersion(string(m[1]))
	if err != nil {
		return "", false
	}
	return v.String(), true
}

// cleanLine makes a log line safe to show: no line ending, valid UTF-8,
// no control characters, and not endless.
func cleanLine(l []byte) string {
	s := strings.ToValidUTF8(string(bytes.TrimRight(l, "\r\n")), "\ufffd")
	s = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	const maxDetail = 300
	if len(s) > maxDetail {
		s = strings.ToValidUTF8(s[:maxDetail], "") + "..."
	}
	return s
}

// readBannerForward finds the last banner in a stream that can only be read
// from the start, such as a gzip-compressed rotated log. It reads at most
// limit bytes of it.
func readBannerForward(r io.Reader, limit int64) (version, line string, ok bool, err error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	br := bufio.NewReaderSize(lr, 64<<10)
	for {
		l, rerr := readLineCapped(br)
		if v, found := parseBanner(bytes.TrimRight(l, "\n")); found {
			version, line, ok = v, cleanLine(l), true
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return version, line, ok, fmt.Errorf("read banner: %w", rerr)
		}
	}
	if lr.N == 0 {
		return version, line, ok, fmt.Errorf("read banner: read the first %d MiB only: %w", limit>>20, ErrBannerScanLimit)
	}
	return version, line, ok, nil
}

// readLineCapped reads one line with its newline; of a line longer than
// maxBannerLine it returns only a too-long prefix, which no banner matches,
// and discards the rest.
func readLineCapped(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		if len(line) <= maxBannerLine {
			line = append(line, part...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}
