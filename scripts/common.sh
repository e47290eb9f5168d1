#!/bin/bash
# Shared by the run_*.sh launchers: path checks, the Python to use, and logging.
# Each launcher sets DEVICE_TARGET and calls one of the functions below.

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE_DIR=$(cd "${SCRIPT_DIR}/.." && pwd)
PYTHON=${PYTHON:-$(command -v python || command -v python3)}

get_real_path() {
  if [ "${1:0:1}" == "/" ]; then echo "$1"; else echo "$(realpath -m "${PWD}/$1")"; fi
}

require_file() {  # require_file WHAT PATH
  if [ ! -f "$2" ]; then
    echo "error: $1 $2 is not a file" >&2
    exit 1
  fi
}

# run_logged LOG_FILE COMMAND...: runs in the foreground, output to LOG_FILE, keeps the status.
run_logged() {
  local log=$1; shift
  mkdir -p "$(dirname "$log")" || { echo "error: cannot create $(dirname "$log")" >&2; exit 1; }
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

# standalone_train [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]
standalone_train() {
  if [ $# -gt 3 ]; then
    echo "Usage: bash $(basename "$0") [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]"
    echo "  CONFIG_PATH defaults to default_config.yaml, OUTPUT_DIR to ./output, DEVICE_ID to 0"
    exit 1
  fi
  local config output device_id
  config=$(get_real_path "${1:-${BASE_DIR}/default_config.yaml}")
  output=$(get_real_path "${2:-./output}")
  device_id=${3:-0}
  require_file "CONFIG_PATH" "$config"
  cd "$BASE_DIR" || exit 1
  run_logged "${output}/train.log" "$PYTHON" train.py --config_path "$config" \
    --output_dir "$output" --device_target "$DEVICE_TARGET" --device_id "$device_id" \
    --progress_bar false
  local status=$?
  [ $status -eq 0 ] && tail -n 1 "${output}/train.log"
  return $status
}

# evaluate CKPT_FILE [CONFIG_PATH] [DEVICE_ID]
evaluate() {
  if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "Usage: bash $(basename "$0") CKPT_FILE [CONFIG_PATH] [DEVICE_ID]"
    echo "  CKPT_FILE is an actor checkpoint such as output/ddpg_actortarget.ckpt"
    exit 1
  fi
  local ckpt config device_id log
  ckpt=$(get_real_path "$1")
  config=$(get_real_path "${2:-${BASE_DIR}/default_config.yaml}")
  device_id=${3:-0}
  require_file "CKPT_FILE" "$ckpt"
  require_file "CONFIG_PATH" "$config"
  log="$(dirname "$ckpt")/eval.log"
  cd "$BASE_DIR" || exit 1
  run_logged "$log" "$PYTHON" eval.py --config_path "$config" --ckpt_file "$ckpt" \
    --device_target "$DEVICE_TARGET" --device_id "$device_id"
  local status=$?
  [ $status -eq 0 ] && grep "avgReward" "$log"
  return $status
}

# distribute_train WORKER_NUM [CONFIG_PATH] [OUTPUT_DIR]: data-parallel training under msrun.
distribute_train() {
  if [ $# -lt 1 ] || [ $# -gt 3 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
    echo "Usage: bash $(basename "$0") WORKER_NUM [CONFIG_PATH] [OUTPUT_DIR]"
    echo "  WORKER_NUM workers on this host; CONFIG_PATH defaults to default_config.yaml,"
    echo "  OUTPUT_DIR to ./output_distribute. MASTER_PORT (default 8118) sets msrun's port."
    exit 1
  fi
  local workers=$1 config output msrun_bin
  config=$(get_real_path "${2:-${BASE_DIR}/default_config.yaml}")
  output=$(get_real_path "${3:-./output_distribute}")
  require_file "CONFIG_PATH" "$config"
  msrun_bin=$(dirname "$PYTHON")/msrun
  [ -x "$msrun_bin" ] || msrun_bin=$(command -v msrun)
  if [ -z "$msrun_bin" ]; then
    echo "error: msrun not found: it comes with mindspore (pip install -r requirements.txt)" >&2
    exit 1
  fi
  cd "$BASE_DIR" || exit 1
  mkdir -p "$output" || exit 1
  # msrun starts every worker with the `python` on PATH: make it the one MindSpore is in.
  export PATH="$(dirname "$PYTHON"):$PATH"
  # Every worker logs to OUTPUT_DIR/msrun_log/worker_<rank>.log; --join makes msrun wait, and
  # stop the job with an error when a worker dies.
  run_logged "${output}/train.log" "$msrun_bin" --worker_num="$workers" \
    --local_worker_num="$workers" --master_port="${MASTER_PORT:-8118}" \
    --log_dir="${output}/msrun_log" --join=True --cluster_time_out=120 \
    train.py --config_path "$config" --output_dir "$output" --device_target "$DEVICE_TARGET" \
    --distributed true --progress_bar false
  local status=$?
  if [ $status -eq 0 ]; then
    grep -h "network checksum" "${output}"/msrun_log/worker_*.log
    grep -h "^trained" "${output}/msrun_log/worker_0.log"
  else
    echo "distributed training failed; worker logs in ${output}/msrun_log" >&2
  fi
  return $status
}
