#!/usr/bin/env bash
# Throughput and cost of tracing: nginx (1 worker) on 127.0.0.1:18080 under
# wrk with `Connection: close`, so every request is one TCP connection.
# Each round runs every config back to back (interleaved, so drift on the
# machine hits all configs alike):
#   none       no tracer
#   whoclosed  build/whoclosed trace -o FILE --port 18080 [--whoclosed-args]
#   wc-no-stacks, wc-core, wc-uprobe
#              the same with --no-stacks; --no-stacks --http off (the TCP
#              tracer alone); --no-stacks --http uprobe
#   tcpstates  libbpf-tools tcpstates > /dev/null (the anchor)
#   hooks      wc-core with every BPF program returning at once
#              (WHOCLOSED_EMPTY_PROGRAMS=1): what attaching the very same
#              hooks costs before any of our work (calibration)
#   kernel, kernel-no-stacks
#              whoclosed and wc-no-stacks with a reader that reads every
#              ring record and drops it unprocessed
#              (WHOCLOSED_DISCARD_RECORDS=1): what the kernel side costs
#              by itself, before any userspace work (calibration)
#   count      bpftrace counting TCP state changes in the kernel, nothing
#              read per event: the floor any tracer of every state change
#              pays on this machine (calibration; not run by default)
# and reports req/s, the ratio to `none` of the same round, events written
# and lost, events per connection and tracer CPU per connection.
# --load loop replaces nginx and wrk by build/tests/conn_loop: one thread,
# pinned to the first CPU, opening and closing loopback connections back to
# back (both ends, the server's FIN first), with the tracer pinned to the
# second CPU. Every BPF program run then lands in that one thread's time,
# and the ratio is the cost tracing adds to the connection's own path,
# without the swings of a two-process load.
# Not a test: ctest never runs it. Needs root (loads BPF programs).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  cat <<'USAGE'
usage: scripts/bench.sh [--rounds N] [--seconds S] [--configs LIST]
                        [--whoclosed-args "ARGS"] [--connections C]
  --rounds N            interleaved rounds (default 3)
  --seconds S           wrk duration per run (default $SECS or 10)
  --configs LIST        comma-separated: none, whoclosed, wc-no-stacks,
                        wc-core (--no-stacks --http off), wc-uprobe
                        (--no-stacks --http uprobe), tcpstates, count,
                        hooks (wc-core's hooks with empty programs),
                        kernel, kernel-no-stacks (whoclosed, wc-no-stacks
                        with a reader that drops every record unread)
                        (default none,whoclosed,tcpstates)
  --whoclosed-args ARGS extra arguments for `whoclosed trace`, e.g. "--http auto"
  --connections C       wrk connections (default 32)
  --threads T           wrk threads (default 2, wrk's own default)
  --load LOAD           nginx (default: nginx under wrk) or loop (conn_loop,
                        see above; needs 2 CPUs)
  --bracket             run none before the first and after every other
                        config of a round; each config's ratio is then over
                        the mean of the none runs just before and after it
                        (drift within a round cancels, and one none run's
                        noise weighs half)
  --bpf-stats           also print, per whoclosed run, each BPF program's
                        hits and run time per connection (turns on
                        kernel.bpf_stats_enabled for the run; adds a little cost)
USAGE
}

ROUNDS=3
SECONDS_PER_RUN=${SECS:-10}
CONFIGS="none,whoclosed,tcpstates"
WHOCLOSED_ARGS=""
CONNECTIONS=32
THREADS=2
BPF_STATS=0
BRACKET=0
PORT=18080
WHOCLOSED=${WHOCLOSED:-build/whoclosed} # override to bench another binary
LOAD=nginx
CONN_LOOP=build/tests/conn_loop

while (($# > 0)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --configs) CONFIGS=$2; shift 2 ;;
    --whoclosed-args) WHOCLOSED_ARGS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --bpf-stats) BPF_STATS=1; shift ;;
    --bracket) BRACKET=1; shift ;;
    --load) LOAD=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'bench: unknown argument %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
