# hanet: Pacemaker OCF resource agents for HA networking.
#
#   make              build static agents into bin/
#   make install      install into $(DESTDIR)$(OCFDIR)
#   make metadata     regenerate metadata/<agent>.xml (OCF 1.0) and <agent>-1.1.xml
#   make test         every test: unit, root/netns, qemu bonding guest, cluster (as root)
#   make demo         a 3-node lab cluster with a failover, as root
#   make bench        side-by-side benchmarks against the reference agents

MODULE   := github.com/hanet/hanet
VERSION  ?= $(shell git describe --tags 2>/dev/null || echo 0.1.0-dev)
AGENTS   := $(notdir $(wildcard cmd/*))
OCFDIR   ?= /usr/lib/ocf/resource.d/hanet
GO       ?= go
SHELL    := /bin/bash
.SHELLFLAGS := -o pipefail -ec
TESTSUM  := $(GO) run ./tests/tools/testsum
# -gcflags=all=-l (no inlining) keeps each static agent under 3 MB (it saves
# ~120 KB, ~4 %); the agents are one exec and a few netlink requests, so
# inlining buys nothing measurable (see docs/PERFORMANCE.md).
GOFLAGS_BUILD := -trimpath -gcflags=all=-l -ldflags '-s -w -X $(MODULE)/pkg/version.Version=$(VERSION)'
MAXSIZE  := 3000000
export CGO_ENABLED := 0

.PHONY: size all build install metadata docs deps check test test-go test-cluster demo chaos bench clean

all: build

build: $(addprefix bin/,$(AGENTS))

bin/%: FORCE
	@mkdir -p bin
	$(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/$*

FORCE:

# Each agent binary must be static and at most 3 MB.
size: build
	@for a in $(AGENTS); do \
	  s=$$(stat -c %s bin/$$a); file bin/$$a | grep -q 'statically linked' || { echo "bin/$$a is not static"; exit 1; }; \
	  if [ $$s -gt $(MAXSIZE) ]; then echo "bin/$$a: $$s bytes > $(MAXSIZE)"; exit 1; fi; \
	  echo "bin/$$a: $$s bytes, static"; \
	done

install: build
	install -d $(DESTDIR)$(OCFDIR)
	for a in $(AGENTS); do install -m 0755 bin/$$a $(DESTDIR)$(OCFDIR)/$$a; done

metadata: build
	@mkdir -p metadata
	for a in $(AGENTS); do \
	  bin/$$a meta-data > metadata/$$a.xml && \
	  OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 bin/$$a meta-data > metadata/$$a-1.1.xml; \
	done

# Debian packages for tests, demo and benchmarks (installed when missing).
deps:
	tests/deps

# README parameter tables from the agents' tables.
docs:
	$(GO) run ./tests/tools/readme

# Static checks CI runs first.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GO) run ./tests/tools/readme -check

# Unit tests; root tests in network namespaces on the host kernel (agents
# run as built binaries, ocf-tester); and the guest suites (files tagged
# vmtest), which testutil.RunGuestSuite boots in the qemu bonding lab.
test-go: build
	HANET_BIN=$(CURDIR)/bin $(GO) test -json -count=1 -tags integration -timeout 20m ./... | $(TESTSUM)

# A real Pacemaker cluster in namespaces.
test-cluster: build
	HANET_BIN=$(CURDIR)/bin tests/cluster/test

test: deps check build size test-go test-cluster

demo: deps build
	HANET_BIN=$(CURDIR)/bin tests/cluster/demo

# 30+ random faults (link cuts, power-offs, corosync kills) against a VIP
# with a client and an ARP capture: never two MACs for the VIP. ~3.5 min.
chaos: deps build
	HANET_BIN=$(CURDIR)/bin tests/cluster/chaos

bench: deps build
	HANET_BIN=$(CURDIR)/bin tests/bench/run

clean:
	rm -rf bin
