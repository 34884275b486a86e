# Set-up and checks.  Needs only python3 (>= 3.10) and make; everything else is
# installed into .venv, which is (re)built whenever pyproject.toml changes.
#
#   make example   show what dockfix would change in examples/Dockerfile
#   make test      run the whole test suite (as root: installs APT_PACKAGES first)
#   make docs      regenerate docs/rules.md and the generated parts of README.md and docs/
#   make bench     speed, memory and scaling, against hadolint (bench/speed.py)
#   make fuzz      fuzz the parser and the engine for FUZZ_SECONDS (default 600)
#   make mutation  mutation testing of the safety modules (slow; not in CI); the
#                  report goes to bench/mutation.md (ARGS: session names)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: example test docs bench fuzz mutation venv clean system-packages

FUZZ_SECONDS ?= 600

example: $(STAMP)
	$(BIN)/dockfix examples/Dockerfile

test: $(STAMP) system-packages
	$(BIN)/python -m pytest -q $(ARGS)

docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py

bench: $(STAMP)
	$(BIN)/python bench/speed.py $(ARGS)

# New inputs go to .fuzz-corpus (kept between runs); a finding to crash-*.
fuzz: $(STAMP)
	mkdir -p .fuzz-corpus
	$(BIN)/python fuzz/fuzz_dockfix.py -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	  -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
	  .fuzz-corpus fuzz/seeds tests/fixtures $(ARGS)

# cosmic-ray lives in its own environment: what it brings (rich, ...) would
# change how the command behaves in .venv.
MUTATION_VENV := .venv-mutation
mutation: $(STAMP)
	@[ -x $(MUTATION_VENV)/bin/cosmic-ray ] || { $(PYTHON) -m venv $(MUTATION_VENV) && \
	  $(MUTATION_VENV)/bin/python -m pip --disable-pip-version-check install -q 'cosmic-ray>=8.3,<9'; }
	$(MUTATION_VENV)/bin/python bench/mutation.py --python $(BIN)/python $(ARGS)

venv: $(STAMP)

# Debian packages that tests drive for real (editors, servers): one list,
# one package a line; append yours.  `make test` as root (CI) installs the
# missing ones; elsewhere it names them, and the tests that need them skip
# (under CI=true they fail instead).
APT_PACKAGES := \
	tmux \
	vim \
	neovim \
	emacs-nox \
	elpa-eglot \
	redis-server

system-packages:
	@command -v dpkg-query >/dev/null || exit 0; \
	missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make: installing" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "make: not installed (their tests skip):" $$missing >&2; \
	fi

# Debian's python3 has no venv module until python3-venv is installed: as
# root (CI), install it; otherwise say what is missing.
$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	    rm -rf $(VENV); \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "make: installing python3-venv"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	      $(PYTHON) -m venv $(VENV); \
	    else \
	      echo "make: '$(PYTHON) -m venv' failed; install python3-venv (Debian/Ubuntu) and retry" >&2; \
	      exit 1; \
	    fi; \
	  }; \
	fi
	$(PIP) install -q -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) build dist .pytest_cache