# is_whoclosed CONFIG: whether the config runs build/whoclosed
is_whoclosed() { [[ $1 == whoclosed || $1 == wc-* || $1 == hooks || $1 == kernel* ]]; }
log() { printf 'bench: %s\n' "$*" >&2; }

[[ ${EUID} -eq 0 ]] || die "run as root (tracers load BPF programs)"
[[ ${ROUNDS} =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer"
[[ ${SECONDS_PER_RUN} =~ ^[1-9][0-9]*$ ]] || die "--seconds wants a positive integer"
[[ ${THREADS} =~ ^[1-9][0-9]*$ ]] || die "--threads wants a positive integer"
IFS=, read -ra CONFIG_LIST <<<"${CONFIGS}"
if ((BRACKET)) && [[ ,${CONFIGS}, != *,none,* ]]; then die "--bracket wants none among --configs"; fi
for config in "${CONFIG_LIST[@]}"; do
  case ${config} in
    none | whoclosed | wc-no-stacks | wc-core | wc-uprobe | tcpstates | count | hooks | kernel | kernel-no-stacks) ;;
    *) die "unknown config '${config}' (none, whoclosed, wc-no-stacks, wc-core, wc-uprobe, tcpstates, count, hooks, kernel, kernel-no-stacks)" ;;
  esac
done
read -ra EXTRA_ARGS <<<"${WHOCLOSED_ARGS}"

case ${LOAD} in
  nginx) TOOLS="nginx wrk python3" ;;
  loop)
    TOOLS="python3 taskset"
    [[ -x ${CONN_LOOP} ]] || die "${CONN_LOOP} missing: run scripts/build.sh"
    (($(nproc) >= 2)) || die "--load loop wants 2 CPUs (the load on one, the tracer on another)"
    ;;
  *) die "--load wants nginx or loop" ;;
esac
for tool in ${TOOLS}; do
  command -v "${tool}" >/dev/null || die "${tool} missing: run scripts/setup.sh"
done
for config in "${CONFIG_LIST[@]}"; do
  if is_whoclosed "${config}"; then
    [[ -x ${WHOCLOSED} ]] || die "${WHOCLOSED} missing: run scripts/build.sh"
  fi
done
if [[ ,${CONFIGS}, == *,tcpstates,* ]]; then
  TCPSTATES=$(dpkg -L libbpf-tools 2>/dev/null | grep -m1 '/tcpstates$' || true)
  [[ -n ${TCPSTATES} && -x ${TCPSTATES} ]] ||
    die "tcpstates missing: install libbpf-tools (scripts/setup.sh)"
fi
if [[ ,${CONFIGS}, == *,count,* ]]; then
  command -v bpftrace >/dev/null || die "bpftrace missing: run scripts/setup.sh"
fi
CLK_TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d /tmp/whoclosed-bench.XXXXXX)
NGINX_PID=""
TRACER_PID=""

# stop_pid PID SIGNAL: send SIGNAL, escalate to TERM then KILL after 5 s
# each. (Background jobs of a script start with SIGINT ignored; a tool that
# installs its own handler still gets it, a shell script would not.)
stop_pid() {
  local pid=$1 sig i
  for sig in "$2" TERM KILL; do
    kill -0 "${pid}" 2>/dev/null || break
    [[ ${sig} == "$2" ]] || log "pid ${pid} ignored SIG$2: sending SIG${sig}"
    kill "-${sig}" "${pid}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
  done
  wait "${pid}" 2>/dev/null || true
}

