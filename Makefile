# SPDX-License-Identifier: GPL-2.0
# racewatch build. Everything generated goes under build/.

# SANITIZE=1: ASan + UBSan. ASan cannot link statically, so that build is
# dynamic and lives in its own directory: its objects never mix with the
# static build's. tests/run.sh takes the binaries from RW_BUILD. clang,
# because gcc 12's libubsan ignores UBSAN_OPTIONS=log_path, and the tests
# find reports by their files.
ifeq ($(SANITIZE),1)
OUT      := build/sanitize
CC       := clang
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSTATIC :=
else
OUT      := build
SANFLAGS :=
LDSTATIC := -static
endif
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -std=gnu11 -Iinclude -I$(OUT)
CFLAGS   += $(SANFLAGS)

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	      -idirafter /usr/include/$(shell $(CC) -print-multiarch) \
	      -Wall -Wno-unused-function -Wno-compare-distinct-pointer-types

TOOLS := $(OUT)/racegen $(OUT)/racematch $(OUT)/contend $(OUT)/rolegen
SRCS  := $(wildcard src/*.c)
OBJS  := $(patsubst src/%.c,$(OUT)/obj/%.o,$(SRCS))
# Static (except with SANITIZE=1), so that one binary drops into a qemu
# guest or onto another host.
LIBS  := -lbpf -lelf -lz -lzstd -pthread

.PHONY: all tools clean deps test-deps run check fuzz fuzz-seeds bench install uninstall
all: $(OUT)/racewatch tools

# `sudo make run` and `make check` work on a fresh Debian 12: they install
# what is missing first.
deps:
	@tools/install-deps.sh build

test-deps:
	@tools/install-deps.sh test

# Arguments for racewatch: sudo make run ARGS="--stacks -v"
run: deps
	$(MAKE) $(OUT)/racewatch
	@mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	$(OUT)/racewatch $(ARGS)

# make install [PREFIX=/usr/local] [DESTDIR=]: racewatch in sbin (it needs
# root or CAP_BPF+CAP_PERFMON), its man page in man8.
PREFIX ?= /usr/local
install: $(OUT)/racewatch
	install -D -m 0755 $(OUT)/racewatch $(DESTDIR)$(PREFIX)/sbin/racewatch
	install -D -m 0644 src/racewatch.8 $(DESTDIR)$(PREFIX)/share/man/man8/racewatch.8

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/racewatch $(DESTDIR)$(PREFIX)/share/man/man8/racewatch.8

# The fuzz target is built only where clang's libFuzzer runtime exists;
# elsewhere the fuzz layer says SKIP with the reason.
check: test-deps
	$(MAKE) all $(OUT)/unit-tests
	@if tests/fuzz/have-libfuzzer.sh; then $(MAKE) fuzz; fi
	RW_BUILD=$(OUT) RW_SANITIZE=$(SANITIZE) tests/run.sh

$(OUT)/obj:
	mkdir -p $@

$(OUT)/obj/%.o: src/%.c $(wildcard src/*.h) include/racewatch.h $(OUT)/racewatch.skel.h | $(OUT)/obj
	$(CC) $(CFLAGS) -Isrc -c $< -o $@

$(OUT)/racewatch: $(OBJS)
	$(CC) $(CFLAGS) $(LDSTATIC) -o $@ $^ $(LIBS)

tools: $(TOOLS)

$(OUT):
	mkdir -p $@

$(OUT)/racewatch.bpf.o: bpf/racewatch.bpf.c $(wildcard bpf/*.h) include/racewatch.h include/op_range.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/racewatch.skel.h: $(OUT)/racewatch.bpf.o
	$(BPFTOOL) gen skeleton $< name racewatch_bpf > $@

# src/devmap.c: the superblock device racewatch keys on (btrfs subvolumes).
$(OUT)/racegen: $(wildcard tools/racegen/*.c tools/racegen/*.h) src/devmap.c src/devmap.h | $(OUT)
	$(CC) $(CFLAGS) -Isrc $(LDSTATIC) -pthread -o $@ $(filter %.c,$^)

$(OUT)/racematch: tools/racematch.c tools/ndjson.c | $(OUT)
	$(CC) $(CFLAGS) -Itools $(LDSTATIC) -o $@ $^

# Same-file contention load for tests/workloads: counts every call it makes.
$(OUT)/contend: tools/contend.c | $(OUT)
	$(CC) $(CFLAGS) $(LDSTATIC) -pthread -o $@ $<

# One task's fixed sequence of every watched operation, for the role matrix.
$(OUT)/rolegen: tools/rolegen.c | $(OUT)
	$(CC) $(CFLAGS) $(LDSTATIC) -o $@ $<

UNIT_SRCS := $(wildcard tests/unit/*.c)
# The pure userspace logic; no BPF, no root. libbpf only for its BTF
# reader and writer (src/modbtf.c, tests/unit/test_modbtf.c).
UNIT_OBJS := $(filter-out $(OUT)/obj/main.o $(OUT)/obj/attach.o $(OUT)/obj/probe.o $(OUT)/obj/expire.o \
	       $(OUT)/obj/version.o,$(OBJS))

$(OUT)/unit-tests: $(UNIT_SRCS) $(UNIT_OBJS) $(wildcard tests/unit/*.h)
	$(CC) $(CFLAGS) -Isrc -Itests/unit -o $@ $(UNIT_SRCS) $(UNIT_OBJS) $(LIBS)

# libFuzzer target: always clang with ASan+UBSan, whatever SANITIZE says,
# so it has a directory of its own.
FUZZ_OUT    := build/fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
	       -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter \
	       -Wno-missing-field-initializers -std=gnu11 -Iinclude -Isrc -Itests/fuzz
# The records' consumers: decoder, verdict engine and rules, the report sink.
FUZZ_SRCS   := src/errname.c src/events.c src/engine.c src/hash.c src/heap.c src/verdict.c src/report.c \
	       src/escape.c src/ksyms.c src/plan.c src/testtag.c src/perfetto.c
FUZZ_HDRS   := $(wildcard src/*.h tests/fuzz/*.h) include/racewatch.h

fuzz: $(FUZZ_OUT)/fuzz_records $(FUZZ_OUT)/mkseeds

$(FUZZ_OUT)/fuzz_records: tests/fuzz/fuzz_records.c $(FUZZ_SRCS) $(FUZZ_HDRS)
	@mkdir -p $(FUZZ_OUT)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_records.c $(FUZZ_SRCS)

# Writes the seed corpus from the record layouts of include/racewatch.h.
$(FUZZ_OUT)/mkseeds: tests/fuzz/mkseeds.c $(FUZZ_HDRS)
	@mkdir -p $(FUZZ_OUT)
	$(CC) -O2 -g -Wall -Wextra -std=gnu11 -Iinclude -Isrc -Itests/fuzz -o $@ tests/fuzz/mkseeds.c

# Regenerate tests/fuzz/corpus/ after a change to the record layouts.
fuzz-seeds: $(FUZZ_OUT)/mkseeds
	rm -f tests/fuzz/corpus/*
	$(FUZZ_OUT)/mkseeds tests/fuzz/corpus

# Benchmarks, not part of make check: bench/engine.sh runs this one.
BENCH_SRCS := src/errname.c src/engine.c src/hash.c src/heap.c src/verdict.c src/report.c src/escape.c \
	      src/ksyms.c src/plan.c src/events.c src/testtag.c

bench: $(OUT)/bench-engine

$(OUT)/bench-engine: bench/engine.c $(BENCH_SRCS) $(wildcard src/*.h) include/racewatch.h | $(OUT)
	$(CC) $(CFLAGS) -Isrc -o $@ bench/engine.c $(BENCH_SRCS)

clean:
	rm -rf $(OUT) $(FUZZ_OUT)
