#!/bin/bash
# Evaluate an actor checkpoint on one CPU device; prints avgReward.
# Usage: bash scripts/run_eval_cpu.sh [--log_dir DIR] CKPT_FILE [CONFIG_PATH] [DEVICE_ID]
# The run's config.yaml beside CKPT_FILE wins; CONFIG_PATH only fills what it lacks.
DEVICE_TARGET=CPU
source "$(dirname "$0")/common.sh"
evaluate "$@"