cleanup() {
  if [[ -n ${STATS_WAS:-} ]]; then sysctl -qw kernel.bpf_stats_enabled="${STATS_WAS}" || true; fi
  if [[ -n ${TRACER_PID} ]]; then stop_pid "${TRACER_PID}" INT; fi
  if [[ -n ${NGINX_PID} ]]; then stop_pid "${NGINX_PID}" QUIT; fi
  rm -rf "${WORK}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_nginx() {
  mkdir -p "${WORK}/nginx/html" "${WORK}/nginx/temp"
  # Small static body: the connection, not the payload, is what we measure.
  printf 'whoclosed bench\n' >"${WORK}/nginx/html/index.html"
  # Workers drop to nobody: they must be able to read the docroot.
  chmod 0755 "${WORK}" "${WORK}/nginx" "${WORK}/nginx/html"
  cat >"${WORK}/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid ${WORK}/nginx/nginx.pid;
error_log ${WORK}/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 65;
  client_body_temp_path ${WORK}/nginx/temp/body;
  proxy_temp_path ${WORK}/nginx/temp/proxy;
  fastcgi_temp_path ${WORK}/nginx/temp/fastcgi;
  uwsgi_temp_path ${WORK}/nginx/temp/uwsgi;
  scgi_temp_path ${WORK}/nginx/temp/scgi;
  server {
    listen 127.0.0.1:${PORT};
    root ${WORK}/nginx/html;
  }
}
CONF
  # Another server on the port would answer for ours, which then dies
  # unseen on its bind(), and the numbers would be that server's.
  if curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/" 2>/dev/null; then
    die "something already answers on 127.0.0.1:${PORT}: stop it first"
  fi
  nginx -p "${WORK}/nginx" -e "${WORK}/nginx/error.log" \
    -c "${WORK}/nginx/nginx.conf" 2>"${WORK}/nginx/stderr.log" &
  NGINX_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    if curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/" 2>/dev/null; then
      sleep 0.2 # a server that lost the bind() race is gone by now
      kill -0 "${NGINX_PID}" 2>/dev/null || break
      return 0
    fi
    kill -0 "${NGINX_PID}" 2>/dev/null || break
    sleep 0.1
  done
  cat "${WORK}/nginx/error.log" "${WORK}/nginx/stderr.log" >&2 2>/dev/null || true
  die "nginx did not come up on 127.0.0.1:${PORT} (is the port taken?)"
}

# tracer_cpu_ticks PID: utime+stime of all its threads, from /proc/PID/stat
# (fields 14 and 15, counted after the ")" that ends the comm field).
tracer_cpu_ticks() {
  local stat f
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  read -ra f <<<"${stat}"
  echo $((f[11] + f[12]))
}

# variant_args CONFIG: the whoclosed arguments a config adds
variant_args() {
  case $1 in
    wc-no-stacks | kernel-no-stacks) echo "--no-stacks" ;;
    wc-core | hooks) echo "--no-stacks --http off" ;;
    wc-uprobe) echo "--no-stacks --http uprobe" ;;
    *) echo "" ;;
  esac
}

start_whoclosed() { # start_whoclosed OUTFILE ERRFILE CONFIG
  local -a variant
  read -ra variant <<<"$(variant_args "$3")"
  local empty=0 discard=0
  [[ $3 == hooks ]] && empty=1
  [[ $3 == kernel* ]] && discard=1
  WHOCLOSED_EMPTY_PROGRAMS=${empty} WHOCLOSED_DISCARD_RECORDS=${discard} \
    ${PIN_TRACER} "${WHOCLOSED}" trace -o "$1" --port "${PORT}" "${EXTRA_ARGS[@]}" "${variant[@]}" \
    >"$1.stdout" 2>"$2" &
  TRACER_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q '^whoclosed: tracing' "$2" 2>/dev/null && return 0
    kill -0 "${TRACER_PID}" 2>/dev/null || break
    sleep 0.1
  done
  cat "$2" >&2
  die "whoclosed did not report 'whoclosed: tracing'"
}

start_tcpstates() { # start_tcpstates ERRFILE
  ${PIN_TRACER} "${TCPSTATES}" >/dev/null 2>"$1" &
  TRACER_PID=$!
  wait_attached "$1" tcpstates
}

# wait_attached ERRFILE NAME: the tracer's output goes to /dev/null, so
# readiness = it holds a BPF link (or a perf event with the program attached
# on kernels without BPF links).
wait_attached() {
  local i
  for ((i = 0; i < 300; i++)); do
    if find "/proc/${TRACER_PID}/fd" -lname 'anon_inode:*bpf_link*' \
      -o -lname 'anon_inode:*bpf-link*' -o -lname 'anon_inode:*perf_event*' \
      2>/dev/null | grep -q .; then
      sleep 0.2
      return 0
    fi
    kill -0 "${TRACER_PID}" 2>/dev/null || break
    sleep 0.1
  done
  cat "$1" >&2
  die "$2 did not attach"
}

