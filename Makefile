# Gatekeeper: build, test and demo.
#
#   make            build every module into build/mod_gk_<name>.so
#   make test       unit tests, fuzz corpus replay, integration tests (pytest)
#   make check-asan the same three under ASan+UBSan, built into build-asan/
#   make demo       start a local gateway on 127.0.0.1 with a walk-through
#   make install    install through apxs plus Debian .load/.conf files
#   make bench      side-by-side throughput and instruction counts (bench/)
#
# A module is any directory mod_gk_<name>/ holding mod_gk_<name>.c; adding a
# module is adding its directory.  Every .c file in it is linked into the
# module together with build/libgkap.a and build/libgkcommon.a.  What else a
# module needs it says in mod_gk_<name>/module.mk:
#
#   GK_LIBS_<name>    := -ljansson -lcrypto      the libraries it links
#   GK_DEPENDS_<name> := authn_core authz_core   httpd modules it needs
#                                                (the .load file's Depends)
#
# A module without module.mk links $(LIBS) and depends on nothing.

APXS     ?= apxs
PYTHON   ?= /usr/bin/python3
CC       ?= cc

# SANITIZE=1 (set by `make check-asan`) builds with ASan and UBSan.  A
# sanitized module only loads with the runtimes preloaded, so its build
# directory is never build/.
ASAN_BUILD := build-asan
ifeq ($(SANITIZE),1)
BUILD    ?= $(ASAN_BUILD)
ifeq ($(patsubst %/,%,$(BUILD)),build)
$(error SANITIZE=1 must not build into build/: use BUILD=$(ASAN_BUILD))
endif
else
BUILD    ?= build
endif

# Debian packages the build, the tests and the demo need (chromium: the
# CORS test in a real browser, tests/integration/test_headers_cors_browser.py;
# json-schema-test-suite: mod_gk_validate's conformance suite, draft 7).
DEB_PKGS := apache2 apache2-dev libssl-dev libjansson-dev libjwt-dev \
            libmemcached-dev memcached check pkg-config curl \
            python3-pytest python3-requests python3-jwt python3-cryptography \
            libpsl-dev publicsuffix chromium libpcre2-dev json-schema-test-suite

HAVE_APXS := $(shell command -v $(APXS) 2>/dev/null)
ifneq ($(HAVE_APXS),)
AP_INCLUDE    := $(shell $(APXS) -q INCLUDEDIR)
APR_INCLUDE   := $(shell $(APXS) -q APR_INCLUDEDIR)
APU_INCLUDE   := $(shell $(APXS) -q APU_INCLUDEDIR)
AP_CPPFLAGS   := $(shell $(APXS) -q EXTRA_CPPFLAGS)
AP_LIBEXECDIR := $(shell $(APXS) -q LIBEXECDIR)
AP_SYSCONFDIR := $(shell $(APXS) -q SYSCONFDIR)
endif

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wno-unused-parameter
ifeq ($(CI),true)
WARN     += -Werror
endif
OPT      ?= -O2 -g
CFLAGS_COMMON := $(OPT) -pipe -fPIC -fstack-protector-strong $(WARN) \
                 -I$(APR_INCLUDE) -I$(APU_INCLUDE) $(AP_CPPFLAGS) -Icommon
LIBS     := -ljansson -ljwt -lmemcachedutil -lmemcached -lcrypto -lpthread -lpsl \
            -lpcre2-8

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
CFLAGS_COMMON += $(SAN_FLAGS)
# apxs: -Wc for the compiler, -Wl for libtool's link (it passes -fsanitize=*)
APXS_SAN := -Wc,"$(SAN_FLAGS)" -Wl,"$(SAN_FLAGS)"
endif
# The runtimes' settings for the sanitized unit tests and corpus replay;
# the integration harness sets its own for apache2 (GK_SANITIZE=1).
ASAN_TEST_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

