# hanet: Pacemaker OCF resource agents for HA networking.
#
#   make              build static agents into bin/
#   make install      install into $(DESTDIR)$(OCFDIR)
#   make metadata     regenerate metadata/<agent>.xml (OCF 1.0) and <agent>-1.1.xml
#   make test         every test: unit, root/netns, qemu bonding guest, cluster
#   make demo         a 3-node lab cluster with a failover, as root
#   make bench        side-by-side benchmarks against the reference agents

MODULE   := github.com/hanet/hanet
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
AGENTS   := $(notdir $(wildcard cmd/*))
OCFDIR   ?= /usr/lib/ocf/resource.d/hanet
GO       ?= go
GOFLAGS_BUILD := -trimpath -ldflags '-s -w -X $(MODULE)/pkg/version.Version=$(VERSION)'
export CGO_ENABLED := 0

.PHONY: all build install metadata check test test-unit test-root test-vm test-cluster demo bench clean

all: build

build: $(addprefix bin/,$(AGENTS))

bin/%: FORCE
	@mkdir -p bin
	$(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/$*

FORCE:

install: build
	install -d $(DESTDIR)$(OCFDIR)
	for a in $(AGENTS); do install -m 0755 bin/$$a $(DESTDIR)$(OCFDIR)/$$a; done

metadata: build
	@mkdir -p metadata
	for a in $(AGENTS); do \
	  bin/$$a meta-data > metadata/$$a.xml && \
	  OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 bin/$$a meta-data > metadata/$$a-1.1.xml; \
	done

# Static checks CI runs first.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff

# Unit tests and root tests in network namespaces (the host kernel).
test-unit:
	$(GO) test -count=1 ./...

# Black-box tests of the built binaries: netns, ocf-tester, benchmarks' sanity.
test-root: build
	HANET_BIN=$(CURDIR)/bin $(GO) test -count=1 -tags integration -timeout 20m ./tests/...

# The bonding driver in a qemu guest booted from Debian's kernel.
test-vm:
	tests/vm/test

# A real Pacemaker cluster in namespaces.
test-cluster: build
	HANET_BIN=$(CURDIR)/bin tests/cluster/test

test: check build test-unit test-root test-vm test-cluster

demo: build
	HANET_BIN=$(CURDIR)/bin tests/cluster/demo

bench: build
	HANET_BIN=$(CURDIR)/bin tests/bench/run

clean:
	rm -rf bin
