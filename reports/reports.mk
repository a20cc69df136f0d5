# reports/: the hak verbs that read a run database — report (Markdown/HTML), plot (gnuplot charts),
# diff (two builds side by side) — and `make demo`.  Included after collectors/collectors.mk, so
# the objects are added as prerequisites of $(BIN)/hak (see collectors/collectors.mk).
REPORTS_OBJ := $(OBJ)/reports/report.o $(OBJ)/reports/plot.o $(OBJ)/reports/diff.o \
               $(OBJ)/reports/report_db.o
HAK_LDLIBS += -lsqlite3 -lm

$(BIN)/hak: $(REPORTS_OBJ)

$(OBJ)/reports/%.o: reports/%.c reports/report_db.h $(COLLECTORS_HEADERS) Makefile reports/reports.mk
	@mkdir -p $(dir $@)
	$(CC) $(HAK_CFLAGS) -Ireports -c $< -o $@

# make demo: on a fresh machine, install what is missing, build, run the quick profile (Larson
# and battle) under hakmem and every installed peer with recording, and write the report, the
# HTML page and the charts into results/.
DEMO_DIR    ?= results
DEMO_REPEAT ?= 3
.PHONY: demo
demo:
	@scripts/install-deps.sh
	$(MAKE) all
	@mkdir -p $(DEMO_DIR)
	rm -rf $(DEMO_DIR)/demo.db $(DEMO_DIR)/demo.db-wal $(DEMO_DIR)/demo.db-shm $(DEMO_DIR)/charts
	$(BIN)/hak bench quick --repeat $(DEMO_REPEAT) -o $(DEMO_DIR)/demo.db
	$(BIN)/hak report $(DEMO_DIR)/demo.db --html $(DEMO_DIR)/demo.html > $(DEMO_DIR)/demo.md
	$(BIN)/hak plot $(DEMO_DIR)/demo.db -o $(DEMO_DIR)/charts > /dev/null
	@echo
	@echo "demo: run database  $(DEMO_DIR)/demo.db"
	@echo "demo: report        $(DEMO_DIR)/demo.md"
	@echo "demo: HTML page     $(DEMO_DIR)/demo.html"
	@echo "demo: charts        $(DEMO_DIR)/charts/ (PNG and SVG)"