MODULES      := $(patsubst %/,%,$(sort $(dir $(wildcard mod_gk_*/mod_gk_*.c))))
-include $(wildcard mod_gk_*/module.mk)
# The libraries of module <name>: its GK_LIBS_<name> when module.mk sets
# one (even to nothing), else $(LIBS).
gk_libs = $(if $(filter undefined,$(origin GK_LIBS_$(1))),$(LIBS),$(GK_LIBS_$(1)))
MODULE_SOS   := $(patsubst mod_gk_%,$(BUILD)/mod_gk_%.so,$(MODULES))
COMMON_SRCS  := $(wildcard common/*.c)
COMMON_OBJS  := $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRCS))
COMMON_HDRS  := $(wildcard common/*.h)
AP_SRCS      := $(wildcard common/ap/*.c)
AP_OBJS      := $(patsubst common/ap/%.c,$(BUILD)/common/ap/%.o,$(AP_SRCS))
AP_HDRS      := $(wildcard common/ap/*.h)
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
UNIT_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/%,$(FUZZ_SRCS))

.PHONY: all deps test check-unit check-fuzz check-integration check-asan demo \
        install bench bench-verify bench-rand bench-sign bench-json clean format
all: $(MODULE_SOS)

# Install the Debian packages that are missing (root on Debian/Ubuntu).
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	        || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "run as root, or install:$$missing" >&2; exit 1; fi; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# ---- common/: one static PIC archive with hidden visibility -------------
$(BUILD)/common/%.o: common/%.c $(COMMON_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -fvisibility=hidden -c $< -o $@

$(BUILD)/libgkcommon.a: $(COMMON_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# ---- common/ap/: the httpd-side layer, a second hidden archive ------------
$(BUILD)/common/ap/%.o: common/ap/%.c $(AP_HDRS) $(COMMON_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -I$(AP_INCLUDE) -Icommon/ap -fvisibility=hidden \
	    -c $< -o $@

$(BUILD)/libgkap.a: $(AP_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# ---- modules: linked through apxs, exporting only gk_<name>_module ------
.SECONDEXPANSION:
$(BUILD)/mod_gk_%.so: $$(wildcard mod_gk_$$*/*.c) $$(wildcard mod_gk_$$*/*.h) \
                      $(BUILD)/libgkap.a $(BUILD)/libgkcommon.a
	@mkdir -p $(BUILD)/obj/mod_gk_$*
	cp mod_gk_$*/*.c mod_gk_$*/*.h $(BUILD)/obj/mod_gk_$*/ 2>/dev/null || cp mod_gk_$*/*.c $(BUILD)/obj/mod_gk_$*/
	cd $(BUILD)/obj/mod_gk_$* && $(APXS) -c -o mod_gk_$*.la \
	    -Wc,"$(WARN)" $(APXS_SAN) -I$(CURDIR)/common -I$(CURDIR)/common/ap \
	    -I$(CURDIR)/mod_gk_$* \
	    -Wl,-export-symbols-regex -Wl,'^gk_$*_module$$' \
	    $(notdir $(wildcard mod_gk_$*/*.c)) $(CURDIR)/$(BUILD)/libgkap.a \
	    $(CURDIR)/$(BUILD)/libgkcommon.a \
	    $(call gk_libs,$*) >build.log 2>&1 || { cat build.log; exit 1; }
	@grep -E -A3 ': (warning|error):' $(BUILD)/obj/mod_gk_$*/build.log || true
	cp $(BUILD)/obj/mod_gk_$*/.libs/mod_gk_$*.so $@.tmp && mv -f $@.tmp $@

# ---- tests ---------------------------------------------------------------
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/gk_test.h \
                      tests/unit/gk_test_core.h $(BUILD)/libgkcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -Itests/unit $< -o $@ $(BUILD)/libgkcommon.a \
	    $$(pkg-config --libs check) -lapr-1 -laprutil-1 $(LIBS)

$(BUILD)/tests/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libgkcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $< tests/fuzz/replay.c -o $@ $(BUILD)/libgkcommon.a \
	    -lapr-1 -laprutil-1 $(LIBS)

check-unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
	    CK_TAP_LOG_FILE_NAME=- $$t || fail=1; done; exit $$fail

check-fuzz: $(FUZZ_BINS)
	@fail=0; for t in $(FUZZ_BINS); do n=$${t##*/fuzz_}; \
	    $$t tests/fuzz/corpus/$$n || fail=1; done; exit $$fail

# A test-only module that consumes the suite's optional functions as
# another module would (tests/integration/probe/); never installed.
$(BUILD)/tests/mod_gkprobe.so: tests/integration/probe/mod_gkprobe.c
	@mkdir -p $(BUILD)/obj/probe $(dir $@)
	cp $< $(BUILD)/obj/probe/
	cd $(BUILD)/obj/probe && $(APXS) -c -o mod_gkprobe.la -Wc,"$(WARN)" \
	    $(APXS_SAN) mod_gkprobe.c >build.log 2>&1 || { cat build.log; exit 1; }
	cp $(BUILD)/obj/probe/.libs/mod_gkprobe.so $@.tmp && mv -f $@.tmp $@

check-integration: all $(BUILD)/tests/mod_gkprobe.so
	cd tests/integration && $(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test: deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory check-unit
	$(MAKE) --no-print-directory check-fuzz
	$(MAKE) --no-print-directory check-integration

# The same three, sanitized, into build-asan/: unit tests with leak
# detection, the corpus replay, and the integration suite on the event MPM
# with the runtimes preloaded into apache2 by the harness (GK_SANITIZE=1),
# in its own generated tree.
ASAN_VARS := --no-print-directory SANITIZE=1 BUILD=$(ASAN_BUILD)
check-asan: deps
	$(MAKE) $(ASAN_VARS) all
	$(ASAN_TEST_ENV) $(MAKE) $(ASAN_VARS) check-unit
	$(ASAN_TEST_ENV) $(MAKE) $(ASAN_VARS) check-fuzz
	GK_SANITIZE=1 GK_BUILD_DIR=$(CURDIR)/$(ASAN_BUILD) \
	    GK_GEN_DIR=$(CURDIR)/tests/integration/gen-asan \
	    $(MAKE) $(ASAN_VARS) check-integration PYTEST_ARGS="--mpm=event $(PYTEST_ARGS)"

demo: deps
	$(MAKE) --no-print-directory all
	$(PYTHON) docs/demo/demo.py

bench: deps all
	bench/run

$(BUILD)/bench/verify_bench: bench/verify_bench.c $(BUILD)/libgkcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $< -o $@ $(BUILD)/libgkcommon.a -lapr-1 $(LIBS)

bench-verify: $(BUILD)/bench/verify_bench
	$(BUILD)/bench/verify_bench

# Instructions per call (callgrind) of the random source and identifiers.
$(BUILD)/bench/rand_bench: bench/rand_bench.c $(BUILD)/libgkcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $< -o $@ $(BUILD)/libgkcommon.a -lapr-1 $(LIBS)

bench-rand: $(BUILD)/bench/rand_bench
	$(BUILD)/bench/rand_bench

# A whole token (claims, jti, base64url, signature) against EVP_DigestSign
# alone, per algorithm (issue 13's target: within 1.3 times).
$(BUILD)/bench/sign_bench: bench/sign_bench.c $(BUILD)/libgkcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $< -o $@ $(BUILD)/libgkcommon.a -lapr-1 $(LIBS)

bench-sign: $(BUILD)/bench/sign_bench
	$(BUILD)/bench/sign_bench

# A standalone json_loadb of each body of bench/validate/, and json_loadb
# with gk_schema_validate against the seed's UserCreate schema (issue 15's
# yardstick: a validated request adds at most 1.3 times the parse).
$(BUILD)/bench/json_bench: bench/json_bench.c $(BUILD)/libgkcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $< -o $@ $(BUILD)/libgkcommon.a -lapr-1 $(LIBS)

bench-json: $(BUILD)/bench/json_bench
	$(BUILD)/bench/json_bench

install: $(patsubst mod_gk_%,install-gk_%,$(MODULES))

# One module: the .so through apxs, and on Debian its .load file (with the
# module's own Depends line) and its .conf.  (A pattern rule: not .PHONY,
# which would skip it.)
install-gk_%: all
	mkdir -p $(DESTDIR)$(AP_LIBEXECDIR)
	$(APXS) -S LIBEXECDIR=$(DESTDIR)$(AP_LIBEXECDIR) -i -n gk_$* \
	    $(BUILD)/mod_gk_$*.so
	@if [ -d $(AP_SYSCONFDIR)/mods-available ]; then \
	    d=$(DESTDIR)$(AP_SYSCONFDIR)/mods-available; mkdir -p $$d; \
	    { $(if $(strip $(GK_DEPENDS_$*)),echo "# Depends: $(strip $(GK_DEPENDS_$*))";) \
	      echo "LoadModule gk_$*_module $(AP_LIBEXECDIR)/mod_gk_$*.so"; \
	    } > $$d/gk_$*.load; \
	    if [ -f mod_gk_$*/gk_$*.conf ]; then \
	        install -m 0644 mod_gk_$*/gk_$*.conf $$d/gk_$*.conf; fi; \
	    echo "installed $$d/gk_$*.load: enable with a2enmod gk_$*"; \
	fi

format:
	clang-format -i common/*.[ch] common/ap/*.[ch] mod_gk_*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
