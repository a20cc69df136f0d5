# reports/: a library (objects only) that reads run databases into figures (report_db.c) and turns
# them into the overhead report, the build diff and the gnuplot charts (docs/reports.md lists the
# files); the verbs hak/report.c, hak/plot.c and hak/diff.c hold only their options and flow.
# Also `make demo`.
REPORTS_CFLAGS := $(CFLAGS_COMMON) -Ireports -Icollectors -Iprobes -Iallocator/include
REPORTS_OBJ := $(OBJ)/reports/report_db.o $(OBJ)/reports/json.o
REPORTS_OBJ += $(OBJ)/reports/csv.o
REPORTS_OBJ += $(OBJ)/reports/gnuplot.o $(OBJ)/reports/chart.o $(OBJ)/reports/charts.o \
               $(OBJ)/reports/rss_chart.o
REPORTS_OBJ += $(OBJ)/reports/document.o $(OBJ)/reports/overhead_report.o \
               $(OBJ)/reports/counter_tables.o $(OBJ)/reports/report_json.o \
               $(OBJ)/reports/build_diff.o
REPORTS_LDLIBS := -lsqlite3 -lm

$(OBJ)/reports/%.o: reports/%.c Makefile reports/reports.mk
	@mkdir -p $(dir $@)
	$(CC) $(REPORTS_CFLAGS) $(DEPFLAGS) -c $< -o $@

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
