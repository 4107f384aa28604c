# `make test` is exactly what .ci/run runs.
.PHONY: demo test lint fmt bench

# The README's first command: Debian packages, kanavat with the trial speech models, the demo.
demo:
	./scripts/install-deps speech
	python3 -m kanavat demo

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
