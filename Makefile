# island: build, run and test. Go modules are fetched by `go` itself; the
# browser check's npm packages (testdata/browser) by `make browser-deps`.
GO      ?= go
NPM     ?= npm
BROWSER := testdata/browser
BIN     := bin/island
ARGS    ?=
PKGS    := ./...
FUZZTIME ?= 20s

.PHONY: build run test test-short test-integration bench bench-e2e fuzz lint clean browser-deps sim

build:
	$(GO) build -o $(BIN) ./cmd/island

# The main job: publish content/, run the node and the gateway on 127.0.0.1,
# republish on every change. `make run ARGS=--offline` joins no network.
run: build
	./$(BIN) serve --content content $(ARGS)

# The simulated Internet of islands (internal/sim, docs/scale.md): every
# scenario at N = SIM_N, island's behaviour against Kubo's; the table goes
# to stdout, SVG plots to SIM_OUT. `make sim SIM_ARGS="-n 200 -scenarios
# publish-found"` runs a part of it.
SIM_N    ?= 1000
SIM_OUT  ?= sim-out
SIM_ARGS ?=
sim:
	$(GO) run ./cmd/island-sim -n $(SIM_N) -out $(SIM_OUT) $(SIM_ARGS)

# The simulator's scenario test (a 50-node network, internal/sim) runs in a
# second pass without the race detector, which would cost it minutes; the
# code it drives is raced in its own packages. The copies in third_party
# whose changes island relies on (chroma's lexers, boxo's gateway
# templates) are their own modules: their tests run from their folders.
test: browser-deps
	$(GO) test -race -count=1 -timeout 10m $(PKGS)
	$(GO) test -count=1 -timeout 5m -run '^TestScenarios$$' ./internal/sim
	cd third_party/chromalexers && $(GO) test -race -count=1 ./...
	cd third_party/boxo && $(GO) test -race -count=1 ./gateway/assets/ ./files/

# The browser check's page is bundled at test time from these pinned
# packages (package-lock.json); no install scripts run, so nothing but the
# registry's packages is fetched. Without npm the check is skipped, saying so.
browser-deps: $(BROWSER)/node_modules/.package-lock.json

$(BROWSER)/node_modules/.package-lock.json: $(BROWSER)/package.json $(BROWSER)/package-lock.json
	@if command -v $(NPM) >/dev/null; then \
	  cd $(BROWSER) && $(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error; \
	else \
	  echo "npm not found: the browser check will be skipped (apt-get install npm)"; \
	fi

test-short:
	$(GO) test -short -timeout 5m $(PKGS)

test-integration: browser-deps
	$(GO) test -race -tags integration -timeout 30m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

# What a user runs, through bin/island, beside Kubo and Hugo in the same run
# (KUBO_BIN, HUGO_BIN or on PATH; docs/bench.md says how to build them).
# The gateway rows need wrk, installed from Debian when missing and possible.
BENCH_ARGS ?=
bench-e2e: build
	@if ! command -v wrk >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk not found: the gateway rows are skipped (apt-get install wrk)"; fi; \
	fi
	$(GO) run ./bench/e2e -island $(BIN) $(BENCH_ARGS)

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
