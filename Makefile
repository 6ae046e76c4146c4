# gwup: the pre-upgrade tool for KAAZING Gateway. Targets are thin wrappers
# around the go command; see README.md.
GO      ?= go
BIN     := bin/gwup
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build demo test bench lint fuzz-smoke clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gwup

# demo scans the shipped demo server tree as if it were the root filesystem.
# Exit status 3 means "findings at or above --fail-on": that is the demo's point.
demo: build
	@./$(BIN) scan --sysroot testdata/demo; status=$$?; \
	  if [ $$status -ne 0 ] && [ $$status -ne 3 ]; then exit $$status; fi

test:
	$(GO) test -count=1 ./...

# bench runs the benchmarks that time gwup against the standard tools on
# generated trees (find and fd for the walk, tar and pigz for backup and
# unpack, ss for live state) and report the ratios as custom metrics; the
# micro-benchmarks (config parsing, banner reading) report ns/op.
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkFindHomes' -benchtime 3x -timeout 60m ./scan
	$(GO) test -run '^$$' -bench 'BenchmarkScanCommand' -benchtime 3x -timeout 60m ./cmd/gwup
	$(GO) test -run '^$$' -bench 'BenchmarkParseConfig|BenchmarkReadBanner|BenchmarkReadLiveVsSS' ./scan
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./backup

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# fuzz-smoke runs every fuzz target briefly (FUZZTIME each); the seed corpora
# also run in every plain 'make test'.
FUZZTIME ?= 5s
FUZZ := scan:FuzzParseVersion scan:FuzzReadBanner scan:FuzzBannerDirections scan:FuzzParseManifest \
	scan:FuzzParseConfig scan:FuzzParseScript scan:FuzzReadMounts scan:FuzzParseNetTable \
	detect:FuzzParseWaiver detect:FuzzOverlap detect:FuzzPlanUpgrade \
	backup:FuzzParseManifest backup:FuzzVerify backup:FuzzReadRelease backup:FuzzEntryGuard backup:FuzzManifest \
	backup:FuzzJournalValidate
fuzz-smoke:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn"; $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; done

clean:
	rm -rf bin
