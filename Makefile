# Build, test, lint, bench. Every target runs on the project's own Node 24 (node_modules/.bin).
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: all install build test lint bench bench-readme reliability release test-release test-deployment deployment-up clean
all: build

install:
	npm ci

build:
	npm run build

test:
	npm test

lint:
	npm run lint

# The real-deployment figures use the shared deployment when its env.sh is there (`make deployment-up`).
bench: build
	BENCH_DEPLOYMENT_ENV=$${BENCH_DEPLOYMENT_ENV:-$${TC_STATE:-/opt/tc-state}/env.sh} node dist/bench/run.js

# README.md's performance table, from bench/results.json (and any more results files: ranges).
bench-readme: build
	node dist/bench/readme-table.js bench/results.json

# Faults, cancellations, crashes and bad input; prints the seed (MEGALODON_SEED=N replays a run).
reliability:
	npm run reliability

# megalodon-<version>-linux-<arch>.tar.gz: Node 24, the bundled code, node-pty built for it (README: "The release").
release: build
	node dist/release/build.js

# Builds the tarball into a temporary directory, unpacks it and runs it with no Node on PATH.
test-release:
	npm run test:release

# The end-to-end suite against a real Taskcluster deployment named by the environment
# (README: "Testing against a real deployment"); `make deployment-up` starts the shared one.
test-deployment:
	npm run test:deployment

deployment-up:
	bash test/helpers/deployment-up.sh

clean:
	rm -rf dist megalodon-*.tar.gz
