# Guichet — build, test, benchmark. Needs Go and gcc (cgo for SQLite);
# scripts/test-deps.sh installs the rest the tests use, when missing.
GO      ?= go
BIN     ?= bin/guichet
PKGS    ?= ./...
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: build test test-short fuzz fuzz-short bench lint demo deps openapi clean release

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/guichet

demo:
	$(GO) run ./cmd/guichet demo

deps:
	scripts/test-deps.sh

# Every test: unit, property, end to end, crash, browser; and a short
# fuzzing run of every fuzz target.
test: deps lint fuzz-short
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# Fuzzing (docs/testing.md): every target a few seconds (fuzz-short, part of
# test), or minutes each (fuzz). FUZZTIME=… and FUZZPARALLEL=… change them;
# scripts/fuzz.sh FuzzXxx runs one target.
fuzz-short:
	FUZZTIME=$${FUZZTIME:-300x} GO=$(GO) scripts/fuzz.sh

fuzz:
	FUZZTIME=$${FUZZTIME:-5m} GO=$(GO) scripts/fuzz.sh

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Benchmarks print ops/s, latency percentiles and memory; see docs/benchmarks.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 30m $(PKGS)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags device ./cmd/guichet   # the device build (package guichet-device) compiles without the hub

# Binaries for linux/amd64, arm64 and armv7 (cgo, Debian's cross compilers),
# reproducible, and their Debian packages, in bin/release (docs/install.md).
# With GUICHET_SIGNING_KEY=FILE, each binary's signed update bundle too
# (BINARY.minisig; the version must be a tag, v1.4.0).
release:
	scripts/release.sh bin/release
	scripts/package.sh bin/release

openapi:
	python3 scripts/openapi.py

clean:
	rm -rf bin
