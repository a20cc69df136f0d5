#!/usr/bin/env bash
# hak record on the battle test, under hakmem and under glibc:
#  - the run completes and every phase mark has a full snapshot (rollup, mappings, events;
#    hakmem counters under hakmem), committed before the mark was acknowledged;
#  - RSS at each mark equals what the benchmark read from /proc/self at that mark (within 2 %);
#  - RSS at each flush is below RSS at the burst of the same cycle, and each hakmem tier keeps at
#    most an eighth of its burst RSS after the flush;
#  - the timer took one sample per tick of the collector's timer;
#  - per-mapping RSS sums to the rollup's Rss within 1 % in every full snapshot;
#  - hakmem's counters at the end agree with its own exit dump (HAKMEM_STATS=1), value for value;
#  - hakmem's mappings are attributed to its tiers, glibc's never are;
#  - hakmem's thread caches per size class add up to its capacity gauges at every mark;
#  - results sent through the phase protocol equal the benchmark's result line.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"

db=$WORK/battle.db
args=(--threads=2 --cycles=2 --working_set=16M --churn=2000 --idle_ms=30)
marks_expected="baseline burst free idle flush burst free idle flush end"

for alloc in hakmem glibc; do
    echo "== battle under $alloc"
    # --max-cpu 100 and --smaps-every 3: timer snapshots too, so the sum check sees both kinds.
    # glibc's run names the events (-e): an unsupported one is said on stderr; hakmem's run takes
    # the default set, whose fallback is kept in runs.note only.
    named=(); [[ $alloc == glibc ]] && named=(-e cycles,instructions,cache-misses)
    HAKMEM_STATS=1 "$HAK" record -o "$db" --alloc "$alloc" --smaps-every 3 --max-cpu 100 "${named[@]}" -- \
        "$BIN/battle" "${args[@]}" >"$WORK/$alloc.out" 2>"$WORK/$alloc.err" ||
        { cat "$WORK/$alloc.out" "$WORK/$alloc.err"; fail "hak record of battle under $alloc failed"; }
    cat "$WORK/$alloc.out"
    grep '^hak record' "$WORK/$alloc.err" || true
    run=$(sql "$db" "SELECT max(run_id) FROM runs")
    row=$(sql "$db" "SELECT allocator, state, completed, exit_code, bench_reported FROM runs WHERE run_id = $run")
    [[ $row == "$alloc|completed|1|0|battle" ]] || fail "run row: $row"

    marks=$(sql "$db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM phases WHERE run_id = $run ORDER BY seq)")
    [[ $marks == "$marks_expected" ]] || fail "marks recorded: $marks"
    missing=$(sql "$db" "SELECT count(*) FROM phases p LEFT JOIN samples s
        ON s.run_id = p.run_id AND s.seq = p.sample_seq
        WHERE p.run_id = $run AND (s.seq IS NULL OR s.full != 1 OR s.source != 'rollup' OR p.acked != 1
            OR NOT EXISTS (SELECT 1 FROM mappings m WHERE m.run_id = p.run_id AND m.sample_seq = p.sample_seq))")
    [[ $missing -eq 0 ]] || fail "$missing marks without a full, acknowledged snapshot"
    # The live bytes of each mark equal the benchmark's own phase lines.
    diff <(sql "$db" "SELECT name || ' ' || live_bytes FROM phases WHERE run_id = $run ORDER BY seq") \
        <(awk '$1 == "phase" { sub("name=", "", $3); sub("live_bytes=", "", $5); print $3, $5 }' "$WORK/$alloc.out") ||
        fail "live_bytes of the marks differ from the benchmark's phase lines"

    echo "-- RSS at each mark: collector against the benchmark's own reading (KiB)"
    paste -d' ' <(sql "$db" "SELECT phase, rss_kb FROM phase_samples WHERE run_id = $run ORDER BY phase_seq" | tr '|' ' ') \
        <(awk '$1 == "phase" { sub("rss_kb=", "", $7); print $7 }' "$WORK/$alloc.out") >"$WORK/rss.txt"
    cat "$WORK/rss.txt"
    [[ $(wc -l <"$WORK/rss.txt") -eq 10 ]] || fail "$(wc -l <"$WORK/rss.txt") marks paired with phase lines, expected 10"
    awk '{ d = $2 - $3; if (d < 0) d = -d; if (d > 256 + $3 / 50) { print "mark " $1 ": collector " $2 " KiB, benchmark " $3 " KiB"; bad = 1 } }
        END { exit bad }' "$WORK/rss.txt" || fail "RSS recorded at a mark differs from the benchmark's reading"
    timer=$(sql "$db" "SELECT count(*) FROM samples WHERE run_id = $run AND kind = 'timer'")
    ticks=$(sql "$db" "SELECT timer_ticks FROM runs WHERE run_id = $run")
    misses=$(sql "$db" "SELECT timer_misses FROM runs WHERE run_id = $run")
    echo "$timer timer samples for $ticks timer ticks, $misses of which could not read the process"
    # Every tick that could read the process left a sample, and most ticks could.
    [[ $ticks -ge 1 && $timer -eq $((ticks - misses)) ]] || fail "$timer timer samples for $ticks ticks with $misses misses"
    [[ $((misses * 4)) -le $((ticks + 8)) ]] || fail "$misses of $ticks timer ticks could not read the process"

    echo "-- RSS at burst and flush (KiB)"
    sql "$db" "SELECT b.occurrence, b.rss_kb, f.rss_kb, f.rss_net_kb FROM phase_samples b JOIN phase_samples f
        ON f.run_id = b.run_id AND f.occurrence = b.occurrence AND f.phase = 'flush'
        WHERE b.run_id = $run AND b.phase = 'burst'"
    bad=$(sql "$db" "SELECT count(*) FROM phase_samples b JOIN phase_samples f
        ON f.run_id = b.run_id AND f.occurrence = b.occurrence AND f.phase = 'flush'
        WHERE b.run_id = $run AND b.phase = 'burst' AND f.rss_kb >= b.rss_kb")
    cycles=$(sql "$db" "SELECT count(*) FROM phases WHERE run_id = $run AND name = 'flush'")
    [[ $cycles -eq 2 && $bad -eq 0 ]] || fail "RSS at flush is not below RSS at burst in $bad of $cycles cycles"

    echo "-- per-mapping RSS against the rollup"
    sql "$db" "SELECT s.seq, s.kind, s.rss_kb, sum(m.rss_kb) FROM samples s JOIN mappings m
        ON m.run_id = s.run_id AND m.sample_seq = s.seq WHERE s.run_id = $run GROUP BY s.seq" | head -n 30
    full=$(sql "$db" "SELECT count(*) FROM samples WHERE run_id = $run AND full = 1")
    timer_full=$(sql "$db" "SELECT count(*) FROM samples WHERE run_id = $run AND full = 1 AND kind = 'timer'")
    off=$(sql "$db" "SELECT count(*) FROM (SELECT s.rss_kb AS rollup, sum(m.rss_kb) AS mapped
        FROM samples s JOIN mappings m ON m.run_id = s.run_id AND m.sample_seq = s.seq
        WHERE s.run_id = $run AND s.full = 1 GROUP BY s.seq)
        WHERE abs(mapped - rollup) > 0.01 * rollup")
    echo "$full full snapshots ($timer_full from the timer), $off off by more than 1 %"
    [[ $full -ge 10 && $timer_full -ge 1 ]] || fail "too few full snapshots ($full, $timer_full from the timer)"
    [[ $off -eq 0 ]] || fail "$off full snapshots whose mappings do not sum to the rollup's Rss"

    echo "-- mapping classes at the first burst"
    sql "$db" "SELECT m.class, count(*), sum(m.rss_kb) FROM mappings m JOIN phases p
        ON p.run_id = m.run_id AND p.sample_seq = m.sample_seq
        WHERE p.run_id = $run AND p.name = 'burst' AND p.occurrence = 1 GROUP BY m.class"
    tiers=$(sql "$db" "SELECT count(*) FROM mappings WHERE run_id = $run AND class IN ('tiny', 'mid', 'large', 'huge')")
    if [[ $alloc == hakmem ]]; then
        [[ $tiers -gt 0 ]] || fail "no mapping attributed to a hakmem tier"
        tier_rss=$(sql "$db" "SELECT sum(m.rss_kb) FROM mappings m JOIN phases p
            ON p.run_id = m.run_id AND p.sample_seq = m.sample_seq
            WHERE p.run_id = $run AND p.name = 'burst' AND p.occurrence = 1 AND m.class IN ('tiny', 'mid', 'large', 'huge')")
        live=$(sql "$db" "SELECT live_bytes / 1024 FROM phases WHERE run_id = $run AND name = 'burst' AND occurrence = 1")
        echo "hakmem tiers hold $tier_rss KiB resident at the first burst, the benchmark $live KiB live"
        [[ $tier_rss -ge $((live * 9 / 10)) ]] || fail "the tiers' RSS ($tier_rss KiB) is far below the live bytes ($live KiB)"
        echo "-- what each tier holds at the first burst (pagemap)"
        sql "$db" "SELECT t.tier, t.regions, t.mapped_kb, t.rss_kb FROM hakmem_tiers t JOIN phases p
            ON p.run_id = t.run_id AND p.sample_seq = t.sample_seq
            WHERE p.run_id = $run AND p.name = 'burst' AND p.occurrence = 1"
        # battle allocates Tiny, Mid and Large blocks: each tier holds resident memory at a burst.
        tiers_used=$(sql "$db" "SELECT count(*) FROM hakmem_tiers t JOIN phases p
            ON p.run_id = t.run_id AND p.sample_seq = t.sample_seq
            WHERE p.run_id = $run AND p.name = 'burst' AND t.tier IN ('tiny', 'mid', 'large') AND t.rss_kb > 0")
        [[ $tiers_used -eq 6 ]] || fail "resident memory in $tiers_used of 3 tiers x 2 bursts"
        echo "-- each tier at each burst and the flush after it (pagemap, KiB)"
        tier_at="SELECT p.occurrence AS cycle, t.tier AS tier, t.rss_kb AS rss_kb FROM hakmem_tiers t
            JOIN phases p ON p.run_id = t.run_id AND p.sample_seq = t.sample_seq WHERE p.run_id = $run AND p.name ="
        sql "$db" "SELECT b.cycle, b.tier, b.rss_kb, ifnull(f.rss_kb, 0) FROM ($tier_at 'burst') b
            LEFT JOIN ($tier_at 'flush') f ON f.cycle = b.cycle AND f.tier = b.tier WHERE b.tier IN ('tiny', 'mid', 'large')"
        # hak_flush_all flushes every tier: each keeps at most an eighth of what it held at the burst.
        kept=$(sql "$db" "SELECT group_concat(b.tier || ' in cycle ' || b.cycle, ', ') FROM ($tier_at 'burst') b
            JOIN ($tier_at 'flush') f ON f.cycle = b.cycle AND f.tier = b.tier
            WHERE b.tier IN ('tiny', 'mid', 'large') AND f.rss_kb > b.rss_kb / 8")
        [[ -z $kept ]] || fail "the flush left more than an eighth of the burst's RSS in: $kept"
        # At a mark (the process parked) the tiers never hold more than the process.
        over=$(sql "$db" "SELECT count(*) FROM samples s WHERE s.run_id = $run AND s.kind = 'mark' AND
            (SELECT sum(rss_kb) FROM hakmem_tiers t WHERE t.run_id = s.run_id AND t.sample_seq = s.seq) > s.rss_kb")
        [[ $over -eq 0 ]] || fail "$over snapshots where hakmem's tiers hold more than the process"
        echo "-- thread caches per size class at each mark (capacity and cached bytes)"
        class_sum="SELECT sum(c.capacity * c.size) AS cap, sum(c.cached * c.size) AS held FROM hakmem_classes c
            WHERE c.run_id = p.run_id AND c.sample_seq = p.sample_seq"
        gauge="SELECT sum(value) FROM counters k WHERE k.run_id = p.run_id AND k.sample_seq = p.sample_seq AND
            k.name IN ('tiny_tcache_cap', 'mid_tcache_cap')"
        sql "$db" "SELECT p.name, p.occurrence, ($gauge), (SELECT cap FROM ($class_sum)), (SELECT held FROM ($class_sum))
            FROM phases p WHERE p.run_id = $run"
        # At a mark (the process parked) the classes' capacities add up to the capacity gauges.
        off=$(sql "$db" "SELECT group_concat(p.name || ' ' || p.occurrence, ', ') FROM phases p WHERE p.run_id = $run
            AND ifnull((SELECT cap FROM ($class_sum)), -1) != ($gauge)")
        [[ -z $off ]] || fail "per-class capacities do not add up to tiny/mid_tcache_cap at: $off"
        # The caches hold blocks after a burst's frees, and none after the flush.
        [[ $(sql "$db" "SELECT count(*) FROM phases p WHERE p.run_id = $run AND p.name = 'free'
            AND (SELECT held FROM ($class_sum)) > 0") -ge 1 ]] || fail "no cached block per class after a burst's frees"
        [[ $(sql "$db" "SELECT count(*) FROM phases p WHERE p.run_id = $run AND p.name = 'flush'
            AND ifnull((SELECT held FROM ($class_sum)), 0) != 0") -eq 0 ]] || fail "cached blocks per class after a flush"
    else
        [[ $tiers -eq 0 ]] || fail "$tiers glibc mappings attributed to hakmem tiers"
        [[ $(sql "$db" "SELECT count(*) FROM hakmem_classes WHERE run_id = $run") -eq 0 ]] ||
            fail "a glibc run has hakmem size-class rows"
    fi

    echo "-- events"
    sql "$db" "SELECT name, state, fallback, ifnull(error, '') FROM event_names WHERE run_id = $run"
    counting=$(sql "$db" "SELECT count(*) FROM event_names WHERE run_id = $run AND state = 'counting'")
    [[ $counting -ge 1 ]] || fail "no event counted"
    missing=$(sql "$db" "SELECT count(*) FROM phases p, event_names e WHERE p.run_id = $run AND e.run_id = $run
        AND e.state = 'counting' AND NOT EXISTS (SELECT 1 FROM events v
            WHERE v.run_id = p.run_id AND v.sample_seq = p.sample_seq AND v.name = e.name)")
    [[ $missing -eq 0 ]] || fail "$missing (mark, event) pairs without a value"
    if sql "$db" "SELECT state FROM event_names WHERE run_id = $run AND name = 'cycles'" | grep -q unsupported; then
        sql "$db" "SELECT note FROM runs WHERE run_id = $run" | grep -q 'cycles.* not supported.*falling back to task-clock' ||
            fail "runs.note does not say the hardware events were unsupported"
        if [[ $alloc == glibc ]]; then
            grep -q 'cycles.* not supported.*falling back to task-clock, page-faults, context-switches' "$WORK/$alloc.err" ||
                fail "no note about the unsupported hardware events that -e named"
            [[ $(grep -c 'not supported' "$WORK/$alloc.err") -eq 1 ]] || fail "the fallback was announced more than once"
        else
            ! grep -q 'not supported' "$WORK/$alloc.err" || fail "the default events' fallback was announced on stderr"
        fi
        clock=$(sql "$db" "SELECT max(value) FROM events WHERE run_id = $run AND name = 'task-clock'")
        [[ $clock -gt 0 ]] || fail "task-clock did not count"
    fi

    echo "-- results"
    for key in ops_per_sec peak_live_bytes; do
        got=$(sql "$db" "SELECT text FROM results WHERE run_id = $run AND key = '$key' AND source = 'phase'")
        want=$(field "$key" "$(grep '^result ' "$WORK/$alloc.out")")
        [[ -n $got && $got == "$want" ]] || fail "result $key: recorded '$got', result line '$want'"
    done

    if [[ $alloc == hakmem ]]; then
        echo "-- hakmem counters at the end against its exit dump"
        build=$(sql "$db" "SELECT alloc_build FROM runs WHERE run_id = $run")
        [[ $build == *COUNTERS=1* ]] || fail "no libhakmem build id recorded ($build)"
        exit_seq=$(sql "$db" "SELECT seq FROM samples WHERE run_id = $run AND kind = 'exit'")
        [[ -n $exit_seq ]] || fail "no exit snapshot"
        # The decay worker may run a pass between the exit dump and the process's end, so its
        # group is left out; every other counter stops moving once the program's threads do.
        sql "$db" "SELECT c.name || ' ' || c.value FROM counters c JOIN counter_names n
            ON n.run_id = c.run_id AND n.name = c.name
            WHERE c.run_id = $run AND c.sample_seq = $exit_seq AND c.value != 0 AND n.grp != 'decay'" |
            sort >"$WORK/db-counters.txt"
        awk '/^hakmem counters/ { on = 1; next } on && NF == 3 && $1 != "decay" && $3 ~ /^-?[0-9]+$/ { print $2, $3 }' "$WORK/$alloc.err" |
            sort >"$WORK/dump-counters.txt"
        [[ -s $WORK/dump-counters.txt ]] || fail "no HAKMEM_STATS dump"
        diff "$WORK/db-counters.txt" "$WORK/dump-counters.txt" || fail "counters at the end differ from the exit dump"
        echo "$(wc -l <"$WORK/db-counters.txt") counters agree"
        marks_with_counters=$(sql "$db" "SELECT count(DISTINCT c.sample_seq) FROM counters c JOIN phases p
            ON p.run_id = c.run_id AND p.sample_seq = c.sample_seq WHERE p.run_id = $run")
        [[ $marks_with_counters -eq 10 ]] || fail "counters at $marks_with_counters of 10 marks"
    else
        n=$(sql "$db" "SELECT count(*) FROM counters WHERE run_id = $run")
        [[ $n -eq 0 ]] || fail "counters recorded for a glibc run"
    fi
done
[[ $(sql "$db" "PRAGMA integrity_check") == ok ]] || fail "integrity_check"
[[ $(sql "$db" "SELECT count(*) FROM runs") -eq 2 ]] || fail "the database does not hold both runs"
echo "ok"