# run_wrk OUTFILE: prints "<requests> <req/s> <socket errors>"
run_wrk() {
  wrk -t"${THREADS}" -c"${CONNECTIONS}" -d"${SECONDS_PER_RUN}s" -H 'Connection: close' \
    "http://127.0.0.1:${PORT}/" >"$1"
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
reqs = re.search(r"(\d+) requests in", text)
rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
errs = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if not reqs or not rps:
    sys.exit("bench: cannot parse wrk output:\n" + text)
print(reqs.group(1), rps.group(1), errs + (int(non2xx.group(1)) if non2xx else 0))
PY
}

# run_loop: conn_loop on the first CPU; prints "<connections> <conn/s> <errors>"
run_loop() {
  taskset -c "${LOAD_CPU}" "${CONN_LOOP}" "${PORT}" "${SECONDS_PER_RUN}"
}

run_load() { # run_load OUTFILE
  if [[ ${LOAD} == loop ]]; then run_loop; else run_wrk "$1"; fi
}

# summary_counts FILE...: prints "<events> <lost>" from the last summary line
start_count() { # start_count ERRFILE
  ${PIN_TRACER} bpftrace -e 'tracepoint:sock:inet_sock_set_state { @changes = count(); }' \
    >/dev/null 2>"$1" &
  TRACER_PID=$!
  wait_attached "$1" bpftrace
}

summary_counts() {
  python3 - "$@" <<'PY'
import json, sys
summary = None
for name in sys.argv[1:]:
    with open(name) as f:
        for line in f:
            if '"summary"' not in line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("type") == "summary":
                summary = obj
if summary is None:
    print("- -")
else:
    print(summary.get("events", "-"), summary.get("lost", "-"))
PY
}

RESULTS=${WORK}/results.tsv # round config requests rps errors events lost cpu_ticks

run_one() { # run_one ROUND CONFIG
  local round=$1 config=$2 dir=${WORK}/r$1-$2 before after line events=- lost=- cpu=-
  mkdir -p "${dir}"
  if is_whoclosed "${config}"; then
    start_whoclosed "${dir}/trace.ndjson" "${dir}/tracer.err" "${config}"
  else
    case ${config} in
      tcpstates) start_tcpstates "${dir}/tracer.err" ;;
      count) start_count "${dir}/tracer.err" ;;
    esac
  fi
  if [[ -n ${TRACER_PID} ]]; then before=$(tracer_cpu_ticks "${TRACER_PID}"); fi
  line=$(run_load "${dir}/wrk.txt")
  if [[ -n ${TRACER_PID} ]]; then
    # Let the tracer drain what the last requests produced, then read its
    # CPU while it still runs (a reaped process has no /proc entry).
    sleep 0.5
    after=$(tracer_cpu_ticks "${TRACER_PID}")
    cpu=$((after - before))
    if is_whoclosed "${config}" && [[ ${BPF_STATS} == 1 ]]; then
      bpftool -j prog show >"${dir}/progs.json" 2>/dev/null || true
      # The tracer's programs: the prog_id of its BPF program and link fds.
      cat "/proc/${TRACER_PID}/fdinfo/"* 2>/dev/null | awk '/^prog_id:/ {print $2}' |
        sort -u >"${dir}/prog_ids.txt" || true
    fi
    stop_pid "${TRACER_PID}" INT
    TRACER_PID=""
  fi
  if is_whoclosed "${config}"; then
    read -r events lost < <(summary_counts "${dir}/trace.ndjson" "${dir}/trace.ndjson.stdout")
    # A run writes ~100-300 MB: keep only the summary, or a long bench fills
    # the disk and its page cache, which later runs then pay for.
    rm -f "${dir}/trace.ndjson"
  fi
  local requests rps errors
  read -r requests rps errors <<<"${line}"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${round}" "${config}" \
    "${requests}" "${rps}" "${errors}" "${events}" "${lost}" "${cpu}" >>"${RESULTS}"
  log "round ${round} ${config}: ${rps} req/s"
  if [[ ${config} == kernel* ]]; then
    local dropped
    dropped=$(sed -n 's/^whoclosed: \([0-9]*\) records read and dropped unprocessed$/\1/p' "${dir}/tracer.err")
    log "  ${dropped:-?} records read and dropped unprocessed ($(awk -v d="${dropped:-0}" -v r="${requests}" \
      'BEGIN { printf "%.2f", d / (r > 0 ? r : 1) }') per connection)"
  fi
  if [[ -s ${dir}/progs.json ]]; then prog_stats "${dir}/progs.json" "${requests}"; fi
}

