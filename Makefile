# `make test` is exactly what .ci/run runs.
.PHONY: test lint fmt bench

test:
	./scripts/install-test-deps
	python3 -m pytest -q -p no:cacheprovider

lint:
	ruff check kanavat tests bench
	ruff format --check kanavat tests bench

fmt:
	ruff format kanavat tests bench
	ruff check --fix kanavat tests bench

bench:
	python3 -m bench --quick
