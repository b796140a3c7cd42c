# island: build, run and test. Everything is fetched by `go` itself.
GO      ?= go
BIN     := bin/island
ARGS    ?=
PKGS    := ./...
FUZZTIME ?= 20s

.PHONY: build run test test-short test-integration bench fuzz lint clean

build:
	$(GO) build -o $(BIN) ./cmd/island

# The main job: publish content/, run the node and the gateway on 127.0.0.1,
# republish on every change. `make run ARGS=--offline` joins no network.
run: build
	./$(BIN) serve --content content $(ARGS)

test:
	$(GO) test -race -count=1 -timeout 10m $(PKGS)

test-short:
	$(GO) test -short -timeout 5m $(PKGS)

test-integration:
	$(GO) test -race -tags integration -timeout 30m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

# Runs every native fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf bin
