# The README's commands. `make run` and `make test` work from a fresh clone: they create the virtual
# environment and install what they need.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test system-deps kafka-jars pubsub-server gcs-server hdfs-jars test-python test-js lint typecheck tracker bench kafka clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: start the collector (embedded default: http://127.0.0.1:8290/, files under ./data). ARGS=... passes options.
run: $(STAMP)
	$(VENV)/bin/divolte-collector $(ARGS)

## test: the whole set-up, then lint, format and type checks and every test (Python unit + integration with branch
## coverage of collector/, tracker tests in Node.js). Set-up: system packages (system-deps), the Kafka broker's jars,
## npm packages, the virtual environment; each step does nothing when already done.
test: system-deps kafka-jars pubsub-server gcs-server hdfs-jars node_modules/.package-lock.json $(STAMP) lint typecheck test-python test-js

## system-deps: Chromium, a JDK and Maven, Node.js and npm (apt-get as root; otherwise prints the command to run).
system-deps:
	@PYTHON=$(PYTHON) .ci/system-deps

## kafka-jars: the Kafka broker's jars from Maven Central into .cache/kafka (once; Maven's own cache makes it quick).
kafka-jars: system-deps
	@$(PYTHON) tests/servers/kafka/broker.py fetch

## pubsub-server: build the Pub/Sub test server (Google's pstest in tests/servers/pubsub) into .cache/go (once; Go).
pubsub-server: system-deps
	@$(PYTHON) tests/servers/pubsub/server.py fetch

## gcs-server: build the Cloud Storage emulator (fake-gcs-server, Go) into .cache/go/bin (once; 3-5 min cold).
gcs-server:
	@$(PYTHON) tests/servers/gcs/server.py fetch

## hdfs-jars: Hadoop's MiniDFSCluster and HttpFS gateway jars from Maven Central into .cache/hdfs, and its small main compiled (once).
hdfs-jars: system-deps
	@$(PYTHON) tests/servers/hdfs/cluster.py fetch

test-python: $(STAMP)
	$(PY) -m pytest -q --cov=collector --cov-branch --cov-report=term:skip-covered

node_modules/.package-lock.json: package-lock.json | system-deps
	npm ci --no-audit --no-fund --silent

## test-js: the tracker's tests in Node.js, and a check that the committed build matches static/divolte.js.
test-js: node_modules/.package-lock.json
	node static/build.mjs --check
	node --test tests/js/

lint: $(STAMP)
	$(VENV)/bin/ruff check collector tests benchmarks mappings
	$(VENV)/bin/ruff format --check collector tests benchmarks mappings

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## bench: throughput and latency against nginx and an empty ASGI app (wrk + nginx from apt; ~7 min).
## BENCH_ARGS=--quick for a 2-minute smoke run; --soak 5, --kafka HOST:PORT: see benchmarks/bench.py.
bench: $(VENV)/.bench-stamp
	$(PY) -m benchmarks.bench $(BENCH_ARGS)

$(VENV)/.bench-stamp: $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

## kafka: a Kafka 4.x broker (KRaft) on 127.0.0.1:9092 with topic `divolte` (3 partitions), until Ctrl-C.
kafka: $(STAMP)
	$(PY) -m tests.servers.kafka.broker run --port 9092 --topic divolte:3

## tracker: rebuild collector/resources/divolte.min.js from static/divolte.js (needs npm).
tracker: node_modules/.package-lock.json
	node static/build.mjs

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .coverage
