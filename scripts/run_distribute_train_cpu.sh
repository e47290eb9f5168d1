#!/bin/bash
# Data-parallel DDPG training with msrun on WORKER_NUM CPU workers of this host.
# Usage: bash scripts/run_distribute_train_cpu.sh [--log_dir DIR] WORKER_NUM [CONFIG_PATH] [OUTPUT_DIR]
DEVICE_TARGET=CPU
source "$(dirname "$0")/common.sh"
distribute_train "$@"
