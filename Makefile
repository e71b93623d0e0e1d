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
