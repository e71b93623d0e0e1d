GO ?= go
BIN := bin

.PHONY: all build test lint fmt golden demo bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN)/bbimport ./cmd/bbimport
	$(GO) build -o $(BIN)/bbsim ./cmd/bbsim

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

lint:
	$(GO) vet ./...
	@gofmt -l . | tee /dev/stderr | (! read)

fmt:
	gofmt -w .

golden:
	$(GO) test ./pkg/importer -run Golden -update

clean:
	rm -rf $(BIN) demo-out bench-out

demo: build
	./scripts/demo.sh

# make bench: Go benchmarks (short benchtime), then bbbench runs the real
# binary against bbsim on loopback and prints one table (docs/benchmarks.md).
# Not part of make test; takes about 3 minutes on 2 cores.
BENCH_PKGS := ./internal/sim ./pkg/bitbucket ./pkg/importer
bench: build
	$(GO) build -o $(BIN)/bbbench ./cmd/bbbench
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 300ms $(BENCH_PKGS)
	$(BIN)/bbbench -bin $(BIN) -out bench-out

# make fuzz: every fuzz target (input files, Bitbucket and Snyk pages) for
# FUZZTIME each; their seeds (f.Add, testdata/fuzz) already run in make test.
FUZZTIME ?= 20s
FUZZ_PKGS := ./pkg/importer ./pkg/bitbucket ./pkg/snyk
fuzz:
	@set -e; for pkg in $(FUZZ_PKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done
