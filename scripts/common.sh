#!/bin/bash
# Shared by the run_*.sh launchers: options, path checks, the Python to use, and logging.
# Each launcher sets DEVICE_TARGET and calls one of the functions below. Bad usage exits with
# status 2 and an `error:` line, as the Python programs do.

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE_DIR=$(cd "${SCRIPT_DIR}/.." && pwd)
PYTHON=${PYTHON:-$(command -v python || command -v python3)}

get_real_path() {
  if [ "${1:0:1}" == "/" ]; then echo "$1"; else echo "$(realpath -m "${PWD}/$1")"; fi
}

# usage_error MESSAGE USAGE_LINE...: the error line, then the usage, on stderr; exit 2.
usage_error() {
  echo "error: $1" >&2
  shift
  printf '%s\n' "$@" >&2
  exit 2
}

require_file() {  # require_file WHAT PATH
  if [ ! -f "$2" ]; then
    echo "error: $1 $2 is not a file" >&2
    exit 2
  fi
}

# take_options USAGE_LINE... -- ARGS...: reads `--log_dir DIR` anywhere in ARGS into LOG_DIR
# (empty if not given); the other arguments are left in the array POSITIONAL.
take_options() {
  local usage=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do usage+=("$1"); shift; done
  shift
  LOG_DIR=""
  POSITIONAL=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --log_dir)
        [ $# -ge 2 ] || usage_error "option --log_dir needs a directory" "${usage[@]}"
        LOG_DIR=$(get_real_path "$2"); shift 2 ;;
      --log_dir=*) LOG_DIR=$(get_real_path "${1#--log_dir=}"); shift ;;
      -h|--help) printf '%s\n' "${usage[@]}"; exit 0 ;;
      --*) usage_error "unknown option $1" "${usage[@]}" ;;
      *) POSITIONAL+=("$1"); shift ;;
    esac
  done
}

# writable_dir DIR: creates DIR and checks that a log can be written there.
writable_dir() {
  if ! mkdir -p "$1" 2>/dev/null || ! touch "$1/.write_test" 2>/dev/null; then
    echo "error: log directory $1 cannot be written (choose one with --log_dir DIR)" >&2
    exit 2
  fi
  rm -f "$1/.write_test"
}

# run_logged LOG_FILE COMMAND...: runs in the foreground, output to LOG_FILE, keeps the status.
run_logged() {
  local log=$1; shift
  writable_dir "$(dirname "$log")"
  echo "running: $*"
  echo "log: $log"
  "$@" > "$log" 2>&1
  local status=$?
  if [ $status -ne 0 ]; then
    echo "failed with status $status; last lines of $log:" >&2
    tail -n 5 "$log" >&2
  fi
  return $status
}

