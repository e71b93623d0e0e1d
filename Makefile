GO ?= go
BIN := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# One static binary: no cgo, no local paths in it.
STATIC := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)"

.PHONY: all build dist image test lint fmt golden demo bench fuzz clean

all: build

build:
	$(STATIC) -o $(BIN)/bbimport ./cmd/bbimport
	$(STATIC) -o $(BIN)/bbsim ./cmd/bbsim

# make dist: one archive per platform in $(DIST)/ (tar.gz; zip, which needs zip(1), for windows)
# holding the static binary and README.md, and SHA256SUMS over them. The
# version is the git tag (git describe), or VERSION=v1.2.3. One platform:
# make dist PLATFORMS=linux/amd64.
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
DIST ?= dist
SHA256SUM ?= $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo shasum -a 256)
dist:
	rm -rf $(DIST)
	mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; \
		if [ "$$os" = windows ]; then ext=.exe; fi; \
		name=bbimport_$(VERSION)_$${os}_$${arch}; \
		mkdir -p $(DIST)/$$name; \
		echo "  $$name"; \
		GOOS=$$os GOARCH=$$arch $(STATIC) -o $(DIST)/$$name/bbimport$$ext ./cmd/bbimport; \
		cp README.md $(DIST)/$$name/; \
		if [ "$$os" = windows ]; then \
			(cd $(DIST) && zip -qr $$name.zip $$name); \
		else \
			tar -C $(DIST) -czf $(DIST)/$$name.tar.gz $$name; \
		fi; \
		rm -rf $(DIST)/$$name; \
	done
	cd $(DIST) && $(SHA256SUM) $$(ls *.tar.gz *.zip 2>/dev/null) > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

# make image: the container image, its binary stamped with the version (the
# Dockerfile's VERSION build argument), tagged bbimport:$(VERSION). Needs a
# Docker engine, which make test does not.
IMAGE ?= bbimport
image:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# staticcheck is a tool of go.mod (`go tool`): it needs only Go and the
# module proxy, and its version is pinned with the module's.
# lint-names: no flag or variable named outside cmd/ (scripts/lint-names.sh).
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) tool staticcheck ./...
	$(GO) mod tidy -diff
	./scripts/lint-names.sh

fmt:
	gofmt -w .

golden:
	$(GO) test ./pkg/importfiles ./pkg/importer -run Golden -update

clean:
	rm -rf $(BIN) $(DIST) demo-out bench-out

demo: build
	./scripts/demo.sh

# make bench: Go benchmarks (short benchtime), then bbbench runs the real
# binary against bbsim on loopback and prints one table (docs/benchmarks.md).
# Not part of make test; takes about 11–15 minutes on 2 cores.
BENCH_PKGS := ./internal/sim ./pkg/bitbucket ./pkg/importer
bench: build
	$(GO) build -o $(BIN)/bbbench ./cmd/bbbench
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 300ms $(BENCH_PKGS)
	$(BIN)/bbbench -bin $(BIN) -out bench-out

# make fuzz: every fuzz target (input files, Bitbucket and Snyk pages) for
# FUZZTIME each; their seeds (f.Add, testdata/fuzz) already run in make test.
FUZZTIME ?= 20s
FUZZ_PKGS := ./pkg/importfiles ./pkg/bitbucket ./pkg/snyk
fuzz:
	@set -e; for pkg in $(FUZZ_PKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done