# prog_stats PROGS_JSON CONNECTIONS: the tracer's programs with the hits and
# BPF run time they cost per connection (counters start at load, so the
# second or two before wrk starts is included: idle, it adds next to nothing).
prog_stats() {
  python3 - "$1" "$2" "$(dirname "$1")/prog_ids.txt" <<'PY' >&2
import json, sys
progs, conns = json.load(open(sys.argv[1])), int(sys.argv[2])
ids = {int(l) for l in open(sys.argv[3]) if l.strip()}
rows = []
for p in progs:
    if p.get("id") not in ids or not p.get("run_cnt"):
        continue
    rows.append((p["run_time_ns"] / conns, p["run_cnt"] / conns, p["run_time_ns"] / p["run_cnt"], p.get("name", "?")))
rows.sort(reverse=True)
print(f"bench:   {'program':<16} {'hits/conn':>9} {'ns/hit':>7} {'ns/conn':>8}")
for per_conn, hits, per_hit, name in rows:
    print(f"bench:   {name:<16} {hits:>9.2f} {per_hit:>7.0f} {per_conn:>8.0f}")
print(f"bench:   {'total':<16} {'':>9} {'':>7} {sum(r[0] for r in rows):>8.0f}")
PY
}

report() {
  python3 - "${RESULTS}" "${CLK_TCK}" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
tick_us = 1e6 / int(sys.argv[2])
configs = list(dict.fromkeys(r[1] for r in rows))

# Each run's denominator: the mean of the round's `none` runs just before
# and just after it (rows are in run order); the one `none` of a round when
# it ran once; for a `none` run, the mean of its round's `none` runs.
def baselines(rows):
    out = []
    for i, r in enumerate(rows):
        same = [(j, float(x[3])) for j, x in enumerate(rows) if x[0] == r[0] and x[1] == "none"]
        if not same:
            out.append(None)
        elif r[1] == "none":
            out.append(sum(v for _, v in same) / len(same))
        else:
            before = [v for j, v in same if j < i][-1:]
            after = [v for j, v in same if j > i][:1]
            near = before + after
            out.append(sum(near) / len(near))
    return out

base = baselines(rows)

def num(s):
    return None if s == "-" else float(s)

def fmt(v, spec):
    return "-" if v is None else format(v, spec)

hdr = f"{'round':>5}  {'config':<16} {'req/s':>10} {'ratio':>6} {'conns':>9} {'errors':>6} {'events':>9} {'lost':>6} {'ev/conn':>7} {'cpu µs/conn':>11}"
print(hdr)
total = {c: dict(conns=0, rps=[], ratios=[], errors=0, events=None, lost=None, cpu=None) for c in configs}
for (rnd, cfg, reqs, rps, errs, events, lost, cpu), den in zip(rows, base):
    reqs, rps, errs = int(reqs), float(rps), int(errs)
    events, lost, cpu = num(events), num(lost), num(cpu)
    ratio = rps / den if den else None
    evc = events / reqs if events is not None and reqs else None
    cpuc = cpu * tick_us / reqs if cpu is not None and reqs else None
    print(f"{rnd:>5}  {cfg:<16} {rps:>10.0f} {fmt(ratio, '6.3f'):>6} {reqs:>9} {errs:>6} "
          f"{fmt(events, '.0f'):>9} {fmt(lost, '.0f'):>6} {fmt(evc, '.2f'):>7} {fmt(cpuc, '.1f'):>11}")
    t = total[cfg]
    t["conns"] += reqs
    t["errors"] += errs
    t["rps"].append(rps)
    if ratio is not None:
        t["ratios"].append(ratio)
    for key, val in (("events", events), ("lost", lost), ("cpu", cpu)):
        if val is not None:
            t[key] = (t[key] or 0) + val
print()
print(f"{'all':>5}  {'config':<16} {'req/s':>10} {'ratio':>6} {'± se':>6} {'range':>11} {'conns':>9} {'errors':>6} {'events':>9} {'lost':>6} {'ev/conn':>7} {'cpu µs/conn':>11}")
for cfg in configs:
    t = total[cfg]
    rps = sum(t["rps"]) / len(t["rps"])
    ratio = sum(t["ratios"]) / len(t["ratios"]) if t["ratios"] else None
    spread = f"{min(t['ratios']):.3f}-{max(t['ratios']):.3f}" if t["ratios"] else "-"
    n = len(t["ratios"])
    se = (sum((r - ratio) ** 2 for r in t["ratios"]) / (n - 1) / n) ** 0.5 if n > 1 else None
    evc = t["events"] / t["conns"] if t["events"] is not None and t["conns"] else None
    cpuc = t["cpu"] * tick_us / t["conns"] if t["cpu"] is not None and t["conns"] else None
    print(f"{'mean':>5}  {cfg:<16} {rps:>10.0f} {fmt(ratio, '6.3f'):>6} {fmt(se, '6.3f'):>6} {spread:>11} {t['conns']:>9} {t['errors']:>6} "
          f"{fmt(t['events'], '.0f'):>9} {fmt(t['lost'], '.0f'):>6} {fmt(evc, '.2f'):>7} {fmt(cpuc, '.1f'):>11}")
print()
print("ratio: req/s over the same round's `none` (with --bracket: the mean of the none runs just before and after), then the mean over rounds, its standard error, and lowest-highest round;")
print("conns: wrk requests (one connection each) or conn_loop connections;")
print("cpu: tracer utime+stime; BPF program time is charged to the traced tasks (nginx and wrk, or conn_loop) and shows in the ratio.")
PY
}

