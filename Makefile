# doudi — the two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
JOBS ?= 2
DB ?= var/doudi.db
LISTEN ?= 127.0.0.1:8080

WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json web/vite.config.ts

.PHONY: all deps build server web data run test unit clean bench
all: build

deps:
	@scripts/install-deps.sh

build: deps server data web

server:
	@cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > build.cmake.log 2>&1 || { cat build.cmake.log; exit 1; }
	@cmake --build build -j $(JOBS)

data: build/data/regions.csv
build/data/regions.csv: tools/gen-data.mjs package-lock.json
	@node tools/gen-data.mjs build/data

web: web/dist/index.html
web/dist/index.html: $(WEB_SOURCES)
	@cd web && npm run build

run: build
	@scripts/run.sh "$(DB)" "$(LISTEN)"

test: build
	@tests/run.sh

unit: server
	@ctest --test-dir build --output-on-failure

bench: build
	@cmake --build build -j $(JOBS) --target seed_registry bench_policy_eval
	@build/bench_policy_eval 1000000 370725 1
	@bench/api/run.sh
	@bench/monitoring/run.sh

clean:
	rm -rf build web/dist build.cmake.log
