# VOSS — see README.md. `make run` starts VOSS on the embedded default; `make test` runs every test.
SWIFT      ?= swift
DESTDIR    ?=
DATA_DIR   ?= $(CURDIR)/.voss-dev
VERSION    := $(shell sed -n 's/.*static let current = "\(.*\)"/\1/p' Sources/VossBase/Version.swift)
RPM_RELEASE ?= 1
RELEASE_FLAGS := -c release --static-swift-stdlib
REL        := .build/release
LINKS      := voss-keeper voss-i18n voss-s3 voss-vip ose

.PHONY: all deps build build-debug run test test-unit test-integration test-e2e test-systemd test-fuzz fuzz bench bench-gossip install rpm clean i18n-check

all: build

deps:
	@scripts/deps.sh build

# The release build: one multi-call binary, with each program name as a link to it.
build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product voss
	@for l in $(LINKS); do ln -sfn voss $(REL)/$$l; done

build-debug: deps
	$(SWIFT) build --build-tests

# Runs the keeper in the foreground with everything under $(DATA_DIR) (Ctrl-C stops it).
# In another shell: export VOSS_HOME=$(DATA_DIR); $(REL)/ose service show
run: build
	@echo "VOSS: data in $(DATA_DIR); in another shell: export VOSS_HOME=$(DATA_DIR) PATH=$(CURDIR)/$(REL):\$$PATH; ose service show"
	exec $(REL)/voss-keeper --dev --data-dir $(DATA_DIR)

# Each stage says how long it took (CI's time budget is spent where these lines say). The unit and
# integration tests use the debug build (the integration tests start its test worker); the end-to-end
# and systemd tests use the release build, the binary that ships (and serves the e2e suites faster).
test: build-debug
	@scripts/deps.sh test
	@for t in test-unit test-fuzz build test-integration test-e2e test-systemd; do \
		s=$$(date +%s); $(MAKE) $$t || exit 1; echo "== make $$t: $$(( $$(date +%s) - s )) s"; done

test-unit:
	$(SWIFT) test --skip-build
	.build/debug/voss-fuzz replay Fuzz/corpus

# The network parsers under libFuzzer: each target for FUZZ_SECONDS (make fuzz: 60 s each, release build;
# make test: 8 s each on a debug build, so a trap that comes back is caught without lengthening CI).
# Builds in .build-fuzz with -sanitize=fuzzer,address.
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

test-fuzz:
	FUZZ_CONFIG=debug scripts/fuzz.sh 8

# Real processes on loopback; then the virtual address moving between nodes in network namespaces
# (root and `ip netns`; skipped, saying why, elsewhere).
test-integration:
	python3 -m pytest -q Tests/integration
	python3 -m pytest -q -rs Tests/netns

# S3 end to end: boto3, AWS CLI, rclone, s3cmd against the gateway under a real keeper; crash test.
# The whole suite on the embedded store and on PostgreSQL (a server of its own in a temp dir); on a
# real Ceph RGW the files whose tests move object bytes (access rules, policies, ACLs, protocol
# hardening do not depend on where bytes live; the vendor platforms need this session); then ose db /
# ose migration / failover against real PostgreSQL servers.
E2E_ENV := VOSS_BIN_DIR=$(CURDIR)/$(REL)
RGW_E2E := buckets_objects checksums_listing crash encryption lifecycle multipart object_lock platforms \
	post_object s3_details tools vendor_platforms versioning
# Two suites at a time (scripts/parallel.sh: each keeps about two thirds of a core busy, the rest is
# waiting on the processes it starts); each has its own keeper, ports and database server.
test-e2e: build
	@scripts/parallel.sh "sqlite=$(E2E_ENV) python3 -m pytest -q Tests/e2e" \
		"postgres=$(E2E_ENV) VOSS_TEST_DB=postgres python3 -m pytest -q Tests/e2e"
	@scripts/parallel.sh "rgw=$(E2E_ENV) VOSS_TEST_PLATFORM=rgw python3 -m pytest -q $(patsubst %,Tests/e2e/test_%.py,$(RGW_E2E))" \
		"postgres-servers=$(E2E_ENV) python3 -m pytest -q -s Tests/postgres"

# The RPM in a container booting this machine's systemd (root + systemd-nspawn; skipped, saying so,
# where the machine cannot run it).
test-systemd: rpm
	@scripts/systemd-e2e.sh voss-$(VERSION)-$(RPM_RELEASE).el7.x86_64.rpm; rc=$$?; \
	if [ $$rc = 77 ]; then echo "(systemd end-to-end test skipped on this machine, see above)"; \
	elif [ $$rc != 0 ]; then exit $$rc; fi

i18n-check:
	scripts/i18n-sync

bench: build
	@scripts/deps.sh bench
	$(SWIFT) build $(RELEASE_FLAGS) --product voss-test-worker
	@scripts/deps.sh test
	python3 scripts/bench/supervise.py --bin $(REL)
	python3 scripts/bench/s3.py --bin $(REL)
	python3 scripts/bench/listing.py --bin $(REL)
	python3 scripts/bench/vip.py --bin $(REL)
	python3 scripts/bench/upstream.py --bin $(REL)

# Gossip: propagation of a setting, failure detection and idle cost for 5, 10, 25 and 50 keepers.
bench-gossip: build
	python3 scripts/bench/gossip.py --bin $(REL)

install: build
	install -d $(DESTDIR)/usr/libexec/voss $(DESTDIR)/usr/bin $(DESTDIR)/usr/lib/systemd/system \
		$(DESTDIR)/etc/voss $(DESTDIR)/usr/share/doc/voss $(DESTDIR)/var/lib/voss $(DESTDIR)/var/log/voss
	install -s -m 0755 $(REL)/voss $(DESTDIR)/usr/libexec/voss/voss
	ln -sfn voss $(DESTDIR)/usr/libexec/voss/voss-keeper
	ln -sfn voss $(DESTDIR)/usr/libexec/voss/voss-i18n
	ln -sfn voss $(DESTDIR)/usr/libexec/voss/voss-s3
	ln -sfn voss $(DESTDIR)/usr/libexec/voss/voss-vip
	ln -sfn ../libexec/voss/voss $(DESTDIR)/usr/bin/ose
	install -m 0644 systemd/voss-keeper.service $(DESTDIR)/usr/lib/systemd/system/voss-keeper.service
	cp -R etc/voss/i18n $(DESTDIR)/etc/voss/
	install -d $(DESTDIR)/usr/share/voss/portal
	cp -R portal/. $(DESTDIR)/usr/share/voss/portal/
	install -m 0644 README.md $(DESTDIR)/usr/share/doc/voss/README.md
	cp -R docs/. $(DESTDIR)/usr/share/doc/voss/

# voss-VERSION-RELEASE.el7.x86_64.rpm in the current directory.
rpm: deps
	@scripts/deps.sh rpm
	rm -rf rpmbuild
	$(MAKE) install DESTDIR=$(CURDIR)/rpmbuild/stage
	rpmbuild -bb --quiet --define "_topdir $(CURDIR)/rpmbuild" --define "stage $(CURDIR)/rpmbuild/stage" \
		--define "voss_version $(VERSION)" --define "voss_release $(RPM_RELEASE)" --define "dist .el7" \
		--target x86_64 rpm/voss.spec
	cp rpmbuild/RPMS/x86_64/voss-$(VERSION)-$(RPM_RELEASE).el7.x86_64.rpm .
	@ls -la voss-$(VERSION)-$(RPM_RELEASE).el7.x86_64.rpm

clean:
	rm -rf .build .build-fuzz rpmbuild *.rpm
