# SPDX-License-Identifier: Apache-2.0
#
# meshforge build.  `make` builds the BPF objects and their skeletons, the
# agent and mfctl; `make check` builds and runs the whole test suite;
# `make demo` installs what is missing and runs the two-node demo.
# V=1 shows full commands.

.DELETE_ON_ERROR:
.DEFAULT_GOAL := all
.SUFFIXES:

# SANITIZE=1 builds everything with ASan and UBSan (any error aborts) into
# its own tree, so sanitized and plain objects never mix.
ifeq ($(SANITIZE),1)
O	?= build-san
else
O	?= build
endif
ARCH	?= x86
CLANG	?= clang
BPFTOOL	?= bpftool
CC	?= cc

ifeq ($(V),1)
Q	:=
msg	=
else
Q	:= @
msg	= @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

# wolfSSL: the project-local build from Debian's source package when
# scripts/deps.sh made one, else Debian's libwolfssl-dev.
WOLFSSL_PREFIX := $(CURDIR)/build/wolfssl
ifneq ($(wildcard $(WOLFSSL_PREFIX)/.meshforge-built),)
WOLFSSL_CFLAGS	:= -I$(WOLFSSL_PREFIX)/include
WOLFSSL_LIBS	:= -L$(WOLFSSL_PREFIX)/lib -Wl,-rpath,$(WOLFSSL_PREFIX)/lib -lwolfssl
else
WOLFSSL_CFLAGS	:= $(shell pkg-config --cflags wolfssl 2>/dev/null)
WOLFSSL_LIBS	:= $(shell pkg-config --libs wolfssl 2>/dev/null || echo -lwolfssl)
endif

WARN	:= -Wall -Wextra -Werror
CFLAGS	?= -O2 -g
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
# GCC's flow-based warnings (stringop-overread...) misfire on sanitized
# code; the plain build keeps every warning an error.
WARN	:= -Wall -Wextra
CFLAGS	+= $(SAN_FLAGS)
LDFLAGS	+= $(SAN_FLAGS)
endif
CFLAGS	+= $(WARN) -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing \
	   -Iinclude -Ilib -I$(O)/bpf $(WOLFSSL_CFLAGS) -MMD -MP
LDLIBS	:= -lbpf -lelf -lz -luring -lyaml -lmnl -lxxhash -lnghttp2 $(WOLFSSL_LIBS) -lpthread -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	      -Ivmlinux/$(ARCH) -Iinclude -Ibpf

