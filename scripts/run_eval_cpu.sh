#!/bin/bash
# Evaluate an actor checkpoint on one CPU device; prints avgReward.
# Usage: bash scripts/run_eval_cpu.sh [--log_dir DIR] CKPT_FILE [CONFIG_PATH] [DEVICE_ID]
DEVICE_TARGET=CPU
source "$(dirname "$0")/common.sh"
evaluate "$@"