# standalone_train [--log_dir DIR] [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]
standalone_train() {
  local usage=("Usage: bash $(basename "$0") [--log_dir DIR] [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]"
    "  CONFIG_PATH defaults to default_config.yaml, OUTPUT_DIR to ./output, DEVICE_ID to 0;"
    "  the log is LOG_DIR/train.log, LOG_DIR defaulting to OUTPUT_DIR")
  take_options "${usage[@]}" -- "$@"
  set -- "${POSITIONAL[@]}"
  [ $# -le 3 ] || usage_error "too many arguments" "${usage[@]}"
  [ -z "$3" ] || [[ "$3" =~ ^[0-9]+$ ]] || usage_error "DEVICE_ID must be an integer" "${usage[@]}"
  local config output device_id log
  config=$(get_real_path "${1:-${BASE_DIR}/default_config.yaml}")
  output=$(get_real_path "${2:-./output}")
  device_id=${3:-0}
  require_file "CONFIG_PATH" "$config"
  log="${LOG_DIR:-$output}/train.log"
  cd "$BASE_DIR" || exit 1
  run_logged "$log" "$PYTHON" train.py --config_path "$config" \
    --output_dir "$output" --device_target "$DEVICE_TARGET" --device_id "$device_id" \
    --progress_bar false
  local status=$?
  [ $status -eq 0 ] && tail -n 1 "$log"
  return $status
}

# evaluate [--log_dir DIR] CKPT_FILE [CONFIG_PATH] [DEVICE_ID]
evaluate() {
  local usage=("Usage: bash $(basename "$0") [--log_dir DIR] CKPT_FILE [CONFIG_PATH] [DEVICE_ID]"
    "  CKPT_FILE is an actor checkpoint such as output/ddpg_actortarget.ckpt; the settings of"
    "  its run (the config.yaml train.py wrote beside it) win, CONFIG_PATH only fills what"
    "  the run lacks (all of them for a checkpoint without a run, such as the Hub file);"
    "  the log is LOG_DIR/eval.log, LOG_DIR defaulting to the current directory")
  take_options "${usage[@]}" -- "$@"
  set -- "${POSITIONAL[@]}"
  [ $# -ge 1 ] || usage_error "CKPT_FILE is missing" "${usage[@]}"
  [ $# -le 3 ] || usage_error "too many arguments" "${usage[@]}"
  [ -z "$3" ] || [[ "$3" =~ ^[0-9]+$ ]] || usage_error "DEVICE_ID must be an integer" "${usage[@]}"
  local ckpt device_id log preset=()
  ckpt=$(get_real_path "$1")
  device_id=${3:-0}
  require_file "CKPT_FILE" "$ckpt"
  if [ -n "$2" ]; then
    require_file "CONFIG_PATH" "$(get_real_path "$2")"
    preset=(--config_path "$(get_real_path "$2")")
  fi
  # Not next to the checkpoint: a run directory may be read-only.
  log="${LOG_DIR:-$PWD}/eval.log"
  cd "$BASE_DIR" || exit 1
  run_logged "$log" "$PYTHON" eval.py "${preset[@]}" --ckpt_file "$ckpt" \
    --device_target "$DEVICE_TARGET" --device_id "$device_id"
  local status=$?
  [ $status -eq 0 ] && grep "avgReward" "$log"
  return $status
}

# distribute_train [--log_dir DIR] WORKER_NUM [CONFIG_PATH] [OUTPUT_DIR]: data-parallel
# training under msrun.
distribute_train() {
  local usage=("Usage: bash $(basename "$0") [--log_dir DIR] WORKER_NUM [CONFIG_PATH] [OUTPUT_DIR]"
    "  WORKER_NUM workers on this host; CONFIG_PATH defaults to default_config.yaml,"
    "  OUTPUT_DIR to ./output_distribute. MASTER_PORT (default 8118) sets msrun's port."
    "  Logs: LOG_DIR/train.log and LOG_DIR/msrun_log/, LOG_DIR defaulting to OUTPUT_DIR")
  take_options "${usage[@]}" -- "$@"
  set -- "${POSITIONAL[@]}"
  [ $# -ge 1 ] || usage_error "WORKER_NUM is missing" "${usage[@]}"
  [ $# -le 3 ] || usage_error "too many arguments" "${usage[@]}"
  [[ "$1" =~ ^[1-9][0-9]*$ ]] || usage_error "WORKER_NUM must be a positive integer" "${usage[@]}"
  local workers=$1 config output msrun_bin logs
  config=$(get_real_path "${2:-${BASE_DIR}/default_config.yaml}")
  output=$(get_real_path "${3:-./output_distribute}")
  require_file "CONFIG_PATH" "$config"
  logs=${LOG_DIR:-$output}
  msrun_bin=$(dirname "$PYTHON")/msrun
  [ -x "$msrun_bin" ] || msrun_bin=$(command -v msrun)
  if [ -z "$msrun_bin" ]; then
    echo "error: msrun not found: it comes with mindspore (pip install -r requirements.txt)" >&2
    exit 2
  fi
  cd "$BASE_DIR" || exit 1
  mkdir -p "$output" || exit 1
  # msrun starts every worker with the `python` on PATH: make it the one MindSpore is in.
  export PATH="$(dirname "$PYTHON"):$PATH"
  # Every worker logs to LOG_DIR/msrun_log/worker_<rank>.log; --join makes msrun wait, and
  # stop the job with an error when a worker dies. MindSpore's cluster sometimes fails to
  # start ("Building networking for MS_SCHED failed", seen on a loaded 2-core host) before
  # any worker has done anything: then the job is started once more, on the next port.
  local port=${MASTER_PORT:-8118} attempt status
  for attempt in 1 2; do
    run_logged "${logs}/train.log" "$msrun_bin" --worker_num="$workers" \
      --local_worker_num="$workers" --master_port="$port" \
      --log_dir="${logs}/msrun_log" --join=True --cluster_time_out=120 \
      train.py --config_path "$config" --output_dir "$output" --device_target "$DEVICE_TARGET" \
      --distributed true --progress_bar false
    status=$?
    [ $status -ne 0 ] && [ $attempt -eq 1 ] \
      && grep -qs "Building networking for MS_SCHED failed" "${logs}/msrun_log/scheduler.log" \
      || break
    port=$((port + 1))
    echo "MindSpore's cluster did not start; starting the job again on port $port" >&2
  done
  if [ $status -eq 0 ]; then
    grep -h "network checksum" "${logs}"/msrun_log/worker_*.log
    grep -h "^trained\|avgReward:" "${logs}/msrun_log/worker_0.log"
  else
    echo "distributed training failed; worker logs in ${logs}/msrun_log" >&2
  fi
  return $status
}

# allowed_cpus: the ids of the CPUs this process may run on (its affinity mask), one a line.
allowed_cpus() {
  local list part
  list=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null)
  if [ -z "$list" ]; then seq 0 $(($(nproc) - 1)); return; fi
  local IFS=,
  for part in $list; do
    if [[ "$part" == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
  done
}

# stop_seeds: on Ctrl-C or SIGTERM, stops the runs train_seeds started (background jobs of a
# script ignore SIGINT, so they would go on training unseen) and says how to resume them.
stop_seeds() {
  local pid_file
  for pid_file in "${SEEDS_TMP}"/*.pid; do
    [ -f "$pid_file" ] || continue
    [ -f "${pid_file%.pid}.status" ] || kill -TERM "$(cat "$pid_file")" 2>/dev/null
  done
  wait
  echo "interrupted: run the same command again to resume the unfinished seeds" >&2
  exit 130
}

# train_seeds [--log_dir DIR] CONFIG_PATH OUTPUT_ROOT SEED... [-- TRAIN_OPTION...]: one train.py
# per seed, each pinned to one core of this process's affinity mask, one run per core at a
# time; further seeds wait for a core to free. A pinned run makes the native learner use one
# thread, so the runs never compete for cores. Each run resumes its own OUTPUT_ROOT/seed_SEED
# (--resume auto), so the same command again continues the unfinished seeds.
train_seeds() {
  local usage=(
    "Usage: bash $(basename "$0") [--log_dir DIR] CONFIG_PATH OUTPUT_ROOT SEED [SEED ...]"
    "         [-- TRAIN_OPTION ...]"
    "  one train.py per SEED into OUTPUT_ROOT/seed_SEED, each pinned to one core, one run per"
    "  core (further seeds wait for a free core); TRAIN_OPTIONs go to every train.py; logs"
    "  are appended to LOG_DIR/seed_SEED.log, LOG_DIR defaulting to OUTPUT_ROOT. The same"
    "  command again resumes the unfinished seeds (--resume auto); finished ones only print"
    "  their result again.")
  local args=() extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  if [ $# -gt 0 ]; then shift; extra=("$@"); fi
  take_options "${usage[@]}" -- "${args[@]}"
  set -- "${POSITIONAL[@]}"
  [ $# -ge 1 ] || usage_error "CONFIG_PATH is missing" "${usage[@]}"
  [ $# -ge 2 ] || usage_error "OUTPUT_ROOT is missing" "${usage[@]}"
  [ $# -ge 3 ] || usage_error "no SEED given" "${usage[@]}"
  local config root logs seed opt
  config=$(get_real_path "$1")
  root=$(get_real_path "$2")
  shift 2
  local seeds=("$@")
  for seed in "${seeds[@]}"; do
    [[ "$seed" =~ ^[0-9]+$ ]] || usage_error "SEED must be a non-negative integer, got '$seed'" \
      "${usage[@]}"
  done
  [ "$(printf '%s\n' "${seeds[@]}" | sort -n | uniq -d)" = "" ] \
    || usage_error "a SEED is given twice (its two runs would share one directory)" "${usage[@]}"
  for opt in "${extra[@]}"; do
    case "$opt" in
      --seed|--seed=*|--output_dir|--output_dir=*|--resume|--resume=*|--config_path|\
--config_path=*|--device_target|--device_target=*)
        usage_error "TRAIN_OPTION ${opt%%=*} is set by the launcher for every seed" \
          "${usage[@]}" ;;
    esac
  done
  require_file "CONFIG_PATH" "$config"
  writable_dir "$root"
  logs=${LOG_DIR:-$root}
  writable_dir "$logs"
  # Two launchers on one OUTPUT_ROOT would train each seed twice into one directory. The lock
  # is inherited by the runs: it holds while any of them lives, even if this shell was killed.
  exec 9>>"${root}/.run_seeds.lock"
  if command -v flock > /dev/null && ! flock -n 9; then
    echo "error: another launcher is running seeds in ${root}" >&2
    exit 2
  fi
  local cpus
  mapfile -t cpus < <(allowed_cpus)
  SEEDS_TMP=$(mktemp -d)
  trap 'rm -rf "$SEEDS_TMP"' EXIT
  trap stop_seeds INT TERM
  cd "$BASE_DIR" || exit 1
  echo "${#seeds[@]} seed(s) on ${#cpus[@]} core(s) (${cpus[*]}), one run per core"
  local slot_seed=() slot free log
  for seed in "${seeds[@]}"; do
    free=""
    while [ -z "$free" ]; do
      for slot in "${!cpus[@]}"; do
        if [ -z "${slot_seed[slot]}" ] || [ -f "${SEEDS_TMP}/${slot_seed[slot]}.status" ]; then
          free=$slot
          break
        fi
      done
      if [ -z "$free" ]; then
        wait -n 2>/dev/null
        [ $? -ne 127 ] || sleep 1  # no job left to wait for (or an old bash): poll
      fi
    done
    slot_seed[free]=$seed
    log="${logs}/seed_${seed}.log"
    # The launcher's options last: train.py takes the last value of a repeated option.
    local cmd=(taskset -c "${cpus[free]}" "$PYTHON" train.py "${extra[@]}" --config_path "$config"
               --seed "$seed" --output_dir "${root}/seed_${seed}" --resume auto
               --progress_bar false --device_target "$DEVICE_TARGET")
    echo "seed ${seed}: core ${cpus[free]}, log ${log}"
    echo "=== $(date '+%Y-%m-%d %H:%M:%S') ${cmd[*]}" >> "$log"
    (
      "${cmd[@]}" >> "$log" 2>&1 &
      echo $! > "${SEEDS_TMP}/${seed}.pid"
      wait $!
      echo $? > "${SEEDS_TMP}/${seed}.status"
    ) &
  done
  wait
  local failed=0 status line
  for seed in "${seeds[@]}"; do
    log="${logs}/seed_${seed}.log"
    status=$(cat "${SEEDS_TMP}/${seed}.status" 2>/dev/null || echo "?")
    if [ "$status" = 0 ]; then
      line=$(grep "avgReward" "$log" | tail -n 1)
    else
      failed=$((failed + 1))
      line="failed; last line of ${log}: $(tail -n 1 "$log")"
    fi
    echo "seed ${seed}: exit ${status}: ${line}"
  done
  if [ $failed -ne 0 ]; then
    echo "${failed} of ${#seeds[@]} seed(s) failed; the same command resumes them" >&2
    return 1
  fi
  return 0
}