# ---- BPF: .bpf.c -> .bpf.o -> .skel.h ----------------------------------
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.skel.h,$(BPF_SRCS))
BPF_HDRS  := $(wildcard bpf/lib/*.h) $(wildcard include/meshforge/*.h)

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(O)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# ---- user space ----------------------------------------------------------
# lib/ is what both binaries use (the policy library included); agent/ and
# ctl/ each link lib/ and nothing of the other.
LIB_SRCS   := $(wildcard lib/*.c lib/policy/*.c)
AGENT_SRCS := $(wildcard agent/*.c)
CTL_SRCS   := $(wildcard ctl/*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

LIB_OBJS   := $(call obj,$(LIB_SRCS))
AGENT_OBJS := $(call obj,$(AGENT_SRCS))

# llhttp, the HTTP/1.1 parser of agent/http1.c: Debian's node-llhttp ships
# its generated C, which we compile from where the package put it (never a
# copy in the tree).  Its callbacks ignore parameters, so -Wunused-parameter
# is off for those three files alone.
LLHTTP_DIR  ?= /usr/share/llhttp
LLHTTP_INC  ?= /usr/share/include/llhttp
LLHTTP_SRCS := $(addprefix $(LLHTTP_DIR)/,llhttp.c api.c http.c)
LLHTTP_OBJS := $(patsubst $(LLHTTP_DIR)/%.c,$(O)/obj/llhttp/%.o,$(LLHTTP_SRCS))
CFLAGS	+= -I$(LLHTTP_INC)

$(O)/obj/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@
CTL_OBJS   := $(call obj,$(CTL_SRCS))

# OTLP, what the agent sends an OpenTelemetry collector: C from our
# proto/ files by protoc-c (Debian's protobuf-c-compiler), built into the
# agent's archive with libprotobuf-c.
PROTO_SRCS := $(shell find proto -name '*.proto')
PROTO_GEN  := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTO_SRCS))
PROTO_HDRS := $(PROTO_GEN:.c=.h)
PROTO_OBJS := $(patsubst $(O)/gen/%.c,$(O)/obj/gen/%.o,$(PROTO_GEN))
CFLAGS	+= -I$(O)/gen

# Kept: objects and the agent's sources include them.
.SECONDARY: $(PROTO_GEN) $(PROTO_HDRS)

$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(O)/gen
	$(call msg,PROTOC,$@)
	$(Q)protoc-c --c_out=$(O)/gen -Iproto $<

$(O)/obj/gen/%.o: $(O)/gen/%.c $(PROTO_HDRS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# One archive per tree, main()s apart, for the binaries and the tests to
# link against.  Tests may #include a .c file to reach its statics; the
# archive then leaves that member out because nothing is left unresolved.
LIB_A   := $(O)/libmeshforge.a
AGENT_A := $(O)/libmfagent.a
CTL_A   := $(O)/libmfctl.a

$(O)/obj/%.o: %.c $(BPF_SKELS) $(PROTO_HDRS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
$(AGENT_A): $(filter-out %/main.o,$(AGENT_OBJS)) $(LLHTTP_OBJS) $(PROTO_OBJS)
$(CTL_A): $(filter-out %/main.o,$(CTL_OBJS))
$(LIB_A) $(AGENT_A) $(CTL_A):
	$(call msg,AR,$@)
	$(Q)rm -f $@.tmp$$$$ && $(AR) rcs $@.tmp$$$$ $^ && mv -f $@.tmp$$$$ $@

AGENT := $(O)/bin/meshforge-agent
MFCTL := $(O)/bin/mfctl

$(AGENT): $(O)/obj/agent/main.o $(AGENT_A) $(LIB_A) | $(O)/bin
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(LDLIBS)

# libcurl: mfctl speaks to the mesh store with it (ctl/mstore_etcd.c),
# and the agent with collectors and applications (agent/collector.c
# sends MeshAccessLog's and MeshTrace's telemetry, agent/appscrape.c fetches
# MeshMetric applications' metrics), on threads of their own, never a
# loop: HTTP/1.1, HTTP/2 and HTTPS clients with timeouts are Debian's to
# maintain, not ours to write again.  libprotobuf-c packs OTLP's messages.
CTL_LIBS := -lcurl
AGENT_LIBS := -lcurl -lprotobuf-c

$(MFCTL): $(O)/obj/ctl/main.o $(CTL_A) $(LIB_A) | $(O)/bin
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LIBS) $(LDLIBS)

# ---- tests ---------------------------------------------------------------
TEST_C_SRCS := $(wildcard tests/bpf/*.c tests/lib/*.c tests/agent/*.c \
		 tests/ctl/*.c tests/bench/test_*.c)
TEST_BINS   := $(patsubst %.c,$(O)/%,$(TEST_C_SRCS))

ARCHIVES := $(AGENT_A) $(CTL_A) $(LIB_A)

$(O)/tests/%: tests/%.c tests/harness/test.h $(ARCHIVES) $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -DTEST_NAME='"$*"' -MF $@.d -o $@ $< \
		$(ARCHIVES) $(CTL_LIBS) $(AGENT_LIBS) $(LDLIBS)

# Helper programs for the integration tests (load generator, ...): plain
# C programs on their own, nothing from the archive.
TOOL_SRCS := $(filter-out %.bpf.c,$(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst %.c,$(O)/%,$(TOOL_SRCS))
# ... and BPF programs the tests attach with tc (packet loss).
TOOL_BPF  := $(patsubst %.bpf.c,$(O)/%.bpf.o,$(wildcard tests/tools/*.bpf.c))

$(O)/tests/tools/%.bpf.o: tests/tools/%.bpf.c
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC-TOOL,$@)
	$(Q)$(CC) $(CFLAGS) -MF $@.d -o $@ $< -lpthread $(TOOL_LIBS)

# mf_schedlat loads its BPF program (mf_schedlat.bpf.o) with libbpf.
$(O)/tests/tools/mf_schedlat: TOOL_LIBS := -lbpf -lelf -lz

# Fuzz targets (tests/fuzz/fuzz_<name>.c): `make check` runs each over its
# seed corpus (tests/fuzz/seeds/<name>/) as a regression test; `make fuzz`
# builds them with libFuzzer and ASan into $(O)/fuzz/, with every source
# instrumented, for `$(O)/fuzz/fuzz_<name> tests/fuzz/seeds/<name>`.
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
SEED_BINS  := $(patsubst %,$(O)/tests/fuzz/test_fuzz_%,$(FUZZ_NAMES))
FUZZ_BINS  := $(patsubst %,$(O)/fuzz/fuzz_%,$(FUZZ_NAMES))

# The target's source last: -MF keeps the dependencies of the last one.
$(O)/tests/fuzz/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/seed_main.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(call msg,CC-SEED,$@)
	$(Q)$(CC) $(CFLAGS) -MF $@.d -DFUZZ_NAME='"$*"' \
		-DSEED_DIR='"tests/fuzz/seeds/$*"' -o $@ tests/fuzz/seed_main.c $< \
		$(ARCHIVES) $(CTL_LIBS) $(AGENT_LIBS) $(LDLIBS)

# What a target needs beyond lib/: the agent's HTTP/1.1 parser and llhttp,
# and for hhead the rendering of forwarded heads.
FUZZ_SRCS_http1   := agent/http1.c $(LLHTTP_SRCS)
FUZZ_CFLAGS_http1 := -Wno-unused-parameter
FUZZ_SRCS_hobs    := agent/hobs.c agent/wmstats.c agent/l7stats.c agent/timer.c \
		     agent/http1.c $(LLHTTP_SRCS)
FUZZ_CFLAGS_hobs  := -Wno-unused-parameter
FUZZ_SRCS_hhead   := agent/hhead.c agent/bufq.c agent/heap.c agent/http1.c \
		     $(LLHTTP_SRCS)
FUZZ_CFLAGS_hhead := -Wno-unused-parameter
# alogfmt reads the request's fields from an hhead.
FUZZ_SRCS_alogfmt := agent/alogfmt.c $(FUZZ_SRCS_hhead)
FUZZ_CFLAGS_alogfmt := -Wno-unused-parameter
# passthru reads names with http1, tls_hello_sni() and nghttp2, and admits
# them from a snapshot by selection (router.c).
FUZZ_SRCS_passthru   = agent/passthru.c agent/http1.c agent/policy.c \
			agent/polkinds.c agent/router.c agent/balance.c \
			agent/hhead.c agent/lb.c agent/hosts.c agent/timer.c \
			agent/crl.c agent/tls.c agent/tls_record.c \
			$(FUZZ_SRCS_TLS) $(LLHTTP_SRCS)
FUZZ_CFLAGS_passthru := -Wno-unused-parameter
# trace reads and writes trace headers on an hhead; its spans' reporter
# (tracew.c) links libcurl.
FUZZ_SRCS_trace   = agent/trace.c agent/telw.c agent/tspan.c agent/router.c \
		    agent/policy.c agent/polkinds.c agent/balance.c agent/lb.c \
		    agent/hosts.c agent/timer.c agent/otlp.c agent/otlp_logs.c \
		    agent/collector.c $(PROTO_GEN) \
		    $(FUZZ_SRCS_hhead)
FUZZ_CFLAGS_trace := -Wno-unused-parameter
FUZZ_LIBS_trace   := -lcurl -lprotobuf-c
# otlpval packs a value as the agent sends it (otlp_logs.c).
FUZZ_SRCS_otlpval = agent/otlp_logs.c agent/otlp.c agent/collector.c \
		    $(PROTO_GEN)
FUZZ_LIBS_otlpval := -lcurl -lprotobuf-c
# otlpenv reads the exporter variables and makes a client of them.
FUZZ_SRCS_otlpenv = agent/otlp.c agent/collector.c
FUZZ_LIBS_otlpenv := -lcurl
# The TLS targets: ctl/pki.c makes their certificates; tls_record includes
# agent/tls.c and tls_record.c for their statics.  FUZZ_DEPS_<name>: what
# a target includes, for it to be built again when that changes.
FUZZ_SRCS_TLS     := ctl/pki.c agent/tls_trust.c agent/bufq.c agent/heap.c \
		     agent/slab.c
FUZZ_SRCS_tls_record := $(FUZZ_SRCS_TLS)
FUZZ_DEPS_tls_record := agent/tls.c agent/tls_record.c agent/tls-int.h \
			tests/fuzz/fz_tls.h
FUZZ_SRCS_tunnel_preamble := $(FUZZ_SRCS_TLS) agent/tls.c agent/tls_record.c \
			     agent/tunhdr.c
FUZZ_DEPS_tunnel_preamble := agent/tls-int.h agent/tunhdr.h \
			     tests/fuzz/fz_tls.h

.SECONDEXPANSION:
$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJS) $(BPF_SKELS) $$(FUZZ_SRCS_$$*) \
		  $$(FUZZ_DEPS_$$*)
	@mkdir -p $(dir $@)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(filter-out -MMD -MP,$(CFLAGS)) $(FUZZ_CFLAGS_$*) \
		-fsanitize=fuzzer,address,undefined \
		-o $@ $< $(LIB_SRCS) $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*) $(LDLIBS)

# The benchmark's load generator and the snapshot-load timer (tests/bench/,
# `make bench` only).
BENCH_LOAD := $(O)/tests/bench/mf_httpload
BENCH_POLICY_LOAD := $(O)/tests/bench/mf_policy_load

$(BENCH_LOAD): tests/bench/mf_httpload.c
	@mkdir -p $(dir $@)
	$(call msg,CC-TOOL,$@)
	$(Q)$(CC) $(CFLAGS) -MF $@.d -o $@ $< -luring

$(BENCH_POLICY_LOAD): tests/bench/mf_policy_load.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(call msg,CC-TOOL,$@)
	$(Q)$(CC) $(CFLAGS) -MF $@.d -o $@ $< $(ARCHIVES) $(CTL_LIBS) $(AGENT_LIBS) $(LDLIBS)

$(O)/bpf $(O)/bin:
	$(Q)mkdir -p $@

# ---- goals ---------------------------------------------------------------
.PHONY: all bpf agent mfctl tests check check-unit demo deps clean fuzz bench \
	bench-deps
all: bpf $(AGENT) $(MFCTL)
bpf: $(BPF_OBJS) $(BPF_SKELS)
agent: $(AGENT)
mfctl: $(MFCTL)
tests: all $(TEST_BINS) $(TOOL_BINS) $(TOOL_BPF) $(SEED_BINS)
fuzz: $(FUZZ_BINS)

# The suite: unit tests, BPF_PROG_TEST_RUN tests, then the testbed tests.
# Like demo, check first installs what is missing (scripts/deps.sh is
# idempotent), then builds in a second make that sees what deps built.
# check-unit: the C test programs alone (CI runs them under SANITIZE=1).
check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)O=$(O) tests/run.sh

check-unit: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)O=$(O) tests/run.sh --unit

deps:
	$(Q)scripts/deps.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)O=$(O) scripts/demo.sh

# The kernel programs' ns per packet over an empty program (BPF test runs,
# $(O)/bench/progs.jsonl), benchmarks against direct, nginx and HAProxy,
# then the policy-map scale and the loop stall while it is applied
# (docs/benchmarks.md); not part of check.  Results in $(O)/bench/.
bench-deps:
	$(Q)scripts/deps.sh --bench

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory all tests $(BENCH_LOAD) $(BENCH_POLICY_LOAD)
	$(Q)mkdir -p $(O)/bench
	$(Q)$(O)/tests/bpf/test_mf_pod --bench | tee $(O)/bench/progs.jsonl
	$(Q)O=$(O) scripts/bench.sh
	$(Q)O=$(O) scripts/bench-policy.sh
	$(Q)O=$(O) scripts/bench-stall.sh

# Policy-map scale alone: 10k services / 100k workloads / 10k HTTP routes
# through mfctl and the agent's snapshot load (scripts/bench-policy.sh);
# $(O)/bench/policy.json.
.PHONY: bench-policy
bench-policy: all $(BENCH_POLICY_LOAD)
	$(Q)O=$(O) scripts/bench-policy.sh

# The mesh store at scale alone: 100 `mfctl sync --memory` on one etcd
# and a 10k-service, 100k-workload mesh (scripts/bench-scale.sh, its
# MF_SCALE_* settings; also MF_BENCH_PATHS=store-scale in make bench);
# $(O)/bench/scale.json.
.PHONY: bench-scale
bench-scale: mfctl
	$(Q)O=$(O) scripts/bench-scale.sh

# The agents' longest loop stall while a 10k-service policy is applied under
# load, alone (scripts/bench-stall.sh); $(O)/bench/stall.json.
.PHONY: bench-stall
bench-stall: all $(BENCH_LOAD)
	$(Q)O=$(O) scripts/bench-stall.sh

# Debian 12's kernel (6.1) booted under QEMU with TCG and the tests that
# exercise the kernel run inside it (scripts/kernel-matrix.sh,
# docs/kernels.md); not part of check.  Kernel, initramfs and console logs
# in $(O)/kernel-matrix/.
.PHONY: kernel-matrix kernel-matrix-deps
kernel-matrix-deps:
	$(Q)scripts/deps.sh --kernel-matrix

kernel-matrix: kernel-matrix-deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)O=$(O) scripts/kernel-matrix.sh

# The container image (deploy/container/, scripts/image.sh): the binaries,
# the BPF objects and their shared libraries on no base image, built with
# podman into localhost/meshforge:<git describe>; IMAGE=name:tag for another.
.PHONY: image
image: all
	$(Q)O=$(O) scripts/image.sh $(IMAGE)

clean:
	$(Q)rm -rf $(O)/bpf $(O)/obj $(O)/gen $(O)/bin $(O)/tests $(O)/fuzz $(O)/image $(O)/*.a \
		build-san

-include $(shell find $(O)/obj $(O)/tests -name '*.d' 2>/dev/null)
