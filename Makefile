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

# bench runs the benchmarks that time gwup against standard tools (find, fd,
# tar, pigz) on generated trees and print the ratios.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fuzz-smoke:
	$(GO) test -run '^$$' -fuzz '^FuzzParseVersion$$' -fuzztime 10s ./scan
	$(GO) test -run '^$$' -fuzz '^FuzzReadBanner$$' -fuzztime 10s ./scan
	$(GO) test -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime 10s ./scan

clean:
	rm -rf bin
