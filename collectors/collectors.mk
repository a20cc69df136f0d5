# collectors/: a library (objects only): the launcher, the recorder, the run database (the only
# SQL writer) and the profile reader.  hak/hak.mk links them into build/bin/hak.
COLLECTORS_CFLAGS := $(CFLAGS_COMMON) -Icollectors -Iprobes -Iphase/include -Ibench \
                     -Iallocator/include
COLLECTORS_OBJ := $(OBJ)/collectors/launcher.o $(OBJ)/collectors/process_tree.o $(OBJ)/collectors/recorder.o \
                  $(OBJ)/collectors/run_db.o $(OBJ)/collectors/profile.o $(OBJ)/collectors/icount.o \
                  $(OBJ)/collectors/time_split.o $(OBJ)/collectors/scratch_dir.o
COLLECTORS_LDLIBS := -lsqlite3 -lpfm -lm

$(OBJ)/collectors/%.o: collectors/%.c Makefile collectors/collectors.mk
	@mkdir -p $(dir $@)
	$(CC) $(COLLECTORS_CFLAGS) $(DEPFLAGS) -c $< -o $@
