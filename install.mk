# make install PREFIX=/usr/local [DESTDIR=...]: the hak tool, its gnuplot scripts and profiles, the
# workloads hak bench runs and the traces its replay profiles read, libhakmem and libhakphase with their headers and pkg-config files.
# The installed hak finds the rest relative to itself (PREFIX/bin -> ../lib, ../share/hakmem,
# ../libexec/hakmem), so no environment variable is needed.
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL_ROOT := $(DESTDIR)$(PREFIX)

.PHONY: install
install: all
	install -d $(INSTALL_ROOT)/bin $(INSTALL_ROOT)/lib/pkgconfig $(INSTALL_ROOT)/include \
	    $(INSTALL_ROOT)/share/hakmem/profiles $(INSTALL_ROOT)/share/hakmem/traces \
	    $(INSTALL_ROOT)/libexec/hakmem
	install -m 755 $(BIN)/hak $(INSTALL_ROOT)/bin/hak
	install -m 644 scripts/*.gp $(INSTALL_ROOT)/share/hakmem/
	install -m 644 datasets/profiles/*.profile $(INSTALL_ROOT)/share/hakmem/profiles/
	install -m 755 $(addprefix $(BIN)/,$(BENCH_PROGRAMS)) $(INSTALL_ROOT)/libexec/hakmem/
	install -m 644 datasets/traces/*.trace $(INSTALL_ROOT)/share/hakmem/traces/
	install -m 755 $(LIBHAKMEM_SO) $(INSTALL_ROOT)/lib/libhakmem.so
	install -m 644 $(LIBHAKMEM_A) $(INSTALL_ROOT)/lib/libhakmem.a
	install -m 644 allocator/include/hakmem.h $(INSTALL_ROOT)/include/hakmem.h
	install -m 644 $(LIBHAKPHASE_A) $(INSTALL_ROOT)/lib/libhakphase.a
	install -m 644 phase/include/hakphase.h $(INSTALL_ROOT)/include/hakphase.h
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: hakmem' 'Description: drop-in malloc with caches that give memory back when idle' \
	    'Version: $(GIT_SHA)' 'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lhakmem' \
	    'Libs.private: -pthread' >$(INSTALL_ROOT)/lib/pkgconfig/hakmem.pc
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: hakphase' 'Description: phase marks for programs measured by hak record' \
	    'Version: $(GIT_SHA)' 'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lhakphase -pthread' \
	    >$(INSTALL_ROOT)/lib/pkgconfig/hakphase.pc
