# cm - forecasting toolchain.  `make` builds lib/libcm.a and bin/cm-*;
# `make check` installs what is missing, builds and runs every test.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wpointer-arith \
	   -Wcast-qual -Wundef -Wvla -Wformat=2
ifneq ($(CI),)
WARN    += -Werror
endif
ifneq ($(WERROR),)
WARN    += -Werror
endif
CPPFLAGS += -D_DEFAULT_SOURCE -Ilib -Icmd
# Every object records the headers it read (-MMD), each also as a target
# of its own (-MP), so a deleted header does not break the build.
DEPFLAGS = -MMD -MP
LDLIBS   = -lcsv -lz -lm -lpthread

# Build-time choice of deflate engine; both write the same zlib format.
# See scripts/bench/stream.sh for the measurement behind the default.
DEFLATE ?= libdeflate
ifeq ($(DEFLATE),libdeflate)
CPPFLAGS += -DCM_LIBDEFLATE
LDLIBS   := -ldeflate $(LDLIBS)
endif

# Objects live under $(B) so that the asan build does not mix with this one.
B       ?= build
BIN     ?= bin
LIBA     = $(B)/libcm.a
SERVEA   = $(B)/libcmserve.a

# The modules of lib/, one folder each (ARCHITECTURE.md); lib/serve/ is
# the HTTP server, a library of its own that only cm-serve links.
# Sorted, for reproducible builds.
LIB_SRC  = $(sort $(filter-out lib/serve/%,$(wildcard lib/*/*.c)))
LIB_OBJ  = $(LIB_SRC:%.c=$(B)/%.o)
SERVE_SRC = $(sort $(wildcard lib/serve/*.c))
SERVE_OBJ = $(SERVE_SRC:%.c=$(B)/%.o)
CLI_OBJ  = $(B)/cmd/cli.o
PROGS    = $(patsubst cmd/%.c,%,$(sort $(wildcard cmd/cm-*.c)))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOLS    = $(B)/tests/cmt-gen $(B)/bench/cmt-bench $(B)/bench/gemm-bench \
	   $(B)/bench/seq-bench $(B)/tests/libcmfault.so
# The fuzz targets (tests/fuzz/): each replays its corpus in make check.
FUZZ_TARGETS = csv time stream model fields zone request history tables
FUZZ_REPLAYS = $(FUZZ_TARGETS:%=$(B)/tests/test_fuzz_%)

.PHONY: all deps check unit asan demo bench install uninstall clean fuzz soak
.SECONDARY:
all: $(LIBA) $(PROGS:%=$(BIN)/%) lib/libcm.a

lib/libcm.a: $(LIBA)
	cp $< $@

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(WARN) $(CFLAGS) $(HOT) -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# The training loops: GCC 12 vectorizes them only at -O3, and sqrtf and
# expf only without errno (measured: the optimizer and activations were
# half of a training step at batch 32 with -O2; the recurrent cells,
# three fifths of an LSTM's).
$(B)/lib/nn/act.o $(B)/lib/nn/optim.o $(B)/lib/nn/loss.o $(B)/lib/nn/dense.o: HOT = -O3 -fno-math-errno
# The cells' exp, sigmoid and tanh (nn/nnexp.h) need vector min, max and
# compares besides, which GCC makes only under these (nnexp.h says what
# they cost).
$(B)/lib/nn/rnn.o: HOT = -O3 -fno-math-errno -fno-trapping-math -ffinite-math-only

$(LIBA): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(SERVEA): $(SERVE_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# Only training grows trees with XGBoost: cm-predict and cm-serve walk
# them with cm's own code (lib/model/forest.c) and do not link it.
$(BIN)/cm-train $(BIN)/cm-tune: LDLIBS := -lxgboost $(LDLIBS)

# Only the server speaks HTTP and JSON.
$(BIN)/cm-serve: $(SERVEA)
$(BIN)/cm-serve: LDLIBS := -lmicrohttpd -ljansson $(LDLIBS)

$(BIN)/%: $(B)/cmd/%.o $(CLI_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter-out $(LIBA),$(filter %.a,$^)) $(LIBA) $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lxgboost $(LDLIBS)

# A fuzz target with the replay driver, its corpus and crashers compiled in.
$(B)/tests/fuzz/replay_%.o: tests/fuzz/replay.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(WARN) $(CFLAGS) -DCORPUS_DIR='"$(CURDIR)/tests/fuzz/corpus/$*"' \
	    -DCRASHERS_DIR='"$(CURDIR)/tests/fuzz/crashers/$*"' -c -o $@ $<

# Every target links the server's library and the model maker; those that
# use neither lose nothing.
FUZZ_LIBS = -lmicrohttpd -ljansson -lxgboost
$(B)/tests/test_fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay_%.o \
		$(B)/tests/fuzz/fuzzmodel.o $(SERVEA) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(FUZZ_LIBS) $(LDLIBS)

# make fuzz [FUZZ_SECONDS=N]: each target under libFuzzer (clang, with
# ASan and UBSan) for N seconds from its corpus; scripts/fuzz reports.
FUZZ_SECONDS ?= 60
FB = build/fuzz
fuzz: deps
	@command -v clang >/dev/null && [ -n "$$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a | grep /)" ] || \
	    { echo "make fuzz: needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	@$(MAKE) -s --no-print-directory B=$(FB) BIN=$(FB)/bin CC=clang \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	    $(FUZZ_TARGETS:%=$(FB)/fuzz-%)
	@FB=$(FB) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz $(FUZZ_TARGETS)

$(B)/fuzz-%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/fuzzmodel.o $(SERVEA) $(LIBA)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(FUZZ_LIBS) $(LDLIBS)

# The fault shim tests/faults.bats preloads (tests/fault/): without the
# sanitizers, whose runtime would have to come before it.
$(B)/tests/libcmfault.so: tests/fault/faultshim.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -fPIC -shared -o $@ $< -ldl -lpthread

$(B)/tests/cmt-gen: $(B)/tests/cmt-gen.o $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/install-deps

unit: $(UNITS) $(TOOLS) $(FUZZ_REPLAYS)

# The summary line `N passed, N failed` comes from scripts/run-tests.
check: deps
	@$(MAKE) -s --no-print-directory all unit
	@B=$(B) BIN=$(BIN) scripts/run-tests

# AddressSanitizer + UndefinedBehaviorSanitizer over the whole suite.
asan: deps
	@$(MAKE) --no-print-directory B=build/asan BIN=build/asan/bin \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" all unit
	@ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1 \
	    B=build/asan BIN=build/asan/bin scripts/run-tests

demo: deps
	@$(MAKE) -s --no-print-directory all unit
	@B=$(B) BIN=$(BIN) scripts/demo

# cm-serve for ten minutes (SOAK_SECONDS) under load, with reloads.
soak: deps
	@$(MAKE) -s --no-print-directory all
	@BIN=$(BIN) scripts/soak

bench: deps
	@$(MAKE) -s --no-print-directory all unit
	@B=$(B) BIN=$(BIN) scripts/bench/run

# bash-completion loads a command's completion from a file of its name.
COMPDIR ?= $(PREFIX)/share/bash-completion/completions

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(COMPDIR)
	for p in $(PROGS); do install -m 644 scripts/completion/cm.bash $(DESTDIR)$(COMPDIR)/$$p; done
	install -m 755 $(PROGS:%=$(BIN)/%) $(DESTDIR)$(BINDIR)
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%) $(PROGS:%=$(DESTDIR)$(COMPDIR)/%)
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man5/%,$(wildcard man/*.5))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))

clean:
	rm -rf build bin lib/libcm.a

# The benchmarks in C (scripts/bench/*-bench.c), each with the library.
$(B)/bench/%-bench: $(B)/scripts/bench/%-bench.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