# A tracer left running (another whoclosed, an experiment's) would hook every
# configuration, `none` included, and every ratio would be off (seen here:
# untraced runs at 21,500 instead of 25,000 requests/s). Its state hook's
# name gives it away (15 characters at most in the kernel).
LOADED_PROGS=$(bpftool prog show 2>/dev/null || true) # whole, before grep -q (pipefail)
if grep -qE 'name (btf|tp|fentry|kprobe)_set_stat' <<<"${LOADED_PROGS}"; then
  die "a whoclosed tracer is already running (bpftool prog show lists its set_state program): stop it first"
fi
if [[ ${BPF_STATS} == 1 ]]; then
  STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
  sysctl -qw kernel.bpf_stats_enabled=1
fi
if [[ ${LOAD} == loop ]]; then
  read -r LOAD_CPU TRACER_CPU < <(taskset -pc $$ | sed 's/.*: //' | python3 -c '
import sys
cpus = []
for part in sys.stdin.read().strip().split(","):
    a, _, b = part.partition("-")
    cpus += range(int(a), int(b or a) + 1)
print(cpus[0], cpus[1])')
  PIN_TRACER="taskset -c ${TRACER_CPU}"
  log "conn_loop on CPU ${LOAD_CPU} (127.0.0.1:${PORT}), tracers on CPU ${TRACER_CPU}; ${ROUNDS} round(s) x ${CONFIGS}; ${SECONDS_PER_RUN}s each"
else
  PIN_TRACER=""
  log "nginx on 127.0.0.1:${PORT}; ${ROUNDS} round(s) x ${CONFIGS}; ${SECONDS_PER_RUN}s each"
  start_nginx
fi
for ((round = 1; round <= ROUNDS; round++)); do
  if ((BRACKET)); then
    run_one "${round}" none
    sleep 1
  fi
  for config in "${CONFIG_LIST[@]}"; do
    ((BRACKET)) && [[ ${config} == none ]] && continue
    run_one "${round}" "${config}"
    sleep 1 # let the previous run's sockets settle
    if ((BRACKET)); then
      run_one "${round}" none
      sleep 1
    fi
  done
done
report
