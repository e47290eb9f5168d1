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
    "  CKPT_FILE is an actor checkpoint such as output/ddpg_actortarget.ckpt; the run's"
    "  config.yaml beside it gives the defaults, CONFIG_PATH is layered on top;"
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
  # stop the job with an error when a worker dies.
  run_logged "${logs}/train.log" "$msrun_bin" --worker_num="$workers" \
    --local_worker_num="$workers" --master_port="${MASTER_PORT:-8118}" \
    --log_dir="${logs}/msrun_log" --join=True --cluster_time_out=120 \
    train.py --config_path "$config" --output_dir "$output" --device_target "$DEVICE_TARGET" \
    --distributed true --progress_bar false
  local status=$?
  if [ $status -eq 0 ]; then
    grep -h "network checksum" "${logs}"/msrun_log/worker_*.log
    grep -h "^trained\|avgReward:" "${logs}/msrun_log/worker_0.log"
  else
    echo "distributed training failed; worker logs in ${logs}/msrun_log" >&2
  fi
  return $status
}
